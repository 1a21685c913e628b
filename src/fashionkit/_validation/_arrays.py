"""Arrays: images, labels, one-hot targets and probabilities, each checked and converted."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import IMAGE_SHAPE, LABEL_ENCODINGS, NUM_CLASSES, PIXELS
from fashionkit._typing import LabelsU8
from fashionkit._validation._constraints import ArrayLike, Interval, Options
from fashionkit._validation._params import params
from fashionkit.exceptions import InputValidationError, LabelEncodingError

__all__ = [
    "PROBABILITY_SUM_TOLERANCE",
    "check_images",
    "check_labels",
    "check_probabilities",
    "check_same_length",
    "check_targets",
    "integer_labels",
]


def _as_array(value: object, name: str) -> NDArray[Any]:
    """``np.asarray`` that turns NumPy's own complaints into an InputValidationError."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:  # ragged lists, huge ints, ...
        raise InputValidationError(f"{name} cannot be read as an array ({exc}).") from exc
    if array.dtype == object:
        raise InputValidationError(
            f"{name} must be a numeric array; got an array of Python objects (ragged nested "
            f"lists or mixed types)."
        )
    return array


@params(images=ArrayLike("uint8 images (N, 28, 28)"))
def check_images(
    images: object, *, name: str = "images", allow_float: bool = False, nonempty: bool = False
) -> NDArray[np.generic]:
    """Validate images and return them as an ``(N, 28, 28)`` array.

    A single ``(28, 28)`` image is accepted and returned as a batch of one; flattened
    ``(N, 784)`` rows and ``(N, 28, 28, 1)`` channels-last batches are reshaped to
    ``(N, 28, 28)``.

    Args:
        images: Array-like of uint8 pixels.
        name: How to call the argument in error messages.
        allow_float: Also accept already scaled floating-point pixels, which must be finite
            and within ``[0, 1]``. Defaults to ``False``.
        nonempty: Refuse a batch of no images (what predicts, evaluates or explains needs at
            least one). Defaults to ``False``.

    Returns:
        The images (uint8, or floating point when allowed), without a copy when possible.

    Raises:
        InputValidationError: Wrong dtype, NaN or out-of-range floats, a shape that is not one
            of the above, or no images with ``nonempty``.

    Example:
        >>> import numpy as np
        >>> check_images(np.zeros((28, 28), np.uint8)).shape
        (1, 28, 28)
    """
    array = _as_array(images, name)
    is_float = array.dtype.kind == "f"
    if array.dtype != np.uint8 and not (allow_float and is_float):
        allowed = "uint8 pixels 0..255" + (" or floats in [0, 1]" if allow_float else "")
        raise InputValidationError(
            f"{name} must be {allowed}, as loaded from Fashion-MNIST; got dtype "
            f"{array.dtype}. Convert with np.asarray(x, dtype=np.uint8) if the values are "
            f"whole numbers 0..255."
        )
    if is_float:
        if not np.isfinite(array).all():
            raise InputValidationError(f"{name} contains NaN or infinite values.")
        if array.size and (float(array.min()) < 0.0 or float(array.max()) > 1.0):
            raise InputValidationError(
                f"{name} holds floats from {float(array.min())} to {float(array.max())}; "
                f"scaled pixels must lie in [0, 1]. Pass the raw uint8 images instead."
            )
    if array.shape == IMAGE_SHAPE:
        array = array[np.newaxis]
    elif array.ndim == 2 and array.shape[1] == PIXELS:
        array = array.reshape(-1, *IMAGE_SHAPE)
    elif array.ndim == 4 and array.shape[1:] == (*IMAGE_SHAPE, 1):
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != IMAGE_SHAPE:
        raise InputValidationError(
            f"{name} must have shape (N, 28, 28), (28, 28), (N, 784) or (N, 28, 28, 1); got "
            f"{array.shape}. Images of other sizes are not resized: crop or resize them to "
            f"28x28 first."
        )
    if nonempty and not len(array):
        raise InputValidationError(
            f"{name} holds no images (shape {array.shape}); give at least one 28x28 image."
        )
    return array


