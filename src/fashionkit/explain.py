"""What the network looks at: saliency maps, SmoothGrad and Grad-CAM for fashionkit's models.

Each method answers "which pixels made the model say this class?" with one map per image,
``(N, 28, 28)`` float32 in ``[0, 1]`` (1 marks the most important pixel of that image):

- :func:`saliency`: the gradient of the class score with respect to the pixels (Simonyan et
  al., 2014), as its absolute value. With ``smooth=N`` it is SmoothGrad (Smilkov et al., 2017):
  the mean over N noisy copies of each image, which removes most of the speckle.
- :func:`grad_cam`: Grad-CAM (Selvaraju et al., 2017) for convolutional models: the last
  convolutional feature maps, weighted by the mean gradient of the class score on each map,
  rectified and upsampled to 28 x 28. Coarser than a saliency map (a 7 x 7 or 14 x 14 grid
  upsampled), and far less noisy.
- :func:`explain` picks Grad-CAM for models with convolutional feature maps and saliency for
  the others.

The class score is the output layer's logit (its input times its weights, before the softmax)
when the model ends in a ``Dense`` softmax layer, as every fashionkit model does; otherwise
the log of the class probability. Gradients of the softmax output itself vanish where the model
is confident, which would make the most confident images look unexplained.

The maps are computed with the model in inference mode (dropout off, batch normalisation on its
moving statistics) and are deterministic: the same model, images and arguments give the same
maps (SmoothGrad's noise is drawn from ``seed``). They depend on the weights: a model with
re-initialised weights gives different maps (the "model randomisation" sanity check of Adebayo
et al., 2018, which the test suite runs).

Example:
    >>> from fashionkit.explain import explain
    >>> result = fashionkit.train(fashionkit.presets.get_preset("fast"))  # doctest: +SKIP
    >>> shown = explain(result.model, data.test.images[:8])  # doctest: +SKIP
    >>> shown.method, shown.maps.shape  # doctest: +SKIP
    ('grad_cam', (8, 28, 28))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit._messages import shown
from fashionkit._pipeline import model_layout, predict_in_batches
from fashionkit._validation import (
    ArrayLike,
    Interval,
    KerasModel,
    NoneOr,
    Options,
    annotated_fields,
    check_images,
    check_labels,
    field_validator,
    params,
)
from fashionkit.datasets import CLASS_NAMES
from fashionkit.exceptions import InputValidationError
from fashionkit.preprocessing import prepare_images

Method = Literal["auto", "saliency", "smoothgrad", "grad_cam"]
#: The methods :func:`explain` takes.
METHODS: tuple[str, ...] = get_args(Method)

#: How the functions declare their shared parameters.
_IMAGES = ArrayLike("uint8 images (N, 28, 28) or one (28, 28), or floats in [0, 1]")
_CLASSES = NoneOr(ArrayLike("a class index for every image, or one per image"))
_BATCH_SIZE = Interval("int", ge=1)
_SEED = Interval("int", ge=0)

__all__ = ["METHODS", "Explanation", "explain", "feature_layers", "grad_cam", "saliency"]


@attrs.frozen(kw_only=True, eq=False, field_transformer=annotated_fields)
class Explanation:
    """One map per image of what made the model choose a class.

    Attributes:
        method: ``"saliency"``, ``"smoothgrad"`` or ``"grad_cam"``.
        maps: ``(N, 28, 28)`` float32 in ``[0, 1]``, each image's map scaled so that its
            largest value is 1. A map is all zeros where nothing speaks for the class: a
            gradient that is zero everywhere, or, for Grad-CAM, feature maps that all weigh
            against it (Grad-CAM keeps only positive evidence).
        classes: ``(N,)`` the class each map explains: the predicted one unless asked otherwise.
        probabilities: ``(N, num_classes)`` the model's softmax outputs for the images.
        layer: The feature maps Grad-CAM used (a layer name), or ``None``.
        score: What was differentiated: ``"logit"`` or ``"log probability"``.
    """

    method: str = attrs.field(
        validator=field_validator(Options(("saliency", "smoothgrad", "grad_cam")))
    )
    maps: NDArray[np.float32]
    classes: NDArray[np.int64]
    probabilities: NDArray[np.float32]
    layer: str | None = None
    score: str = attrs.field(
        default="logit", validator=field_validator(Options(("logit", "log probability")))
    )

    def __len__(self) -> int:
        return len(self.maps)

    @property
    def predicted(self) -> NDArray[np.int64]:
        """The class the model predicts for each image."""
        return np.asarray(self.probabilities.argmax(axis=1), dtype=np.int64)

    @params()
    def names(self, class_names: Sequence[str] = CLASS_NAMES) -> tuple[str, ...]:
        """The names of the explained classes."""
        return tuple(class_names[int(c)] for c in self.classes)


def _score_model(model: Any, feature_layer: Any | None) -> tuple[Any, bool]:
    """A model of the (feature maps and) class scores; ``True`` if the scores are logits."""
    import keras

    last = model.layers[-1]
    is_softmax_dense = (
        isinstance(last, keras.layers.Dense)
        and getattr(last.activation, "__name__", "") == "softmax"
    )
    outputs = [last.input if is_softmax_dense else model.outputs[0]]
    if feature_layer is not None:
        outputs.insert(0, feature_layer.output)
    probe = keras.Model(model.inputs, outputs)
    return probe, is_softmax_dense


def _scores(model: Any, head: Any, *, logits: bool) -> Any:
    """The class scores from the probe's last output (the logits' input, or probabilities)."""
    import tensorflow as tf

    last = model.layers[-1]
    if logits:
        h = tf.cast(head, tf.float32)
        z = tf.matmul(h, tf.cast(last.kernel, tf.float32))
        if last.use_bias:
            z = z + tf.cast(last.bias, tf.float32)
        return z
    return tf.math.log(tf.maximum(tf.cast(head, tf.float32), 1e-12))


def _inputs_and_classes(
    model: Any, images: object, classes: object | None, batch_size: int
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
    """The model's inputs, its probabilities, and the classes to explain (checked)."""
    checked = check_images(images, allow_float=True, nonempty=True)
    x = prepare_images(checked, layout=model_layout(model))
    probabilities = predict_in_batches(model, x, batch_size=batch_size)
    if classes is None:
        return x, probabilities, probabilities.argmax(axis=1).astype(np.int64)
    wanted = np.asarray(classes)
    if wanted.ndim == 0:  # one class for every image
        wanted = np.full(len(x), wanted)
    chosen = check_labels(wanted, name="classes", num_classes=probabilities.shape[1])
    if chosen.shape != (len(x),):
        raise InputValidationError(
            f"classes must be one class index per image ({len(x)} integers) or a single "
            f"index; got {len(chosen)}."
        )
    return x, probabilities, chosen.astype(np.int64)


