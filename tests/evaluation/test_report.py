"""EvaluationReport: the one implementation of every metric."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.evaluation import Evaluator, report_from_probabilities
from fashionkit.exceptions import InputValidationError
from tests.helpers import balanced_labels, synthetic_images

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
    """It serialises to a dict of its fields that survives a JSON round trip unchanged."""
    report = _report()
    data = report.to_dict()
    assert json.loads(report.to_json()) == data
    assert "n_samples" not in data  # a property, derived from the confusion matrix
    assert report.n_samples == 6
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


def test_report_on_empty_input_has_nan_loss_and_accuracy() -> None:
    """It reports NaN loss and accuracy, zero counts and zero metrics for no images."""
    report = report_from_probabilities(np.zeros((0, 3)), [], split="x", class_names=_NAMES)
    assert math.isnan(report.loss)
    assert math.isnan(report.accuracy)
    assert report.n_samples == 0
    assert report.confusion_matrix == ((0, 0, 0),) * 3
    assert all(m.precision == m.recall == m.f1 == 0.0 for m in report.per_class)


def test_report_epoch_logs_are_the_val_metrics() -> None:
    """It gives the loss, accuracy and per-class recall under the prefix training logs use."""
    report = _report()
    assert report.per_class_recall == tuple(m.recall for m in report.per_class)
    assert report.epoch_logs() == {
        "val_loss": report.loss,
        "val_accuracy": report.accuracy,
        "val_per_class_accuracy": list(report.per_class_recall),
    }
    assert set(report.epoch_logs("test_")) == {
        "test_loss",
        "test_accuracy",
        "test_per_class_accuracy",
    }


def _random_case(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random softmax-like rows (some with exact zeros) and labels; class k-1 is never a label."""
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.full(k, 0.3), size=n)
    probabilities[: n // 10] = np.eye(k)[rng.integers(0, k, n // 10)]  # confident, often wrong
    labels = rng.integers(0, k - 1, size=n)
    return probabilities, labels


_RANDOM_CASES = [(50, 3, 0), (200, 10, 1), (1000, 10, 2), (37, 5, 3)]


@pytest.mark.parametrize(("n", "k", "seed"), _RANDOM_CASES)
def test_report_metrics_equal_scikit_learns(n: int, k: int, seed: int) -> None:
    """It matches precision_recall_fscore_support(zero_division=0) and confusion_matrix."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    probabilities, labels = _random_case(n, k, seed)
    names = tuple(f"c{i}" for i in range(k))
    report = report_from_probabilities(probabilities, labels, split="x", class_names=names)
    predicted = probabilities.argmax(axis=1)
    classes = list(range(k))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=classes, zero_division=0
    )
    np.testing.assert_allclose([m.precision for m in report.per_class], precision, rtol=1e-12)
    np.testing.assert_allclose([m.recall for m in report.per_class], recall, rtol=1e-12)
    np.testing.assert_allclose([m.f1 for m in report.per_class], f1, rtol=1e-12)
    assert [m.support for m in report.per_class] == support.tolist()
    assert np.array_equal(
        report.confusion_matrix, confusion_matrix(labels, predicted, labels=classes)
    )
    assert report.accuracy == pytest.approx(float(np.mean(predicted == labels)), rel=1e-12)


@pytest.mark.parametrize(("n", "k", "seed"), _RANDOM_CASES)
def test_report_loss_equals_scikit_learns_log_loss_with_keras_clipping(
    n: int, k: int, seed: int
) -> None:
    """It equals log_loss on probabilities clipped to [1e-7, 1 - 1e-7], as Keras clips them."""
    from sklearn.metrics import log_loss

    probabilities, labels = _random_case(n, k, seed)
    names = tuple(f"c{i}" for i in range(k))
    report = report_from_probabilities(probabilities, labels, split="x", class_names=names)
    clipped = np.clip(probabilities, 1e-7, 1 - 1e-7)
    with warnings.catch_warnings():
        # Clipping moves a row's sum off 1 by up to 1e-7 per entry; log_loss only warns.
        warnings.filterwarnings("ignore", "The y_prob values do not sum to one", UserWarning)
        expected = log_loss(labels, clipped, labels=list(range(k)))
    assert report.loss == pytest.approx(expected, rel=1e-12)


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


# --- reports of evaluate (a real, untrained Keras model) ---------------------------------


def test_reports_say_whether_tta_was_used(linear_model: Any) -> None:
    """It records tta in the report, its dict and text, and reads old reports as without."""
    images, labels = synthetic_images(20), balanced_labels(20)
    with_tta = fashionkit.evaluate(linear_model, images, labels, tta=True)
    without = fashionkit.evaluate(linear_model, images, labels)
    assert with_tta.tta is True
    assert without.tta is False
    assert with_tta.to_dict()["tta"] is True
    assert "flip test-time augmentation" in with_tta.to_text()
    assert "test-time" not in without.to_text()
    old = with_tta.to_dict()
    del old["tta"]
    assert fashionkit.EvaluationReport.from_dict(old).tta is False
    evaluator = Evaluator(images, labels, tta=True)
    assert evaluator(linear_model).accuracy == with_tta.accuracy


def test_a_report_keeps_nan_metrics_but_refuses_a_field_of_the_wrong_kind() -> None:
    """It accepts NaN (no images) and raises ArgumentError naming a field that is no number."""
    report = report_from_probabilities(
        np.array([[0.9, 0.1]]), [0], split="demo", class_names=("x", "y")
    )
    data = report.to_dict()
    assert math.isnan(fashionkit.EvaluationReport.from_dict({**data, "loss": "nan"}).loss)
    with pytest.raises(fashionkit.ArgumentError, match=r"^EvaluationReport\.temperature must be"):
        fashionkit.EvaluationReport.from_dict({**data, "temperature": 0.0})
    with pytest.raises(fashionkit.ArgumentError, match=r"^indent must be an integer >= 0"):
        report.to_json(indent=-1)
