"""RunWriter: the files of a run directory, its lock, and faults at every write."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit import _schema
from fashionkit.config import TrainConfig
from fashionkit.exceptions import RunDirError
from fashionkit.runs import RunWriter, load_run
from tests.helpers import (
    RUN_FILES,
    RUN_LOCK,
    Faults,
    cnn_train_command,
    copy_run,
    dropout_mlp,
    listing,
    logged_epochs,
    metrics_only,
    start_cnn_training,
    wait_for_epochs,
)

# --- layout --------------------------------------------------------------------------------


def test_run_directory_holds_every_documented_file(finished: fashionkit.TrainResult) -> None:
    """It writes config, metrics, model, reports, environment and summary, and nothing else."""
    run_dir = finished.run_dir
    assert run_dir is not None
    assert listing(run_dir) == RUN_FILES
    assert TrainConfig.from_toml(run_dir / "config.toml") == finished.config
    environment = json.loads((run_dir / "environment.json").read_text())
    for package in ("fashionkit", "tensorflow", "keras", "numpy"):
        assert environment[package]
    assert environment["seed"] == 42
    assert environment["deterministic"] is True
    assert environment["placement"] == _schema.to_data(finished.placement)
    mode = (run_dir / "model.keras").stat().st_mode & 0o777
    assert mode & 0o044, "files are readable like any other file the user creates"


def test_summary_and_reports_are_the_results_layout(finished: fashionkit.TrainResult) -> None:
    """It writes TrainResult.to_dict as summary.json and each report's to_dict as its file."""
    run_dir = finished.run_dir
    assert run_dir is not None
    assert json.loads((run_dir / "summary.json").read_text()) == finished.to_dict()
    assert json.loads((run_dir / "test.json").read_text()) == finished.test.to_dict()
    assert json.loads((run_dir / "validation.json").read_text()) == finished.validation.to_dict()


def test_metrics_log_reads_back_as_the_history(finished: fashionkit.TrainResult) -> None:
    """It logs one line per epoch that EpochRecord.from_logs reads back as the result's record."""
    run_dir = finished.run_dir
    assert run_dir is not None
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3, 4]
    records = [fashionkit.EpochRecord.from_logs(line["epoch"], line) for line in lines]
    assert metrics_only(records) == metrics_only(finished.history)


