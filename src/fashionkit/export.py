"""Export a trained model for serving: TensorFlow SavedModel, TFLite (LiteRT) and ONNX.

An exported model is self-contained: it takes the raw images exactly as Fashion-MNIST stores
them, a ``uint8`` batch of shape ``(N, 28, 28)`` (any ``N``), and returns ``(N, 10)``
``float32`` class probabilities. Everything fashionkit does between the two is inside the
exported graph:

* scaling to ``[0, 1]`` and the model's input layout (flat rows or ``28x28x1`` images);
* flip test-time augmentation, when the run used ``tta`` (the mean of the probabilities of
  each image and its mirror image);
* the calibration temperature, when the run was calibrated (``softmax(log(p) / T)``).

So ``fashionkit predict RUN_DIR`` and the exported model give the same probabilities.

**Precision.** Models trained with mixed precision keep float32 weights; the export rebuilds
the network with float32 computation and copies the weights in, because TFLite and ONNX
runtimes do not run bfloat16 or float16 layers on most CPUs. Its outputs therefore match the
float32 evaluation of the weights (to the tolerances below) and differ from the mixed-precision
Keras model by the rounding that model does (measured in the export how-to).

**Checked before it is published.** Every export is written under a temporary name, loaded
back with its own runtime (TensorFlow, LiteRT, ONNX Runtime) and run on a sample of images;
only if its probabilities agree with the Keras model's within the format's tolerance
(:data:`TOLERANCES`) is it renamed into place. A file or folder already at the path is
replaced only then, so nothing is ever left half-written.

**Quantized TFLite.** ``quantize="float16"`` stores the weights as float16 (about half the
size; computed in float32), ``"dynamic"`` stores them as int8 and quantizes activations on
the fly (about a quarter), ``"int8"`` makes the whole network integer, its activation ranges
calibrated on representative images (a sample of the training split for :func:`export`).
The input stays ``uint8`` images and the output ``float32`` probabilities (with
``integer_output=True`` an int8 model outputs int8 probabilities, which
:func:`load_exported` turns back into floats). A quantized model cannot match the float one
to a rounding tolerance, so its check is one of accuracy: on labelled images (the test split
for :func:`export`) its accuracy may be below the float32 Keras model's by at most
``max_accuracy_loss`` (default :data:`DEFAULT_MAX_ACCURACY_LOSS`, one percentage point), or
nothing is written. Every export reports its size and its latency per image (one image per
call, on this machine).

The ONNX format needs the ``export`` extra (``pip install "fashionkit[export]"``: the
``tf2onnx`` converter Keras uses, and ONNX Runtime); running a TFLite file uses the
``ai-edge-litert`` interpreter from the same extra when installed, else TensorFlow's own.
"""

from __future__ import annotations

import contextlib
import numbers
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit import _schema
from fashionkit._constants import (
    EXPORT_FORMATS,
    EXPORT_SOURCES,
    IMAGE_SHAPE,
    NUM_CLASSES,
    QUANTIZATIONS,
    ExportFormat,
    ExportSource,
    Quantization,
)
from fashionkit._io import (
    check_parents,
    os_errors_as,
    staged,
    staged_directory,
    sync_tree,
)
from fashionkit._pipeline import model_layout, predict_in_batches
from fashionkit._typing import PathLike
from fashionkit._validation import check_images
from fashionkit.calibration import check_temperature
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.exceptions import ExportError, InputValidationError, StorageError
from fashionkit.runs import load_run
from fashionkit.training._setup import run_split

__all__ = [
    "DEFAULT_MAX_ACCURACY_LOSS",
    "DEFAULT_NAMES",
    "DEFAULT_REPRESENTATIVE_SIZE",
    "EXPORT_SOURCES",
    "QUANTIZATIONS",
    "TOLERANCES",
    "ExportResult",
    "ExportedModel",
    "export",
    "export_model",
    "load_exported",
    "serving_model",
]

#: Largest absolute difference in any probability that an export may show against the Keras
#: model (computed in float32) on the check images; beyond it the export fails.
TOLERANCES: dict[str, float] = {"saved_model": 1e-6, "tflite": 1e-5, "onnx": 1e-5}

#: Where :func:`export` writes inside a run directory when no path is given.
DEFAULT_NAMES: dict[str, str] = {
    "saved_model": "export/saved_model",
    "tflite": "export/model.tflite",
    "onnx": "export/model.onnx",
}

_SUFFIXES = {"tflite": ".tflite", "onnx": ".onnx"}
# File name endings of model files, what each stands for and the export format that writes it:
# a path ending in one contradicts any other format (a SavedModel is a folder).
_MODEL_FILE_SUFFIXES: dict[str, tuple[str, str | None]] = {
    ".tflite": ("a TFLite model", "tflite"),
    ".lite": ("a TFLite model", "tflite"),
    ".onnx": ("an ONNX model", "onnx"),
    ".keras": ("a Keras model file", None),
    ".h5": ("a Keras HDF5 model file", None),
    ".hdf5": ("a Keras HDF5 model file", None),
    ".pb": ("a protocol buffer file (a SavedModel keeps its saved_model.pb inside)", None),
}
# What a SavedModel folder holds; a folder with anything else is never replaced.
_SAVED_MODEL_FILES = frozenset({"saved_model.pb", "variables", "assets", "fingerprint.pb"})
_KERAS_FORMATS = {"saved_model": "tf_saved_model", "tflite": "litert", "onnx": "onnx"}
_INSTALL = 'install the export extra: pip install "fashionkit[export]"'
_CHECK_IMAGES = 64

