"""Unit tests of target checks, evaluation reports and predictions with a tiny real model."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import fashionkit
from conftest import balanced_labels, synthetic_images
from fashionkit.evaluation import check_targets, report_from_probabilities
from fashionkit.exceptions import InputValidationError, LabelEncodingError

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


# --- report_from_probabilities -------------------------------------------------------------

_NAMES = ("a", "b", "c")
# True labels and the (crafted) probabilities; the argmax predictions are [0, 0, 1, 1, 2, 2].
_LABELS = np.array([0, 0, 0, 1, 1, 2])
_PROBS = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.5, 0.3, 0.2],
        [0.3, 0.6, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.3, 0.5],
        [0.1, 0.1, 0.8],
    ]
)


def _report() -> fashionkit.EvaluationReport:
    return report_from_probabilities(_PROBS, _LABELS, split="validation", class_names=_NAMES)


def test_report_accuracy_counts_correct_argmax_predictions() -> None:
    """It reports the share of rows whose argmax is the true label (4 of 6)."""
    report = _report()
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.n_samples == 6
    assert report.split == "validation"
    assert report.class_names == _NAMES


def test_report_loss_is_mean_negative_log_probability_of_the_true_class() -> None:
    """It reports the loss as the mean of -log p(true class)."""
    true_probabilities = [0.7, 0.5, 0.3, 0.8, 0.3, 0.8]
    expected = -sum(math.log(p) for p in true_probabilities) / 6
    assert _report().loss == pytest.approx(expected, rel=1e-12)


def test_report_loss_clips_zero_probabilities_like_keras() -> None:
    """It clips a zero probability of the true class to 1e-7 instead of returning infinity."""
    report = report_from_probabilities(
        np.array([[0.0, 1.0]]), np.array([0]), split="x", class_names=("a", "b")
    )
    assert report.loss == pytest.approx(-math.log(1e-7))


def test_report_confusion_matrix_counts_true_by_predicted() -> None:
    """It fills confusion_matrix[i][j] with the images of class i predicted as class j."""
    assert _report().confusion_matrix == ((2, 1, 0), (0, 1, 1), (0, 0, 1))


def test_report_per_class_precision_recall_f1() -> None:
    """It computes precision, recall, F1 and support of each class by hand-checked values."""
    a, b, c = _report().per_class
    assert (a.name, b.name, c.name) == _NAMES
    assert (a.precision, a.recall, a.f1, a.support) == pytest.approx((1.0, 2 / 3, 0.8, 3))
    assert (b.precision, b.recall, b.f1, b.support) == pytest.approx((0.5, 0.5, 0.5, 2))
    assert (c.precision, c.recall, c.f1, c.support) == pytest.approx((0.5, 1.0, 2 / 3, 1))


def test_report_never_predicted_class_has_zero_precision_without_warning() -> None:
    """It reports precision 0 for a class never predicted (and warnings are errors here)."""
    probs = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.6, 0.3, 0.1]])
    report = report_from_probabilities(probs, np.array([0, 1, 2]), split="x", class_names=_NAMES)
    assert [m.precision for m in report.per_class] == [pytest.approx(1 / 3), 0.0, 0.0]
    assert [m.recall for m in report.per_class] == [1.0, 0.0, 0.0]


def test_report_to_dict_and_to_json_round_trip() -> None:
    """It serialises to a dict that survives a JSON round trip unchanged."""
    report = _report()
    data = report.to_dict()
    assert json.loads(report.to_json()) == data
    assert data["n_samples"] == 6
    assert data["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert data["per_class"][0] == {
        "name": "a",
        "precision": 1.0,
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(0.8),
        "support": 3,
    }


def test_report_to_json_keeps_korean_class_names_readable() -> None:
    """It writes non-ASCII class names as themselves, not as escape sequences."""
    names = ("티셔츠/탑", "바지", "앵클 부츠")
    report = report_from_probabilities(_PROBS, _LABELS, split="테스트", class_names=names)
    text = report.to_json()
    for name in names:
        assert name in text
    assert "\\u" not in text
    assert json.loads(text)["class_names"] == list(names)
    assert json.loads(text) == report.to_dict()


def test_report_to_text_names_every_class() -> None:
    """It lists every class name and the totals in the text table."""
    report = report_from_probabilities(
        np.eye(10)[balanced_labels(20)], balanced_labels(20), split="test"
    )
    text = report.to_text()
    for name in fashionkit.CLASS_NAMES:
        assert name in text
    assert "accuracy 1.0000" in text
    assert "20 images" in text
    assert str(report) == text


@pytest.mark.parametrize(
    "shape", [(6, 10), (5, 3), (6,), (6, 3, 1)], ids=["wrong-classes", "wrong-rows", "1d", "3d"]
)
def test_report_rejects_probabilities_of_the_wrong_shape(shape: tuple[int, ...]) -> None:
    """It raises InputValidationError when probabilities are not (N, num_classes)."""
    with pytest.raises(InputValidationError, match=r"\(6, 3\)"):
        report_from_probabilities(
            np.full(shape, 0.1), _LABELS, split="validation", class_names=_NAMES
        )


@pytest.mark.parametrize("bad", [-1, 3])
def test_report_rejects_labels_outside_the_classes(bad: int) -> None:
    """It raises InputValidationError for a label that names no class, instead of miscounting."""
    labels = _LABELS.copy()
    labels[0] = bad
    with pytest.raises(InputValidationError, match=r"0\.\.2"):
        report_from_probabilities(_PROBS, labels, split="validation", class_names=_NAMES)


def test_report_text_columns_line_up_with_short_class_names() -> None:
    """It pads the header and the rows to the same width when names are shorter than 'class'."""
    report = report_from_probabilities(_PROBS, _LABELS, split="v", class_names=("a", "b", "c"))
    header, *rows = report.to_text().splitlines()[1:]
    assert header.startswith("class  ")
    assert {len(line) for line in [header, *rows]} == {len(header)}


def test_check_targets_rejects_an_unknown_encoding() -> None:
    """It raises ConfigError for an encoding other than sparse and one_hot."""
    with pytest.raises(fashionkit.ConfigError, match="one_hot"):
        check_targets(_LABELS, encoding="onehot")


# --- predict and evaluate with a real (untrained) Keras model ------------------------------


@pytest.fixture(scope="module")
def linear_model() -> Any:
    """An untrained, uncompiled linear Keras model (imports TensorFlow)."""
    pytest.importorskip("tensorflow")
    return fashionkit.create_model("linear")


def test_predict_single_image_returns_one_name_and_probabilities(linear_model: Any) -> None:
    """It classifies one (28, 28) uint8 image as one class with probabilities summing to 1."""
    prediction = fashionkit.predict(linear_model, synthetic_images(1)[0])
    assert len(prediction) == 1
    assert len(prediction.names) == 1
    assert prediction.names[0] in fashionkit.CLASS_NAMES
    assert prediction.probabilities.shape == (1, 10)
    assert prediction.probabilities.dtype == np.float32
    assert float(prediction.probabilities.sum()) == pytest.approx(1.0, abs=1e-5)
    assert prediction.classes.tolist() == [int(prediction.probabilities.argmax())]
    assert prediction.names[0] == fashionkit.CLASS_NAMES[int(prediction.classes[0])]


def test_predict_batch_uses_custom_class_names(linear_model: Any) -> None:
    """It returns one name per image taken from the given class names."""
    names = fashionkit.CLASS_NAMES_KO
    prediction = fashionkit.predict(linear_model, synthetic_images(4), class_names=names)
    assert len(prediction) == 4
    assert prediction.names == tuple(names[int(c)] for c in prediction.classes)


@pytest.mark.parametrize(
    "images",
    [
        np.zeros((28, 28), dtype=np.int64),
        np.zeros((2, 28, 28), dtype=np.float64) + 2.0,
        np.zeros((32, 32), dtype=np.uint8),
        np.zeros((2, 28), dtype=np.uint8),
    ],
    ids=["int64", "floats-above-1", "32x32", "N-by-28"],
)
def test_predict_rejects_wrong_dtype_or_shape(linear_model: Any, images: np.ndarray) -> None:
    """It raises InputValidationError for images it cannot feed without resizing or guessing."""
    with pytest.raises(InputValidationError):
        fashionkit.predict(linear_model, images)


def test_evaluate_with_one_hot_labels_equals_integer_labels(
    linear_model: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It gives the same report for one-hot rows as for the integer labels they encode."""
    images, labels = tiny_dataset.test.images, tiny_dataset.test.labels
    from_integers = fashionkit.evaluate(linear_model, images, labels, split="test")
    one_hot = fashionkit.encode_labels(labels, encoding="one_hot")
    from_one_hot = fashionkit.evaluate(linear_model, images, one_hot, split="test")
    assert from_one_hot.confusion_matrix == from_integers.confusion_matrix
    assert from_one_hot.accuracy == from_integers.accuracy
    assert from_one_hot.loss == pytest.approx(from_integers.loss, rel=1e-6)
    assert from_one_hot.per_class == from_integers.per_class
    assert from_integers.n_samples == len(labels)
    assert 0.0 <= from_integers.accuracy <= 1.0
    assert from_integers.loss > 0.0


def test_evaluate_rejects_smoothed_one_hot_labels(
    linear_model: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It raises LabelEncodingError for 2-d labels that are not one-hot."""
    one_hot = np.asarray(fashionkit.encode_labels(tiny_dataset.test.labels, encoding="one_hot"))
    smoothed = one_hot.astype(np.float32) * 0.9 + 0.01
    with pytest.raises(LabelEncodingError, match="not one-hot"):
        fashionkit.evaluate(linear_model, tiny_dataset.test.images, smoothed)


@pytest.mark.parametrize("n_labels", [49, 51])
def test_evaluate_rejects_mismatched_lengths(
    linear_model: Any, tiny_dataset: fashionkit.FashionMNIST, n_labels: int
) -> None:
    """It raises InputValidationError when images and labels differ in length."""
    labels = balanced_labels(n_labels)
    with pytest.raises(InputValidationError, match="same length") as info:
        fashionkit.evaluate(linear_model, tiny_dataset.test.images, labels)
    assert str(n_labels) in str(info.value)
