"""Stopping training by SIGINT or SIGTERM, in this process and in real ones, and resuming."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import fashionkit
from fashionkit.runs import load_model
from tests.helpers import (
    cnn_train_command,
    logged_epochs,
    start_cnn_training,
    wait_for_epochs,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and locks")


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_at_a_batch_and_leaves_the_run_resumable(
    tmp_path: Path, slow_epoch_data_dir: Path, signum: int, status: int
) -> None:
    """It stops on SIGINT or SIGTERM, exits 130 or 143 with one line, and resuming completes."""
    run_dir = tmp_path / "run"
    child = start_cnn_training(run_dir, slow_epoch_data_dir, epochs=4)
    wait_for_epochs(run_dir, 1, child)
    child.send_signal(signum)
    _out, err = child.communicate(timeout=120)
    assert child.returncode == status, err
    assert "Traceback" not in err
    stopped = [line for line in err.splitlines() if "stopped by" in line]
    assert len(stopped) == 1
    assert signal.Signals(signum).name in stopped[0]
    assert "resume" in stopped[0]
    kept = logged_epochs(run_dir)
    assert kept == list(range(1, len(kept) + 1))  # only whole epochs, in order
    assert len(kept) < 4
    state = json.loads((run_dir / "checkpoint" / "state.json").read_text(encoding="utf-8"))
    assert state["epoch"] == len(kept)
    assert not (run_dir / "summary.json").exists()
    assert not [p.name for p in run_dir.rglob(".*")]  # no temporary file, no lock file

    resumed = subprocess.run(
        cnn_train_command(run_dir, slow_epoch_data_dir, epochs=4),
        capture_output=True,
        text=True,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert logged_epochs(run_dir) == [1, 2, 3, 4]
    record = fashionkit.load_run(run_dir)
    assert record.summary["resumed_from_epoch"] == len(kept)


@pytest.mark.slow
def test_the_best_checkpoint_survives_sigkill_and_resume(
    tmp_path: Path, slow_epoch_data_dir: Path
) -> None:
    """It leaves a state naming a complete best model after SIGKILL, and resuming keeps it."""
    run_dir = tmp_path / "run"
    extra = ["--set", "early_stopping.restore_best=true", "--set", "augment.flip=alternate"]
    command = [*cnn_train_command(run_dir, slow_epoch_data_dir, epochs=4), *extra]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_epochs(run_dir, 2, child)
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

    # Resumed in this process (the command line's resume is the test above's), same config.
    data = fashionkit.load_fashion_mnist(slow_epoch_data_dir, verify=False, download=False)
    config = fashionkit.TrainConfig.from_toml(run_dir / "config.toml")
    resumed = fashionkit.train(config, dataset=data, run_dir=run_dir)
    assert resumed.resumed_from_epoch == state["epoch"]
    record = fashionkit.load_run(run_dir)
    best_epoch = record.summary["best_epoch"]
    accuracies = [r.val_accuracy for r in record.history]
    assert best_epoch == accuracies.index(max(accuracies)) + 1
    assert record.summary["restored_best"] is True
    assert record.validation.accuracy == max(accuracies)
    assert (run_dir / "best.keras").is_file()


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
    assert logged_epochs(tmp_path) == [1]
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
