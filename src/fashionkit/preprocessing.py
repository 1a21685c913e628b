"""Turning raw Fashion-MNIST arrays into model input: validation, scaling, splitting, encoding.

Everything here needs NumPy only (a stratified split also imports scikit-learn). Each public
function validates its input once, with the checkers it re-exports (:func:`check_images`,
:func:`check_labels`, :func:`check_targets`), and raises
:class:`~fashionkit.exceptions.InputValidationError` (a :class:`ValueError`) with a message
that says what was wrong, instead of letting a reshape or broadcast fail later.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import (
    IMAGE_SHAPE,
    NUM_CLASSES,
    PIXELS,
    LabelEncoding,
    Layout,
)
from fashionkit._typing import FloatArray, LabelsU8
from fashionkit._validation import (
    ArrayLike,
    Interval,
    annotated_fields,
    check_images,
    check_labels,
    check_same_length,
    check_targets,
    params,
)
from fashionkit.exceptions import InputValidationError

__all__ = [
    "LabelEncoding",
    "Layout",
    "TrainValidationSplit",
    "check_images",
    "check_labels",
    "check_targets",
    "encode_labels",
    "prepare_images",
    "scale",
    "train_validation_split",
]


#: What the ``images`` parameters accept (checked inside by :func:`check_images`).
IMAGES = ArrayLike("uint8 images (N, 28, 28), or floats already in [0, 1]")
#: What the ``labels`` parameters accept (checked inside by :func:`check_labels`).
LABELS = ArrayLike("integer labels (N,)")


@params(images=ArrayLike("an array of uint8 pixels"))
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


@params(images=IMAGES)
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
        InputValidationError: Bad images.
        ArgumentError: An unknown layout.

    Example:
        >>> import numpy as np
        >>> prepare_images(np.zeros((2, 28, 28), np.uint8)).shape
        (2, 784)
        >>> prepare_images(np.zeros((2, 28, 28), np.uint8), layout="image").shape
        (2, 28, 28, 1)
    """
    checked = check_images(images, allow_float=True)
    # uint8 pixels are scaled; floats were checked to lie in [0, 1] already.
    scaled = scale(checked) if checked.dtype == np.uint8 else checked.astype(np.float32)
    if layout == "flat":
        return scaled.reshape(scaled.shape[0], PIXELS)
    return scaled.reshape(scaled.shape[0], *IMAGE_SHAPE, 1)


@params(labels=LABELS, num_classes=Interval("int", ge=2))
def encode_labels(
    labels: object, *, encoding: LabelEncoding = "sparse", num_classes: int = NUM_CLASSES
) -> NDArray[np.generic]:
    """Encode integer labels for a loss: unchanged (sparse) or one-hot float32 rows.

    Args:
        labels: Integer labels ``(N,)`` in ``0..num_classes-1``.
        encoding: ``"sparse"`` returns uint8 ``(N,)`` for
            ``sparse_categorical_crossentropy``; ``"one_hot"`` returns float32
            ``(N, num_classes)`` for ``categorical_crossentropy``. Defaults to ``"sparse"``.
        num_classes: Number of classes, at least 2. Defaults to 10.

    Returns:
        The encoded labels.

    Raises:
        InputValidationError: Invalid labels.
        ArgumentError: An unknown encoding, or fewer than 2 classes.

    Example:
        >>> encode_labels([2, 0], encoding="one_hot", num_classes=3)
        array([[0., 0., 1.],
               [1., 0., 0.]], dtype=float32)
    """
    checked = check_labels(labels, num_classes=num_classes)
    if encoding == "sparse":
        return checked
    return np.eye(num_classes, dtype=np.float32)[checked]


@attrs.frozen(kw_only=True, eq=False, field_transformer=annotated_fields)
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


