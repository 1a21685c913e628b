"""Scaling, shaping and encoding model input, and the train/validation split.

The checkers these functions validate with are tested in test_validation.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

import fashionkit
from fashionkit import _validation
from fashionkit.exceptions import InputValidationError
from fashionkit.preprocessing import (
    encode_labels,
    prepare_images,
    scale,
    train_validation_split,
)
from tests.helpers import balanced_labels, synthetic_images

# --- scale ---------------------------------------------------------------------------------


def test_scale_returns_float32_in_unit_interval() -> None:
    """It returns float32 values in [0, 1] of the input's shape for every pixel value."""
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    scaled = scale(pixels)
    assert scaled.dtype == np.float32
    assert scaled.shape == (16, 16)
    assert scaled.min() == 0.0
    assert scaled.max() == 1.0
    np.testing.assert_allclose(scaled, pixels / 255.0, rtol=1e-6)


def test_scale_gives_exact_values_for_0_51_255() -> None:
    """It maps 0, 51 and 255 to exactly 0.0, 0.2 and 1.0 in float32, like the tutorial's / 255."""
    scaled = scale(np.array([0, 51, 255], dtype=np.uint8))
    assert scaled.tolist() == [0.0, float(np.float32(0.2)), 1.0]


def test_scale_gives_exact_zero_and_one() -> None:
    """It maps black to exactly 0.0 and white to exactly 1.0."""
    scaled = scale(np.array([0, 255], dtype=np.uint8))
    assert scaled.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_scale_rejects_non_uint8_input(dtype: type) -> None:
    """It refuses anything but uint8, since floats are probably scaled already."""
    with pytest.raises(InputValidationError, match="uint8"):
        scale(np.zeros((2, 28, 28), dtype=dtype))


# --- prepare_images ------------------------------------------------------------------------


def test_prepare_images_flat_layout_shape() -> None:
    """It returns (N, 784) float32 rows for the flat layout."""
    out = prepare_images(synthetic_images(3), layout="flat")
    assert out.shape == (3, 784)
    assert out.dtype == np.float32


def test_prepare_images_image_layout_shape() -> None:
    """It returns (N, 28, 28, 1) float32 images for the image layout."""
    images = synthetic_images(3)
    out = prepare_images(images, layout="image")
    assert out.shape == (3, 28, 28, 1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], images / 255.0, rtol=1e-6)


def test_prepare_images_defaults_to_flat() -> None:
    """It uses the flat layout when none is given."""
    assert prepare_images(synthetic_images(2)).shape == (2, 784)


def test_prepare_images_accepts_a_single_image() -> None:
    """It turns a single (28, 28) image into a batch of one."""
    image = synthetic_images(1)[0]
    assert prepare_images(image).shape == (1, 784)
    assert prepare_images(image, layout="image").shape == (1, 28, 28, 1)


def test_prepare_images_accepts_flat_uint8_rows() -> None:
    """It accepts (N, 784) uint8 rows and keeps pixel order."""
    images = synthetic_images(4)
    rows = images.reshape(4, 784)
    np.testing.assert_array_equal(prepare_images(rows), prepare_images(images))
    np.testing.assert_array_equal(
        prepare_images(rows, layout="image")[..., 0], prepare_images(images, layout="image")[..., 0]
    )


def test_prepare_images_accepts_channels_last_batch() -> None:
    """It accepts (N, 28, 28, 1) uint8 images."""
    images = synthetic_images(2)
    np.testing.assert_array_equal(prepare_images(images[..., None]), prepare_images(images))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prepare_images_passes_scaled_floats_unchanged(dtype: type) -> None:
    """It keeps floats already in [0, 1] as they are instead of dividing by 255 again."""
    floats: np.ndarray = (synthetic_images(2) / 255.0).astype(dtype)
    out = prepare_images(floats)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, floats.astype(np.float32).reshape(2, 784))
    assert out.max() > 0.5  # would be below 1/255 if divided again


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_prepare_images_rejects_non_finite_floats(bad: float) -> None:
    """It rejects NaN and infinite pixel values."""
    images = np.full((2, 28, 28), 0.5, dtype=np.float32)
    images[1, 3, 4] = bad
    with pytest.raises(InputValidationError, match="NaN or infinite"):
        prepare_images(images)