def _normalise(maps: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """Scale each map so its largest value is 1 (zero maps stay zero)."""
    maps = np.asarray(maps, dtype=np.float32).reshape(len(maps), 28, 28)
    peak = maps.reshape(len(maps), -1).max(axis=1, initial=0.0)
    safe = np.where(peak > 0, peak, 1.0).astype(np.float32)
    scaled: NDArray[np.float32] = np.clip(maps / safe[:, None, None], 0.0, 1.0).astype(np.float32)
    return scaled


@params(
    model=KerasModel(),
    images=_IMAGES,
    classes=_CLASSES,
    smooth=Interval("int", ge=0, le=1000),
    noise=Interval("number", gt=0, le=1),
    seed=_SEED,
    batch_size=_BATCH_SIZE,
)
def saliency(
    model: Any,
    images: object,
    *,
    classes: object | None = None,
    smooth: int = 0,
    noise: float = 0.15,
    seed: int = 0,
    batch_size: int = 128,
) -> Explanation:
    """Gradient saliency maps (SmoothGrad with ``smooth`` above 0).

    Args:
        model: A trained ``keras.Model`` taking ``(784,)`` or ``(28, 28, 1)`` inputs.
        images: uint8 images ``(N, 28, 28)`` (or one ``(28, 28)``), or floats in ``[0, 1]``.
        classes: The class to explain for each image (one index for all, or one per image);
            the predicted class when omitted.
        smooth: SmoothGrad's number of noisy copies per image; 0 (default) for plain
            gradients. 25 to 50 is usual.
        noise: SmoothGrad's noise, the standard deviation on the ``[0, 1]`` pixel scale.
            Defaults to 0.15.
        seed: SmoothGrad's noise seed. Defaults to 0.
        batch_size: Images per gradient computation. Defaults to 128.

    Returns:
        The maps, the explained classes and the probabilities.

    Raises:
        InputValidationError: Bad images, or classes out of range.
        ArgumentError: Not a Keras model, or ``smooth``, ``noise``, ``seed`` or
            ``batch_size`` out of range.

    Example:
        >>> shown = saliency(result.model, images, smooth=25)  # doctest: +SKIP
    """
    import tensorflow as tf

    x, probabilities, chosen = _inputs_and_classes(model, images, classes, batch_size)
    probe, logits = _score_model(model, None)
    rng = np.random.default_rng(seed)

    def gradients(batch: NDArray[np.float32], targets: NDArray[np.int64]) -> NDArray[np.float32]:
        inputs = tf.convert_to_tensor(batch)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            scores = _scores(model, probe(inputs, training=False), logits=logits)
            picked = tf.gather(scores, tf.constant(targets), axis=1, batch_dims=1)
        return np.asarray(tape.gradient(picked, inputs), dtype=np.float32)

    maps = np.zeros((len(x), 784), dtype=np.float32)
    for i in range(0, len(x), batch_size):
        batch, targets = x[i : i + batch_size], chosen[i : i + batch_size]
        if smooth == 0:
            grads = np.abs(gradients(batch, targets)).reshape(len(batch), -1)
        else:
            grads = np.zeros((len(batch), 784), dtype=np.float32)
            for _ in range(smooth):
                noisy = (batch + rng.normal(0.0, noise, size=batch.shape)).astype(np.float32)
                grads += np.abs(gradients(noisy, targets)).reshape(len(batch), -1)
            grads /= smooth
        maps[i : i + len(batch)] = grads
    return Explanation(
        method="smoothgrad" if smooth else "saliency",
        maps=_normalise(maps),
        classes=chosen,
        probabilities=probabilities,
        score="logit" if logits else "log probability",
    )


@params(model=KerasModel())
def feature_layers(model: Any) -> tuple[str, ...]:
    """The layers Grad-CAM can use: those with a 4-D output larger than 1 x 1, not pooling.

    Example:
        >>> feature_layers(cnn_model)  # doctest: +SKIP
        ('conv_0', 'conv_1')
    """
    import keras

    names = []
    for layer in model.layers:
        shape = getattr(getattr(layer, "output", None), "shape", None)
        pooling = isinstance(layer, keras.layers.MaxPooling2D | keras.layers.AveragePooling2D)
        if shape is not None and len(shape) == 4 and (shape[1] or 0) > 1 and not pooling:
            names.append(layer.name)
    return tuple(names)


@params(model=KerasModel(), images=_IMAGES, classes=_CLASSES, batch_size=_BATCH_SIZE)
def grad_cam(
    model: Any,
    images: object,
    *,
    classes: object | None = None,
    layer: str | None = None,
    batch_size: int = 128,
) -> Explanation:
    """Grad-CAM maps for a convolutional model.

    Args:
        model: A trained convolutional ``keras.Model`` (``cnn`` or ``resnet``).
        images: uint8 images ``(N, 28, 28)`` (or one ``(28, 28)``), or floats in ``[0, 1]``.
        classes: The class to explain for each image; the predicted class when omitted.
        layer: The name of the feature maps to use; the last of :func:`feature_layers` when
            omitted (the last convolutional block, the usual choice).
        batch_size: Images per gradient computation. Defaults to 128.

    Returns:
        The maps (upsampled bilinearly from the layer's grid), the explained classes, the
        probabilities and the layer used.

    Raises:
        InputValidationError: A model without convolutional feature maps (use
            :func:`saliency`), an unknown ``layer`` (the message lists the usable ones), bad
            images, or classes out of range.
        ArgumentError: Not a Keras model, or a ``batch_size`` below 1.

    Example:
        >>> shown = grad_cam(result.model, images)  # doctest: +SKIP
        >>> shown.layer  # doctest: +SKIP
        'conv_1'
    """
    import tensorflow as tf

    x, probabilities, chosen = _inputs_and_classes(model, images, classes, batch_size)
    usable = feature_layers(model)
    if not usable:
        raise InputValidationError(
            f"Grad-CAM needs convolutional feature maps, and {shown(model.name)} has none (a dense "
            f"model); use saliency() instead, or explain(), which chooses."
        )
    name = usable[-1] if layer is None else layer
    if name not in usable:
        raise InputValidationError(
            f"layer {shown(name)} has no usable feature maps; choose one of {', '.join(usable)}."
        )
    probe, logits = _score_model(model, model.get_layer(name))
    maps = np.zeros((len(x), 28, 28), dtype=np.float32)
    for i in range(0, len(x), batch_size):
        batch, targets = x[i : i + batch_size], chosen[i : i + batch_size]
        with tf.GradientTape() as tape:
            features, head = probe(tf.convert_to_tensor(batch), training=False)
            tape.watch(features)
            scores = _scores(model, head, logits=logits)
            picked = tf.gather(scores, tf.constant(targets), axis=1, batch_dims=1)
        grads = tf.cast(tape.gradient(picked, features), tf.float32)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * tf.cast(features, tf.float32), axis=-1))
        cam = tf.image.resize(cam[..., None], (28, 28), method="bilinear")[..., 0]
        maps[i : i + len(batch)] = np.asarray(cam, dtype=np.float32)
    return Explanation(
        method="grad_cam",
        maps=_normalise(maps),
        classes=chosen,
        probabilities=probabilities,
        layer=name,
        score="logit" if logits else "log probability",
    )


