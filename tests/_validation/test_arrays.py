"""The array checkers every public entry point validates with, once."""

from __future__ import annotations

import numpy as np
import pytest

import fashionkit
from fashionkit._validation import (
    check_images,
    check_labels,
    check_probabilities,
    check_same_length,
    check_targets,
    integer_labels,
)
from fashionkit.exceptions import (
    InputValidationError,
    LabelEncodingError,
)
from tests.helpers import balanced_labels, synthetic_images

# --- check_images --------------------------------------------------------------------------


def test_check_images_keeps_a_uint8_batch_without_copying() -> None:
    """It returns an (N, 28, 28) uint8 batch as it is, sharing its memory."""
    images = synthetic_images(3)
    out = check_images(images)
    assert out.shape == (3, 28, 28)
    assert np.shares_memory(out, images)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((28, 28), (1, 28, 28)), ((4, 784), (4, 28, 28)), ((4, 28, 28, 1), (4, 28, 28))],
    ids=["single", "flat-rows", "channels-last"],
)
def test_check_images_reshapes_accepted_layouts_to_a_batch(
    shape: tuple[int, ...], expected: tuple[int, int, int]
) -> None:
    """It reads a single image, flattened rows and channels-last batches as (N, 28, 28)."""
    pixels = np.arange(np.prod(shape), dtype=np.int64).reshape(shape) % 256
    out = check_images(pixels.astype(np.uint8))
    assert out.shape == expected
    np.testing.assert_array_equal(out.ravel(), pixels.ravel())


def test_check_images_accepts_scaled_floats_only_when_allowed() -> None:
    """It rejects float pixels by default and keeps them, unscaled, with allow_float=True."""
    floats = np.full((2, 28, 28), 0.5, dtype=np.float32)
    with pytest.raises(InputValidationError, match="uint8") as info:
        check_images(floats)
    assert "float32" in str(info.value)
    out = check_images(floats, allow_float=True)
    assert out.dtype == np.float32
    assert float(out.max()) == 0.5


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1.5, -0.1])
def test_check_images_rejects_floats_outside_the_unit_interval(bad: float) -> None:
    """It rejects NaN, infinite and out-of-range float pixels even when floats are allowed."""
    floats = np.full((2, 28, 28), 0.5, dtype=np.float64)
    floats[1, 2, 3] = bad
    with pytest.raises(InputValidationError, match=r"NaN or infinite|\[0, 1\]"):
        check_images(floats, allow_float=True)


@pytest.mark.parametrize(
    "shape", [(2, 32, 32), (2, 28), (784,), (2, 783), (2, 28, 28, 3), (2, 28, 28, 1, 1)], ids=str
)
def test_check_images_rejects_shapes_it_cannot_read_without_resizing(
    shape: tuple[int, ...],
) -> None:
    """It names every accepted shape and the received one, and says nothing is resized."""
    with pytest.raises(InputValidationError, match="must have shape") as info:
        check_images(np.zeros(shape, np.uint8))
    assert str(shape) in str(info.value)
    assert "not resized" in str(info.value)


def test_check_images_names_the_argument() -> None:
    """It uses the given name in its messages."""
    with pytest.raises(InputValidationError, match=r"^x_valid must be uint8"):
        check_images(np.zeros((1, 28, 28), np.int16), name="x_valid")


@pytest.mark.parametrize(
    ("value", "message"),
    [([[1, 2], [3]], "cannot be read as an array"), ([None, 1], "Python objects")],
    ids=["ragged", "objects"],
)
def test_checkers_turn_numpy_complaints_into_input_validation_errors(
    value: object, message: str
) -> None:
    """It raises InputValidationError, not NumPy's error, for ragged or object input."""
    with pytest.raises(InputValidationError, match=message):
        check_images(value)
    with pytest.raises(InputValidationError, match=message):
        check_labels(value)


# --- check_labels --------------------------------------------------------------------------


def test_check_labels_returns_uint8() -> None:
    """It returns the labels as uint8 with their values."""
    out = check_labels(np.array([0, 9, 3], dtype=np.int64))
    assert out.dtype == np.uint8
    assert out.tolist() == [0, 9, 3]
    assert check_labels([1, 2]).tolist() == [1, 2]


@pytest.mark.parametrize("bad", [-1, 10, 255])
def test_check_labels_rejects_out_of_range(bad: int) -> None:
    """It rejects labels outside 0..9 and shows the received range."""
    with pytest.raises(InputValidationError, match=r"0\.\.9") as info:
        check_labels(np.array([0, bad, 5]))
    assert str(bad) in str(info.value)


def test_check_labels_respects_num_classes() -> None:
    """It checks the range against num_classes."""
    assert check_labels([0, 2], num_classes=3).tolist() == [0, 2]
    with pytest.raises(InputValidationError, match=r"0\.\.2"):
        check_labels([0, 3], num_classes=3)


def test_check_labels_rejects_float_labels() -> None:
    """It rejects floating-point labels even when they hold whole numbers."""
    with pytest.raises(InputValidationError, match="integer") as info:
        check_labels(np.array([1.0, 2.0]))
    assert "float64" in str(info.value)


