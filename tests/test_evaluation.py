"""The one implementation of every metric, the Evaluator, and evaluate/predict on a real model."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest

import fashionkit
from conftest import balanced_labels, synthetic_images
from fashionkit.evaluation import Evaluator, Predictor, report_from_probabilities
from fashionkit.exceptions import InputValidationError, LabelEncodingError

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


def test_evaluate_loss_agrees_with_keras_cross_entropy(
    linear_model: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It reports the loss Keras's sparse categorical cross-entropy gives the same outputs."""
    import keras

    images, labels = tiny_dataset.test.images, tiny_dataset.test.labels
    report = fashionkit.evaluate(linear_model, images, labels)
    probabilities = np.asarray(linear_model(fashionkit.prepare_images(images), training=False))
    expected = float(keras.losses.SparseCategoricalCrossentropy()(labels, probabilities))
    assert report.loss == pytest.approx(expected, rel=1e-5)


def test_predict_rejects_class_names_that_do_not_match_the_model(linear_model: Any) -> None:
    """It refuses three class names for a model with ten outputs."""
    with pytest.raises(InputValidationError, match="predicts 10 classes but 3 class names"):
        fashionkit.predict(linear_model, synthetic_images(2), class_names=("a", "b", "c"))


@pytest.fixture(scope="module")
def sigmoid_model() -> Any:
    """A linear model with ten sigmoid outputs: scores in [0, 1] that are not a distribution."""
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="sigmoid")])
    model.layers[0].set_weights([np.zeros((784, 10)), np.zeros(10)])  # every output is 0.5
    return model


def test_predict_and_evaluate_refuse_a_model_without_a_softmax_output(sigmoid_model: Any) -> None:
    """It refuses outputs whose rows do not sum to 1 instead of reporting classes from them."""
    with pytest.raises(InputValidationError) as info:
        fashionkit.predict(sigmoid_model, synthetic_images(3))
    assert str(info.value).startswith(
        "each row of the model's outputs must sum to 1 (within 0.01), as softmax outputs do; "
        "row 0 sums to 5,"
    )
    with pytest.raises(InputValidationError, match="row 0 sums to 5"):
        fashionkit.evaluate(sigmoid_model, synthetic_images(3), [0, 1, 2])


def test_evaluator_report_refuses_probabilities_that_are_not_a_distribution() -> None:
    """It refuses rows that do not sum to 1 given to Evaluator.report, naming the row."""
    evaluator = Evaluator(synthetic_images(2), [0, 1], split="demo")
    with pytest.raises(InputValidationError, match=r"row 1 sums to 0\.5"):
        evaluator.report(np.vstack([np.eye(10)[0], np.full(10, 0.05)]))
    assert evaluator.latest is None


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_predict_and_evaluator_reject_a_bad_batch_size(linear_model: Any, batch_size: Any) -> None:
    """It raises InputValidationError for a batch size that is not a positive integer."""
    with pytest.raises(InputValidationError, match="batch_size must be an integer >= 1"):
        fashionkit.predict(linear_model, synthetic_images(2), batch_size=batch_size)
    with pytest.raises(InputValidationError, match="batch_size must be an integer >= 1"):
        Evaluator(synthetic_images(2), [0, 1], batch_size=batch_size)


# --- Evaluator -----------------------------------------------------------------------------


class _CountingModel:
    """A Keras model wrapper that counts forward passes and the images they saw."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.inputs = model.inputs
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)  # layers, predict, ...: a Keras model as callers see it

    def __call__(self, x: Any, training: bool = False) -> Any:
        self.batches.append(len(x))
        return self.model(x, training=training)


@pytest.mark.parametrize(("batch_size", "batches"), [(1024, [50]), (16, [16, 16, 16, 2])])
def test_evaluator_predicts_the_split_once_in_batches(
    linear_model: Any, tiny_dataset: fashionkit.FashionMNIST, batch_size: int, batches: list[int]
) -> None:
    """It predicts every image exactly once per call, batch by batch, and keeps the report."""
    split = tiny_dataset.test
    evaluator = Evaluator(split.images, split.labels, split="test", batch_size=batch_size)
    assert evaluator.latest is None
    counting = _CountingModel(linear_model)
    report = evaluator(counting)
    assert counting.batches == batches
    assert evaluator.latest is report
    probabilities = evaluator.probabilities(counting)
    expected = report_from_probabilities(probabilities, split.labels, split="test")
    assert report.to_dict() == expected.to_dict()
    assert report.split == "test"
    assert len(evaluator) == len(split) == report.n_samples


def test_evaluator_validates_its_split_once_at_construction() -> None:
    """It rejects bad images, labels, lengths or class names before any model is called."""
    images, labels = synthetic_images(4), balanced_labels(4)
    with pytest.raises(InputValidationError, match="must have shape"):
        Evaluator(np.zeros((4, 32, 32), np.uint8), labels)
    with pytest.raises(InputValidationError, match=r"0\.\.9"):
        Evaluator(images, [0, 1, 2, 10])
    with pytest.raises(InputValidationError, match="same length"):
        Evaluator(images, labels[:3])
    with pytest.raises(InputValidationError, match="class_names"):
        Evaluator(images, labels, class_names=("only one",))
    evaluator = Evaluator(images, labels)
    assert evaluator.images.dtype == np.uint8  # kept as uint8, scaled batch by batch
    assert evaluator.labels.dtype == np.uint8


@pytest.mark.parametrize(
    "form",
    ["float-images", "flat-rows", "channels-last", "one-hot-labels"],
)
def test_evaluator_gives_one_report_for_every_accepted_form(
    linear_model: Any, tiny_dataset: fashionkit.FashionMNIST, form: str
) -> None:
    """It reports the same metrics for floats, flat rows, channels-last and one-hot labels."""
    images, labels = np.asarray(tiny_dataset.test.images), np.asarray(tiny_dataset.test.labels)
    reference = Evaluator(images, labels)(linear_model)
    x: Any = images
    y: Any = labels
    if form == "float-images":
        x = fashionkit.scale(images)
    elif form == "flat-rows":
        x = images.reshape(len(images), 784)
    elif form == "channels-last":
        x = images[..., np.newaxis]
    else:
        y = fashionkit.encode_labels(labels, encoding="one_hot")
    report = Evaluator(x, y)(linear_model)
    assert report.confusion_matrix == reference.confusion_matrix
    assert report.loss == pytest.approx(reference.loss, rel=1e-6)


def test_evaluator_feeds_image_models_images(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It shapes the split for the model's layout, so an image model and a flat one both work."""
    model = fashionkit.create_model("cnn", filters=(4,), dense_units=8)
    report = Evaluator(tiny_dataset.test.images, tiny_dataset.test.labels)(model)
    assert report.n_samples == 50
    assert 0.0 <= report.accuracy <= 1.0


