"""Run directories: layout, atomic files, resume after a crash, reload, predict, plots."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit.callbacks import EpochCheckpoint
from fashionkit.cli import main
from fashionkit.config import MLPConfig, TrainConfig
from fashionkit.exceptions import RunDirError
from fashionkit.runs import load_run

FILES = [
    "config.toml",
    "environment.json",
    "metrics.jsonl",
    "model.keras",
    "summary.json",
    "test.json",
    "validation.json",
]


def _config(**changes: Any) -> TrainConfig:
    base: dict[str, Any] = {
        "model": MLPConfig(hidden_units=(32,), dropout=0.3),
        "epochs": 4,
        "batch_size": 16,
        "verbose": 0,
    }
    base.update(changes)
    return TrainConfig(**base)


class _Crash(keras.callbacks.Callback):  # type: ignore[misc]
    """Raise KeyboardInterrupt at the end of an epoch, before it is logged or checkpointed."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch + 1 == self.epoch:
            raise KeyboardInterrupt


def _crash(dataset: fashionkit.FashionMNIST, run_dir: Path, *, at_epoch: int) -> None:
    """Train into ``run_dir`` until the end of ``at_epoch``, dying before it is saved."""
    with pytest.raises(KeyboardInterrupt):
        fashionkit.train(_config(), dataset=dataset, run_dir=run_dir, callbacks=[_Crash(at_epoch)])


@pytest.fixture
def finished_run(tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path) -> Any:
    run_dir = tmp_path / "run"
    return fashionkit.train(_config(), dataset=tiny_dataset, run_dir=run_dir)


def test_run_directory_holds_every_documented_file(finished_run: Any) -> None:
    """It writes config, metrics, model, reports, environment and summary, and nothing else."""
    run_dir = finished_run.run_dir
    assert sorted(p.name for p in run_dir.iterdir()) == FILES
    assert TrainConfig.from_toml(run_dir / "config.toml") == finished_run.config
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]
    environment = json.loads((run_dir / "environment.json").read_text())
    for package in ("fashionkit", "tensorflow", "keras", "numpy"):
        assert environment[package]
    assert environment["seed"] == 42
    assert environment["placement"]["accelerator"] == "cpu"
    test = json.loads((run_dir / "test.json").read_text())
    assert test["accuracy"] == finished_run.test.accuracy
    mode = (run_dir / "model.keras").stat().st_mode & 0o777
    assert mode & 0o044, "files are readable like any other file the user creates"


def test_load_run_returns_the_model_config_and_reports(
    finished_run: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It reads back a model that predicts as the trained one did, and the same reports."""
    record = load_run(finished_run.run_dir)
    assert record.config == finished_run.config
    assert record.test.to_dict() == finished_run.test.to_dict()
    assert record.validation.accuracy == finished_run.validation.accuracy
    assert len(record.history) == 4
    again = fashionkit.evaluate(record.model, tiny_dataset.test.images, tiny_dataset.test.labels)
    assert again.accuracy == finished_run.test.accuracy


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It resumes after the last checkpoint and ends with bit-identical metrics (dropout too)."""
    whole = fashionkit.train(_config(), dataset=tiny_dataset, run_dir=tmp_path / "whole")
    cut = tmp_path / "cut"
    _crash(tiny_dataset, cut, at_epoch=3)
    assert EpochCheckpoint.latest(cut / "checkpoint") == (
        2,
        cut / "checkpoint" / "epoch-0002.keras",
    )
    assert not (cut / "model.keras").exists()
    resumed = fashionkit.train(_config(), dataset=tiny_dataset, run_dir=cut)
    assert resumed.resumed_from_epoch == 2
    assert resumed.history == whole.history
    assert resumed.test.to_dict() == whole.test.to_dict()
    lines = (cut / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def test_log_lines_of_lost_epochs_are_dropped_on_resume(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It removes metric lines newer than the checkpoint, so no epoch is logged twice."""
    run_dir = tmp_path / "run"
    _crash(tiny_dataset, run_dir, at_epoch=3)
    with (run_dir / "metrics.jsonl").open("a") as log:  # as if killed after logging epoch 3
        log.write(json.dumps({"epoch": 3, "loss": 9.9}) + "\n")
    fashionkit.train(_config(), dataset=tiny_dataset, run_dir=run_dir)
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    epochs = [json.loads(line)["epoch"] for line in lines]
    assert epochs == [1, 2, 3, 4]


def test_a_different_config_refuses_to_resume(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It names the fields that differ and refuses to mix two configs in one directory."""
    run_dir = tmp_path / "run"
    _crash(tiny_dataset, run_dir, at_epoch=1)
    with pytest.raises(RunDirError, match=r"epochs: 4 in the directory, 6 now"):
        fashionkit.train(_config(epochs=6), dataset=tiny_dataset, run_dir=run_dir)
    # Verbosity changes only what is printed: resuming with it is fine.
    resumed = fashionkit.train(_config(verbose=2), dataset=tiny_dataset, run_dir=run_dir)
    assert resumed.epochs_completed == 4


def test_a_completed_run_is_not_trained_again(finished_run: Any) -> None:
    """It refuses to retrain into a directory whose run completed."""
    with pytest.raises(RunDirError, match="already holds a completed run"):
        fashionkit.train(finished_run.config, run_dir=finished_run.run_dir)


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda d: (d / "model.keras").unlink(), "model.keras is missing"),
        (lambda d: (d / "model.keras").write_bytes(b"not a zip"), "model.keras is corrupted"),
        (lambda d: (d / "test.json").write_text("{truncated"), "test.json is corrupted"),
        (lambda d: (d / "validation.json").write_text("{}"), "validation.json is not"),
        (lambda d: (d / "summary.json").unlink(), "summary.json is missing"),
        (lambda d: (d / "config.toml").unlink(), "config.toml is missing"),
        (lambda d: (d / "config.toml").write_text("epochs = 0"), "config.toml is corrupted"),
    ],
)
def test_damaged_run_directories_raise_run_dir_error(
    finished_run: Any, damage: Any, named: str
) -> None:
    """It raises RunDirError naming the missing or corrupted file."""
    damage(finished_run.run_dir)
    with pytest.raises(RunDirError, match=named):
        load_run(finished_run.run_dir)


