"""The two training loops: Keras's fit and the multi-worker loop, here and on two real workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import keras
import pytest

import fashionkit
from fashionkit.config import TrainConfig
from fashionkit.exceptions import ConfigError
from fashionkit.training._loops import KerasFitLoop, MultiWorkerLoop, loop_for
from fashionkit.training._setup import prepare
from fashionkit.training._train import _finish, _wire_callbacks
from tests.helpers import LOG_KEYS, logs_kept, small_config

# --- the two loops, in this process --------------------------------------------------------


def _run_loop(loop: Any, config: TrainConfig, dataset: fashionkit.FashionMNIST) -> Any:
    """Set up, run ``loop`` in this process under the default strategy, finish."""
    setup = prepare(config, dataset=dataset, run_dir=None)
    logs = logs_kept()
    wiring = _wire_callbacks(setup, [logs])
    seconds = loop.run(setup, wiring.callbacks)
    return _finish(setup, wiring, fit_seconds=seconds, started=0.0), logs


def test_both_loops_log_the_same_keys_and_the_reports_metrics(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It logs the same keys from fit and the multi-worker loop, val_* from the one evaluator."""
    config = small_config(epochs=2)
    for loop in (KerasFitLoop(), MultiWorkerLoop()):
        result, logs = _run_loop(loop, config, tiny_dataset)
        assert [set(epoch) for epoch in logs.logs] == [LOG_KEYS] * 2, type(loop).__name__
        assert result.history[-1].val_loss == result.validation.loss
        assert result.history[-1].val_per_class_accuracy == result.validation.per_class_recall
        assert result.test.accuracy > 0.5


