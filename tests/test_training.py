"""fashionkit.train on small synthetic data: results, losses, seeding, callbacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit.callbacks import JSONLinesLogger, TimeBudget, ValidationReport
from fashionkit.config import LossConfig, TrainConfig


def _config(**changes: Any) -> TrainConfig:
    base: dict[str, Any] = {"epochs": 3, "batch_size": 16, "verbose": 0}
    base.update(changes)
    return TrainConfig(**base)


def test_train_returns_a_complete_typed_result(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It returns the model, one record per epoch, both reports, placement and timings."""
    result = fashionkit.train(_config(), dataset=tiny_dataset)
    assert [r.epoch for r in result.history] == [1, 2, 3]
    assert result.epochs_completed == 3
    assert result.stop_reason is None
    assert result.validation.split == "validation"
    assert result.validation.n_samples == 40  # 20% of 200, stratified
    assert result.test.n_samples == 50
    assert result.placement.accelerator == "cpu"
    assert 0 < result.fit_seconds <= result.total_seconds
    # The synthetic classes are easy: the model must learn them.
    assert result.test.accuracy > 0.8
    # The report agrees with Keras's own last validation accuracy.
    assert result.validation.accuracy == pytest.approx(result.history[-1].val_accuracy, abs=1e-6)
    assert "test accuracy" in result.summary()


