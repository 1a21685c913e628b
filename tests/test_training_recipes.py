"""Training recipes: weight averaging, augmentation, TTA, best checkpoints and early stopping.

Tiny synthetic data throughout; the real-data evidence for the presets is the benchmark's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from conftest import crash_after, metrics_only
from fashionkit._averaging import averaged_weights, finalize_average, moving_averages
from fashionkit.callbacks import EpochCheckpoint
from fashionkit.config import TrainConfig
from fashionkit.exceptions import RunDirError
from fashionkit.preprocessing import train_validation_split
from fashionkit.runs import RunWriter, load_model


def _config(**changes: Any) -> TrainConfig:
    base: dict[str, Any] = {
        "model": {"architecture": "mlp", "hidden_units": [32], "dropout": 0.2},
        "epochs": 4,
        "batch_size": 16,
        "verbose": 0,
    }
    base.update(changes)
    return TrainConfig.from_dict(base)


RECIPE = {
    "model": {"architecture": "cnn", "filters": [4, 8], "dense_units": 16, "batch_norm": True},
    "optimizer": {
        "name": "adamw",
        "learning_rate": 0.003,
        "schedule": "one_cycle",
        "ema_momentum": 0.9,
    },
    "augment": {"translate": 2, "flip": "alternate", "erase_probability": 0.5},
    "tta": True,
}


class _ZeroWeightsAfter(keras.callbacks.Callback):  # type: ignore[misc]
    """Wreck the model at the end of an epoch (after fashionkit kept its best)."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch + 1 == self.epoch:
            self.model.set_weights([np.zeros_like(w) for w in self.model.get_weights()])


# --- weight averaging ----------------------------------------------------------------------