@params(model=KerasModel(), images=_IMAGES, classes=_CLASSES, batch_size=_BATCH_SIZE, seed=_SEED)
def explain(
    model: Any,
    images: object,
    *,
    method: Method = "auto",
    classes: object | None = None,
    batch_size: int = 128,
    seed: int = 0,
) -> Explanation:
    """Explain the model's choice for each image with ``method``.

    Args:
        model: A trained ``keras.Model``.
        images: uint8 images ``(N, 28, 28)`` (or one ``(28, 28)``), or floats in ``[0, 1]``.
        method: ``"auto"`` (default: Grad-CAM where the model has convolutional feature maps,
            saliency otherwise), ``"saliency"``, ``"smoothgrad"`` (25 noisy copies) or
            ``"grad_cam"``.
        classes: The class to explain for each image; the predicted class when omitted.
        batch_size: Images per gradient computation. Defaults to 128.
        seed: SmoothGrad's noise seed. Defaults to 0.

    Returns:
        The maps, classes and probabilities.

    Raises:
        ArgumentError: An unknown method, or not a Keras model.
        InputValidationError: As :func:`saliency` and :func:`grad_cam`.
    """
    chosen = method
    if method == "auto":
        chosen = "grad_cam" if feature_layers(model) else "saliency"
    if chosen == "grad_cam":
        return grad_cam(model, images, classes=classes, batch_size=batch_size)
    smooth = 25 if chosen == "smoothgrad" else 0
    return saliency(model, images, classes=classes, smooth=smooth, seed=seed, batch_size=batch_size)