def test_seeded_runs_repeat_exactly(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It gives identical metrics for two runs of the same seeded config on CPU."""
    first = fashionkit.train(_config(), dataset=tiny_dataset)
    second = fashionkit.train(_config(), dataset=tiny_dataset)
    assert first.history == second.history
    other = fashionkit.train(_config(seed=7), dataset=tiny_dataset)
    assert other.history != first.history


def test_sparse_and_one_hot_losses_train_the_same_model(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It trains with either label encoding, compiling the matching Keras loss."""
    sparse = fashionkit.train(_config(), dataset=tiny_dataset)
    one_hot = fashionkit.train(_config(loss=LossConfig(encoding="one_hot")), dataset=tiny_dataset)
    assert type(sparse.model.loss).__name__ == "SparseCategoricalCrossentropy"
    assert type(one_hot.model.loss).__name__ == "CategoricalCrossentropy"
    # Same seed, same data, mathematically the same loss: the same trajectory up to round-off.
    np.testing.assert_allclose(
        [r.loss for r in sparse.history], [r.loss for r in one_hot.history], rtol=1e-4
    )


def test_label_smoothing_reaches_the_keras_loss(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It passes label smoothing to categorical cross-entropy."""
    config = _config(epochs=1, loss=LossConfig(encoding="one_hot", label_smoothing=0.2))
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert result.model.loss.get_config()["label_smoothing"] == pytest.approx(0.2)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_other_architectures_train_end_to_end(
    model: str, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It trains every built-in architecture with the layout it prefers."""
    result = fashionkit.train(_config(model=model, epochs=1), dataset=tiny_dataset)
    expected = (784,) if model == "mlp" else (28, 28, 1)
    assert tuple(result.model.inputs[0].shape[1:]) == expected
    assert len(result.history) == 1


def test_metrics_logger_writes_one_flushed_line_per_epoch(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It writes one JSON line per epoch with the epoch number and Keras's metrics."""
    path = tmp_path / "logs" / "metrics.jsonl"
    fashionkit.train(_config(), dataset=tiny_dataset, callbacks=[JSONLinesLogger(path)])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(lines[0])


def test_metrics_logger_flushes_before_training_ends(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It has each epoch's line on disk before the next epoch starts (crash safety)."""
    path = tmp_path / "metrics.jsonl"
    seen: list[int] = []

    class Peek(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            seen.append(len(path.read_text().splitlines()))

    fashionkit.train(_config(), dataset=tiny_dataset, callbacks=[JSONLinesLogger(path), Peek()])
    assert seen == [1, 2, 3]


def test_metrics_logger_appends_and_is_reusable(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It starts a new file per fit by default and keeps lines with append=True."""
    path = tmp_path / "metrics.jsonl"
    logger = JSONLinesLogger(path)
    fashionkit.train(_config(epochs=2), dataset=tiny_dataset, callbacks=[logger])
    fashionkit.train(_config(epochs=2), dataset=tiny_dataset, callbacks=[logger])
    assert len(path.read_text().splitlines()) == 2
    appender = JSONLinesLogger(path, append=True)
    fashionkit.train(_config(epochs=1), dataset=tiny_dataset, callbacks=[appender])
    assert len(path.read_text().splitlines()) == 3


def test_time_budget_stops_at_a_batch_and_says_so(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It stops training once the budget is spent and reports it in the result."""
    config = _config(epochs=50, batch_size=4, time_budget_seconds=1e-6, steps_per_execution=1)
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert len(result.history) == 1
    assert result.history[0].partial
    assert result.epochs_completed == 0
    assert result.stop_reason is not None
    assert "time budget" in result.stop_reason
    assert "stopped early" in result.summary()


def test_time_budget_spent_on_an_epochs_last_batch_keeps_the_epoch_whole(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It counts the epoch as complete when the budget stops training on its last batch."""
    # 160 training images in batches of 4 are 40 steps, all run in one compiled call.
    config = _config(epochs=50, batch_size=4, time_budget_seconds=1e-6, steps_per_execution=40)
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert len(result.history) == 1
    assert not result.history[0].partial
    assert result.epochs_completed == 1
    assert result.stop_reason is not None


def test_time_budget_callback_resets_between_fits(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It resets its state in on_train_begin, so one instance serves several fits."""
    budget = TimeBudget(3600)
    result = fashionkit.train(_config(epochs=2), dataset=tiny_dataset, callbacks=[budget])
    assert not budget.stopped
    assert budget.reason is None
    assert result.stop_reason is None


@pytest.mark.parametrize("bad", [0, -1, float("nan"), True, "10"])
def test_time_budget_rejects_non_positive_seconds(bad: Any) -> None:
    """It raises ConfigError for a budget that is not a positive number."""
    with pytest.raises(fashionkit.ConfigError, match="positive"):
        TimeBudget(bad)


def test_validation_report_adds_per_class_accuracy(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It receives the validation split from train and logs per-class accuracy every epoch."""
    report = ValidationReport()
    path = tmp_path / "m.jsonl"
    result = fashionkit.train(
        _config(), dataset=tiny_dataset, callbacks=[report, JSONLinesLogger(path)]
    )
    assert sorted(report.confusion_matrices) == [1, 2, 3]
    last = report.confusion_matrices[3]
    assert last.shape == (10, 10)
    assert last.sum() == result.validation.n_samples
    assert [list(row) for row in last] == [list(r) for r in result.validation.confusion_matrix]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    per_class = lines[-1]["val_per_class_accuracy"]
    assert len(per_class) == 10
    recalls = [m.recall for m in result.validation.per_class]
    np.testing.assert_allclose(per_class, recalls, atol=1e-6)


def test_validation_report_without_data_outside_train_fails_clearly() -> None:
    """It explains that it needs data when used with model.fit directly."""
    model = fashionkit.build_model(_config())
    x = np.zeros((4, 784), np.float32)
    y = np.zeros((4,), np.uint8)
    with pytest.raises(fashionkit.InputValidationError, match="no validation data"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ValidationReport()])


def test_user_callbacks_pass_through(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It hands user callbacks to Keras and reports a stop they cause."""
    epochs_seen: list[int] = []

    class StopAfterTwo(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            epochs_seen.append(epoch)
            if epoch == 1:
                self.model.stop_training = True

    result = fashionkit.train(_config(epochs=5), dataset=tiny_dataset, callbacks=[StopAfterTwo()])
    assert epochs_seen == [0, 1]
    assert result.epochs_completed == 2
    assert result.stop_reason == "a callback stopped training after epoch 2"


def test_gpu_request_without_gpu_fails_with_device_list(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It raises DeviceError listing the devices when a GPU is required but absent."""
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(fashionkit.DeviceError, match="CPU:0"):
        fashionkit.train(_config(device={"accelerator": "gpu"}), dataset=tiny_dataset)
