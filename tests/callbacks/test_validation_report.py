"""ValidationReport: each epoch's confusion matrix, inside train and with plain model.fit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit.callbacks import (
    JSONLinesLogger,
    ValidationReport,
)
from fashionkit.exceptions import InputValidationError
from tests.helpers import plain_fit, small_config

# --- ValidationReport ----------------------------------------------------------------------


def test_validation_report_reads_the_runs_evaluator_inside_train(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It keeps each epoch's matrix of the validation split train supplies, and its recalls."""
    report = ValidationReport()
    path = tmp_path / "m.jsonl"
    result = fashionkit.train(
        small_config(), dataset=tiny_dataset, callbacks=[report, JSONLinesLogger(path)]
    )
    assert sorted(report.confusion_matrices) == [1, 2, 3]
    last = report.confusion_matrices[3]
    assert last.shape == (10, 10)
    assert last.dtype == np.int64
    assert last.sum() == result.validation.n_samples
    assert last.tolist() == [list(row) for row in result.validation.confusion_matrix]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[-1]["val_per_class_accuracy"] == list(result.validation.per_class_recall)


def test_validation_report_with_its_own_data_inside_train(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It evaluates its own data (the test split) every second epoch, leaving the logs alone."""
    split = tiny_dataset.test
    report = ValidationReport(split.images, split.labels, every=2)
    result = fashionkit.train(small_config(epochs=4), dataset=tiny_dataset, callbacks=[report])
    assert sorted(report.confusion_matrices) == [2, 4]
    assert report.confusion_matrices[4].tolist() == [list(r) for r in result.test.confusion_matrix]
    # The logged per-class accuracy stays that of the run's validation split.
    assert result.history[-1].val_per_class_accuracy == result.validation.per_class_recall


@pytest.mark.parametrize("form", ["uint8", "scaled-flat", "one-hot"])
def test_validation_report_works_standalone_with_model_fit(
    tiny_dataset: fashionkit.FashionMNIST, form: str
) -> None:
    """It evaluates anything Evaluator accepts under plain model.fit and logs per-class recall."""
    split = tiny_dataset.test
    x: Any = split.images
    y: Any = split.labels
    if form == "scaled-flat":
        x = fashionkit.prepare_images(split.images)
    elif form == "one-hot":
        y = fashionkit.encode_labels(split.labels, encoding="one_hot")
    report = ValidationReport(x, y, batch_size=16)
    seen: list[list[float]] = []

    class Peek(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            assert logs is not None
            seen.append(logs["val_per_class_accuracy"])

    model = plain_fit(tiny_dataset, [report, Peek()])
    assert sorted(report.confusion_matrices) == [1, 2]
    final = fashionkit.evaluate(model, split.images, split.labels)
    assert report.confusion_matrices[2].tolist() == [list(r) for r in final.confusion_matrix]
    assert seen[-1] == list(final.per_class_recall)


def test_validation_report_without_data_outside_train_fails_clearly(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It explains that it needs data when used with model.fit directly."""
    with pytest.raises(InputValidationError, match="no validation data"):
        plain_fit(tiny_dataset, [ValidationReport()], epochs=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.zeros((2, 28, 28), np.uint8)}, "both x and y"),
        ({"y": [0, 1]}, "both x and y"),
        ({"every": 0}, "every must be an integer >= 1"),
        ({"every": True}, "every must be an integer >= 1"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1; got 0"),
        ({"x": "images", "y": [0]}, "x must be validation images"),
        ({"x": np.zeros((2, 28, 28), np.uint8), "y": [0, 1, 2]}, "same length"),
    ],
)
def test_validation_report_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    """It validates its arguments when it is created, not in the middle of training."""
    with pytest.raises(InputValidationError, match=message):
        ValidationReport(**kwargs)
