"""Turning raw Fashion-MNIST arrays into model input: validation, scaling, splitting, encoding.

Everything here needs NumPy only. Each public function validates its input once and raises
:class:`~fashionkit.exceptions.InputValidationError` (a :class:`ValueError`) with a message
that says what was wrong, instead of letting a reshape or broadcast fail later.
"""

from __future__ import annotations

import math
from typing import Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit._typing import FloatArray, LabelsU8
from fashionkit.datasets import IMAGE_SHAPE, NUM_CLASSES
from fashionkit.exceptions import InputValidationError, LabelEncodingError

__all__ = [
    "LabelEncoding",
    "Layout",
    "TrainValidationSplit",
    "check_images",
    "check_labels",
    "encode_labels",
    "prepare_images",
    "scale",
    "train_validation_split",
]

#: The model input layout, ``"flat"`` for ``(N, 784)`` or ``"image"`` for ``(N, 28, 28, 1)``.
Layout = Literal["flat", "image"]
#: The label encoding, ``"sparse"`` integer labels or ``"one_hot"`` rows of 10 floats.
LabelEncoding = Literal["sparse", "one_hot"]

_LAYOUTS: tuple[str, ...] = ("flat", "image")
_ENCODINGS: tuple[str, ...] = ("sparse", "one_hot")
_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]


