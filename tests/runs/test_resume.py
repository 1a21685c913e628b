"""Resuming a run directory after a crash: the epoch to resume from, and what is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import fashionkit
from fashionkit.callbacks import EpochCheckpoint, JSONLinesLogger
from fashionkit.config import TrainConfig
from fashionkit.exceptions import RunDirError
from fashionkit.models import MLPConfig
from fashionkit.runs import RunWriter, load_run
from tests.helpers import (
    RUN_FILES,
    RUN_LOCK,
    copy_run,
    dropout_mlp,
    listing,
    metrics_only,
)

# --- crash and resume ----------------------------------------------------------------------


def test_a_crashed_run_keeps_its_completed_epochs(crashed: Path) -> None:
    """It leaves the config, two logged epochs and the epoch-2 checkpoint, and no results."""
    assert EpochCheckpoint.latest(crashed / "checkpoint") == (
        2,
        crashed / "checkpoint" / "epoch-0002.keras",
    )
    assert listing(crashed) == ["checkpoint", "config.toml", "metrics.jsonl"]
    lines = (crashed / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]


def test_open_finds_the_epoch_to_resume_from(crashed: Path, tmp_path: Path) -> None:
    """It reports the last checkpointed epoch, its model, the logged history and the callbacks."""
    run_dir = copy_run(crashed, tmp_path)
    run = RunWriter.open(run_dir, dropout_mlp())
    try:
        assert run.path == run_dir
        assert run.resume_epoch == 2
        assert run.checkpoint == run_dir / "checkpoint" / "epoch-0002.keras"
        assert [r.epoch for r in run.history] == [1, 2]
        assert (
            run.restore_model().count_params()
            == fashionkit.create_model(dropout_mlp().model).count_params()
        )
        log, checkpoint = run.callbacks()
        assert isinstance(log, JSONLinesLogger)
        assert log.append
        assert isinstance(checkpoint, EpochCheckpoint)
    finally:
        run.close()


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(
    finished: fashionkit.TrainResult,
    crashed: Path,
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
) -> None:
    """It resumes after the last checkpoint and ends with bit-identical metrics (dropout too)."""
    run_dir = copy_run(crashed, tmp_path)
    resumed = fashionkit.train(dropout_mlp(), dataset=tiny_dataset, run_dir=run_dir)
    assert resumed.resumed_from_epoch == 2
    assert metrics_only(resumed.history) == metrics_only(finished.history)
    assert resumed.test.to_dict() == finished.test.to_dict()
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]
    assert listing(run_dir) == RUN_FILES  # the checkpoint folder is gone
    assert load_run(run_dir).summary["resumed_from_epoch"] == 2


def test_log_lines_of_lost_epochs_are_dropped_on_resume(
    crashed: Path, tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It removes metric lines newer than the checkpoint, so no epoch is logged twice."""
    run_dir = copy_run(crashed, tmp_path)
    with (run_dir / "metrics.jsonl").open("a") as log:  # as if killed after logging epoch 3
        log.write(json.dumps({"epoch": 3, "loss": 9.9}) + "\n")
    result = fashionkit.train(dropout_mlp(), dataset=tiny_dataset, run_dir=run_dir)
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3, 4]
    assert 9.9 not in [line["loss"] for line in lines]
    assert result.history[2].loss != 9.9


def test_a_different_config_refuses_to_resume(
    crashed: Path, tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It names the fields that differ and refuses to mix two configs in one directory."""
    run_dir = copy_run(crashed, tmp_path)
    with pytest.raises(RunDirError, match=r"epochs: 4 in the directory, 6 now"):
        fashionkit.train(dropout_mlp(epochs=6), dataset=tiny_dataset, run_dir=run_dir)
    with pytest.raises(RunDirError, match=r"model\.hidden_units: \[32\] in the directory"):
        fashionkit.train(
            dropout_mlp(model=MLPConfig(hidden_units=(8,), dropout=0.3)),
            dataset=tiny_dataset,
            run_dir=run_dir,
        )
    # Verbosity changes only what is printed: resuming with it is fine.
    resumed = fashionkit.train(dropout_mlp(verbose=2), dataset=tiny_dataset, run_dir=run_dir)
    assert resumed.epochs_completed == 4


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ('{"epoch": 1, "checkpoint": "epoch-0009.keras"}', r"epoch-0009\.keras, which is missing"),
        ("garbage", r"state\.json is corrupted"),
    ],
)
def test_a_damaged_checkpoint_state_is_reported(
    crashed: Path, tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, state: str, message: str
) -> None:
    """It reports an unreadable state.json or a missing checkpoint instead of restarting."""
    run_dir = copy_run(crashed, tmp_path)
    (run_dir / "checkpoint" / "state.json").write_text(state)
    with pytest.raises(RunDirError, match=message):
        fashionkit.train(dropout_mlp(), dataset=tiny_dataset, run_dir=run_dir)
    assert not (run_dir / RUN_LOCK).exists()  # refused after locking: the lock file is removed


# --- the real thing: kill the process, resume, compare ------------------------------------


def _train_cmd(data_dir: Path, run_dir: Path) -> list[str]:
    """The tutorial's training (5 epochs, the defaults) from the command line, into run_dir."""
    return [
        sys.executable, "-m", "fashionkit.cli", "train", "--data-dir", str(data_dir),
        "--no-verify", "--quiet", "--json", "--run-dir", str(run_dir),
    ]  # fmt: skip


def _without_seconds(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in record.items() if k != "seconds"} for record in history]


