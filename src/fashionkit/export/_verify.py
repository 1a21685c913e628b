"""The checks an export passes before it is published: parity, accuracy, and its latency.

A float32 export must compute the Keras model's probabilities to the format's rounding
tolerance (:data:`TOLERANCES`); with labels, its accuracy may be at most ``max_accuracy_loss``
below the float32 Keras model's (a quantized export is checked by that alone). Its runtime's
latency for one image is measured on the way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import IMAGE_SHAPE, NUM_CLASSES, Quantization
from fashionkit._messages import brief
from fashionkit._validation import check_images
from fashionkit.exceptions import ExportError, InputValidationError
from fashionkit.export._exported import ExportedModel
from fashionkit.export._options import ExportOptions
from fashionkit.export._serving import Serving

__all__ = [
    "CHECK_IMAGES",
    "TOLERANCES",
    "Checked",
    "check_batch",
    "check_labels",
    "check_sample",
    "verify",
]

#: Largest absolute difference in any probability that an export may show against the Keras
#: model (computed in float32) on the check images; beyond it the export fails.
TOLERANCES: dict[str, float] = {"saved_model": 1e-6, "tflite": 1e-5, "onnx": 1e-5}
#: How many fixed random images check an export when none are given.
CHECK_IMAGES = 64
# Latency: single-image calls after a warm-up; the median of the timed ones.
_LATENCY_WARMUP = 5
_LATENCY_CALLS = 50


def check_batch(images: object, name: str) -> NDArray[np.uint8]:
    """``images`` as a non-empty, contiguous ``(N, 28, 28)`` uint8 batch.

    Raises:
        InputValidationError: Not uint8 pixels, or not a non-empty batch of 28x28 images.
    """
    x = check_images(images, name=name)
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE or not len(x):
        raise InputValidationError(
            f"{name} must be a non-empty (N, 28, 28) uint8 batch; got shape {x.shape}."
        )
    return np.ascontiguousarray(x, dtype=np.uint8)


def check_sample(images: object | None) -> NDArray[np.uint8]:
    """The check images: ``images`` (see :func:`check_batch`), or 64 fixed random ones."""
    if images is not None:
        return check_batch(images, "check_images")
    rng = np.random.default_rng(0)
    sample = rng.integers(0, 256, (CHECK_IMAGES, *IMAGE_SHAPE), dtype=np.uint8)
    sample[0], sample[1] = 0, 255  # the extremes
    return sample


def check_labels(labels: object, n: int) -> NDArray[np.int64]:
    """``labels`` as ``n`` integer class labels in ``0 .. 9``, one per check image.

    Raises:
        InputValidationError: Another length, a non-integer dtype or a label out of range.
    """
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


@attrs.frozen(kw_only=True)
class Checked:
    """What the checks measured (see :class:`~fashionkit.export.ExportResult`)."""

    max_difference: float
    tolerance: float | None
    latency_ms: float
    accuracy: float | None = None
    reference_accuracy: float | None = None


def verify(
    loaded: ExportedModel,
    serving: Serving,
    sample: NDArray[np.uint8],
    labels: NDArray[np.int64] | None,
    options: ExportOptions,
    temperature: float,
) -> Checked:
    """Run the export on the check images and hold it to the Keras model's probabilities.

    Raises:
        ExportError: It cannot be run, differs beyond the tolerance (float32), returns another
            shape, or loses more accuracy than ``options.max_accuracy_loss`` allows.
    """
    what = _what(options)
    try:
        got = loaded.predict(sample)
        latency = _latency_ms(loaded._run, sample[0])  # the runtime's call alone
    except Exception as exc:  # each runtime raises its own types
        raise ExportError(
            f"The exported {what} model could not be run by its runtime "
            f"({brief(exc)}), so it was not written."
        ) from exc
    expected = serving.expected
    same_shape = got.shape == expected.shape
    difference = float(np.abs(got - expected).max()) if same_shape else float("inf")
    # Dividing by a temperature below 1 amplifies rounding by 1 / T.
    tolerance = (
        TOLERANCES[options.format] * max(1.0, 1.0 / temperature)
        if options.quantize is None
        else None
    )
    if tolerance is not None and not difference <= tolerance:
        raise ExportError(
            f"The exported {options.format} model's probabilities differ from the Keras "
            f"model's by {difference:.3g} (tolerance {tolerance:g}) on {len(sample)} images, "
            f"so it was not written. Please report this with the model's architecture."
        )
    if labels is None:
        return Checked(max_difference=difference, tolerance=tolerance, latency_ms=latency)
    if not same_shape:
        raise ExportError(
            f"The exported {what} model returned shape {got.shape} for {len(sample)} images "
            f"instead of {expected.shape}, so it was not written."
        )
    accuracy, reference = _accuracy_guard(got, expected, labels, options)
    return Checked(
        max_difference=difference,
        tolerance=tolerance,
        latency_ms=latency,
        accuracy=accuracy,
        reference_accuracy=reference,
    )


def _what(options: ExportOptions) -> str:
    """``tflite``, or ``int8 tflite``: how messages name the export."""
    return options.format if options.quantize is None else f"{options.quantize} {options.format}"


def _accuracy_guard(
    got: NDArray[np.float32],
    expected: NDArray[np.float32],
    labels: NDArray[np.int64],
    options: ExportOptions,
) -> tuple[float, float]:
    """The export's and the Keras model's accuracies, if the loss is within the allowed share.

    Raises:
        ExportError: The export's accuracy is more than ``max_accuracy_loss`` below.
    """
    right = int(np.count_nonzero(got.argmax(axis=1) == labels))
    reference_right = int(np.count_nonzero(expected.argmax(axis=1) == labels))
    accuracy, reference = right / len(labels), reference_right / len(labels)
    allowed = options.max_accuracy_loss
    # Compared in counts, so that a loss of exactly the allowed share passes.
    if reference_right - right > allowed * len(labels) + 1e-9:
        raise ExportError(
            f"The exported {_what(options)} model's accuracy {accuracy:.4f} is "
            f"{reference - accuracy:.4f} below the float32 Keras model's {reference:.4f} on "
            f"{len(labels)} images, more than max_accuracy_loss {allowed:g} allows, so it was "
            f"not written." + _remedy(options.quantize)
        )
    return accuracy, reference


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


def _latency_ms(run: Callable[[NDArray[np.uint8]], Any], image: NDArray[np.uint8]) -> float:
    """Median milliseconds of one runtime call with one image, after a warm-up."""
    one = np.ascontiguousarray(image[None])
    for _ in range(_LATENCY_WARMUP):
        run(one)
    times = []
    for _ in range(_LATENCY_CALLS):
        started = time.perf_counter()
        run(one)
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1e3