@pytest.mark.parametrize("bad", [1.5, 255.0, -0.1])
def test_prepare_images_rejects_floats_outside_unit_interval(bad: float) -> None:
    """It rejects floats above 1 or below 0 and says pixels must lie in [0, 1]."""
    images = np.full((2, 28, 28), 0.5, dtype=np.float32)
    images[0, 0, 0] = bad
    with pytest.raises(InputValidationError, match=r"\[0, 1\]") as info:
        prepare_images(images)
    assert str(bad) in str(info.value)


@pytest.mark.parametrize(
    "shape",
    [(2, 32, 32), (2, 28), (2, 28, 28, 1, 1), (2, 28, 28, 3), (784,), (2, 783)],
    ids=str,
)
def test_prepare_images_rejects_wrong_shapes(shape: tuple[int, ...]) -> None:
    """It rejects shapes it cannot read as 28x28 images, showing the received shape."""
    with pytest.raises(InputValidationError, match="must have shape") as info:
        prepare_images(np.zeros(shape, dtype=np.uint8))
    assert str(shape) in str(info.value)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16, np.bool_])
def test_prepare_images_rejects_wrong_dtype(dtype: type) -> None:
    """It rejects integer dtypes other than uint8, naming the received dtype."""
    with pytest.raises(InputValidationError, match="uint8") as info:
        prepare_images(np.zeros((2, 28, 28), dtype=dtype))
    assert str(np.dtype(dtype)) in str(info.value)


def test_prepare_images_rejects_unknown_layout() -> None:
    """It rejects a layout other than 'flat' or 'image'."""
    with pytest.raises(InputValidationError, match="'square'"):
        prepare_images(synthetic_images(1), layout="square")  # type: ignore[arg-type]


# --- encode_labels -------------------------------------------------------------------------


def test_encode_labels_sparse_returns_uint8_labels() -> None:
    """It returns the labels unchanged as uint8 for the sparse encoding."""
    out = encode_labels([2, 0, 9], encoding="sparse")
    assert out.dtype == np.uint8
    assert out.tolist() == [2, 0, 9]


def test_encode_labels_one_hot_returns_float32_rows() -> None:
    """It returns exact one-hot float32 rows for the one_hot encoding."""
    out = encode_labels([2, 0], encoding="one_hot", num_classes=3)
    assert out.dtype == np.float32
    assert out.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert encode_labels([9], encoding="one_hot").tolist() == [[0.0] * 9 + [1.0]]


def test_encode_labels_rejects_unknown_encoding() -> None:
    """It rejects an encoding other than 'sparse' or 'one_hot'."""
    with pytest.raises(InputValidationError, match="'onehot'"):
        encode_labels([1], encoding="onehot")  # type: ignore[arg-type]


def test_encode_labels_validates_labels() -> None:
    """It rejects out-of-range labels before encoding them."""
    with pytest.raises(InputValidationError):
        encode_labels([10], encoding="one_hot")


# --- train_validation_split ----------------------------------------------------------------


def test_split_without_stratification_holds_out_the_fraction() -> None:
    """It holds out 12 of 60 samples and keeps 48 for fraction 0.2, unstratified."""
    parts = train_validation_split(synthetic_images(60), balanced_labels(60), stratify=False)
    assert len(parts.validation_labels) == 12
    assert len(parts.train_labels) == 48


