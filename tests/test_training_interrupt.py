"""Tests of stopping training by signal and of the run-directory lock, with real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fashionkit
from conftest import balanced_labels, synthetic_images, write_idx_gz
from fashionkit.runs import load_model

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and locks")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic data folder large enough for a CNN epoch to take about a second."""
    folder = tmp_path_factory.mktemp("data")
    write_idx_gz(folder / "train-images-idx3-ubyte.gz", synthetic_images(5000))
    write_idx_gz(folder / "train-labels-idx1-ubyte.gz", balanced_labels(5000))
    write_idx_gz(folder / "t10k-images-idx3-ubyte.gz", synthetic_images(500, seed=1))
    write_idx_gz(folder / "t10k-labels-idx1-ubyte.gz", balanced_labels(500))
    return folder


def _train_command(run_dir: Path, data_dir: Path, epochs: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "fashionkit.cli",
        "train",
        "--data-dir",
        str(data_dir),
        "--no-verify",
        "--model",
        "cnn",
        # A small CNN: an epoch of the 4,000 images takes about a second on an AVX2-only CPU.
        "--set",
        "model.filters=[8, 16]",
        "--set",
        "model.dense_units=32",
        "--epochs",
        str(epochs),
        "--set",
        "steps_per_execution=1",
        "--quiet",
        "--run-dir",
        str(run_dir),
    ]


