"""predict and evaluate on a real Keras model, test-time augmentation included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.evaluation import Evaluator, Predictor, report_from_probabilities
from fashionkit.exceptions import InputValidationError, LabelEncodingError
from tests.helpers import balanced_labels, synthetic_images

# --- predict and evaluate with a real (untrained) Keras model ------------------------------


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


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_predict_and_evaluator_reject_a_bad_batch_size(linear_model: Any, batch_size: Any) -> None:
    """It raises InputValidationError for a batch size that is not a positive integer."""
    with pytest.raises(InputValidationError, match="batch_size must be an integer >= 1"):
        fashionkit.predict(linear_model, synthetic_images(2), batch_size=batch_size)
    with pytest.raises(InputValidationError, match="batch_size must be an integer >= 1"):
        Evaluator(synthetic_images(2), [0, 1], batch_size=batch_size)


@pytest.mark.parametrize("call", ["predict", "evaluate", "predictor", "predictor-evaluate"])
def test_no_images_are_refused_alike(linear_model: Any, call: str) -> None:
    """predict, evaluate and a Predictor refuse an empty batch with the same message."""
    empty = np.zeros((0, 28, 28), np.uint8)
    no_labels = np.zeros((0,), np.int64)
    calls = {
        "predict": lambda: fashionkit.predict(linear_model, empty),
        "evaluate": lambda: fashionkit.evaluate(linear_model, empty, no_labels),
        "predictor": lambda: Predictor(model=linear_model).predict(empty),
        "predictor-evaluate": lambda: Predictor(model=linear_model).evaluate(empty, no_labels),
    }
    with pytest.raises(InputValidationError, match=r"holds no images.*at least one 28x28 image"):
        calls[call]()


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