def test_averaged_weights_swap_in_and_back(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It puts the optimizer's averages into the model for the block and restores the raw ones."""
    result = fashionkit.train(
        _config(epochs=1, optimizer={"name": "adam", "ema_momentum": 0.99}), dataset=tiny_dataset
    )
    model = result.model
    averages = moving_averages(model)
    assert averages is not None
    raw = [w + 1.0 for w in (v.numpy() for v in model.trainable_variables)]
    for variable, value in zip(model.trainable_variables, raw, strict=True):
        variable.assign(value)
    with averaged_weights(model) as swapped:
        assert swapped
        for variable, average in zip(model.trainable_variables, averages, strict=True):
            np.testing.assert_array_equal(variable.numpy(), average.numpy())
    for variable, value in zip(model.trainable_variables, raw, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_a_model_without_averaging_is_left_alone() -> None:
    """It yields False and changes nothing for a model whose optimizer keeps no average."""
    model = fashionkit.create_model("linear")
    before = [w.copy() for w in model.get_weights()]
    with averaged_weights(model) as swapped:
        assert not swapped
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    assert moving_averages(model) is None
    assert finalize_average(model) is False


def test_with_averaging_the_average_is_evaluated_and_kept(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It ends with the averaged weights, the ones each epoch's validation evaluated."""
    config = _config(optimizer={"name": "adam", "learning_rate": 0.01, "ema_momentum": 0.9})
    result = fashionkit.train(config, dataset=tiny_dataset)
    averages = moving_averages(result.model)
    assert averages is not None
    for variable, average in zip(result.model.trainable_variables, averages, strict=True):
        np.testing.assert_array_equal(variable.numpy(), average.numpy())
    assert result.history[-1].val_accuracy == result.validation.accuracy
    assert result.history[-1].val_loss == result.validation.loss
    plain = fashionkit.train(
        _config(optimizer={"name": "adam", "learning_rate": 0.01}), dataset=tiny_dataset
    )
    assert plain.validation.loss != result.validation.loss


# --- resume: augmentation, averaging and a schedule together ------------------------------


def test_a_resumed_recipe_run_is_bit_identical_to_an_uninterrupted_one(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It resumes an augmented, averaged, scheduled, TTA run to exactly the same metrics."""
    config = _config(**RECIPE)
    whole = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "whole")
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        fashionkit.train(config, dataset=tiny_dataset, run_dir=cut, callbacks=[crash_after(3)])
    resumed = fashionkit.train(config, dataset=tiny_dataset, run_dir=cut)
    assert resumed.resumed_from_epoch == 2
    assert metrics_only(resumed.history) == metrics_only(whole.history)
    assert resumed.validation.to_dict() == whole.validation.to_dict()
    assert resumed.test.to_dict() == whole.test.to_dict()
    assert resumed.test.tta
    assert resumed.validation.tta
    for a, b in zip(resumed.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_augmentation_changes_training(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It trains on changed images: the same run without augmentation ends elsewhere."""
    with_aug = fashionkit.train(_config(augment={"translate": 2}), dataset=tiny_dataset)
    without = fashionkit.train(_config(), dataset=tiny_dataset)
    assert metrics_only(with_aug.history) != metrics_only(without.history)


# --- test-time augmentation: per epoch or at the end ---------------------------------------


def test_per_epoch_validation_skips_tta_unless_asked(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """With ``tta`` alone the epochs score the plain model; ``tta_each_epoch`` scores TTA too."""
    plain_epochs = fashionkit.train(_config(epochs=2, tta=True), dataset=tiny_dataset)
    model = plain_epochs.model
    split = train_validation_split(
        tiny_dataset.train.images, tiny_dataset.train.labels, fraction=0.2, seed=42
    )
    plain = fashionkit.evaluate(model, split.validation_images, split.validation_labels)
    flipped = fashionkit.evaluate(model, split.validation_images, split.validation_labels, tta=True)
    assert plain.loss != flipped.loss  # the two scores differ, so the test can tell them apart
    assert plain_epochs.history[-1].val_loss == pytest.approx(plain.loss, rel=1e-6)
    assert plain_epochs.validation.tta
    assert plain_epochs.validation.loss == pytest.approx(flipped.loss, rel=1e-6)

    tta_epochs = fashionkit.train(
        _config(epochs=2, tta=True, tta_each_epoch=True), dataset=tiny_dataset
    )
    assert tta_epochs.history[-1].val_loss == pytest.approx(tta_epochs.validation.loss, rel=1e-6)


# --- best epoch and early stopping ---------------------------------------------------------


def test_early_stopping_stops_after_the_patience(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It stops once the monitored metric has not improved for `patience` epochs."""
    config = _config(
        epochs=10,
        optimizer={"name": "sgd", "learning_rate": 1e-9},  # nothing changes: no improvement
        early_stopping={"patience": 2},
    )
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert result.epochs_completed == 3
    assert result.best_epoch == 1
    assert result.stop_reason is not None
    assert "early stopping" in result.stop_reason
    assert "val_accuracy did not improve for 2 epoch(s)" in result.stop_reason


def test_val_loss_is_monitored_downwards(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It picks the epoch of the lowest validation loss when monitoring val_loss."""
    config = _config(epochs=5, early_stopping={"monitor": "val_loss"})
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[_ZeroWeightsAfter(3)])
    losses = [r.val_loss for r in result.history]
    assert result.best_epoch == int(np.argmin(losses)) + 1
    assert result.best_epoch <= 3


def test_restore_best_ends_with_the_best_epochs_weights(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It evaluates, reports and saves the best epoch's weights, also kept as best.keras."""
    config = _config(epochs=4, early_stopping={"restore_best": True})
    run_dir = tmp_path / "run"
    result = fashionkit.train(
        config, dataset=tiny_dataset, run_dir=run_dir, callbacks=[_ZeroWeightsAfter(3)]
    )
    accuracies = [r.val_accuracy for r in result.history]
    assert result.best_epoch == int(np.argmax(accuracies)) + 1 <= 3
    assert result.history[-1].val_accuracy < max(accuracies)
    assert result.restored_best
    assert result.validation.accuracy == max(accuracies)
    best = load_model(run_dir / "best.keras")
    final = load_model(run_dir / "model.keras")
    for a, b in zip(best.get_weights(), final.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert json.loads((run_dir / "summary.json").read_text())["best_epoch"] == result.best_epoch
    assert not (run_dir / "checkpoint").exists()


def test_without_restore_best_the_last_epoch_is_kept(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It keeps best.keras beside the last epoch's model when restore_best is off."""
    result = fashionkit.train(
        _config(epochs=4), dataset=tiny_dataset, run_dir=tmp_path, callbacks=[_ZeroWeightsAfter(3)]
    )
    assert not result.restored_best
    assert result.validation.accuracy == result.history[-1].val_accuracy
    best = load_model(tmp_path / "best.keras")
    report = fashionkit.evaluate(best, *_validation(tiny_dataset), split="validation")
    assert report.accuracy == result.history[result.best_epoch - 1].val_accuracy  # type: ignore[operator]


def _validation(data: fashionkit.FashionMNIST) -> tuple[Any, Any]:
    parts = fashionkit.train_validation_split(data.train.images, data.train.labels)
    return parts.validation_images, parts.validation_labels


def test_a_stopped_run_killed_before_its_results_finishes_without_training_on(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It keeps the stop in the checkpoint: resuming writes the results and trains no more."""
    config = _config(
        epochs=10,
        optimizer={"name": "sgd", "learning_rate": 1e-9},
        early_stopping={"patience": 1, "restore_best": True},
    )
    uninterrupted = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "whole")

    def die(self: RunWriter, result: Any) -> None:
        raise KeyboardInterrupt  # the process ends after the last checkpoint, before results

    run_dir = tmp_path / "cut"
    with monkeypatch.context() as patch:
        patch.setattr(RunWriter, "write_results", die)
        with pytest.raises(KeyboardInterrupt):
            fashionkit.train(config, dataset=tiny_dataset, run_dir=run_dir)
    state = EpochCheckpoint.read_state(run_dir / "checkpoint")
    assert state is not None
    assert state.epoch == 2
    assert state.stop_reason is not None
    assert "early stopping" in state.stop_reason
    assert state.best is not None
    assert state.best.epoch == 1
    finished = fashionkit.train(config, dataset=tiny_dataset, run_dir=run_dir)
    assert finished.fit_seconds == 0.0
    assert finished.epochs_completed == 2 == uninterrupted.epochs_completed
    assert finished.stop_reason == uninterrupted.stop_reason
    assert finished.best_epoch == uninterrupted.best_epoch == 1
    assert finished.restored_best
    assert finished.validation.to_dict() == uninterrupted.validation.to_dict()
    assert (run_dir / "best.keras").is_file()
    assert (run_dir / "summary.json").is_file()


def test_a_failed_state_write_keeps_the_previous_best(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It never deletes the best model that state.json names before a new state is written."""
    from fashionkit.callbacks import _checkpoint

    real = _checkpoint.atomic_write_text
    calls = {"n": 0}

    def fail_third(path: Path, text: str) -> Path:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(path, text)

    config = _config(epochs=4, optimizer={"name": "adam", "learning_rate": 0.01})
    monkeypatch.setattr(_checkpoint, "atomic_write_text", fail_third)
    with pytest.raises(RunDirError, match="No space left"):
        fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path)
    state = EpochCheckpoint.read_state(tmp_path / "checkpoint")  # checks the files it names
    assert state is not None
    assert state.epoch == 2
    assert state.best is not None
    monkeypatch.setattr(_checkpoint, "atomic_write_text", real)
    result = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path)
    assert result.resumed_from_epoch == 2
    assert (tmp_path / "best.keras").is_file()


def test_a_state_naming_a_missing_best_model_is_reported(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It refuses to resume from a checkpoint whose best model has gone, naming the file."""
    with pytest.raises(KeyboardInterrupt):
        fashionkit.train(
            _config(), dataset=tiny_dataset, run_dir=tmp_path, callbacks=[crash_after(3)]
        )
    state = EpochCheckpoint.read_state(tmp_path / "checkpoint")
    assert state is not None
    assert state.best is not None
    assert state.best.checkpoint is not None
    (tmp_path / "checkpoint" / state.best.checkpoint).unlink()
    with pytest.raises(RunDirError, match=r"names best-\d{4}\.keras, which is missing"):
        fashionkit.train(_config(), dataset=tiny_dataset, run_dir=tmp_path)


def test_without_a_run_directory_the_best_is_kept_in_memory(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It restores the best weights without any file."""
    config = _config(epochs=4, early_stopping={"restore_best": True})
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[_ZeroWeightsAfter(3)])
    assert result.restored_best
    assert result.validation.accuracy == max(r.val_accuracy for r in result.history)


def test_a_stopped_averaged_run_finishes_with_the_average(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It ends a resumed, already stopped run with the averaged weights, as fit would have."""
    config = _config(
        epochs=10,
        optimizer={"name": "adam", "learning_rate": 0.01, "ema_momentum": 0.5},
        early_stopping={"patience": 1, "min_delta": 10.0},  # no epoch after the first improves
    )
    uninterrupted = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "whole")

    def die(self: RunWriter, result: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(RunWriter, "write_results", die)
        with pytest.raises(KeyboardInterrupt):
            fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "cut")
    finished = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "cut")
    assert finished.fit_seconds == 0.0
    assert finished.epochs_completed == 2
    averages = moving_averages(finished.model)
    assert averages is not None
    for variable, average in zip(finished.model.trainable_variables, averages, strict=True):
        np.testing.assert_array_equal(variable.numpy(), average.numpy())
    for a, b in zip(finished.model.get_weights(), uninterrupted.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_signal_on_an_epochs_last_batch_leaves_the_run_resumable(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It does not record a signal as a stop: resuming trains the remaining epochs."""
    import os
    import signal

    class SignalOnLastBatchOfEpochTwo(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            if self.epoch == 1 and batch == 9:  # 160 images in batches of 16: the last one
                os.kill(os.getpid(), signal.SIGINT)

    config = _config(steps_per_execution=1)
    with pytest.raises(fashionkit.TrainingInterrupted):
        fashionkit.train(
            config,
            dataset=tiny_dataset,
            run_dir=tmp_path,
            callbacks=[SignalOnLastBatchOfEpochTwo()],
        )
    state = EpochCheckpoint.read_state(tmp_path / "checkpoint")
    assert state is not None
    assert state.stop_reason is None
    resumed = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path)
    assert resumed.resumed_from_epoch == state.epoch
    assert resumed.epochs_completed == 4
    assert resumed.stop_reason is None


# float16 on a CPU is emulated, and fashionkit says so; the test is about loss scaling.
@pytest.mark.filterwarnings(
    "ignore:DeviceConfig\\(precision=:fashionkit.exceptions.FashionkitWarning"
)
def test_averaging_works_through_mixed_float16_loss_scaling(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It finds the average inside Keras's loss-scale optimizer and evaluates it each epoch."""
    config = _config(
        epochs=2,
        optimizer={"name": "adam", "learning_rate": 0.01, "ema_momentum": 0.9},
        device={"precision": "mixed_float16"},
    )
    result = fashionkit.train(config, dataset=tiny_dataset)
    averages = moving_averages(result.model)
    assert averages is not None
    for variable, average in zip(result.model.trainable_variables, averages, strict=True):
        np.testing.assert_array_equal(variable.numpy(), average.numpy())
    assert result.history[-1].val_loss == result.validation.loss