def _start(run_dir: Path, data_dir: Path, epochs: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _train_command(run_dir, data_dir, epochs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_epochs(run_dir: Path, count: int, child: subprocess.Popen[str]) -> None:
    metrics = run_dir / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if metrics.is_file() and len(metrics.read_text(encoding="utf-8").splitlines()) >= count:
            return
        if child.poll() is not None:
            pytest.fail(f"training ended early: {child.communicate()}")
        time.sleep(0.05)
    child.kill()
    pytest.fail("training did not log an epoch in time")


def _epochs(run_dir: Path) -> list[int]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["epoch"] for line in lines]


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_at_a_batch_and_leaves_the_run_resumable(
    tmp_path: Path, data_dir: Path, signum: int, status: int
) -> None:
    """It stops on SIGINT or SIGTERM, exits 130 or 143 with one line, and resuming completes."""
    run_dir = tmp_path / "run"
    child = _start(run_dir, data_dir, epochs=6)
    _wait_for_epochs(run_dir, 1, child)
    child.send_signal(signum)
    _out, err = child.communicate(timeout=120)
    assert child.returncode == status, err
    assert "Traceback" not in err
    stopped = [line for line in err.splitlines() if "stopped by" in line]
    assert len(stopped) == 1
    assert signal.Signals(signum).name in stopped[0]
    assert "resume" in stopped[0]
    kept = _epochs(run_dir)
    assert kept == list(range(1, len(kept) + 1))  # only whole epochs, in order
    assert len(kept) < 6
    state = json.loads((run_dir / "checkpoint" / "state.json").read_text(encoding="utf-8"))
    assert state["epoch"] == len(kept)
    assert not (run_dir / "summary.json").exists()
    assert not [p.name for p in run_dir.rglob(".*")]  # no temporary file, no lock file

    resumed = subprocess.run(
        _train_command(run_dir, data_dir, epochs=6), capture_output=True, text=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _epochs(run_dir) == [1, 2, 3, 4, 5, 6]
    record = fashionkit.load_run(run_dir)
    assert record.summary["resumed_from_epoch"] == len(kept)


@pytest.mark.slow
def test_the_best_checkpoint_survives_sigkill_and_resume(tmp_path: Path, data_dir: Path) -> None:
    """It leaves a state naming a complete best model after SIGKILL, and resuming keeps it."""
    run_dir = tmp_path / "run"
    extra = ["--set", "early_stopping.restore_best=true", "--set", "augment.flip=alternate"]
    command = [*_train_command(run_dir, data_dir, epochs=6), *extra]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_epochs(run_dir, 2, child)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.communicate()
    state = json.loads((run_dir / "checkpoint" / "state.json").read_text(encoding="utf-8"))
    best = state["best"]
    assert 1 <= best["epoch"] <= state["epoch"]
    kept = load_model(run_dir / "checkpoint" / best["checkpoint"])  # complete
    assert kept.count_params() > 0
    assert sorted(p.name for p in (run_dir / "checkpoint").glob("best-*.keras")) in (
        [best["checkpoint"]],
        sorted([best["checkpoint"], f"best-{state['epoch'] + 1:04d}.keras"]),  # the next one
    )

    resumed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    record = fashionkit.load_run(run_dir)
    best_epoch = record.summary["best_epoch"]
    accuracies = [r.val_accuracy for r in record.history]
    assert best_epoch == accuracies.index(max(accuracies)) + 1
    assert record.summary["restored_best"] is True
    assert record.validation.accuracy == max(accuracies)
    assert (run_dir / "best.keras").is_file()


@pytest.mark.slow
def test_a_second_process_cannot_train_into_a_locked_run_directory(
    tmp_path: Path, data_dir: Path
) -> None:
    """It refuses a second trainer and load_run while the first trains, naming the process."""
    run_dir = tmp_path / "run"
    first = _start(run_dir, data_dir, epochs=30)  # long enough to outlast the checks below
    try:
        _wait_for_epochs(run_dir, 1, first)
        second = subprocess.run(
            _train_command(run_dir, data_dir, epochs=30), capture_output=True, text=True
        )
        assert second.returncode == 1
        assert f"is in use: process {first.pid} on " in second.stderr
        assert "Traceback" not in second.stderr
        with pytest.raises(fashionkit.RunDirError, match="still in progress"):
            fashionkit.load_run(run_dir)
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    assert _epochs(run_dir) == list(range(1, len(_epochs(run_dir)) + 1))


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


def test_signal_in_python_raises_training_interrupted(
    tmp_path: Path, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It raises TrainingInterrupted (also a KeyboardInterrupt) from train() after SIGINT."""
    import keras

    class SignalAtEpochTwo(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_end(self, batch: int, logs: object = None) -> None:
            if self.epoch == 1 and batch == 0:
                os.kill(os.getpid(), signal.SIGINT)

        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            self.epoch = epoch

    config = fashionkit.TrainConfig(epochs=3, verbose=0, batch_size=16, steps_per_execution=1)
    previous = signal.getsignal(signal.SIGINT)
    with pytest.raises(fashionkit.TrainingInterrupted) as caught:
        fashionkit.train(
            config, dataset=tiny_dataset, run_dir=tmp_path, callbacks=[SignalAtEpochTwo()]
        )
    assert isinstance(caught.value, KeyboardInterrupt)
    assert caught.value.completed_epochs == 1
    assert caught.value.exit_status == 130
    assert signal.getsignal(signal.SIGINT) is previous  # handlers restored
    assert _epochs(tmp_path) == [1]
    resumed = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path)
    assert [r.epoch for r in resumed.history] == [1, 2, 3]


def test_handlers_are_restored_when_fit_fails(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It puts the previous SIGINT and SIGTERM handlers back when a callback raises in fit."""
    import keras

    class FailingError(Exception):
        pass

    class Fail(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_end(self, batch: int, logs: object = None) -> None:
            raise FailingError

    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    with pytest.raises(FailingError):
        fashionkit.train(
            fashionkit.TrainConfig(epochs=1, verbose=0), dataset=tiny_dataset, callbacks=[Fail()]
        )
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_a_signal_after_the_last_batch_still_finishes_the_run(
    tmp_path: Path, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It finishes a run whose last epoch had ended when the signal came: nothing is lost."""
    import keras

    class SignalAtTheEnd(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGTERM)

    config = fashionkit.TrainConfig(epochs=2, verbose=0)
    result = fashionkit.train(
        config, dataset=tiny_dataset, run_dir=tmp_path, callbacks=[SignalAtTheEnd()]
    )
    assert [r.epoch for r in result.history] == [1, 2]
    assert result.stop_reason is None
    assert (tmp_path / "summary.json").is_file()
