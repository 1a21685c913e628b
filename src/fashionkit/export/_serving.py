"""The graph that is exported: uint8 images in, probabilities out, everything between inside.

Scaling and the model's input layout, flip test-time augmentation and the calibration
temperature are layers of one Keras model wrapped around the trained one; a model that
computes in mixed precision is first rebuilt in float32 (the runtimes do not run bfloat16 or
float16 layers on most CPUs).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import IMAGE_SHAPE, PIXELS
from fashionkit._pipeline import model_layout, predict_in_batches
from fashionkit._validation import Interval, KerasModel, params
from fashionkit.exceptions import ExportError

__all__ = ["Serving", "serving_for", "serving_model"]


def _float32_copy(model: Any) -> Any:
    """The model, or a float32 rebuild of it when any layer computes in another precision.

    Raises:
        ExportError: A mixed-precision model that nests another model as a layer.
    """
    import keras

    if all(getattr(layer, "compute_dtype", "float32") == "float32" for layer in model.layers):
        return model
    if any(isinstance(layer, keras.Model) for layer in model.layers):
        raise ExportError(
            "This model computes in mixed precision and nests another model as a layer; the "
            "export rebuilds mixed-precision models in float32 layer by layer and cannot do "
            "that for nested models. Export a float32 copy: build the architecture under the "
            "float32 policy and copy the weights in with set_weights."
        )

    def rebuild(layer: Any) -> Any:
        if isinstance(layer, keras.layers.InputLayer):
            return layer
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(model, clone_function=rebuild)
    copy.set_weights(model.get_weights())
    return copy


def _wrap(core: Any, model: Any, *, tta: bool, temperature: float) -> Any:
    """``core`` (``model`` or its float32 rebuild) wrapped for serving; see serving_model."""
    import keras

    layout = model_layout(model)
    images = keras.Input(shape=IMAGE_SHAPE, dtype="uint8", name="images")
    pixels = keras.ops.divide(keras.ops.cast(images, "float32"), 255.0)

    def probabilities(x: Any) -> Any:
        shaped = (
            keras.ops.reshape(x, (-1, PIXELS)) if layout == "flat" else keras.ops.expand_dims(x, -1)
        )
        return core(shaped, training=False)

    out = probabilities(pixels)
    if tta:
        mirrored = probabilities(keras.ops.flip(pixels, axis=2))
        out = keras.ops.multiply(keras.ops.add(out, mirrored), 0.5)
    if temperature != 1.0:
        tiny = float(np.finfo(np.float32).tiny)
        logits = keras.ops.divide(keras.ops.log(keras.ops.maximum(out, tiny)), temperature)
        out = keras.ops.softmax(logits, axis=-1)
    return keras.Model(images, out, name=f"{model.name}_serving")


@params(model=KerasModel(), temperature=Interval("number", gt=0.0))
def serving_model(model: Any, *, tta: bool = False, temperature: float = 1.0) -> Any:
    """The Keras model that is exported: uint8 images in, (calibrated) probabilities out.

    A model that computes in mixed precision is rebuilt in float32, its weights copied in;
    ``model`` itself is left as it is.

    Args:
        model: A trained fashionkit ``keras.Model`` (``(784,)`` or ``(28, 28, 1)`` inputs).
        tta: Average each image's probabilities with its mirror image's. Defaults to ``False``.
        temperature: Calibration temperature applied to the probabilities (1.0, the default:
            none).

    Raises:
        ArgumentError: A bad ``tta`` or ``temperature``.
        InputValidationError: A model of another input shape.
        ExportError: A mixed-precision model that nests another model as a layer.
    """
    return _wrap(_float32_copy(model), model, tta=tta, temperature=float(temperature))


@attrs.frozen(kw_only=True)
class Serving:
    """The serving graph of a model, and what it computes on the check images.

    Attributes:
        model: The serving model that is exported (float32).
        expected: Its probabilities on the check images: the reference of the parity check.
        precision_difference: For a mixed-precision model, the largest difference between
            its own serving graph's probabilities and ``expected``; ``None`` for float32.
    """

    model: Any
    expected: NDArray[np.float32]
    precision_difference: float | None


def serving_for(model: Any, sample: NDArray[np.uint8], *, tta: bool, temperature: float) -> Serving:
    """The serving graph of ``model`` (checked arguments), run on the check images ``sample``."""
    core = _float32_copy(model)
    serving = _wrap(core, model, tta=tta, temperature=temperature)
    expected = predict_in_batches(serving, sample)
    difference = None
    if core is not model:
        original = _wrap(model, model, tta=tta, temperature=temperature)
        difference = float(np.abs(predict_in_batches(original, sample) - expected).max())
    return Serving(model=serving, expected=expected, precision_difference=difference)