#: The largest drop in accuracy that an export may show against the float32 Keras model on
#: the labelled check images, as a share (0.01 is one percentage point); beyond it the export
#: fails.
DEFAULT_MAX_ACCURACY_LOSS = 0.01
#: How many training images :func:`export` calibrates an int8 model on by default.
DEFAULT_REPRESENTATIVE_SIZE = 500
# Latency: single-image calls after a warm-up; the median of the timed ones.
_LATENCY_WARMUP = 5
_LATENCY_CALLS = 50


@attrs.frozen(kw_only=True)
class ExportResult:
    """What :func:`export_model` wrote.

    Attributes:
        path: The exported file (TFLite, ONNX) or folder (SavedModel).
        format: ``"saved_model"``, ``"tflite"`` or ``"onnx"``.
        size_bytes: Size on disk (a SavedModel folder's files added up).
        seconds: Wall-clock time of the export and its check.
        tta: Whether flip test-time augmentation is part of the exported graph.
        temperature: The calibration temperature in the graph (1.0: none).
        max_difference: Largest absolute difference of any probability between the exported
            model and the Keras model on the check images.
        tolerance: The tolerance ``max_difference`` is within: the format's (:data:`TOLERANCES`),
            times ``1 / temperature`` for a temperature below 1 (sharpening amplifies rounding);
            ``None`` for a quantized export, which is checked by its accuracy instead.
        check_images: Number of images the check ran on.
        precision_difference: For a model that computes in mixed precision: the largest
            absolute difference of any probability between the mixed-precision Keras model and
            the float32 computation that was exported, on the check images; ``None`` for a
            float32 model.
        model: Which of the run's models was exported, for :func:`export`: ``"best"`` (the
            best epoch's, ``best.keras``) or ``"final"`` (``model.keras``); ``None`` for a
            model given to :func:`export_model` directly.
        quantize: ``"float16"``, ``"dynamic"`` or ``"int8"`` for a quantized TFLite model;
            ``None`` for a float32 one.
        latency_ms: Median milliseconds per call of one image with the format's runtime on
            this machine (after a warm-up): TensorFlow for a SavedModel, the LiteRT
            interpreter for TFLite (TensorFlow's own without the ``export`` extra), ONNX
            Runtime for ONNX.
        accuracy: The exported model's accuracy on the labelled check images (the test split
            for a quantized :func:`export`); ``None`` without labels.
        reference_accuracy: The float32 Keras model's accuracy on the same images.
        max_accuracy_loss: The largest ``reference_accuracy - accuracy`` the check allowed;
            ``None`` without labels.
        representative_images: How many images calibrated an int8 model; ``None`` otherwise.
        integer_output: Whether an int8 model outputs int8 probabilities.
    """

    path: Path
    format: str
    size_bytes: int
    seconds: float
    tta: bool
    temperature: float
    max_difference: float
    tolerance: float | None
    check_images: int
    precision_difference: float | None = None
    model: ExportSource | None = None
    quantize: Quantization | None = None
    latency_ms: float | None = None
    accuracy: float | None = None
    reference_accuracy: float | None = None
    max_accuracy_loss: float | None = None
    representative_images: int | None = None
    integer_output: bool = False

    @property
    def accuracy_loss(self) -> float | None:
        """``reference_accuracy - accuracy`` (negative: the export did better), if measured."""
        if self.accuracy is None or self.reference_accuracy is None:
            return None
        return self.reference_accuracy - self.accuracy

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the output of ``fashionkit export --json``), ``accuracy_loss`` included."""
        data: dict[str, Any] = _schema.to_data(self)
        data["accuracy_loss"] = self.accuracy_loss
        return data

    def to_text(self) -> str:
        """One line: what was written where, and how well it matched."""
        what = self.format if self.quantize is None else f"{self.format} ({self.quantize})"
        extras = (
            ([f"the run's {self.model} model"] if self.model is not None else [])
            + (["flip TTA"] if self.tta else [])
            + ([f"temperature {self.temperature:.4f}"] if self.temperature != 1.0 else [])
            + (
                [f"calibrated on {self.representative_images} images"]
                if self.representative_images is not None
                else []
            )
            + (["int8 output"] if self.integer_output else [])
            + ([f"{self.latency_ms:.3g} ms per image"] if self.latency_ms is not None else [])
        )
        tolerance = f" (tolerance {self.tolerance:g})" if self.tolerance is not None else ""
        accuracy = (
            f"; accuracy {self.accuracy:.4f} against the float model's "
            f"{self.reference_accuracy:.4f} on {self.check_images} images (loss "
            f"{self.accuracy_loss:+.4f}, at most {self.max_accuracy_loss:g} allowed)"
            if self.accuracy is not None
            and self.reference_accuracy is not None
            and self.accuracy_loss is not None
            and self.max_accuracy_loss is not None
            else ""
        )
        return (
            f"exported {what} to {self.path} ({self.size_bytes / 1e6:.2f} MB, "
            f"{self.seconds:.1f} s{''.join(', ' + e for e in extras)}); max probability "
            f"difference from Keras {self.max_difference:.2g} on {self.check_images} "
            f"images{tolerance}{accuracy}"
            + (
                f"; the float32 export differs from the mixed-precision model by up to "
                f"{self.precision_difference:.2g}"
                if self.precision_difference is not None
                else ""
            )
        )

    def __str__(self) -> str:
        return self.to_text()


def _check_format(format: object) -> ExportFormat:
    if format not in EXPORT_FORMATS:
        raise InputValidationError(
            f"format must be one of {', '.join(EXPORT_FORMATS)}; got {format!r}."
        )
    return format  # type: ignore[return-value]


def _check_name(target: Path, format: ExportFormat) -> None:
    """Refuse a path whose name contradicts the format: each format has its own form.

    A SavedModel is a folder, whose name may hold dots but does not end in a model file's
    suffix; a TFLite or ONNX model is one file ending in ``.tflite`` or ``.onnx``.

    Raises:
        InputValidationError: The name ends in another format's suffix, or lacks its own.
    """
    known = _MODEL_FILE_SUFFIXES.get(target.suffix.lower())
    expected = _SUFFIXES.get(format)
    if target.suffix == expected or (expected is None and known is None):
        return
    if known is not None and known[1] == format:  # .TFLITE, .lite: not the exact suffix
        got = f"its name ends in {target.suffix}, not exactly {expected}"
        hint = ""
    elif known is not None:
        what, other = known
        got = f"its name ends in {target.suffix}, the suffix of {what}"
        hint = f", or use format {other}" if other is not None else ""
    else:
        got = f"its name ends in {target.suffix}" if target.suffix else "its name has no suffix"
        hint = ""
    if expected is None:
        raise InputValidationError(
            f"Cannot export format {format} to {target}: {got}, but a SavedModel is a folder, "
            f"whose name does not end in a model file's suffix (by default export/saved_model). "
            f"Give a folder name{hint}."
        )
    raise InputValidationError(
        f"Cannot export format {format} to {target}: {got}. Format {format} writes one "
        f"file; give a file name ending in {expected}{hint}."
    )


def _check_target(path: PathLike, format: ExportFormat) -> Path:
    """A path the format can be written to; an existing folder is replaced only if exported."""
    target = Path(path)
    _check_name(target, format)
    check_parents(target)
    if target.is_symlink():
        raise StorageError(
            f"Cannot export to {target}: it is a symbolic link; give the real path (an export "
            f"replaces what is at the path, and would replace the link, not its target)."
        )
    if target.resolve() in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
        raise StorageError(
            f"Cannot export to {target}: it is the current folder or one of its parents."
        )
    if format == "saved_model":
        if target.is_file():
            raise StorageError(
                f"Cannot export a SavedModel to {target}: it is a file; a SavedModel is a folder."
            )
        others = _not_saved_model(target) if target.is_dir() else []
        if others:
            raise StorageError(
                f"Cannot export a SavedModel to {target}: the folder holds other files "
                f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}), and only a "
                f"folder holding nothing but a previous SavedModel is replaced. Choose an empty "
                f"or new folder."
            )
        return target
    if target.is_dir():
        raise InputValidationError(
            f"{target}: a {format} model is one file, and this is a folder; give a file name "
            f"ending in {_SUFFIXES[format]}."
        )
    return target


def _not_saved_model(folder: Path) -> list[str]:
    """What in ``folder`` is not part of an exported SavedModel (nothing: safe to replace).

    An empty folder is fine; otherwise it must hold ``saved_model.pb``, its ``variables/`` only
    ``variables.*`` files, and its ``assets/`` nothing.
    """
    entries = sorted(folder.iterdir())
    if not entries:
        return []
    others = [p.name for p in entries if p.name not in _SAVED_MODEL_FILES]
    if not (folder / "saved_model.pb").is_file():
        others.append("(no saved_model.pb)")
    variables, assets = folder / "variables", folder / "assets"
    if variables.exists():
        others += [
            f"variables/{p.name}"
            for p in (variables.iterdir() if variables.is_dir() else [variables])
            if not (p.is_file() and p.name.startswith("variables."))
        ]
    if assets.exists():
        others += [f"assets/{p.name}" for p in (assets.iterdir() if assets.is_dir() else [assets])]
    return others


def _float32_copy(model: Any) -> Any:
    """The model, or a float32 rebuild of it when any layer computes in another precision."""
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


def serving_model(model: Any, *, tta: bool = False, temperature: float = 1.0) -> Any:
    """The Keras model that is exported: uint8 images in, (calibrated) probabilities out.

    Args:
        model: A trained fashionkit ``keras.Model`` (``(784,)`` or ``(28, 28, 1)`` inputs).
        tta: Average each image's probabilities with its mirror image's.
        temperature: Calibration temperature applied to the probabilities (1.0: none).

    Raises:
        InputValidationError: A model of another input shape, or a bad temperature.
    """
    return _serving(_float32_copy(model), model, tta=tta, temperature=temperature)


def _serving(core: Any, model: Any, *, tta: bool, temperature: float) -> Any:
    """``core`` (``model`` or its float32 rebuild) wrapped for serving; see serving_model."""
    import keras

    layout = model_layout(model)
    t = check_temperature(temperature)
    images = keras.Input(shape=IMAGE_SHAPE, dtype="uint8", name="images")
    pixels = keras.ops.divide(keras.ops.cast(images, "float32"), 255.0)

    def probabilities(x: Any) -> Any:
        shaped = (
            keras.ops.reshape(x, (-1, IMAGE_SHAPE[0] * IMAGE_SHAPE[1]))
            if layout == "flat"
            else keras.ops.expand_dims(x, -1)
        )
        return core(shaped, training=False)

    out = probabilities(pixels)
    if tta:
        mirrored = probabilities(keras.ops.flip(pixels, axis=2))
        out = keras.ops.multiply(keras.ops.add(out, mirrored), 0.5)
    if t != 1.0:
        tiny = float(np.finfo(np.float32).tiny)
        logits = keras.ops.divide(keras.ops.log(keras.ops.maximum(out, tiny)), t)
        out = keras.ops.softmax(logits, axis=-1)
    return keras.Model(images, out, name=f"{model.name}_serving")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the converters' own deprecation chatter (not errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


class ExportedModel:
    """An exported model loaded with its format's own runtime, for checks and quick use.

    Call it (or :meth:`predict`) with ``(N, 28, 28)`` uint8 images to get ``(N, 10)`` float32
    probabilities. Use :func:`load_exported` to create one.

    Attributes:
        path: The exported file or folder.
        format: ``"saved_model"``, ``"tflite"`` or ``"onnx"``.
    """

    def __init__(self, path: Path, format: ExportFormat, runner: Any) -> None:
        self.path = path
        self.format = format
        self._run = runner

    def predict(self, images: object) -> NDArray[np.float32]:
        """Probabilities ``(N, 10)`` for uint8 images ``(N, 28, 28)`` (or one ``(28, 28)``).

        Raises:
            InputValidationError: Images of another shape or dtype (the exported model takes
                uint8 pixels only).
        """
        x = check_images(images)
        if x.ndim == 2:
            x = x[None]
        if x.shape[1:] != IMAGE_SHAPE:
            raise InputValidationError(
                f"an exported model takes (N, 28, 28) uint8 images; got shape {x.shape}."
            )
        return np.asarray(self._run(np.ascontiguousarray(x)), dtype=np.float32)

    __call__ = predict

    def __repr__(self) -> str:
        return f"ExportedModel({str(self.path)!r}, format={self.format!r})"


def _saved_model_runner(path: Path) -> Any:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    return lambda x: loaded.serve(tf.constant(x)).numpy()


def _tflite_runner(path: Path) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # the extra is not installed: TensorFlow's own (deprecated) interpreter
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806 - a class
    with _quiet():
        interpreter = Interpreter(model_path=str(path))
    source = interpreter.get_input_details()[0]["index"]
    output = interpreter.get_output_details()[0]
    target = output["index"]
    # An int8 model with integer output: probabilities are q * scale + offset.
    scale, zero_point = output.get("quantization", (0.0, 0))
    integer = np.issubdtype(output["dtype"], np.integer) and scale > 0
    shape: list[tuple[int, ...]] = []

    def run(x: NDArray[np.uint8]) -> Any:
        if not len(x):
            return np.zeros((0, NUM_CLASSES), np.float32)
        if shape != [x.shape]:  # resizing reallocates: only when the batch size changes
            interpreter.resize_tensor_input(source, x.shape)
            interpreter.allocate_tensors()
            shape[:] = [x.shape]
        interpreter.set_tensor(source, x)
        interpreter.invoke()
        got = interpreter.get_tensor(target)
        if integer:
            return (got.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
        return got.copy()

    return run


def _onnx_runner(path: Path) -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ExportError(f"Running an ONNX model needs ONNX Runtime; {_INSTALL}.") from exc
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(x: NDArray[np.uint8]) -> Any:
        if not len(x):
            return np.zeros((0, NUM_CLASSES), np.float32)
        return session.run(None, {name: x})[0]

    return run


_RUNNERS = {"saved_model": _saved_model_runner, "tflite": _tflite_runner, "onnx": _onnx_runner}


def _format_of(path: Path) -> ExportFormat:
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return "saved_model"
        raise InputValidationError(f"{path} is a folder without saved_model.pb: not a SavedModel.")
    for fmt, suffix in _SUFFIXES.items():
        if path.suffix == suffix:
            return fmt  # type: ignore[return-value]
    raise InputValidationError(
        f"{path}: cannot tell the format; exported models are SavedModel folders, .tflite or "
        f".onnx files."
    )


def load_exported(path: PathLike) -> ExportedModel:
    """Load an exported model with its format's runtime (TensorFlow, LiteRT, ONNX Runtime).

    Raises:
        InputValidationError: Nothing exported at ``path``, or a path of an unknown format.
        ExportError: The runtime is missing or cannot read the file.

    Example:
        >>> exported = load_exported("runs/cnn/export/model.onnx")  # doctest: +SKIP
        >>> exported(data.test.images[:5]).argmax(axis=1)  # doctest: +SKIP
        array([9, 2, 1, 1, 6])
    """
    target = Path(path)
    if not target.exists():
        raise InputValidationError(f"No exported model at {target}.")
    fmt = _format_of(target)
    return _load(target, fmt)


def _load(path: Path, fmt: ExportFormat) -> ExportedModel:
    try:
        runner = _RUNNERS[fmt](path)
    except ExportError:
        raise
    except Exception as exc:  # each runtime raises its own types for a damaged file
        raise ExportError(
            f"{path} could not be loaded as a {fmt} model ({type(exc).__name__}: {exc})."
        ) from exc
    return ExportedModel(path, fmt, runner)


def _check_sample(check_images_: object | None) -> NDArray[np.uint8]:
    if check_images_ is None:
        rng = np.random.default_rng(0)
        sample = rng.integers(0, 256, (_CHECK_IMAGES, *IMAGE_SHAPE), dtype=np.uint8)
        sample[0], sample[1] = 0, 255  # the extremes
        return sample
    x = check_images(check_images_)
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE or not len(x):
        raise InputValidationError(
            f"check_images must be a non-empty (N, 28, 28) uint8 batch; got shape {x.shape}."
        )
    return x.astype(np.uint8, copy=False)


def _check_labels(labels: object, n: int) -> NDArray[np.int64]:
    """``labels`` as ``n`` integer class labels in ``0 .. 9``."""
    try:
        array = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise InputValidationError(f"check_labels must be integer class labels: {exc}") from exc
    if array.shape != (n,) or array.dtype.kind not in "iu":
        raise InputValidationError(
            f"check_labels must be {n} integer labels, one per check image; got shape "
            f"{array.shape} of {array.dtype}."
        )
    if n and (array.min() < 0 or array.max() >= NUM_CLASSES):
        raise InputValidationError(
            f"check_labels must lie in 0 .. {NUM_CLASSES - 1}; got {array.min()} .. {array.max()}."
        )
    return array.astype(np.int64)


def _check_quantize(quantize: object, fmt: ExportFormat) -> None:
    if quantize is None:
        return
    if quantize not in QUANTIZATIONS:
        raise InputValidationError(
            f"quantize must be one of {', '.join(QUANTIZATIONS)} (or None for float32); got "
            f"{quantize!r}."
        )
    if fmt != "tflite":
        raise InputValidationError(
            f"quantize={quantize!r} applies to the tflite format only; got format {fmt!r}."
        )


def _check_integer_output(integer_output: object, quantize: object) -> None:
    if not isinstance(integer_output, bool):
        raise InputValidationError(f"integer_output must be True or False; got {integer_output!r}.")
    if integer_output and quantize != "int8":
        raise InputValidationError(
            f"integer_output applies to quantize='int8' only; got quantize={quantize!r}."
        )


def _check_representative(
    images: object | None, quantize: Quantization | None
) -> NDArray[np.uint8] | None:
    if quantize != "int8":
        if images is not None:
            raise InputValidationError(
                "representative_images calibrate an int8 model; give them with quantize='int8' "
                f"only (got quantize={quantize!r})."
            )
        return None
    if images is None:
        raise InputValidationError(
            "quantize='int8' needs representative_images: (N, 28, 28) uint8 images like the "
            "ones the model will see (a few hundred training images), to calibrate the "
            "activation ranges."
        )
    x = check_images(images)
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE or not len(x):
        raise InputValidationError(
            f"representative_images must be a non-empty (N, 28, 28) uint8 batch; got shape "
            f"{x.shape}."
        )
    return np.ascontiguousarray(x, dtype=np.uint8)


def _check_max_accuracy_loss(value: object) -> float:
    """``value`` as an allowed accuracy loss: a share from 0 to 1 (0.01 is one point)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputValidationError(
            f"max_accuracy_loss must be a number from 0 to 1 (a share: 0.01 is one percentage "
            f"point); got {value!r}."
        )
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise InputValidationError(
            f"max_accuracy_loss must be from 0 to 1 (a share: 0.01 is one percentage point); "
            f"got {value!r}."
        )
    return number