def test_evaluate_is_one_evaluator_call(
    linear_model: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It returns the report an Evaluator of the same split gives."""
    images, labels = tiny_dataset.test.images, tiny_dataset.test.labels
    assert (
        fashionkit.evaluate(linear_model, images, labels, split="test").to_dict()
        == Evaluator(images, labels, split="test")(linear_model).to_dict()
    )


def test_predict_of_no_image_is_an_empty_prediction(linear_model: Any) -> None:
    """It returns no classes and a (0, 10) probability array for an empty batch."""
    result = fashionkit.predict(linear_model, np.zeros((0, 28, 28), np.uint8))
    assert len(result) == 0
    assert result.probabilities.shape == (0, 10)
    assert result.classes.shape == (0,)


# --- flip test-time augmentation -------------------------------------------------------------


@pytest.mark.parametrize("layout", ["flat", "image"])
def test_tta_averages_the_image_and_its_mirror(layout: str) -> None:
    """It returns the mean of the model's outputs for each image and its left-right mirror."""
    import keras

    keras.utils.set_random_seed(0)
    model = fashionkit.create_model(
        fashionkit.MLPConfig(hidden_units=(16,)) if layout == "flat" else fashionkit.CNNConfig()
    )
    images = synthetic_images(12, seed=5)
    x = fashionkit.prepare_images(images, layout=layout)
    x_mirror = fashionkit.prepare_images(images[:, :, ::-1], layout=layout)
    expected = (np.asarray(model(x)) + np.asarray(model(x_mirror))) / 2
    prediction = fashionkit.predict(model, images, tta=True)
    np.testing.assert_allclose(prediction.probabilities, expected, rtol=1e-5, atol=1e-6)
    assert prediction.tta is True
    plain = fashionkit.predict(model, images)
    assert plain.tta is False
    assert not np.allclose(plain.probabilities, prediction.probabilities)


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


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_tta_must_be_a_bool(linear_model: Any, bad: Any) -> None:
    """It refuses a tta that is not True or False, naming it."""
    with pytest.raises(InputValidationError, match="tta must be True or False"):
        fashionkit.predict(linear_model, synthetic_images(2), tta=bad)
    with pytest.raises(InputValidationError, match="tta must be True or False"):
        Evaluator(synthetic_images(2), [0, 1], tta=bad)


# --- declared parameters ----------------------------------------------------------------------


def test_class_names_given_as_one_string_are_refused(linear_model: Any) -> None:
    """It refuses class_names="ab" instead of reading each letter as a class name."""
    probabilities, labels = np.array([[0.9, 0.1], [0.2, 0.8]]), [0, 1]
    expected = r"^class_names must be at least two class names \(a list or tuple of str\)"
    with pytest.raises(fashionkit.ArgumentError, match=expected):
        report_from_probabilities(probabilities, labels, split="demo", class_names="ab")
    with pytest.raises(fashionkit.ArgumentError, match=expected):
        Evaluator(synthetic_images(2), labels, class_names="ab")
    with pytest.raises(fashionkit.ArgumentError, match=expected):
        fashionkit.predict(linear_model, synthetic_images(2), class_names="ab")
    with pytest.raises(fashionkit.ArgumentError, match=r"^Predictor\.class_names must be"):
        Predictor(model=linear_model, class_names="ab")


def test_a_path_given_as_the_model_is_refused_at_the_door() -> None:
    """It raises ArgumentError naming ``model`` for a file name, before any image is checked."""
    images, labels = synthetic_images(2), [0, 1]
    expected = r"^model must be a Keras model \(keras\.Model\); got 'run/model\.keras'\."
    with pytest.raises(fashionkit.ArgumentError, match=expected):
        fashionkit.predict("run/model.keras", images)
    with pytest.raises(fashionkit.ArgumentError, match=expected):
        fashionkit.evaluate("run/model.keras", images, labels)
    with pytest.raises(fashionkit.ArgumentError, match=r"^Predictor\.model must be a Keras"):
        Predictor(model="run/model.keras")


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
