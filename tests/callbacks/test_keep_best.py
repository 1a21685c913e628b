"""The best epoch and early stopping: best checkpoints, restore_best, stops kept on resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit.callbacks import EpochCheckpoint
from fashionkit.exceptions import RunDirError
from fashionkit.runs import load_model
from tests.helpers import crash_after, recipe_config


class _ZeroWeightsAfter(keras.callbacks.Callback):  # type: ignore[misc]
    """Wreck the model at the end of an epoch (after fashionkit kept its best)."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch + 1 == self.epoch:
            self.model.set_weights([np.zeros_like(w) for w in self.model.get_weights()])


# --- best epoch and early stopping ---------------------------------------------------------


def test_early_stopping_stops_after_the_patience(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It stops once the monitored metric has not improved for `patience` epochs."""
    config = recipe_config(
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
    config = recipe_config(epochs=5, early_stopping={"monitor": "val_loss"})
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[_ZeroWeightsAfter(3)])
    losses = [r.val_loss for r in result.history]
    assert result.best_epoch == int(np.argmin(losses)) + 1
    assert result.best_epoch <= 3


def test_restore_best_ends_with_the_best_epochs_weights(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It evaluates, reports and saves the best epoch's weights, also kept as best.keras."""
    config = recipe_config(epochs=4, early_stopping={"restore_best": True})
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
        recipe_config(epochs=4),
        dataset=tiny_dataset,
        run_dir=tmp_path,
        callbacks=[_ZeroWeightsAfter(3)],
    )
    assert not result.restored_best
    assert result.validation.accuracy == result.history[-1].val_accuracy
    best = load_model(tmp_path / "best.keras")
    report = fashionkit.evaluate(best, *_validation(tiny_dataset), split="validation")
    assert report.accuracy == result.history[result.best_epoch - 1].val_accuracy  # type: ignore[operator]


def _validation(data: fashionkit.FashionMNIST) -> tuple[Any, Any]:
    parts = fashionkit.train_validation_split(data.train.images, data.train.labels)
    return parts.validation_images, parts.validation_labels


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

    config = recipe_config(epochs=4, optimizer={"name": "adam", "learning_rate": 0.01})
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
            recipe_config(), dataset=tiny_dataset, run_dir=tmp_path, callbacks=[crash_after(3)]
        )
    state = EpochCheckpoint.read_state(tmp_path / "checkpoint")
    assert state is not None
    assert state.best is not None
    assert state.best.checkpoint is not None
    (tmp_path / "checkpoint" / state.best.checkpoint).unlink()
    with pytest.raises(RunDirError, match=r"names best-\d{4}\.keras, which is missing"):
        fashionkit.train(recipe_config(), dataset=tiny_dataset, run_dir=tmp_path)


def test_without_a_run_directory_the_best_is_kept_in_memory(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It restores the best weights without any file."""
    config = recipe_config(epochs=4, early_stopping={"restore_best": True})
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[_ZeroWeightsAfter(3)])
    assert result.restored_best
    assert result.validation.accuracy == max(r.val_accuracy for r in result.history)