def test_stratified_split_holds_out_the_fraction_of_all_samples() -> None:
    """It holds out 12 of 60 balanced samples, one or two of each class, when stratified."""
    parts = train_validation_split(synthetic_images(60), balanced_labels(60), stratify=True)
    assert len(parts.validation_labels) == 12
    assert len(parts.train_labels) == 48
    per_class = np.bincount(parts.validation_labels, minlength=10)
    assert set(per_class.tolist()) <= {1, 2}


def test_stratified_split_holds_out_each_class_in_the_same_proportion() -> None:
    """It holds out 20% of every class, also when the classes differ in size."""
    labels = np.repeat(np.arange(10, dtype=np.uint8), 10 * np.arange(1, 11))  # 10, 20, .., 100
    images = np.zeros((labels.size, 28, 28), dtype=np.uint8)
    parts = train_validation_split(images, labels, fraction=0.2, seed=3, stratify=True)
    held = np.bincount(parts.validation_labels, minlength=10)
    kept = np.bincount(parts.train_labels, minlength=10)
    assert held.tolist() == [2 * (c + 1) for c in range(10)]
    assert kept.tolist() == [8 * (c + 1) for c in range(10)]


def test_split_is_reproducible_with_the_same_seed() -> None:
    """It gives identical indices for the same seed."""
    images, labels = synthetic_images(100), balanced_labels(100)
    first = train_validation_split(images, labels, seed=5)
    second = train_validation_split(images, labels, seed=5)
    np.testing.assert_array_equal(first.train_indices, second.train_indices)
    np.testing.assert_array_equal(first.validation_indices, second.validation_indices)


def test_split_differs_with_another_seed() -> None:
    """It gives a different held-out set for a different seed."""
    images, labels = synthetic_images(100), balanced_labels(100)
    first = train_validation_split(images, labels, seed=5)
    other = train_validation_split(images, labels, seed=6)
    assert set(first.validation_indices.tolist()) != set(other.validation_indices.tolist())


@pytest.mark.parametrize("stratify", [True, False])
def test_split_indices_partition_all_samples(stratify: bool) -> None:
    """It uses every index exactly once: no overlap and the union is all indices."""
    parts = train_validation_split(
        synthetic_images(100), balanced_labels(100), stratify=stratify, seed=1
    )
    train, validation = parts.train_indices.tolist(), parts.validation_indices.tolist()
    assert len(set(train)) == len(train)
    assert len(set(validation)) == len(validation)
    assert not set(train) & set(validation)
    assert sorted(train + validation) == list(range(100))


@pytest.mark.parametrize("stratify", [True, False])
def test_split_images_and_labels_follow_the_indices(stratify: bool) -> None:
    """It returns the images and labels at the reported indices, in the same order."""
    images, labels = synthetic_images(50), balanced_labels(50)
    parts = train_validation_split(images, labels, stratify=stratify, seed=2)
    np.testing.assert_array_equal(parts.train_images, images[parts.train_indices])
    np.testing.assert_array_equal(parts.train_labels, labels[parts.train_indices])
    np.testing.assert_array_equal(parts.validation_images, images[parts.validation_indices])
    np.testing.assert_array_equal(parts.validation_labels, labels[parts.validation_indices])
    assert parts.train_labels.dtype == np.uint8


@pytest.mark.parametrize("fraction", [0, 1, 0.0, 1.0, -0.1, 1.5, True, "0.2", None])
def test_split_rejects_a_bad_fraction(fraction: object) -> None:
    """It rejects fractions outside (0, 1), booleans and strings, showing the value."""
    with pytest.raises(InputValidationError, match="fraction") as info:
        train_validation_split(
            synthetic_images(20),
            balanced_labels(20),
            fraction=fraction,  # type: ignore[arg-type]
        )
    assert str(fraction) in str(info.value)


def test_split_rejects_mismatched_lengths() -> None:
    """It rejects images and labels of different lengths, showing both."""
    with pytest.raises(InputValidationError, match="same length") as info:
        train_validation_split(synthetic_images(20), balanced_labels(19))
    assert "20" in str(info.value)
    assert "19" in str(info.value)