@pytest.mark.integration
@pytest.mark.slow
def test_sigkill_after_epoch_two_then_resume_matches_an_uninterrupted_run(
    shared_data_dir: Path,
    real_data: fashionkit.FashionMNIST,
    tutorial_run: fashionkit.TrainResult,
    tmp_path: Path,
) -> None:
    """It loses at most the epoch in flight and ends exactly where an uninterrupted run ends.

    The tutorial's training is killed as a ``fashionkit train`` process and resumed in this
    process, with the config the run directory holds, from the same files.
    """
    run_dir = tmp_path / "cut"
    victim = subprocess.Popen(
        _train_cmd(shared_data_dir, run_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    state = run_dir / "checkpoint" / "state.json"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and victim.poll() is None:
            if state.is_file() and json.loads(state.read_text())["epoch"] >= 2:
                break
            time.sleep(0.02)
        assert victim.poll() is None, "training finished before it could be killed"
        os.kill(victim.pid, signal.SIGKILL)
    finally:
        victim.kill()
        victim.wait()
    assert not (run_dir / "summary.json").exists()
    assert not list(run_dir.glob(".*.tmp")), "no half-written file under a temporary name"

    config = TrainConfig.from_toml(run_dir / "config.toml")
    assert config == TrainConfig(verbose=0)  # the tutorial's, as --quiet trains it
    result = fashionkit.train(config, dataset=real_data, run_dir=run_dir).to_dict()
    assert result["resumed_from_epoch"] >= 2
    # The uninterrupted run is the tutorial's, trained in this process from the same files.
    expected = tutorial_run.to_dict()
    assert _without_seconds(result["history"]) == _without_seconds(expected["history"])
    assert result["validation"] == expected["validation"]
    assert result["test"] == expected["test"]


def test_a_torn_last_metrics_line_does_not_block_resuming(crashed: Path, tmp_path: Path) -> None:
    """It drops a last line cut short by a crash (no newline) instead of refusing the run."""
    run_dir = copy_run(crashed, tmp_path)
    metrics = run_dir / "metrics.jsonl"
    with metrics.open("a", encoding="utf-8") as out:
        out.write('{"epoch": 3, "loss": 0.')
    opened = RunWriter.open(run_dir, dropout_mlp())
    try:
        assert [r.epoch for r in opened.history] == [1, 2]
        assert metrics.read_text(encoding="utf-8").endswith("}\n")
    finally:
        opened.close()


def test_a_torn_line_in_the_middle_is_reported(crashed: Path, tmp_path: Path) -> None:
    """It raises RunDirError naming the line when a line before the last one is damaged."""
    run_dir = copy_run(crashed, tmp_path)
    metrics = run_dir / "metrics.jsonl"
    lines = metrics.read_text(encoding="utf-8").splitlines()
    metrics.write_text("\n".join(["{broken", *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(RunDirError, match="line 1 is not a JSON record"):
        RunWriter.open(run_dir, dropout_mlp())


def test_a_damaged_metric_value_is_a_run_dir_error(crashed: Path, tmp_path: Path) -> None:
    """It raises RunDirError, not TypeError, for a metrics line whose values are damaged."""
    run_dir = copy_run(crashed, tmp_path)
    metrics = run_dir / "metrics.jsonl"
    metrics.write_text('{"epoch": 1, "val_per_class_accuracy": 5}\n', encoding="utf-8")
    with pytest.raises(RunDirError, match="damaged epoch record"):
        RunWriter.open(run_dir, dropout_mlp())


def test_a_run_that_failed_before_its_first_epoch_takes_a_new_config(tmp_path: Path) -> None:
    """It lets a new config replace one whose run never completed an epoch."""
    first = RunWriter.open(tmp_path, dropout_mlp(epochs=4))
    first.close()
    second = RunWriter.open(tmp_path, dropout_mlp(epochs=2))
    try:
        assert TrainConfig.from_toml(tmp_path / "config.toml").epochs == 2
    finally:
        second.close()


def test_opening_removes_temporary_files_of_a_killed_writer(crashed: Path, tmp_path: Path) -> None:
    """It deletes the hidden temporary files that a process killed mid-write left behind."""
    run_dir = copy_run(crashed, tmp_path)
    (run_dir / ".model.keras.abc123.keras").write_bytes(b"half a model")
    (run_dir / "checkpoint" / ".state.json.xyz.tmp").write_text("{", encoding="utf-8")
    opened = RunWriter.open(run_dir, dropout_mlp())
    opened.close()
    assert not [p.name for p in run_dir.rglob(".*")]  # the lock file included