def test_a_damaged_checkpoint_state_is_reported(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It reports an unreadable state.json or a missing checkpoint instead of restarting."""
    run_dir = tmp_path / "run"
    _crash(tiny_dataset, run_dir, at_epoch=2)
    state = run_dir / "checkpoint" / "state.json"
    state.write_text('{"epoch": 1, "checkpoint": "epoch-0009.keras"}')
    with pytest.raises(RunDirError, match=r"epoch-0009\.keras, which is missing"):
        fashionkit.train(_config(), dataset=tiny_dataset, run_dir=run_dir)
    state.write_text("garbage")
    with pytest.raises(RunDirError, match=r"state\.json is corrupted"):
        fashionkit.train(_config(), dataset=tiny_dataset, run_dir=run_dir)


def test_load_run_of_a_plain_folder_says_it_is_not_a_run(tmp_path: Path) -> None:
    """It explains that a folder without config.toml is not a run directory."""
    with pytest.raises(RunDirError, match="not a run directory"):
        load_run(tmp_path)


# --- predict and report from the command line ---------------------------------------------


def _png(path: Path, array: np.ndarray) -> Path:
    import tensorflow as tf

    path.write_bytes(tf.io.encode_png(array).numpy())
    return path


def test_predict_classifies_png_and_npy_files(
    finished_run: Any,
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It prints class names with probabilities for PNG files and .npy batches."""
    images = np.asarray(tiny_dataset.test.images)
    png = _png(tmp_path / "one.png", images[3][..., np.newaxis])
    npy = tmp_path / "batch.npy"
    np.save(npy, images[:2])
    assert main(["predict", str(finished_run.run_dir), str(png), str(npy), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in rows] == [str(png), f"{npy}[0]", f"{npy}[1]"]
    expected = fashionkit.predict(finished_run.model, images[[3, 0, 1]])
    for row, name, probs in zip(rows, expected.names, expected.probabilities, strict=True):
        assert row["predictions"][0]["class"] == name
        assert row["predictions"][0]["probability"] == pytest.approx(float(probs.max()), abs=1e-6)
        assert len(row["predictions"]) == 3


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _png(p / "big.png", np.zeros((32, 32, 1), np.uint8)), "28x28"),
        (lambda p: _png(p / "rgb.png", np.zeros((28, 28, 3), np.uint8)), "grayscale"),
        (lambda p: (p / "x.jpg").write_bytes(b"x") and p / "x.jpg", "only .png and .npy"),
        (
            lambda p: (np.save(p / "w.npy", np.zeros((28, 27), np.uint8)), p / "w.npy")[1],
            "(28, 27)",
        ),
        (lambda p: p / "missing.png", "does not exist"),
    ],
)
def test_predict_rejects_images_it_cannot_use(
    finished_run: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    """It refuses wrong sizes, colour images and unknown files with a clear message."""
    path = make(tmp_path)
    assert main(["predict", str(finished_run.run_dir), str(path)]) == 1
    assert message in capsys.readouterr().err


def test_report_writes_three_pictures(
    finished_run: Any, synthetic_dir: Path, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It writes learning curves, the confusion matrix and the confident mistakes as PNG."""
    pytest.importorskip("matplotlib")
    from fashionkit.plots import write_report

    paths = write_report(finished_run.run_dir, dataset=tiny_dataset)
    assert [p.name for p in paths] == [
        "learning_curves.png",
        "confusion_matrix.png",
        "confident_mistakes.png",
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 5000


# --- the real thing: kill the process, resume, compare ------------------------------------


def _train_cmd(data_dir: Path, run_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "fashionkit.cli", "train", "--data-dir", str(data_dir),
        "--no-verify", "--epochs", "4", "--quiet", "--json", "--run-dir", str(run_dir),
    ]  # fmt: skip


def _last_json(stdout: str) -> dict[str, Any]:
    return dict(json.loads(stdout.strip().splitlines()[-1]))


@pytest.mark.integration
@pytest.mark.slow
def test_sigkill_after_epoch_two_then_resume_matches_an_uninterrupted_run(
    shared_data_dir: Path, tmp_path: Path
) -> None:
    """It loses at most the epoch in flight and ends exactly where an uninterrupted run ends."""
    whole = subprocess.run(
        _train_cmd(shared_data_dir, tmp_path / "whole"), capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert whole.returncode == 0, whole.stderr[-3000:]
    expected = _last_json(whole.stdout)

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

    resumed = subprocess.run(
        _train_cmd(shared_data_dir, run_dir), capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    result = _last_json(resumed.stdout)
    assert result["resumed_from_epoch"] >= 2
    assert result["history"] == expected["history"]
    assert result["validation_accuracy"] == expected["validation_accuracy"]
    assert result["test_accuracy"] == expected["test_accuracy"]