def test_a_completed_run_is_not_trained_again(
    finished: fashionkit.TrainResult, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It refuses to retrain into a directory whose run completed, and changes nothing."""
    assert finished.run_dir is not None
    before = {p.name: p.stat().st_mtime_ns for p in finished.run_dir.iterdir()}
    with pytest.raises(RunDirError, match="already holds a completed run"):
        fashionkit.train(finished.config, dataset=tiny_dataset, run_dir=finished.run_dir)
    after = {p.name: p.stat().st_mtime_ns for p in finished.run_dir.iterdir()}
    assert after == before
    assert RUN_LOCK not in after


def test_open_creates_a_new_run_directory_with_its_config(tmp_path: Path) -> None:
    """It creates the folder, writes config.toml first and starts from epoch 0."""
    run = RunWriter.open(tmp_path / "new" / "run", dropout_mlp())
    try:
        assert run.resume_epoch == 0
        assert run.checkpoint is None
        assert run.history == ()
        assert run.restore_model() is None
        assert TrainConfig.from_toml(tmp_path / "new" / "run" / "config.toml") == dropout_mlp()
    finally:
        run.close()


def test_an_open_run_directory_is_locked_against_other_users(crashed: Path, tmp_path: Path) -> None:
    """It refuses a second opener and load_run while a run directory is open, then releases."""
    run_dir = copy_run(crashed, tmp_path)
    run = RunWriter.open(run_dir, dropout_mlp())
    try:
        with pytest.raises(RunDirError, match=f"process {os.getpid()} on .* is training into"):
            RunWriter.open(run_dir, dropout_mlp())
        with pytest.raises(RunDirError, match="still in progress"):
            load_run(run_dir)
    finally:
        run.close()
    RunWriter.open(run_dir, dropout_mlp()).close()  # free again
    with pytest.raises(RunDirError, match="did not complete"):
        load_run(run_dir)


def test_a_file_is_not_a_run_directory(tmp_path: Path) -> None:
    """It refuses to train into a path that is a file, saying a folder is needed."""
    path = tmp_path / "run"
    path.write_text("not a folder")
    with pytest.raises(RunDirError, match="is a file, not a folder"):
        RunWriter.open(path, dropout_mlp())


# --- robustness of the files (review fixes) ------------------------------------------------


def test_numpy_values_a_callback_logs_are_written_as_plain_json(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It writes NumPy scalars and arrays a callback put in the logs as plain JSON numbers."""

    class LogNumpy(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if logs is not None:
                logs["lr"] = np.float32(0.001)
                logs["spread"] = np.array([1.5, 2.5], np.float32)

    result = fashionkit.train(
        dropout_mlp(epochs=2),
        dataset=tiny_dataset,
        run_dir=tmp_path / "run",
        callbacks=[LogNumpy()],
    )
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["history"][0]["extra"] == {"lr": pytest.approx(0.001), "spread": [1.5, 2.5]}
    assert json.loads(json.dumps(result.to_dict())) == summary


def test_a_folder_with_other_files_is_not_adopted(tmp_path: Path) -> None:
    """It refuses a non-empty folder without config.toml rather than training into it."""
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(RunDirError, match=r"is not empty \(notes.txt\) and holds no run"):
        RunWriter.open(tmp_path, dropout_mlp())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# --- faults at every write: the directory stays resumable or is refused clearly -------------
# A full disk (ENOSPC) or a read-only folder (EACCES) is simulated where fashionkit writes: at
# the rename that publishes a whole file and at each appended metrics line. After every fault
# the run directory must hold nothing half-written under a final name, and training again must
# finish the run with the same metrics as a run that never failed.

CONFIG = fashionkit.TrainConfig(epochs=2, verbose=0, batch_size=50)


def _train(data: fashionkit.FashionMNIST, run_dir: Path) -> fashionkit.TrainResult:
    return fashionkit.train(CONFIG, dataset=data, run_dir=run_dir)


@pytest.fixture(scope="module")
def clean(tiny_dataset: fashionkit.FashionMNIST, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A run that never failed, and the list of writes it made."""
    faults = Faults()
    with pytest.MonkeyPatch.context() as patch:
        faults.install(patch)
        result = _train(tiny_dataset, tmp_path_factory.mktemp("clean") / "run")
    return result, faults.writes


def _check_nothing_half_written(run_dir: Path) -> None:
    leftovers = [p.name for p in run_dir.rglob(".*")]
    assert leftovers == [], f"temporary or lock files left: {leftovers}"
    if (run_dir / "config.toml").exists():
        assert fashionkit.TrainConfig.from_toml(run_dir / "config.toml") == CONFIG
    if (run_dir / "metrics.jsonl").exists():
        for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
            json.loads(line)
    state = run_dir / "checkpoint" / "state.json"
    if state.exists():
        name = json.loads(state.read_text(encoding="utf-8"))["checkpoint"]
        assert (run_dir / "checkpoint" / name).is_file()
    for name in ("validation.json", "test.json", "environment.json", "summary.json"):
        if (run_dir / name).exists():
            json.loads((run_dir / name).read_text(encoding="utf-8"))
    assert not (run_dir / "summary.json").exists(), "a failed run must not look complete"


def test_a_clean_run_writes_every_file_kind(clean: Any) -> None:
    """It sees every kind of write of a run, so the fault tests below cover each of them."""
    _, writes = clean
    expected = {
        "publish run/config.toml",
        "append metrics.jsonl",
        "publish checkpoint/epoch-0001.keras",
        "publish checkpoint/state.json",
        "publish run/model.keras",
        "publish run/validation.json",
        "publish run/test.json",
        "publish run/environment.json",
        "publish run/summary.json",
    }
    assert expected <= set(writes)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_every_write_fault_leaves_a_resumable_run(
    clean: Any,
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    """It raises a StorageError naming the file at every write, and a retry finishes the run."""
    reference, writes = clean
    points = range(1, len(writes) + 1) if code == errno.ENOSPC else (1, 3, len(writes))
    for fail_at in points:
        run_dir = tmp_path / f"run-{fail_at}"
        faults = Faults(fail_at, code)
        with monkeypatch.context() as patch:
            faults.install(patch)
            with pytest.raises(fashionkit.StorageError) as caught:
                _train(tiny_dataset, run_dir)
        where = writes[fail_at - 1]
        assert caught.value.errno == code, where
        assert str(run_dir) in str(caught.value), where
        _check_nothing_half_written(run_dir)
        retried = _train(tiny_dataset, run_dir)
        assert metrics_only(retried.history) == metrics_only(reference.history), where
        assert retried.test.accuracy == reference.test.accuracy, where
        assert fashionkit.load_run(run_dir).test.accuracy == reference.test.accuracy


# --- the lock, with real processes -------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and locks")
@pytest.mark.slow
def test_a_second_process_cannot_train_into_a_locked_run_directory(
    tmp_path: Path, slow_epoch_data_dir: Path
) -> None:
    """It refuses a second trainer and load_run while the first trains, naming the process."""
    run_dir = tmp_path / "run"
    first = start_cnn_training(
        run_dir, slow_epoch_data_dir, epochs=30
    )  # long enough to outlast the checks below
    try:
        wait_for_epochs(run_dir, 1, first)
        second = subprocess.run(
            cnn_train_command(run_dir, slow_epoch_data_dir, epochs=30),
            capture_output=True,
            text=True,
        )
        assert second.returncode == 1
        assert f"is in use: process {first.pid} on " in second.stderr
        assert "Traceback" not in second.stderr
        with pytest.raises(fashionkit.RunDirError, match="still in progress"):
            fashionkit.load_run(run_dir)
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    assert logged_epochs(run_dir) == list(range(1, len(logged_epochs(run_dir)) + 1))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and locks")
def test_train_releases_the_lock_when_it_fails(
    tmp_path: Path, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It unlocks the run directory and removes the lock file when training fails."""
    from fashionkit._io import is_locked

    class BoomError(Exception):
        pass

    class Explode(__import__("keras").callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            raise BoomError

    config = fashionkit.TrainConfig(epochs=2, verbose=0)
    with pytest.raises(BoomError):
        fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path, callbacks=[Explode()])
    assert not is_locked(tmp_path)
    assert not (tmp_path / ".lock").exists()
    result = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path)
    assert [r.epoch for r in result.history] == [1, 2]
