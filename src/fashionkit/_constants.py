"""Facts about Fashion-MNIST and the choice lists of fashionkit's options.

Near the bottom of the package: it imports only the standard library,
:mod:`fashionkit.exceptions` and the message helpers. Every choice list is a
``Literal`` type, and the tuple of its values (for validators, error messages and CLI help) is
derived from it with :func:`typing.get_args`, so each list is written exactly once.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from fashionkit._messages import shown
from fashionkit.exceptions import ConfigError

#: English class names, indexed by label.
CLASS_NAMES: Final[tuple[str, ...]] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
#: Korean class names, indexed by label (as in the tutorial the project grew from).
CLASS_NAMES_KO: Final[tuple[str, ...]] = (
    "티셔츠",
    "바지",
    "스웨터",
    "드레스",
    "코트",
    "샌달",
    "셔츠",
    "스니커즈",
    "가방",
    "앵클 부츠",
)
#: Number of classes in Fashion-MNIST.
NUM_CLASSES: Final = 10
#: Height and width of one image.
IMAGE_SHAPE: Final = (28, 28)
#: Pixels of one image, the length of a flattened row.
PIXELS: Final = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]

#: The model input layout: ``"flat"`` for ``(N, 784)`` or ``"image"`` for ``(N, 28, 28, 1)``.
Layout = Literal["flat", "image"]
#: A layout, or ``"auto"`` for the one the architecture prefers.
LayoutChoice = Literal["auto", "flat", "image"]
#: The label encoding: ``"sparse"`` integer labels or ``"one_hot"`` rows of 10 floats.
LabelEncoding = Literal["sparse", "one_hot"]
#: Optimizers, by their Keras names.
OptimizerName = Literal["rmsprop", "adam", "adamw", "sgd", "nadam", "adagrad", "muon"]
#: Learning-rate schedules: constant, cosine decay, or one cycle (triangular).
ScheduleName = Literal["constant", "cosine", "one_cycle"]
#: Horizontal-flip augmentation: none, a coin per image and epoch, or a coin per image flipped
#: back and forth in alternate epochs.
FlipMode = Literal["none", "random", "alternate"]
#: Validation metrics that early stopping and the best checkpoint can monitor.
Monitor = Literal["val_accuracy", "val_loss"]
#: Hidden-layer activations, by their Keras names.
Activation = Literal["relu", "sigmoid", "tanh", "gelu", "elu", "selu", "swish"]
#: What trains the model.
Accelerator = Literal["auto", "cpu", "gpu"]
#: ``tf.distribute`` strategies a config may ask for.
StrategyChoice = Literal["auto", "one_device", "mirrored", "multi_worker"]
#: The strategy actually used (``auto`` resolved).
StrategyName = Literal["default", "one_device", "mirrored", "multi_worker"]
#: Keras dtype policies a config may ask for (``auto``: chosen for the device).
Precision = Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"]
#: Whether the training step is compiled with XLA (``auto``: Keras's rule).
JitCompile = Literal["auto", "on", "off"]
#: The Keras dtype policy actually used (``auto`` resolved).
ConcretePrecision = Literal["float32", "mixed_float16", "mixed_bfloat16"]
#: Formats :func:`fashionkit.export.export_run` and :func:`~fashionkit.export.export_model` write.
ExportFormat = Literal["saved_model", "tflite", "onnx"]

LAYOUTS: Final[tuple[str, ...]] = get_args(Layout)
LAYOUT_CHOICES: Final[tuple[str, ...]] = get_args(LayoutChoice)
LABEL_ENCODINGS: Final[tuple[str, ...]] = get_args(LabelEncoding)
OPTIMIZERS: Final[tuple[str, ...]] = get_args(OptimizerName)
SCHEDULES: Final[tuple[str, ...]] = get_args(ScheduleName)
FLIP_MODES: Final[tuple[str, ...]] = get_args(FlipMode)
MONITORS: Final[tuple[str, ...]] = get_args(Monitor)
ACTIVATIONS: Final[tuple[str, ...]] = get_args(Activation)
ACCELERATORS: Final[tuple[str, ...]] = get_args(Accelerator)
STRATEGIES: Final[tuple[str, ...]] = get_args(StrategyChoice)
PRECISIONS: Final[tuple[str, ...]] = get_args(Precision)
JIT_COMPILE_CHOICES: Final[tuple[str, ...]] = get_args(JitCompile)
EXPORT_FORMATS: Final[tuple[str, ...]] = get_args(ExportFormat)

#: Which of a run's models an export takes: the best epoch's (``best.keras``) or the final one
#: (``model.keras``).
ExportSource = Literal["best", "final"]
EXPORT_SOURCES: Final[tuple[str, ...]] = get_args(ExportSource)

#: Post-training quantization of a TFLite export: float16 weights, dynamic-range (int8 weights,
#: float activations) or full integer (int8 weights and activations, calibrated on sample
#: images).
Quantization = Literal["float16", "dynamic", "int8"]
QUANTIZATIONS: Final[tuple[str, ...]] = get_args(Quantization)


def input_shape_for(layout: str) -> tuple[int, ...]:
    """Return the per-sample model input shape of a layout: ``(784,)`` or ``(28, 28, 1)``.

    Raises:
        ConfigError: ``layout`` is not ``"flat"`` or ``"image"``.

    Example:
        >>> input_shape_for("image")
        (28, 28, 1)
    """
    if layout == "flat":
        return (PIXELS,)
    if layout == "image":
        return (*IMAGE_SHAPE, 1)
    raise ConfigError(f"layout must be 'flat' or 'image'; got {shown(layout)}.")