def test_check_labels_rejects_one_hot_rows_as_label_encoding_error() -> None:
    """It raises LabelEncodingError for 2-d labels, which look one-hot."""
    with pytest.raises(LabelEncodingError, match="one-hot"):
        check_labels(np.eye(10, dtype=np.float32)[[1, 2]])


def test_check_labels_rejects_three_dimensional_labels() -> None:
    """It rejects 3-d labels with a plain InputValidationError naming the shape."""
    with pytest.raises(InputValidationError, match="1-d") as info:
        check_labels(np.zeros((2, 2, 2), dtype=np.uint8))
    assert not isinstance(info.value, LabelEncodingError)
    assert "(2, 2, 2)" in str(info.value)


def test_check_labels_accepts_an_empty_array() -> None:
    """It accepts zero labels of any dtype (there is no value to check)."""
    assert check_labels(np.zeros(0, np.float64)).shape == (0,)


# --- check_targets -------------------------------------------------------------------------


def test_check_targets_rejects_one_hot_rows_for_sparse_encoding() -> None:
    """It raises LabelEncodingError pointing at the one_hot encoding for one-hot sparse targets."""
    with pytest.raises(LabelEncodingError, match="one_hot") as info:
        check_targets(np.eye(10, dtype=np.float32)[[1, 2]], encoding="sparse")
    assert "(2, 10)" in str(info.value)


def test_check_targets_rejects_integer_labels_for_one_hot_encoding() -> None:
    """It raises LabelEncodingError for integer labels when the loss expects one-hot rows."""
    with pytest.raises(LabelEncodingError, match="encode_labels"):
        check_targets(np.array([1, 2, 3]), encoding="one_hot")


def test_check_targets_rejects_wrong_class_count() -> None:
    """It rejects one-hot rows with 5 columns when there are 10 classes."""
    with pytest.raises(LabelEncodingError, match=r"\(N, 10\)") as info:
        check_targets(np.eye(5, dtype=np.float32)[[1, 2]], encoding="one_hot")
    assert "(2, 5)" in str(info.value)


def test_check_targets_rejects_smoothed_rows() -> None:
    """It rejects rows that are not one-hot, such as labels smoothed by hand."""
    smoothed = np.eye(10, dtype=np.float32)[[1, 2]] * 0.9 + 0.01
    with pytest.raises(LabelEncodingError, match="not one-hot"):
        check_targets(smoothed, encoding="one_hot")


def test_check_targets_rejects_rows_with_two_ones() -> None:
    """It rejects rows of zeros and ones that do not hold exactly one 1."""
    rows = np.zeros((2, 10), dtype=np.float32)
    rows[0, [1, 2]] = 1.0
    rows[1, 3] = 1.0
    with pytest.raises(LabelEncodingError, match="not one-hot"):
        check_targets(rows, encoding="one_hot")


def test_check_targets_rejects_out_of_range_sparse_labels() -> None:
    """It validates the range of sparse labels."""
    with pytest.raises(InputValidationError, match=r"0\.\.9"):
        check_targets(np.array([0, 10]), encoding="sparse")


def test_check_targets_passes_valid_sparse_labels() -> None:
    """It returns valid sparse labels as uint8 with the same values."""
    out = check_targets(np.array([3, 0, 9], dtype=np.int64), encoding="sparse")
    assert out.dtype == np.uint8
    assert out.tolist() == [3, 0, 9]


def test_check_targets_passes_valid_one_hot_rows() -> None:
    """It returns valid one-hot rows unchanged."""
    rows = np.eye(10, dtype=np.float32)[[4, 7]]
    out = check_targets(rows, encoding="one_hot")
    np.testing.assert_array_equal(out, rows)
    assert out.shape == (2, 10)


def test_check_targets_rejects_an_unknown_encoding() -> None:
    """It raises InputValidationError listing the encodings, and the closest, for an unknown one."""
    with pytest.raises(
        InputValidationError,
        match=(
            r"^encoding must be one of 'sparse' or 'one_hot'; got 'onehot'\. "
            r"Did you mean 'one_hot'\?$"
        ),
    ):
        check_targets(np.array([0, 1]), encoding="onehot")


def test_check_targets_is_public_under_its_old_names() -> None:
    """It is the function fashionkit and fashionkit.preprocessing export."""
    assert fashionkit.check_targets is check_targets
    assert fashionkit.preprocessing.check_targets is check_targets


# --- integer_labels ------------------------------------------------------------------------


def test_integer_labels_decodes_one_hot_rows() -> None:
    """It turns one-hot rows into the uint8 labels they encode."""
    labels = balanced_labels(20)
    out = integer_labels(np.eye(10, dtype=np.float32)[labels])
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, labels)


def test_integer_labels_checks_both_forms() -> None:
    """It passes integer labels through check_labels and rejects rows that are not one-hot."""
    assert integer_labels([2, 1], num_classes=3).tolist() == [2, 1]
    with pytest.raises(InputValidationError, match=r"0\.\.2"):
        integer_labels([3], num_classes=3)
    with pytest.raises(LabelEncodingError, match="not one-hot"):
        integer_labels(np.full((2, 10), 0.1))