def _latency_ms(loaded: ExportedModel, image: NDArray[np.uint8]) -> float:
    """Median milliseconds of one call with one image, after a warm-up."""
    one = np.ascontiguousarray(image[None])
    for _ in range(_LATENCY_WARMUP):
        loaded.predict(one)
    times = []
    for _ in range(_LATENCY_CALLS):
        started = time.perf_counter()
        loaded.predict(one)
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1e3


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _converter_options(
    quantize: Quantization | None,
    representative: NDArray[np.uint8] | None,
    *,
    integer_output: bool,
) -> dict[str, Any]:
    """The TFLite converter settings of a quantization (Keras passes them to the converter)."""
    if quantize is None:
        return {}
    import tensorflow as tf

    options: dict[str, Any] = {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if quantize == "float16":
        options["target_spec"] = {"supported_types": [tf.float16]}
    elif quantize == "int8" and representative is not None:
        images = representative

        def calibration() -> Iterator[list[NDArray[np.uint8]]]:
            for index in range(len(images)):
                yield [images[index : index + 1]]

        options["representative_dataset"] = calibration
        if integer_output:
            options["inference_output_type"] = tf.int8
    return options


def _write(
    serving: Any, tmp: Path, fmt: ExportFormat, options: dict[str, Any] | None = None
) -> None:
    if fmt == "onnx":
        try:
            import tf2onnx  # noqa: F401 - Keras's ONNX export uses it on TensorFlow
        except ImportError as exc:
            raise ExportError(
                f"Exporting to ONNX needs the tf2onnx converter; {_INSTALL}."
            ) from exc
    try:
        with _quiet():
            serving.export(str(tmp), format=_KERAS_FORMATS[fmt], verbose=False, **(options or {}))
    except Exception as exc:  # converters raise many types
        raise ExportError(
            f"Keras could not export the model to {fmt} ({type(exc).__name__}: {exc})."
        ) from exc
    sync_tree(tmp)


def export_model(
    model: Any,
    path: PathLike,
    *,
    format: ExportFormat = "saved_model",
    tta: bool = False,
    temperature: float = 1.0,
    check_images: object | None = None,
    check_labels: object | None = None,
    quantize: Quantization | None = None,
    representative_images: object | None = None,
    max_accuracy_loss: float = DEFAULT_MAX_ACCURACY_LOSS,
    integer_output: bool = False,
) -> ExportResult:
    """Export a Keras model for serving; see the module documentation for what is inside.

    Args:
        model: A trained fashionkit ``keras.Model`` (``(784,)`` or ``(28, 28, 1)`` inputs).
        path: A folder for ``saved_model``; a ``.tflite`` or ``.onnx`` file name otherwise.
            Missing folders are created; a previous export there is replaced.
        format: ``"saved_model"`` (default), ``"tflite"`` or ``"onnx"``.
        tta: Put flip test-time augmentation into the graph. Defaults to ``False``.
        temperature: Put this calibration temperature into the graph. Defaults to 1.0.
        check_images: ``(N, 28, 28)`` uint8 images for the check against the Keras model;
            by default 64 fixed random images (the extremes 0 and 255 among them).
        check_labels: The ``N`` true labels of ``check_images``: the check then also compares
            accuracies (see ``max_accuracy_loss``). Required with ``quantize``.
        quantize: ``"float16"``, ``"dynamic"`` or ``"int8"`` post-training quantization
            (``format="tflite"`` only); ``None`` (default) exports float32.
        representative_images: ``(N, 28, 28)`` uint8 images that calibrate an int8 model's
            activation ranges (a few hundred training images); required with
            ``quantize="int8"`` and refused otherwise.
        max_accuracy_loss: With ``check_labels``: the export fails when its accuracy is lower
            than the float32 Keras model's by more than this share (0.01: one percentage
            point; :data:`DEFAULT_MAX_ACCURACY_LOSS`).
        integer_output: ``quantize="int8"`` only: the file outputs int8 probabilities (for
            integer-only accelerators) instead of float32 ones. Defaults to ``False``.

    Returns:
        The path, size, latency, time and the check's largest difference (and accuracies).

    Raises:
        InputValidationError: A bad format, temperature, quantization, label or model input
            shape; ``quantize`` with a format other than ``tflite``, or without
            ``check_labels``; ``quantize="int8"`` without ``representative_images``; or a path
            whose name contradicts the format: a ``tflite`` or ``onnx`` path not ending in
            ``.tflite`` or ``.onnx`` (``model.onnx`` for ``tflite``, say), or a
            ``saved_model`` folder named like a model file (``.tflite``, ``.onnx``,
            ``.keras``, ``.h5``, ``.pb``).
        StorageError: The path is in a file, or is a folder of other files.
        ExportError: The converter is missing or failed; a float32 export differs from the
            Keras model by more than :data:`TOLERANCES`; or the export's accuracy is more than
            ``max_accuracy_loss`` below the Keras model's (nothing is written then).

    Example:
        >>> result = export_model(model, "model.onnx", format="onnx")  # doctest: +SKIP
        >>> result.max_difference, result.tolerance  # doctest: +SKIP
        (8.940697e-08, 1e-05)
        >>> small = export_model(  # doctest: +SKIP
        ...     model, "model-int8.tflite", format="tflite", quantize="int8",
        ...     check_images=data.test.images, check_labels=data.test.labels,
        ...     representative_images=data.train.images[:500],
        ... )
        >>> small.reference_accuracy, small.accuracy  # doctest: +SKIP
        (0.925, 0.9241)
    """
    fmt = _check_format(format)
    if not isinstance(tta, bool):
        raise InputValidationError(f"tta must be True or False; got {tta!r}.")
    _check_quantize(quantize, fmt)
    if quantize is not None and check_labels is None:
        raise InputValidationError(
            "A quantized export is checked by its accuracy: give check_labels with "
            "check_images (the test split, say)."
        )
    _check_integer_output(integer_output, quantize)
    loss_allowed = _check_max_accuracy_loss(max_accuracy_loss)
    representative = _check_representative(representative_images, quantize)
    target = _check_target(path, fmt)
    if check_labels is not None and check_images is None:
        raise InputValidationError("check_labels needs the check_images they label.")
    sample = _check_sample(check_images)
    labels = _check_labels(check_labels, len(sample)) if check_labels is not None else None
    started = time.perf_counter()
    t = check_temperature(temperature)
    core = _float32_copy(model)
    serving = _serving(core, model, tta=tta, temperature=t)
    expected = predict_in_batches(serving, sample)
    precision_difference = None
    if core is not model:
        original = _serving(model, model, tta=tta, temperature=t)
        precision_difference = float(np.abs(predict_in_batches(original, sample) - expected).max())
    tolerance = TOLERANCES[fmt] * max(1.0, 1.0 / t) if quantize is None else None
    options = _converter_options(quantize, representative, integer_output=integer_output)
    what = fmt if quantize is None else f"{quantize} {fmt}"
    stage = (
        staged_directory(target) if fmt == "saved_model" else staged(target, suffix=_SUFFIXES[fmt])
    )
    with os_errors_as(StorageError, target), stage as tmp:
        _write(serving, tmp, fmt, options)
        loaded = _load(tmp, fmt)
        try:
            got = loaded.predict(sample)
            latency = _latency_ms(loaded, sample[0])
        except Exception as exc:  # each runtime raises its own types
            raise ExportError(
                f"The exported {what} model could not be run by its runtime "
                f"({type(exc).__name__}: {exc}), so it was not written."
            ) from exc
        difference = float(np.abs(got - expected).max()) if got.shape == expected.shape else np.inf
        if tolerance is not None and not difference <= tolerance:
            raise ExportError(
                f"The exported {fmt} model's probabilities differ from the Keras model's by "
                f"{difference:.3g} (tolerance {tolerance:g}) on {len(sample)} images, so "
                f"it was not written. Please report this with the model's architecture."
            )
        accuracy = reference = None
        if labels is not None:
            if got.shape != expected.shape:
                raise ExportError(
                    f"The exported {what} model returned shape {got.shape} for {len(sample)} "
                    f"images instead of {expected.shape}, so it was not written."
                )
            right, reference_right = _correct(got, labels), _correct(expected, labels)
            accuracy, reference = right / len(labels), reference_right / len(labels)
            # Compared in counts, so that a loss of exactly the allowed share passes.
            if reference_right - right > loss_allowed * len(labels) + 1e-9:
                raise ExportError(
                    f"The exported {what} model's accuracy {accuracy:.4f} is "
                    f"{reference - accuracy:.4f} below the float32 Keras model's "
                    f"{reference:.4f} on {len(labels)} images, more than max_accuracy_loss "
                    f"{loss_allowed:g} allows, so it was not written." + _remedy(quantize)
                )
        size = _size(tmp)
    return ExportResult(
        path=target,
        format=fmt,
        size_bytes=size,
        seconds=time.perf_counter() - started,
        tta=tta,
        temperature=t,
        max_difference=difference,
        tolerance=tolerance,
        check_images=len(sample),
        precision_difference=precision_difference,
        quantize=quantize,
        latency_ms=latency,
        accuracy=accuracy,
        reference_accuracy=reference,
        max_accuracy_loss=loss_allowed if labels is not None else None,
        representative_images=len(representative) if representative is not None else None,
        integer_output=integer_output,
    )


def _correct(probabilities: NDArray[np.float32], labels: NDArray[np.int64]) -> int:
    return int(np.count_nonzero(probabilities.argmax(axis=1) == labels))


def _remedy(quantize: Quantization | None) -> str:
    if quantize == "int8":
        return (
            " Calibrate on more images (representative_size, --representative), try "
            "quantize='dynamic' or 'float16', or allow more (max_accuracy_loss, "
            "--max-accuracy-loss)."
        )
    if quantize is not None:
        return " Try quantize='float16', or allow more (max_accuracy_loss, --max-accuracy-loss)."
    return " Please report this with the model's architecture."


def check_run_export(
    *,
    format: object,
    model: object,
    quantize: object,
    check_accuracy: object,
    check_images: object,
    representative_size: object,
    max_accuracy_loss: object,
    integer_output: object,
    dataset: object,
) -> tuple[ExportFormat, bool]:
    """Check :func:`export`'s settings together, before any file is read.

    The command line calls it before it loads the data. Returns the format and whether the
    test accuracy is checked.

    Raises:
        InputValidationError: A bad value, or settings that contradict each other.
    """
    fmt = _check_format(format)
    if model is not None and model not in EXPORT_SOURCES:
        raise InputValidationError(
            f"model must be one of {', '.join(EXPORT_SOURCES)} (or None for the one the run "
            f"ended with); got {model!r}."
        )
    _check_quantize(quantize, fmt)
    if check_accuracy is not None and not isinstance(check_accuracy, bool):
        raise InputValidationError(
            f"check_accuracy must be True, False or None; got {check_accuracy!r}."
        )
    if quantize is not None and check_accuracy is False:
        raise InputValidationError(
            "A quantized export is always checked by its test accuracy: check_accuracy=False "
            "applies to float32 exports only (raise max_accuracy_loss to allow more loss)."
        )
    accuracy_check = quantize is not None or bool(check_accuracy)
    if accuracy_check and check_images is not None:
        raise InputValidationError(
            "check_images cannot be given with an accuracy check: it runs on the test split."
        )
    if not accuracy_check and dataset is not None:
        raise InputValidationError(
            "dataset is the data of the accuracy check and the int8 calibration; give it with "
            "quantize or check_accuracy=True."
        )
    if representative_size is not None:
        if quantize != "int8":
            raise InputValidationError(
                f"representative_size sets the images that calibrate an int8 model; give it "
                f"with quantize='int8' only (got quantize={quantize!r})."
            )
        if (
            isinstance(representative_size, bool)
            or not isinstance(representative_size, int)
            or representative_size < 1
        ):
            raise InputValidationError(
                f"representative_size must be a whole number of images, at least 1; got "
                f"{representative_size!r}."
            )
    _check_integer_output(integer_output, quantize)
    _check_max_accuracy_loss(max_accuracy_loss)
    return fmt, accuracy_check


def export(
    run_dir: PathLike,
    *,
    format: ExportFormat = "saved_model",
    out: PathLike | None = None,
    check_images: object | None = None,
    model: ExportSource | None = None,
    quantize: Quantization | None = None,
    check_accuracy: bool | None = None,
    representative_size: int | None = None,
    max_accuracy_loss: float = DEFAULT_MAX_ACCURACY_LOSS,
    integer_output: bool = False,
    dataset: FashionMNIST | None = None,
) -> ExportResult:
    """Export a completed run's model, with the run's TTA and calibration inside.

    Args:
        run_dir: A run directory written by ``fashionkit.train(..., run_dir=...)``.
        format: ``"saved_model"`` (default), ``"tflite"`` or ``"onnx"``.
        out: Where to write; defaults to ``RUN_DIR/export/saved_model``,
            ``RUN_DIR/export/model.tflite`` or ``RUN_DIR/export/model.onnx``
            (:data:`DEFAULT_NAMES`); a quantized model's default name says its quantization:
            ``RUN_DIR/export/model-int8.tflite``.
        check_images: Images for the check (see :func:`export_model`); not with an accuracy
            check, which uses the test split.
        model: ``"final"`` exports ``model.keras``, the model training ended with; ``"best"``
            exports ``best.keras``, the best epoch's by ``early_stopping.monitor``. Defaults
            to the one the run's config ended with: ``"best"`` with
            ``early_stopping.restore_best``, else ``"final"``. Recorded in the result.
        quantize: ``"float16"``, ``"dynamic"`` or ``"int8"`` for a quantized TFLite model
            (see :func:`export_model`); an int8 model is calibrated on
            ``representative_size`` images drawn (with the run's seed) from the run's
            training part of the split, never from its validation or test images.
        check_accuracy: Check the export's accuracy on the test split against the float32
            Keras model's (``max_accuracy_loss``). Defaults to ``True`` for a quantized export
            (``False`` is refused: a quantized model is checked by its accuracy) and to
            ``False`` otherwise, where the probabilities are checked to a rounding tolerance.
        representative_size: How many training images calibrate an int8 model; at most the
            training part's size. Defaults to :data:`DEFAULT_REPRESENTATIVE_SIZE`, or all of
            a smaller training part.
        max_accuracy_loss: The largest drop in test accuracy allowed (a share; default
            :data:`DEFAULT_MAX_ACCURACY_LOSS`, one percentage point).
        integer_output: An int8 model outputs int8 probabilities (see :func:`export_model`).
        dataset: The data for the accuracy check and the calibration; loaded with
            :func:`~fashionkit.load_fashion_mnist` when needed and not given.

    Returns:
        What was written, from which model, and the check's largest difference (and, with
        an accuracy check, the test accuracies).

    Raises:
        InputValidationError: A bad format, ``model``, quantization or size, or an ``out``
            whose name contradicts the format (as :func:`export_model` checks it), refused
            before the run is read.
        RunDirError: ``run_dir`` is not a completed run directory (still training, or
            interrupted), or its model or calibration file is missing or damaged; or
            ``model="best"`` for a calibrated run that did not end with its best weights (the
            temperature was fitted to the final model, not to the best one).
        DataNotFoundError, ChecksumError, DataFormatError, DownloadError: The data for the
            accuracy check or the calibration cannot be loaded (see
            :func:`~fashionkit.load_fashion_mnist`).
        StorageError, ExportError: As :func:`export_model`.

    Example:
        >>> print(export("runs/cnn", format="tflite"))  # doctest: +SKIP
        exported tflite to runs/cnn/export/model.tflite (0.42 MB, 2.1 s, flip TTA); ...
        >>> print(export("runs/cnn", format="tflite", quantize="int8"))  # doctest: +SKIP
        exported tflite (int8) to runs/cnn/export/model-int8.tflite (0.12 MB, ...); accuracy ...
    """
    fmt, accuracy_check = check_run_export(
        format=format,
        model=model,
        quantize=quantize,
        check_accuracy=check_accuracy,
        check_images=check_images,
        representative_size=representative_size,
        max_accuracy_loss=max_accuracy_loss,
        integer_output=integer_output,
        dataset=dataset,
    )
    if out is not None:
        _check_name(Path(out), fmt)
    run = load_run(run_dir)
    config = run.config
    source: ExportSource = model if model is not None else run.ended_with
    temperature = run.temperature_for(source)
    keras_model = run.load_model(source)
    labels = representative = None
    if accuracy_check:
        data = dataset if dataset is not None else load_fashion_mnist()
        check_images, labels = data.test.images, data.test.labels
        if quantize == "int8":
            pool = np.asarray(run_split(config, data).train_images, dtype=np.uint8)
            if representative_size is not None and representative_size > len(pool):
                raise InputValidationError(
                    f"representative_size {representative_size} is more than the run's "
                    f"{len(pool)} training images."
                )
            size = (
                representative_size
                if representative_size is not None
                else min(DEFAULT_REPRESENTATIVE_SIZE, len(pool))
            )
            chosen = np.random.default_rng(config.seed).choice(len(pool), size, replace=False)
            representative = pool[np.sort(chosen)]
    result = export_model(
        keras_model,
        out if out is not None else run.layout.export_path(fmt, quantize),
        format=fmt,
        tta=config.tta,
        temperature=temperature,
        check_images=check_images,
        check_labels=labels,
        quantize=quantize,
        representative_images=representative,
        max_accuracy_loss=max_accuracy_loss,
        integer_output=integer_output,
    )
    return attrs.evolve(result, model=source)