def check_images(
    images: object, *, name: str = "images", allow_float: bool = False
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

    Returns:
        The images (uint8, or floating point when allowed), without a copy when possible.

    Raises:
        InputValidationError: Wrong dtype, NaN or out-of-range floats, or a shape that is not
            one of the above.

    Example:
        >>> import numpy as np
        >>> check_images(np.zeros((28, 28), np.uint8)).shape
        (1, 28, 28)
    """
    array = np.asarray(images)
    is_float = np.issubdtype(array.dtype, np.floating)
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
        return array[np.newaxis]
    if array.ndim == 2 and array.shape[1] == _PIXELS:
        return array.reshape(-1, *IMAGE_SHAPE)
    if array.ndim == 4 and array.shape[1:] == (*IMAGE_SHAPE, 1):
        return array[..., 0]
    if array.ndim != 3 or array.shape[1:] != IMAGE_SHAPE:
        raise InputValidationError(
            f"{name} must have shape (N, 28, 28), (28, 28), (N, 784) or (N, 28, 28, 1); got "
            f"{array.shape}. Images of other sizes are not resized: crop or resize them to "
            f"28x28 first."
        )
    return array


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
    array = np.asarray(labels)
    if array.ndim == 2:
        raise LabelEncodingError(
            f"{name} has shape {array.shape}: that looks one-hot encoded, but integer labels "
            f"(N,) are expected here. Use labels.argmax(axis=1), or choose the one_hot encoding."
        )
    if array.ndim != 1:
        raise InputValidationError(f"{name} must be 1-d (N,); got shape {array.shape}.")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise InputValidationError(
            f"{name} must hold integer class indices; got dtype {array.dtype}."
        )
    if array.size and (int(array.min()) < 0 or int(array.max()) >= num_classes):
        raise InputValidationError(
            f"{name} must lie in 0..{num_classes - 1}; got values from {int(array.min())} to "
            f"{int(array.max())}."
        )
    return array.astype(np.uint8, copy=False)


def _check_same_length(images: np.ndarray, labels: NDArray[np.generic]) -> None:
    if images.shape[0] != labels.shape[0]:
        raise InputValidationError(
            f"images and labels must have the same length; got {images.shape[0]} images and "
            f"{labels.shape[0]} labels."
        )


def scale(images: object) -> FloatArray:
    """Scale uint8 pixels to float32 in ``[0, 1]`` (the tutorial's ``/ 255.0``).

    The tutorial's ``images / 255.0`` produces float64, twice the memory for no accuracy;
    this returns float32 and keeps the input's shape.

    Raises:
        InputValidationError: The input is not uint8.

    Example:
        >>> import numpy as np
        >>> scale(np.array([0, 51, 255], np.uint8))
        array([0. , 0.2, 1. ], dtype=float32)
    """
    array = np.asarray(images)
    if array.dtype != np.uint8:
        raise InputValidationError(
            f"scale expects uint8 pixels 0..255; got dtype {array.dtype}. Data that is already "
            f"floating point is probably scaled already."
        )
    out = array.astype(np.float32)
    # Divide rather than multiply by 1/255: the quotient is the correctly rounded float32
    # (51 -> 0.2 exactly), where the product is off by one ulp for about half the values.
    out /= np.float32(255.0)
    return out


def prepare_images(images: object, *, layout: Layout = "flat") -> FloatArray:
    """Validate, scale and shape images for a model.

    Args:
        images: uint8 images, see :func:`check_images` for accepted shapes; floats already in
            ``[0, 1]`` are accepted as they are (cast to float32, not scaled again).
        layout: ``"flat"`` gives ``(N, 784)`` for dense models, ``"image"`` gives
            ``(N, 28, 28, 1)`` for convolutional ones. Defaults to ``"flat"``.

    Returns:
        float32 array in ``[0, 1]``.

    Raises:
        InputValidationError: Bad images or an unknown layout.

    Example:
        >>> import numpy as np
        >>> prepare_images(np.zeros((2, 28, 28), np.uint8)).shape
        (2, 784)
        >>> prepare_images(np.zeros((2, 28, 28), np.uint8), layout="image").shape
        (2, 28, 28, 1)
    """
    if layout not in _LAYOUTS:
        raise InputValidationError(f"layout must be 'flat' or 'image'; got {layout!r}.")
    checked = check_images(images, allow_float=True)
    # uint8 pixels are scaled; floats were checked to lie in [0, 1] already.
    scaled = scale(checked) if checked.dtype == np.uint8 else checked.astype(np.float32)
    if layout == "flat":
        return scaled.reshape(scaled.shape[0], _PIXELS)
    return scaled.reshape(scaled.shape[0], *IMAGE_SHAPE, 1)


def encode_labels(
    labels: object, *, encoding: LabelEncoding = "sparse", num_classes: int = NUM_CLASSES
) -> NDArray[np.generic]:
    """Encode integer labels for a loss: unchanged (sparse) or one-hot float32 rows.

    Args:
        labels: Integer labels ``(N,)`` in ``0..num_classes-1``.
        encoding: ``"sparse"`` returns uint8 ``(N,)`` for
            ``sparse_categorical_crossentropy``; ``"one_hot"`` returns float32
            ``(N, num_classes)`` for ``categorical_crossentropy``. Defaults to ``"sparse"``.
        num_classes: Number of classes. Defaults to 10.

    Returns:
        The encoded labels.

    Raises:
        InputValidationError: Invalid labels or an unknown encoding.

    Example:
        >>> encode_labels([2, 0], encoding="one_hot", num_classes=3)
        array([[0., 0., 1.],
               [1., 0., 0.]], dtype=float32)
    """
    if encoding not in _ENCODINGS:
        raise InputValidationError(f"encoding must be 'sparse' or 'one_hot'; got {encoding!r}.")
    checked = check_labels(labels, num_classes=num_classes)
    if encoding == "sparse":
        return checked
    return np.eye(num_classes, dtype=np.float32)[checked]


@attrs.frozen(kw_only=True, eq=False)
class TrainValidationSplit:
    """The result of :func:`train_validation_split`.

    Attributes:
        train_images: Images kept for training.
        train_labels: Their labels.
        validation_images: Images held out for validation.
        validation_labels: Their labels.
        train_indices: Positions of the training rows in the input, in output order.
        validation_indices: Positions of the validation rows in the input, in output order.
    """

    train_images: NDArray[np.generic]
    train_labels: LabelsU8
    validation_images: NDArray[np.generic]
    validation_labels: LabelsU8
    train_indices: NDArray[np.intp]
    validation_indices: NDArray[np.intp]


def _allocate(total: int, sizes: list[int], fraction: float) -> list[int]:
    """Split ``total`` held-out samples over groups in proportion to their sizes.

    Each group gets the floor of its exact share; the samples left over go to the groups with
    the largest remainders (the earlier group on a tie), so the quotas add up to ``total``.
    """
    exact = [fraction * size for size in sizes]
    quotas = [min(size, math.floor(share)) for size, share in zip(sizes, exact, strict=True)]
    order = sorted(range(len(sizes)), key=lambda i: (quotas[i] - exact[i], i))
    for i in order:
        if sum(quotas) >= total:
            break
        if quotas[i] < sizes[i]:
            quotas[i] += 1
    return quotas


def train_validation_split(
    images: object,
    labels: object,
    *,
    fraction: float = 0.2,
    seed: int = 42,
    stratify: bool = True,
) -> TrainValidationSplit:
    """Hold out a seeded, by default stratified, fraction of the data for validation.

    It holds out ``ceil(fraction * N)`` samples, as scikit-learn's ``train_test_split`` does,
    so with the defaults on the 60,000 training images it holds out 12,000 (1,200 of each
    class) and keeps 48,000, the sizes of the tutorial's ``train_test_split(test_size=0.2,
    random_state=42)``. Stratified, each class gives its proportional share (rounded so that
    the shares add up). The same seed always gives the same split.

    Args:
        images: uint8 images ``(N, 28, 28)``.
        labels: Integer labels ``(N,)``.
        fraction: Share of the data to hold out, strictly between 0 and 1. Defaults to 0.2.
        seed: Seed of the shuffle. Defaults to 42.
        stratify: Hold out the same fraction of every class. Defaults to ``True``.

    Returns:
        The two parts and the indices that produced them.

    Raises:
        InputValidationError: Bad arrays, mismatched lengths, a fraction outside (0, 1), or a
            fraction that leaves one side empty.

    Example:
        >>> import numpy as np
        >>> x = np.zeros((10, 28, 28), np.uint8); y = np.arange(10, dtype=np.uint8) % 2
        >>> parts = train_validation_split(x, y, fraction=0.2, seed=0)
        >>> len(parts.train_labels), len(parts.validation_labels)
        (8, 2)
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
        raise InputValidationError(f"fraction must be a number in (0, 1); got {fraction!r}.")
    if not 0.0 < float(fraction) < 1.0:
        raise InputValidationError(
            f"fraction must lie strictly between 0 and 1; got {fraction}. Use 0.2 to hold out "
            f"20% of the data."
        )
    x = check_images(images, allow_float=True)
    y = check_labels(labels)
    _check_same_length(x, y)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    quotas = _allocate(math.ceil(float(fraction) * len(y)), [len(g) for g in groups], fraction)
    held: list[NDArray[np.intp]] = []
    kept: list[NDArray[np.intp]] = []
    for group, n_held in zip(groups, quotas, strict=True):
        shuffled = rng.permutation(group)
        held.append(shuffled[:n_held])
        kept.append(shuffled[n_held:])
    validation_idx = rng.permutation(np.concatenate(held))
    train_idx = rng.permutation(np.concatenate(kept))
    if validation_idx.size == 0 or train_idx.size == 0:
        raise InputValidationError(
            f"fraction={fraction} of {len(y)} samples leaves "
            f"{'no validation' if validation_idx.size == 0 else 'no training'} data; "
            f"use more samples or another fraction."
        )
    return TrainValidationSplit(
        train_images=x[train_idx],
        train_labels=y[train_idx],
        validation_images=x[validation_idx],
        validation_labels=y[validation_idx],
        train_indices=train_idx,
        validation_indices=validation_idx,
    )