# --- check_same_length ---------------------------------------------------------------------


def test_check_same_length_names_both_arrays_and_lengths() -> None:
    """It raises InputValidationError saying how many of each it got."""
    check_same_length(np.zeros(3), np.zeros(3), names="images and labels")
    with pytest.raises(InputValidationError) as info:
        check_same_length(np.zeros(3), np.zeros(4), names="images and labels")
    assert str(info.value) == (
        "images and labels must have the same length; got 3 images and 4 labels."
    )


# --- check_probabilities -------------------------------------------------------------------


def test_check_probabilities_returns_float64() -> None:
    """It returns valid probabilities as float64 with the same values."""
    probs = np.array([[0.25, 0.75], [1.0, 0.0]], dtype=np.float32)
    out = check_probabilities(probs, rows=2, num_classes=2)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, probs)


@pytest.mark.parametrize(
    "probs",
    [np.full((2, 3), 0.5), np.full((3, 2), 0.5), np.full(2, 0.5), np.array([["a", "b"]] * 2)],
    ids=["columns", "rows", "1-d", "strings"],
)
def test_check_probabilities_rejects_the_wrong_shape(probs: np.ndarray) -> None:
    """It names the expected (rows, num_classes) shape."""
    with pytest.raises(InputValidationError, match=r"\(2, 2\)"):
        check_probabilities(probs, rows=2, num_classes=2)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -0.1, 1.1])
def test_check_probabilities_rejects_values_outside_the_unit_interval(bad: float) -> None:
    """It rejects NaN, infinity and values outside [0, 1], as a diverged model outputs."""
    probs = np.full((2, 2), 0.5)
    probs[1, 0] = bad
    with pytest.raises(InputValidationError, match="diverged"):
        check_probabilities(probs, rows=2, num_classes=2)


def _softmax_rows(n: int, k: int = 10, *, seed: int = 0) -> np.ndarray:
    z = np.random.default_rng(seed).normal(0.0, 4.0, size=(n, k))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(
    ("row", "total"),
    [([0.5, 0.6], "1.1"), ([0.2, 0.2], "0.4"), ([0.0, 0.0], "0"), ([0.5, 0.48], "0.98")],
    ids=["above-1", "below-1", "all-zero", "off-by-0.02"],
)
def test_check_probabilities_rejects_rows_that_do_not_sum_to_1(row: list, total: str) -> None:
    """It names the first row off, its sum, the tolerance and what to do instead."""
    probs = np.array([[0.25, 0.75], row])
    with pytest.raises(InputValidationError) as info:
        check_probabilities(probs, rows=2, num_classes=2)
    message = str(info.value)
    assert message.startswith("each row of probabilities must sum to 1 (within 0.01)")
    assert f"row 1 sums to {total}," in message
    assert "1 of 2 rows are off" in message
    assert "apply a softmax" in message


def test_check_probabilities_names_logits_and_the_first_bad_row() -> None:
    """It says values outside [0, 1] look like logits and names their range and row."""
    with pytest.raises(InputValidationError) as info:
        check_probabilities([[0.5, 0.5], [2.5, -1.0]], rows=2, num_classes=2)
    assert str(info.value).startswith(
        "probabilities must lie in [0, 1]; got values from -1 to 2.5 (first in row 1)."
    )
    assert "logits" in str(info.value)


def test_check_probabilities_names_the_argument() -> None:
    """It calls the array by the name it is given, as predict calls a model's outputs."""
    with pytest.raises(InputValidationError, match=r"^each row of the model's outputs must sum"):
        check_probabilities([[0.9, 0.9]], rows=1, num_classes=2, name="the model's outputs")


def test_check_probabilities_accepts_one_hot_rows_and_no_rows() -> None:
    """It accepts integer one-hot rows and an empty (0, C) array."""
    assert check_probabilities(np.eye(3, dtype=np.int64), rows=3, num_classes=3).dtype == np.float64
    assert check_probabilities(np.zeros((0, 3)), rows=0, num_classes=3).shape == (0, 3)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_check_probabilities_accepts_softmax_rounded_to_half_precision(dtype: str) -> None:
    """It accepts softmax outputs rounded to float16 or bfloat16 and cast back to float32."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    half = np.float16 if dtype == "float16" else ml_dtypes.bfloat16
    probs = _softmax_rows(20_000).astype(half).astype(np.float32)
    assert np.abs(probs.sum(axis=1, dtype=np.float64) - 1).max() > 1e-4  # they are rounded
    out = check_probabilities(probs, rows=20_000, num_classes=10)
    np.testing.assert_array_equal(out, probs)


def test_check_probabilities_accepts_flip_averaged_rows() -> None:
    """It accepts the mean of two softmax outputs, as flip test-time augmentation gives."""
    probs = (_softmax_rows(100, seed=1) + _softmax_rows(100, seed=2)) * np.float32(0.5)
    check_probabilities(probs, rows=100, num_classes=10)
