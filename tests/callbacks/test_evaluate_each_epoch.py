"""EvaluateEachEpoch: the val_* metrics of the run's evaluator in every epoch's logs."""

from __future__ import annotations

import keras

import fashionkit
from fashionkit.callbacks._evaluate_each_epoch import EvaluateEachEpoch
from fashionkit.evaluation import Evaluator
from tests.helpers import plain_fit

# --- fashionkit's internal callbacks -------------------------------------------------------


def test_evaluate_each_epoch_writes_the_evaluators_metrics_into_the_logs(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It adds the val_* metrics of its evaluator's report to every epoch's logs."""
    evaluator = Evaluator(tiny_dataset.test.images, tiny_dataset.test.labels)
    history = keras.callbacks.History()
    plain_fit(tiny_dataset, [EvaluateEachEpoch(evaluator), history])
    assert evaluator.latest is not None
    assert history.history["val_loss"][-1] == evaluator.latest.loss
    assert history.history["val_accuracy"][-1] == evaluator.latest.accuracy
    assert len(history.history["val_per_class_accuracy"]) == 2