def test_multi_worker_loop_keeps_the_global_batch_and_drops_the_remainder(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It runs len(train) // batch_size steps per epoch, like every replica in lockstep."""
    batches: list[int] = []

    class Count(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            batches.append(0)

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            batches[-1] += 1

    setup = prepare(small_config(epochs=2, batch_size=48), dataset=tiny_dataset, run_dir=None)
    wiring = _wire_callbacks(setup, [Count()])
    MultiWorkerLoop().run(setup, wiring.callbacks)
    assert batches == [160 // 48] * 2  # 3 full batches; the last 16 images are dropped


def test_loop_for_picks_the_multi_worker_loop_only_for_that_strategy(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It uses Keras's fit unless the placement's strategy is multi_worker."""
    setup = prepare(small_config(), dataset=tiny_dataset, run_dir=None)
    assert isinstance(loop_for(setup), KerasFitLoop)


def test_multi_worker_loop_refuses_a_batch_larger_than_the_data(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It raises ConfigError instead of silently training nothing when no batch is complete."""
    setup = prepare(small_config(epochs=1, batch_size=1000), dataset=tiny_dataset, run_dir=None)
    wiring = _wire_callbacks(setup, [])
    with pytest.raises(ConfigError, match="larger than the 160 training images"):
        MultiWorkerLoop().run(setup, wiring.callbacks)


# --- two real workers on 127.0.0.1 --------------------------------------------------------
# Each test starts two Python processes with ``TF_CONFIG`` naming two loopback ports, running
# ``tests/training/_worker_job.py`` on a small synthetic dataset (identical on both workers), so
# the tests need no shared data and take seconds of training; most of their time is TensorFlow
# starting.

JOB = Path(__file__).with_name("_worker_job.py")
#: The config of the plain runs: a small MLP, 4 epochs of 10 global batches of 32.
PLAIN: dict[str, Any] = {
    "epochs": 4,
    "batch_size": 32,
    "verbose": 0,
    "model": {"architecture": "mlp", "hidden_units": [32]},
    "optimizer": {"name": "adam", "learning_rate": 0.003},
    "device": {"accelerator": "cpu", "strategy": "multi_worker"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(config: dict[str, Any], run_dir: Path, *, sleep: float = 0.0) -> list[Any]:
    """Start the two workers of one run; worker 0 is the chief."""
    ports = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    spec = json.dumps({"config": config, "run_dir": str(run_dir), "sleep": sleep})
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    workers = []
    for index in range(2):
        tf_config = {"cluster": {"worker": ports}, "task": {"type": "worker", "index": index}}
        workers.append(
            subprocess.Popen(
                [sys.executable, str(JOB), spec],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**env, "TF_CONFIG": json.dumps(tf_config)},
            )
        )
    return workers


def _finish_workers(
    workers: list[Any], *, timeout: float = 240
) -> list[tuple[int, str, dict[str, Any]]]:
    """Wait for the workers; return (exit code, kind of line, its data) for each."""
    outcomes = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=timeout)
            lines = [line for line in out.splitlines() if line.startswith(("RESULT", "INTER"))]
            assert lines, f"worker exited {worker.returncode} with no result:\n{err[-3000:]}"
            kind, _, data = lines[-1].partition(" ")
            outcomes.append((worker.returncode, kind, json.loads(data)))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    return outcomes


def _kill(workers: list[Any]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()


def _wait_for_epoch(run_dir: Path, epoch: int, workers: list[Any], *, timeout: float = 180) -> None:
    """Wait until the chief has checkpointed ``epoch``."""
    state = run_dir / "checkpoint" / "state.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert all(w.poll() is None for w in workers), "a worker ended before it was stopped"
        try:
            if json.loads(state.read_text())["epoch"] >= epoch:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"epoch {epoch} was never checkpointed")


def _logged_epochs(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.xdist_group("processes")
def test_two_workers_keep_one_run_directory_and_resume_after_a_sigkill(tmp_path: Path) -> None:
    """A worker killed mid-epoch costs only that epoch; the resumed run equals an uninterrupted one.

    The chief writes the folder; the resumed run logs every epoch once. The uninterrupted run
    and the one to interrupt (which sleeps after every batch) train at the same time.
    """
    whole = tmp_path / "whole"
    whole_workers = _start(PLAIN, whole)
    interrupted = tmp_path / "interrupted"
    workers = _start(PLAIN, interrupted, sleep=0.15)
    try:
        _wait_for_epoch(interrupted, 2, workers)
        time.sleep(0.6)  # into epoch 3
        os.kill(workers[1].pid, signal.SIGKILL)  # the follower dies mid-epoch
        time.sleep(0.5)
        os.kill(workers[0].pid, signal.SIGKILL)  # and its cluster manager stops the chief
    finally:
        _kill(workers)
    (chief, kind0, one), (_, kind1, other) = _finish_workers(whole_workers)
    assert (chief, kind0, kind1) == (0, "RESULT", "RESULT")
    assert sorted(p.name for p in whole.iterdir()) == [
        "best.keras", "config.toml", "environment.json", "metrics.jsonl", "model.keras",
        "summary.json",
        "test.json", "validation.json",
    ]  # fmt: skip
    assert [e["epoch"] for e in _logged_epochs(whole)] == [1, 2, 3, 4]
    assert one["test"] == other["test"]  # one synchronised model
    assert other["run_dir"] == str(whole)  # the follower names the folder it followed

    assert (interrupted / "checkpoint" / "state.json").is_file()
    assert not (interrupted / "summary.json").exists()

    (code0, _, resumed), (code1, _, _) = _finish_workers(_start(PLAIN, interrupted))
    assert (code0, code1) == (0, 0)
    assert resumed["resumed_from_epoch"] >= 2
    epochs = _logged_epochs(interrupted)
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]  # none lost, none twice
    for after, before in zip(epochs, _logged_epochs(whole), strict=True):
        assert after["val_accuracy"] == before["val_accuracy"]
        assert after["loss"] == pytest.approx(before["loss"], rel=1e-5)
    assert resumed["test"]["accuracy"] == one["test"]["accuracy"]


@pytest.mark.slow
@pytest.mark.xdist_group("processes")
def test_an_augmented_preset_trains_on_two_workers_and_a_signal_stops_both(
    tmp_path: Path,
) -> None:
    """The fast preset's recipe runs on two workers; a SIGTERM to one stops both at one step.

    Augmentation, one-cycle and TTA as in ``fast``; training again finishes the run.
    """
    config = {
        **PLAIN,
        "epochs": 3,
        "model": {"architecture": "cnn", "filters": [8, 16], "dense_units": 32},
        "augment": {"translate": 2, "flip": "alternate"},
        "loss": {"encoding": "one_hot", "label_smoothing": 0.1},
        "optimizer": {"name": "adamw", "learning_rate": 0.003, "schedule": "one_cycle"},
        "tta": True,
    }
    run_dir = tmp_path / "run"
    workers = _start(config, run_dir, sleep=0.15)
    try:
        _wait_for_epoch(run_dir, 1, workers)
        time.sleep(0.4)
        os.kill(workers[1].pid, signal.SIGTERM)
        outcomes = _finish_workers(workers, timeout=120)
    finally:
        _kill(workers)
    assert [(code, kind) for code, kind, _ in outcomes] == [(3, "INTERRUPTED")] * 2
    assert outcomes[0][2] == outcomes[1][2]  # the same completed epochs on both
    assert not (run_dir / "summary.json").exists()

    (code0, _, result), (code1, _, other) = _finish_workers(_start(config, run_dir))
    assert (code0, code1) == (0, 0)
    assert [e["epoch"] for e in _logged_epochs(run_dir)] == [1, 2, 3]
    assert result["test"] == other["test"]
    assert result["test"]["accuracy"] > 0.3  # learning (chance is 0.1) after 3 short epochs


@pytest.mark.slow
@pytest.mark.xdist_group("processes")
def test_a_time_budget_stops_both_workers_at_the_same_step(tmp_path: Path) -> None:
    """Each worker's clock runs its own budget; the first to run out stops both together."""
    config = {**PLAIN, "epochs": 100, "time_budget_seconds": 2}
    outcomes = _finish_workers(_start(config, tmp_path / "run", sleep=0.1))
    assert [(code, kind) for code, kind, _ in outcomes] == [(0, "RESULT")] * 2
    (_, _, chief), (_, _, other) = outcomes

    def metrics(result: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in result["history"]]

    assert metrics(chief) == metrics(other)  # the same steps, hence the same metrics
    assert 1 <= len(chief["history"]) < 100
    assert chief["stop_reason"] is not None
    assert other["stop_reason"] is not None
    assert (tmp_path / "run" / "summary.json").is_file()