def _tutorial_indices(n: int, n_held: int, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The indices ``train_test_split(..., random_state=seed)`` picks, without scikit-learn.

    scikit-learn's ``ShuffleSplit`` draws one permutation from ``RandomState(seed)`` and holds out
    its first ``n_held`` positions; the rest, in permutation order, is the training part.
    """
    order = np.random.RandomState(seed).permutation(n).astype(np.intp)
    return order[n_held:], order[:n_held]


def _stratified_indices(
    labels: NDArray[np.uint8], n_held: int, seed: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The indices ``train_test_split(..., stratify=labels, random_state=seed)`` picks."""
    from sklearn.model_selection import StratifiedShuffleSplit

    counts = np.bincount(labels)
    present = counts[counts > 0]
    if present.min(initial=len(labels)) < 2 or n_held < len(present):
        raise InputValidationError(
            "A stratified split needs at least 2 images of every class present and a validation "
            f"part with room for each class; got {len(labels)} labels with class counts "
            f"{counts.tolist()} and {n_held} to hold out. Use stratify=False or "
            f"more data."
        )
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_held, random_state=seed)
    train, held = next(splitter.split(np.zeros((len(labels), 1)), labels))
    return np.asarray(train, np.intp), np.asarray(held, np.intp)


@params(
    images=IMAGES,
    labels=LABELS,
    fraction=Interval("number", gt=0, lt=1),
    seed=Interval("int", ge=0, lt=2**32),
)
def train_validation_split(
    images: object,
    labels: object,
    *,
    fraction: float = 0.2,
    seed: int = 42,
    stratify: bool = False,
) -> TrainValidationSplit:
    """Hold out a seeded fraction of the data for validation, exactly as the tutorial does.

    With the defaults it picks the very rows of the tutorial's
    ``train_test_split(images, labels, test_size=0.2, random_state=42)``: ``ceil(fraction *
    N)`` rows are held out (12,000 of the 60,000 training images, 48,000 kept), chosen by
    scikit-learn's shuffle for that seed, and both parts keep scikit-learn's order. With
    ``stratify=True`` it picks the rows of ``train_test_split(..., stratify=labels)`` instead,
    which holds out the same share of every class (this one imports scikit-learn). The same
    arguments always give the same split.

    Args:
        images: uint8 images ``(N, 28, 28)``.
        labels: Integer labels ``(N,)``.
        fraction: Share of the data to hold out, strictly between 0 and 1. Defaults to 0.2
            (20%).
        seed: The split's ``random_state``, from 0 to ``2**32 - 1``. Defaults to 42.
        stratify: Hold out the same fraction of every class. Defaults to ``False``, as in the
            tutorial.

    Returns:
        The two parts and the indices that produced them.

    Raises:
        InputValidationError: Bad arrays, mismatched lengths, a fraction that leaves one side
            empty, or too few images per class to stratify.
        ArgumentError: A fraction outside (0, 1), or a seed outside ``0..2**32-1``.

    Example:
        >>> import numpy as np
        >>> x = np.zeros((10, 28, 28), np.uint8); y = np.arange(10, dtype=np.uint8) % 2
        >>> parts = train_validation_split(x, y, fraction=0.2, seed=0)
        >>> len(parts.train_labels), len(parts.validation_labels)
        (8, 2)
        >>> parts.validation_indices.tolist()  # train_test_split(..., random_state=0) holds these
        [2, 8]
    """
    x = check_images(images, allow_float=True)
    y = check_labels(labels)
    check_same_length(x, y, names="images and labels")
    n_held = math.ceil(float(fraction) * len(y))
    if n_held == 0 or n_held >= len(y):
        raise InputValidationError(
            f"fraction={fraction} of {len(y)} samples leaves "
            f"{'no validation' if n_held == 0 else 'no training'} data; "
            f"use more samples or another fraction."
        )
    if stratify:
        train_idx, validation_idx = _stratified_indices(y, n_held, int(seed))
    else:
        train_idx, validation_idx = _tutorial_indices(len(y), n_held, int(seed))
    return TrainValidationSplit(
        train_images=x[train_idx],
        train_labels=y[train_idx],
        validation_images=x[validation_idx],
        validation_labels=y[validation_idx],
        train_indices=train_idx,
        validation_indices=validation_idx,
    )