@pytest.mark.parametrize(
    ("n", "fraction", "stratify", "empty_side"),
    [
        # ceil(fraction * N) is held out, so validation is never empty for fraction > 0.
        (10, 0.99, False, "no training"),
        (10, 0.95, True, "no training"),
    ],
)
def test_split_rejects_a_fraction_that_leaves_one_side_empty(
    n: int, fraction: float, stratify: bool, empty_side: str
) -> None:
    """It rejects a fraction that would leave the validation or training part empty."""
    with pytest.raises(InputValidationError, match=empty_side):
        train_validation_split(
            synthetic_images(n), balanced_labels(n), fraction=fraction, stratify=stratify
        )


def test_split_rejects_bad_images() -> None:
    """It validates the images like prepare_images does."""
    with pytest.raises(InputValidationError, match="must have shape"):
        train_validation_split(np.zeros((20, 32, 32), np.uint8), balanced_labels(20))


def test_split_of_60000_samples_matches_the_tutorial_sizes() -> None:
    """It holds out 12,000 and keeps 48,000 of 60,000 images with the defaults."""
    images = np.zeros((60000, 28, 28), dtype=np.uint8)
    parts = train_validation_split(images, balanced_labels(60000))
    assert parts.train_images.shape == (48000, 28, 28)
    assert parts.validation_images.shape == (12000, 28, 28)
    assert len(parts.train_labels) == 48000
    assert len(parts.validation_labels) == 12000


def test_stratified_split_of_60000_balanced_samples_holds_out_1200_per_class() -> None:
    """It holds out exactly 1,200 images of every class from 60,000 balanced ones."""
    images = np.zeros((60000, 28, 28), dtype=np.uint8)
    parts = train_validation_split(images, balanced_labels(60000), stratify=True)
    assert np.bincount(parts.validation_labels, minlength=10).tolist() == [1200] * 10
    assert np.bincount(parts.train_labels, minlength=10).tolist() == [4800] * 10


# --- the split is scikit-learn's, row for row ------------------------------------------------


def test_default_split_is_the_tutorials_train_test_split_on_60000_rows() -> None:
    """It picks the rows of train_test_split(test_size=0.2, random_state=42), in its order."""
    n = 60000
    labels = np.random.default_rng(0).integers(0, 10, n).astype(np.uint8)
    parts = train_validation_split(np.zeros((n, 28, 28), np.uint8), labels)
    train, held = train_test_split(np.arange(n), test_size=0.2, random_state=42)
    np.testing.assert_array_equal(parts.train_indices, train)
    np.testing.assert_array_equal(parts.validation_indices, held)
    np.testing.assert_array_equal(parts.validation_labels, labels[held])


@pytest.mark.parametrize(
    ("n", "fraction", "seed"),
    [(10, 0.2, 0), (11, 0.2, 42), (30, 0.1, 7), (37, 0.33, 1), (100, 0.5, 123), (2, 0.5, 9)],
)
def test_default_split_equals_train_test_split_on_small_arrays(
    n: int, fraction: float, seed: int
) -> None:
    """It holds out the same rows as scikit-learn for any size, fraction and seed."""
    parts = train_validation_split(
        synthetic_images(n), balanced_labels(n), fraction=fraction, seed=seed
    )
    train, held = train_test_split(np.arange(n), test_size=fraction, random_state=seed)
    np.testing.assert_array_equal(parts.train_indices, train)
    np.testing.assert_array_equal(parts.validation_indices, held)


