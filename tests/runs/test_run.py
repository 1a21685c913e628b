"""load_run: a finished run read back, and damaged or foreign folders refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import fashionkit
from fashionkit.exceptions import RunDirError
from fashionkit.runs import load_run
from tests.helpers import (
    copy_run,
    metrics_only,
)


def test_load_run_returns_the_model_config_reports_and_history(
    finished: fashionkit.TrainResult, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It reads back a model that predicts as the trained one did, the reports and the history."""
    assert finished.run_dir is not None
    record = load_run(finished.run_dir)
    assert record.directory == finished.run_dir
    assert record.config == finished.config
    assert record.test.to_dict() == finished.test.to_dict()
    assert record.validation.to_dict() == finished.validation.to_dict()
    assert isinstance(record.history, tuple)
    assert all(isinstance(r, fashionkit.EpochRecord) for r in record.history)
    assert metrics_only(record.history) == metrics_only(finished.history)
    assert record.summary == finished.to_dict()
    assert record.environment["seed"] == 42
    again = fashionkit.evaluate(record.model, tiny_dataset.test.images, tiny_dataset.test.labels)
    assert again.to_dict() == finished.test.to_dict()


def test_load_run_of_an_unfinished_run_says_it_did_not_complete(crashed: Path) -> None:
    """It explains that the run did not complete and how to resume it."""
    with pytest.raises(RunDirError, match="did not complete") as info:
        load_run(crashed)
    assert "Resume it by training again with the same config" in str(info.value)


# --- damaged or foreign folders ------------------------------------------------------------


def _write(name: str, content: str | bytes) -> Callable[[Path], Any]:
    def damage(run_dir: Path) -> None:
        path = run_dir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return damage


def _delete(name: str) -> Callable[[Path], Any]:
    return lambda run_dir: (run_dir / name).unlink()


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (_delete("model.keras"), "model.keras is missing"),
        (_write("model.keras", b"not a zip"), "model.keras is corrupted"),
        (_write("test.json", "{truncated"), "test.json is corrupted"),
        (_write("test.json", "[1, 2]"), "test.json is corrupted: it holds list"),
        (_write("validation.json", "{}"), "validation.json is not an evaluation report"),
        (_delete("environment.json"), "environment.json is missing"),
        (_delete("summary.json"), "summary.json is missing"),
        (_delete("config.toml"), "config.toml is missing"),
        (_write("config.toml", "epochs = 0"), "config.toml cannot be read back"),
        (_write("config.toml", "epochs = = 0"), "config.toml cannot be read back"),
        (
            _write("metrics.jsonl", '{"epoch": 1}\nnot json\n'),
            "metrics.jsonl line 2 is not a JSON record",
        ),
        (_write("metrics.jsonl", '{"loss": 1}\n'), "metrics.jsonl record 1 is not an epoch"),
        (_write("metrics.jsonl", b"\xff\xfe\n"), "metrics.jsonl line 1 is not a JSON record"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_damaged_run_directories_raise_run_dir_error(
    finished: fashionkit.TrainResult, tmp_path: Path, damage: Callable[[Path], Any], named: str
) -> None:
    """It raises RunDirError naming the missing or corrupted file."""
    assert finished.run_dir is not None
    run_dir = copy_run(finished.run_dir, tmp_path)
    damage(run_dir)
    with pytest.raises(RunDirError, match=named):
        load_run(run_dir)


def test_load_run_of_a_plain_folder_says_it_is_not_a_run(tmp_path: Path) -> None:
    """It explains that a folder without config.toml, or a file, is not a run directory."""
    with pytest.raises(RunDirError, match="not a run directory"):
        load_run(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunDirError, match="is not a directory"):
        load_run(tmp_path / "file")


def test_an_unregistered_architecture_in_a_run_says_to_register_it(
    finished: fashionkit.TrainResult, tmp_path: Path
) -> None:
    """It tells the user to register the architecture a run directory names."""
    assert finished.run_dir is not None
    run_dir = copy_run(finished.run_dir, tmp_path)
    config = (run_dir / "config.toml").read_text(encoding="utf-8")
    (run_dir / "config.toml").write_text(
        config.replace('architecture = "mlp"', 'architecture = "mine"'), encoding="utf-8"
    )
    with pytest.raises(RunDirError, match="Register it"):
        load_run(run_dir)


def test_a_run_that_stopped_before_any_validated_epoch_ended_with_its_final_model(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """restore_best with no best epoch: the run says "final", and its model loads and predicts."""
    import keras

    class StopAfterFirst(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.model.stop_training = True

    config = fashionkit.TrainConfig(
        model="mlp",
        epochs=3,
        verbose=0,
        validate_last_epochs=1,
        early_stopping=fashionkit.EarlyStoppingConfig(restore_best=True),
    )
    result = fashionkit.train(
        config, dataset=tiny_dataset, run_dir=tmp_path / "run", callbacks=[StopAfterFirst()]
    )
    assert result.best_epoch is None
    assert not result.restored_best
    run = load_run(tmp_path / "run")
    assert run.ended_with == "final"
    again = fashionkit.evaluate(run.model, tiny_dataset.test.images, tiny_dataset.test.labels)
    assert again.accuracy == result.test.accuracy
    predicted = run.predictor().evaluate(tiny_dataset.test.images, tiny_dataset.test.labels)
    assert predicted.accuracy == result.test.accuracy
