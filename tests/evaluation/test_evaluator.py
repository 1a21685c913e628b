"""The Evaluator: a split validated once, predicted once per call, one report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.evaluation import Evaluator, report_from_probabilities
from fashionkit.exceptions import InputValidationError
from tests.helpers import balanced_labels, synthetic_images


def test_evaluator_report_refuses_probabilities_that_are_not_a_distribution() -> None:
    """It refuses rows that do not sum to 1 given to Evaluator.report, naming the row."""
    evaluator = Evaluator(synthetic_images(2), [0, 1], split="demo")
    with pytest.raises(InputValidationError, match=r"row 1 sums to 0\.5"):
        evaluator.report(np.vstack([np.eye(10)[0], np.full(10, 0.05)]))
    assert evaluator.latest is None


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