@pytest.mark.parametrize(
    ("labels", "fraction", "seed"),
    [
        (balanced_labels(60000), 0.2, 42),
        (balanced_labels(100), 0.2, 42),
        (np.repeat(np.arange(10, dtype=np.uint8), 10 * np.arange(1, 11)), 0.2, 3),
        (np.repeat(np.arange(3, dtype=np.uint8), [5, 9, 23]), 0.3, 0),
    ],
    ids=["60000-balanced", "100-balanced", "10-classes-uneven", "3-classes-uneven"],
)
def test_stratified_split_equals_train_test_split_with_stratify(
    labels: np.ndarray, fraction: float, seed: int
) -> None:
    """It holds out the same rows as train_test_split(..., stratify=labels)."""
    n = len(labels)
    parts = train_validation_split(
        np.zeros((n, 28, 28), np.uint8), labels, fraction=fraction, seed=seed, stratify=True
    )
    train, held = train_test_split(
        np.arange(n), test_size=fraction, random_state=seed, stratify=labels
    )
    np.testing.assert_array_equal(parts.train_indices, train)
    np.testing.assert_array_equal(parts.validation_indices, held)


@pytest.mark.parametrize(
    ("labels", "fraction"),
    [(np.array([0, 0, 1, 1, 2], np.uint8), 0.4), (balanced_labels(20), 0.2)],
    ids=["class-with-one-image", "fewer-held-than-classes"],
)
def test_stratified_split_explains_when_there_is_too_little_data(
    labels: np.ndarray, fraction: float
) -> None:
    """It raises InputValidationError suggesting stratify=False instead of scikit-learn's error."""
    images = np.zeros((len(labels), 28, 28), np.uint8)
    with pytest.raises(InputValidationError, match="stratify=False"):
        train_validation_split(images, labels, fraction=fraction, stratify=True)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True, "42"])
def test_split_rejects_a_bad_seed(seed: object) -> None:
    """It raises InputValidationError for a seed that is not an integer in 0..2**32-1."""
    with pytest.raises(InputValidationError, match="seed must be an integer"):
        train_validation_split(
            synthetic_images(20),
            balanced_labels(20),
            seed=seed,  # type: ignore[arg-type]
        )


def test_preprocessing_re_exports_the_checkers() -> None:
    """It offers the checkers of fashionkit._validation under its own and the package's name."""
    for name in ("check_images", "check_labels", "check_targets"):
        checker = getattr(_validation, name)
        assert getattr(fashionkit.preprocessing, name) is checker
        assert getattr(fashionkit, name) is checker


def test_stratified_split_ignores_classes_that_are_absent() -> None:
    """It stratifies labels that use only some classes, as scikit-learn does."""
    labels = np.repeat(np.array([0, 3, 7], np.uint8), 10)
    images = synthetic_images(30)
    parts = train_validation_split(images, labels, fraction=0.2, seed=1, stratify=True)
    _, expected = train_test_split(np.arange(30), test_size=0.2, random_state=1, stratify=labels)
    assert sorted(parts.validation_indices.tolist()) == sorted(expected.tolist())
    assert np.bincount(parts.validation_labels).tolist() == [2, 0, 0, 2, 0, 0, 0, 2]


# --- declared parameters ----------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [1, 10.0, "10", True])
def test_encode_labels_refuses_a_bad_number_of_classes(num_classes: object) -> None:
    """It raises ArgumentError naming num_classes for a count that is not an integer >= 2."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^num_classes must be an integer >= 2"):
        encode_labels([0, 1], encoding="one_hot", num_classes=num_classes)  # type: ignore[arg-type]


@pytest.mark.parametrize("call", [scale, prepare_images])
def test_images_that_are_no_array_are_refused_naming_images(call: object) -> None:
    """It raises ArgumentError naming images for None or a file name."""
    for bad in (None, "shirt.png"):
        with pytest.raises(fashionkit.ArgumentError, match=r"^images must be"):
            call(bad)  # type: ignore[operator]


def test_split_refuses_a_stratify_that_is_not_a_bool() -> None:
    """It raises ArgumentError for stratify="yes" rather than taking any non-empty string as on."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^stratify must be True or False"):
        train_validation_split(
            synthetic_images(20),
            balanced_labels(20),
            stratify="yes",  # type: ignore[arg-type]
        )