@params(labels=ArrayLike("integer class labels (N,)"), num_classes=Interval("int", ge=1))
def check_labels(
    labels: object, *, name: str = "labels", num_classes: int = NUM_CLASSES
) -> LabelsU8:
    """Validate integer class labels and return them as a uint8 ``(N,)`` array.

    Args:
        labels: Array-like of integer labels.
        name: How to call the argument in error messages.
        num_classes: Labels must lie in ``0..num_classes-1``. Defaults to 10.

    Returns:
        The labels as uint8.

    Raises:
        LabelEncodingError: The labels look one-hot encoded (2-d).
        InputValidationError: The labels are not integers, not 1-d, or out of range.

    Example:
        >>> check_labels([0, 9, 3]).dtype
        dtype('uint8')
    """
    array = _as_array(labels, name)
    if array.ndim == 2:
        raise LabelEncodingError(
            f"{name} has shape {array.shape}: that looks one-hot encoded, but integer labels "
            f"(N,) are expected here. Use labels.argmax(axis=1), or choose the one_hot encoding."
        )
    if array.ndim != 1:
        raise InputValidationError(f"{name} must be 1-d (N,); got shape {array.shape}.")
    # dtype.kind, not issubdtype: NumPy counts timedelta64 as an integer type.
    if array.size and array.dtype.kind not in "iu":
        raise InputValidationError(
            f"{name} must hold integer class indices; got dtype {array.dtype}."
        )
    if array.size and (int(array.min()) < 0 or int(array.max()) >= num_classes):
        raise InputValidationError(
            f"{name} must lie in 0..{num_classes - 1}; got values from {int(array.min())} to "
            f"{int(array.max())}."
        )
    return array.astype(np.uint8, copy=False)


@params(
    targets=ArrayLike("labels (N,) or one-hot rows (N, num_classes)"),
    encoding=Options(LABEL_ENCODINGS),
    num_classes=Interval("int", ge=1),
)
def check_targets(
    targets: object, *, encoding: str, num_classes: int = NUM_CLASSES, name: str = "labels"
) -> NDArray[np.generic]:
    """Check that encoded targets match the loss's label encoding, before Keras sees them.

    Keras reports a mismatch only deep inside ``fit`` (``Shapes (None, 1) and (None, 10) are
    incompatible``) or, worse, trains on it silently; this says what is wrong instead.

    Args:
        targets: ``(N,)`` integer labels for ``"sparse"``, ``(N, num_classes)`` one-hot rows for
            ``"one_hot"``.
        encoding: ``"sparse"`` or ``"one_hot"``.
        num_classes: Number of classes. Defaults to 10.
        name: How to call the argument in error messages.

    Returns:
        The targets as an array.

    Raises:
        LabelEncodingError: The targets do not have the encoding's shape, or one-hot rows are not
            one-hot.
        InputValidationError: ``encoding`` is not one of the allowed names.

    Example:
        >>> import numpy as np
        >>> check_targets(np.eye(10)[[1, 2]], encoding="sparse")
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.LabelEncodingError: labels are one-hot (shape (2, 10)) ...
    """
    array = _as_array(targets, name)
    if encoding == "sparse":
        if array.ndim == 2:
            raise LabelEncodingError(
                f"{name} are one-hot (shape {array.shape}) but the loss encoding is 'sparse', "
                f"which expects integer labels (N,). Use LossConfig(encoding='one_hot'), or pass "
                f"labels.argmax(axis=1)."
            )
        return check_labels(array, name=name, num_classes=num_classes)
    if array.ndim == 1:
        raise LabelEncodingError(
            f"{name} are integer labels (shape {array.shape}) but the loss encoding is 'one_hot', "
            f"which expects rows of {num_classes} (N, {num_classes}). Encode them with "
            f"fashionkit.encode_labels(labels, encoding='one_hot'), or use "
            f"LossConfig(encoding='sparse')."
        )
    if array.ndim != 2 or array.shape[1] != num_classes:
        raise LabelEncodingError(
            f"{name} must have shape (N, {num_classes}) for the one_hot encoding; got "
            f"{array.shape}. The number of columns must equal the number of classes."
        )
    if array.size and not (
        array.dtype.kind in "iuf"
        and np.isin(array, (0, 1)).all()
        and (array.sum(axis=1) == 1).all()
    ):
        raise LabelEncodingError(
            f"{name} are not one-hot: every row must hold a single 1 and zeros elsewhere. Apply "
            f"label smoothing through LossConfig(label_smoothing=...) rather than in the labels."
        )
    return array


def integer_labels(labels: object, *, num_classes: int = NUM_CLASSES) -> LabelsU8:
    """Integer labels from integer labels ``(N,)`` or one-hot rows ``(N, num_classes)``."""
    array = _as_array(labels, "labels")
    if array.ndim == 2:
        onehot = check_targets(array, encoding="one_hot", num_classes=num_classes)
        return check_labels(onehot.argmax(axis=1), num_classes=num_classes)
    return check_labels(array, num_classes=num_classes)


def check_same_length(first: NDArray[Any], second: NDArray[Any], *, names: str) -> None:
    """Raise unless two arrays have the same number of rows; ``names`` reads "images and labels".

    Raises:
        InputValidationError: The lengths differ.
    """
    if first.shape[0] != second.shape[0]:
        a, _, b = names.partition(" and ")
        raise InputValidationError(
            f"{names} must have the same length; got {first.shape[0]} {a} and "
            f"{second.shape[0]} {b}."
        )


#: How far from 1 a row of probabilities may sum. A softmax computed in float32 sums to 1 within
#: about 1e-6; one computed in, or rounded to, bfloat16 (8 significant bits) by up to 2**-8
#: (TensorFlow's bfloat16 softmax: 0.0033), in float16 by about 0.0012. A row further from 1 is
#: not a probability distribution: logits, per-class sigmoid scores or unnormalised counts.
PROBABILITY_SUM_TOLERANCE = 1e-2


def check_probabilities(
    probabilities: object, *, rows: int, num_classes: int, name: str = "probabilities"
) -> NDArray[np.float64]:
    """Validate softmax outputs: one probability distribution per row.

    The array must have shape ``(rows, num_classes)``; its values must be finite and within
    ``[0, 1]``, and every row must sum to 1 within :data:`PROBABILITY_SUM_TOLERANCE` (0.01,
    which outputs rounded to float16 or bfloat16 keep).

    Args:
        probabilities: Array-like of probabilities.
        rows: The number of rows expected (one per image).
        num_classes: The number of columns expected (one per class).
        name: How to call the argument in error messages. Defaults to ``"probabilities"``.

    Returns:
        The probabilities as float64.

    Raises:
        InputValidationError: Wrong shape or dtype, NaN or infinite values, values outside
            ``[0, 1]``, or a row that does not sum to 1.

    Example:
        >>> check_probabilities([[0.5, 0.7]], rows=1, num_classes=2)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.InputValidationError: each row of probabilities must sum to 1 ...
    """
    array = _as_array(probabilities, name)
    if array.dtype.kind not in "iuf" or array.shape != (rows, num_classes):
        raise InputValidationError(
            f"{name} must be numbers of shape ({rows}, {num_classes}), one row per image and "
            f"one column per class; got {array.dtype} of shape {array.shape}."
        )
    as_float = array.astype(np.float64)
    if not array.size:
        return as_float
    finite = np.isfinite(as_float)
    if not finite.all():
        row = int(np.flatnonzero(~finite.all(axis=1))[0])
        raise InputValidationError(
            f"{name} must be finite; row {row} holds NaN or infinity (a diverged model, or "
            f"one without a softmax output)."
        )
    low, high = float(as_float.min()), float(as_float.max())
    if low < 0 or high > 1:
        row = int(np.flatnonzero(((as_float < 0) | (as_float > 1)).any(axis=1))[0])
        raise InputValidationError(
            f"{name} must lie in [0, 1]; got values from {low:.6g} to {high:.6g} (first in row "
            f"{row}). These look like logits, or outputs of a diverged model, not softmax "
            f"outputs: apply a softmax first."
        )
    sums = as_float.sum(axis=1)
    off = np.abs(sums - 1.0) > PROBABILITY_SUM_TOLERANCE
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise InputValidationError(
            f"each row of {name} must sum to 1 (within {PROBABILITY_SUM_TOLERANCE:g}), as "
            f"softmax outputs do; row {row} sums to {float(sums[row]):.6g}, and "
            f"{int(off.sum())} of {len(sums)} rows are off. Per-class sigmoid scores or "
            f"unnormalised scores are not probabilities: apply a softmax to logits, or divide "
            f"each row by its sum."
        )
    return as_float
