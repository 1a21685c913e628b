"""Run directories: layout, atomic files, resume after a crash, reading a run back.

One finished run and one crashed run are trained per module; a test that changes files works
on a copy of them in its own tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from conftest import crash_after, metrics_only
from fashionkit import _schema
from fashionkit.callbacks import EpochCheckpoint, JSONLinesLogger
from fashionkit.config import TrainConfig
from fashionkit.exceptions import RunDirError
from fashionkit.models import MLPConfig
from fashionkit.runs import RunWriter, load_model, load_run, save_model

FILES = [
    "best.keras",
    "config.toml",
    "environment.json",
    "metrics.jsonl",
    "model.keras",
    "summary.json",
    "test.json",
    "validation.json",
]
# The lock file of a training process; removed when the process ends training, however it ends.
LOCK = ".lock"


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _config(**changes: Any) -> TrainConfig:
    base: dict[str, Any] = {
        "model": MLPConfig(hidden_units=(32,), dropout=0.3),
        "epochs": 4,
        "batch_size": 16,
        "verbose": 0,
    }
    base.update(changes)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def finished(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path_factory: pytest.TempPathFactory
) -> fashionkit.TrainResult:
    """One completed four-epoch run (an MLP with dropout) in a run directory; do not modify."""
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    return fashionkit.train(_config(), dataset=tiny_dataset, run_dir=run_dir)


@pytest.fixture(scope="module")
def crashed(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A run directory of the same config that died at the end of epoch 3; do not modify."""
    run_dir = tmp_path_factory.mktemp("crashed") / "run"
    with pytest.raises(KeyboardInterrupt):
        fashionkit.train(
            _config(), dataset=tiny_dataset, run_dir=run_dir, callbacks=[crash_after(3)]
        )
    return run_dir


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / run_dir.name))


# --- layout --------------------------------------------------------------------------------


def test_run_directory_holds_every_documented_file(finished: fashionkit.TrainResult) -> None:
    """It writes config, metrics, model, reports, environment and summary, and nothing else."""
    run_dir = finished.run_dir
    assert run_dir is not None
    assert _listing(run_dir) == FILES
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
    assert LOCK not in after


# --- crash and resume ----------------------------------------------------------------------


def test_a_crashed_run_keeps_its_completed_epochs(crashed: Path) -> None:
    """It leaves the config, two logged epochs and the epoch-2 checkpoint, and no results."""
    assert EpochCheckpoint.latest(crashed / "checkpoint") == (
        2,
        crashed / "checkpoint" / "epoch-0002.keras",
    )
    assert _listing(crashed) == ["checkpoint", "config.toml", "metrics.jsonl"]
    lines = (crashed / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]


def test_open_finds_the_epoch_to_resume_from(crashed: Path, tmp_path: Path) -> None:
    """It reports the last checkpointed epoch, its model, the logged history and the callbacks."""
    run_dir = _copy(crashed, tmp_path)
    run = RunWriter.open(run_dir, _config())
    try:
        assert run.path == run_dir
        assert run.resume_epoch == 2
        assert run.checkpoint == run_dir / "checkpoint" / "epoch-0002.keras"
        assert [r.epoch for r in run.history] == [1, 2]
        assert (
            run.restore_model().count_params()
            == fashionkit.create_model(_config().model).count_params()
        )
        log, checkpoint = run.callbacks()
        assert isinstance(log, JSONLinesLogger)
        assert log.append
        assert isinstance(checkpoint, EpochCheckpoint)
    finally:
        run.close()


def test_open_creates_a_new_run_directory_with_its_config(tmp_path: Path) -> None:
    """It creates the folder, writes config.toml first and starts from epoch 0."""
    run = RunWriter.open(tmp_path / "new" / "run", _config())
    try:
        assert run.resume_epoch == 0
        assert run.checkpoint is None
        assert run.history == ()
        assert run.restore_model() is None
        assert TrainConfig.from_toml(tmp_path / "new" / "run" / "config.toml") == _config()
    finally:
        run.close()


def test_an_open_run_directory_is_locked_against_other_users(crashed: Path, tmp_path: Path) -> None:
    """It refuses a second opener and load_run while a run directory is open, then releases."""
    run_dir = _copy(crashed, tmp_path)
    run = RunWriter.open(run_dir, _config())
    try:
        with pytest.raises(RunDirError, match=f"process {os.getpid()} on .* is training into"):
            RunWriter.open(run_dir, _config())
        with pytest.raises(RunDirError, match="still in progress"):
            load_run(run_dir)
    finally:
        run.close()
    RunWriter.open(run_dir, _config()).close()  # free again
    with pytest.raises(RunDirError, match="did not complete"):
        load_run(run_dir)


def test_a_file_is_not_a_run_directory(tmp_path: Path) -> None:
    """It refuses to train into a path that is a file, saying a folder is needed."""
    path = tmp_path / "run"
    path.write_text("not a folder")
    with pytest.raises(RunDirError, match="is a file, not a folder"):
        RunWriter.open(path, _config())


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(
    finished: fashionkit.TrainResult,
    crashed: Path,
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
) -> None:
    """It resumes after the last checkpoint and ends with bit-identical metrics (dropout too)."""
    run_dir = _copy(crashed, tmp_path)
    resumed = fashionkit.train(_config(), dataset=tiny_dataset, run_dir=run_dir)
    assert resumed.resumed_from_epoch == 2
    assert metrics_only(resumed.history) == metrics_only(finished.history)
    assert resumed.test.to_dict() == finished.test.to_dict()
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]
    assert _listing(run_dir) == FILES  # the checkpoint folder is gone
    assert load_run(run_dir).summary["resumed_from_epoch"] == 2


def test_log_lines_of_lost_epochs_are_dropped_on_resume(
    crashed: Path, tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It removes metric lines newer than the checkpoint, so no epoch is logged twice."""
    run_dir = _copy(crashed, tmp_path)
    with (run_dir / "metrics.jsonl").open("a") as log:  # as if killed after logging epoch 3
        log.write(json.dumps({"epoch": 3, "loss": 9.9}) + "\n")
    result = fashionkit.train(_config(), dataset=tiny_dataset, run_dir=run_dir)
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3, 4]
    assert 9.9 not in [line["loss"] for line in lines]
    assert result.history[2].loss != 9.9


def test_a_different_config_refuses_to_resume(
    crashed: Path, tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It names the fields that differ and refuses to mix two configs in one directory."""
    run_dir = _copy(crashed, tmp_path)
    with pytest.raises(RunDirError, match=r"epochs: 4 in the directory, 6 now"):
        fashionkit.train(_config(epochs=6), dataset=tiny_dataset, run_dir=run_dir)
    with pytest.raises(RunDirError, match=r"model\.hidden_units: \[32\] in the directory"):
        fashionkit.train(
            _config(model=MLPConfig(hidden_units=(8,), dropout=0.3)),
            dataset=tiny_dataset,
            run_dir=run_dir,
        )
    # Verbosity changes only what is printed: resuming with it is fine.
    resumed = fashionkit.train(_config(verbose=2), dataset=tiny_dataset, run_dir=run_dir)
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
    run_dir = _copy(crashed, tmp_path)
    (run_dir / "checkpoint" / "state.json").write_text(state)
    with pytest.raises(RunDirError, match=message):
        fashionkit.train(_config(), dataset=tiny_dataset, run_dir=run_dir)
    assert not (run_dir / LOCK).exists()  # refused after locking: the lock file is removed


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
        (_write("metrics.jsonl", '{"epoch": 1}\nnot json\n'), "metrics.jsonl line 2 is not JSON"),
        (_write("metrics.jsonl", '{"loss": 1}\n'), "metrics.jsonl line 1 is not an epoch"),
        (_write("metrics.jsonl", b"\xff\xfe"), "metrics.jsonl is not UTF-8"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_damaged_run_directories_raise_run_dir_error(
    finished: fashionkit.TrainResult, tmp_path: Path, damage: Callable[[Path], Any], named: str
) -> None:
    """It raises RunDirError naming the missing or corrupted file."""
    assert finished.run_dir is not None
    run_dir = _copy(finished.run_dir, tmp_path)
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


# --- models --------------------------------------------------------------------------------


def test_save_model_writes_atomically_and_load_model_reads_it_back(tmp_path: Path) -> None:
    """It saves a .keras file with no temporary file left and loads an equal model."""
    model = fashionkit.create_model("mlp", hidden_units=(4,))
    path = save_model(model, tmp_path / "out" / "model.keras")
    assert path == tmp_path / "out" / "model.keras"
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.keras"]
    x = fashionkit.prepare_images(np.zeros((2, 28, 28), np.uint8))
    np.testing.assert_array_equal(np.asarray(load_model(path)(x)), np.asarray(model(x)))


def test_load_model_never_runs_code_stored_in_the_file(tmp_path: Path) -> None:
    """It refuses a model holding a Python lambda (Keras's safe mode), naming the file."""
    inputs = keras.Input((784,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = save_model(model, tmp_path / "lambda.keras")
    with pytest.raises(RunDirError, match=r"lambda\.keras is corrupted or not a Keras model"):
        load_model(path)


def test_load_model_of_a_missing_file_names_it(tmp_path: Path) -> None:
    """It raises RunDirError saying there is no model file."""
    with pytest.raises(RunDirError, match="there is no model file"):
        load_model(tmp_path / "nothing.keras")


def test_load_model_accepts_only_keras_files(tmp_path: Path) -> None:
    """It refuses a file without the .keras suffix before handing it to Keras."""
    (tmp_path / "model.h5").write_bytes(b"HDF")
    with pytest.raises(RunDirError, match=r"model\.h5 is not a \.keras model file"):
        load_model(tmp_path / "model.h5")


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
    shared_data_dir: Path, tutorial_run: fashionkit.TrainResult, tmp_path: Path
) -> None:
    """It loses at most the epoch in flight and ends exactly where an uninterrupted run ends."""
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
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert result["resumed_from_epoch"] >= 2
    # The uninterrupted run is the tutorial's, trained in this process from the same files.
    expected = tutorial_run.to_dict()
    assert _without_seconds(result["history"]) == _without_seconds(expected["history"])
    assert result["validation"] == expected["validation"]
    assert result["test"] == expected["test"]


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
        _config(epochs=2), dataset=tiny_dataset, run_dir=tmp_path / "run", callbacks=[LogNumpy()]
    )
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["history"][0]["extra"] == {"lr": pytest.approx(0.001), "spread": [1.5, 2.5]}
    assert json.loads(json.dumps(result.to_dict())) == summary


def test_a_torn_last_metrics_line_does_not_block_resuming(crashed: Path, tmp_path: Path) -> None:
    """It drops a last line cut short by a crash (no newline) instead of refusing the run."""
    run_dir = _copy(crashed, tmp_path)
    metrics = run_dir / "metrics.jsonl"
    with metrics.open("a", encoding="utf-8") as out:
        out.write('{"epoch": 3, "loss": 0.')
    opened = RunWriter.open(run_dir, _config())
    try:
        assert [r.epoch for r in opened.history] == [1, 2]
        assert metrics.read_text(encoding="utf-8").endswith("}\n")
    finally:
        opened.close()


def test_a_torn_line_in_the_middle_is_reported(crashed: Path, tmp_path: Path) -> None:
    """It raises RunDirError naming the line when a line before the last one is damaged."""
    run_dir = _copy(crashed, tmp_path)
    metrics = run_dir / "metrics.jsonl"
    lines = metrics.read_text(encoding="utf-8").splitlines()
    metrics.write_text("\n".join(["{broken", *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(RunDirError, match="line 1 is not JSON"):
        RunWriter.open(run_dir, _config())


def test_a_damaged_metric_value_is_a_run_dir_error(crashed: Path, tmp_path: Path) -> None:
    """It raises RunDirError, not TypeError, for a metrics line whose values are damaged."""
    run_dir = _copy(crashed, tmp_path)
    metrics = run_dir / "metrics.jsonl"
    metrics.write_text('{"epoch": 1, "val_per_class_accuracy": 5}\n', encoding="utf-8")
    with pytest.raises(RunDirError, match="damaged epoch record"):
        RunWriter.open(run_dir, _config())


def test_a_folder_with_other_files_is_not_adopted(tmp_path: Path) -> None:
    """It refuses a non-empty folder without config.toml rather than training into it."""
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(RunDirError, match=r"is not empty \(notes.txt\) and holds no run"):
        RunWriter.open(tmp_path, _config())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_run_that_failed_before_its_first_epoch_takes_a_new_config(tmp_path: Path) -> None:
    """It lets a new config replace one whose run never completed an epoch."""
    first = RunWriter.open(tmp_path, _config(epochs=4))
    first.close()
    second = RunWriter.open(tmp_path, _config(epochs=2))
    try:
        assert TrainConfig.from_toml(tmp_path / "config.toml").epochs == 2
    finally:
        second.close()


def test_opening_removes_temporary_files_of_a_killed_writer(crashed: Path, tmp_path: Path) -> None:
    """It deletes the hidden temporary files that a process killed mid-write left behind."""
    run_dir = _copy(crashed, tmp_path)
    (run_dir / ".model.keras.abc123.keras").write_bytes(b"half a model")
    (run_dir / "checkpoint" / ".state.json.xyz.tmp").write_text("{", encoding="utf-8")
    opened = RunWriter.open(run_dir, _config())
    opened.close()
    assert not [p.name for p in run_dir.rglob(".*")]  # the lock file included


def test_an_unregistered_architecture_in_a_run_says_to_register_it(
    finished: fashionkit.TrainResult, tmp_path: Path
) -> None:
    """It tells the user to register the architecture a run directory names."""
    assert finished.run_dir is not None
    run_dir = _copy(finished.run_dir, tmp_path)
    config = (run_dir / "config.toml").read_text(encoding="utf-8")
    (run_dir / "config.toml").write_text(
        config.replace('architecture = "mlp"', 'architecture = "mine"'), encoding="utf-8"
    )
    with pytest.raises(RunDirError, match="Register it"):
        load_run(run_dir)


@pytest.mark.parametrize("name", ["model.h5", "model", "folder.keras/"])
def test_save_model_wants_a_keras_file_name(tmp_path: Path, name: str) -> None:
    """It refuses, before saving anything, a model path that is not a .keras file."""
    (tmp_path / "folder.keras").mkdir()
    model = fashionkit.create_model(fashionkit.LinearConfig())
    with pytest.raises(fashionkit.InputValidationError, match=r"ending in \.keras"):
        save_model(model, tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.keras"]


def test_save_model_under_a_file_is_a_storage_error(tmp_path: Path) -> None:
    """It names the file that stands where a folder of the path should be."""
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    model = fashionkit.create_model(fashionkit.LinearConfig())
    with pytest.raises(fashionkit.StorageError, match="is a file, not a folder"):
        save_model(model, tmp_path / "plain" / "sub" / "model.keras")


def test_save_model_refuses_what_is_not_a_keras_model(tmp_path: Path) -> None:
    """It raises ArgumentError naming the model parameter for an object that is no model."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^model must be a Keras model"):
        save_model(object(), tmp_path / "model.keras")
    assert not list(tmp_path.iterdir())


# --- every command that reads a run, on the same damaged run directories ---------------------


def _missing(run: Path) -> None:
    shutil.rmtree(run)


def _locked(run: Path) -> None:
    from fashionkit._io import DirectoryLock

    lock = DirectoryLock(run)
    lock.acquire()  # released when the test's copy is deleted; another descriptor sees it held
    _HELD_LOCKS.append(lock)


def _unfinished(run: Path) -> None:
    (run / "summary.json").unlink()


def _bad_config(run: Path) -> None:
    (run / "config.toml").write_text("epochs = 'many'\n", encoding="utf-8")


def _truncated_model(run: Path) -> None:
    model = run / "model.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])


def _missing_best(run: Path) -> None:
    (run / "best.keras").unlink()


_HELD_LOCKS: list[Any] = []
DAMAGES: dict[str, Callable[[Path], None]] = {
    "missing": _missing,
    "locked": _locked,
    "unfinished": _unfinished,
    "bad config": _bad_config,
    "truncated model": _truncated_model,
    "missing best": _missing_best,
}
#: Every command that takes a run directory, with the arguments it needs besides the run.
COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "evaluate": lambda run, image: ["evaluate", str(run)],
    "predict": lambda run, image: ["predict", str(run), str(image)],
    "explain": lambda run, image: ["explain", str(run), str(image), "--out", f"{image}.png"],
    "report": lambda run, image: ["report", str(run)],
    "export": lambda run, image: ["export", str(run), "--format", "tflite"],
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_every_command_gives_the_same_one_line_error_for_a_damaged_run(
    damage: str,
    finished: fashionkit.TrainResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It refuses the same damaged run in evaluate, predict, explain, report and export alike."""
    from fashionkit.cli import main

    assert finished.run_dir is not None
    run = _copy(finished.run_dir, tmp_path)
    image = tmp_path / "one.npy"
    np.save(image, np.zeros((28, 28), np.uint8))
    DAMAGES[damage](run)
    errors = {}
    try:
        for command, argv in COMMANDS.items():
            assert main(argv(run, image)) == 1, command
            err = capsys.readouterr().err
            assert len(err.strip().splitlines()) == 1, err
            prefix = f"fashionkit {command}: error: "
            assert err.startswith(prefix), err
            errors[command] = err.removeprefix(prefix)
    finally:
        while _HELD_LOCKS:
            _HELD_LOCKS.pop().release()
    assert len(set(errors.values())) == 1, errors
    assert str(run) in next(iter(errors.values()))


def test_the_run_directory_s_file_names_are_spelled_in_one_module() -> None:
    """It finds the file names of a run directory in no code but fashionkit.runs._layout."""
    import ast

    from fashionkit.runs import REPORT_PICTURES, RunLayout

    layout = RunLayout("run")
    names = {
        path.name
        for path in (
            layout.config, layout.metrics, layout.model, layout.best, layout.validation,
            layout.test, layout.calibration, layout.environment, layout.summary,
            layout.explanations, *(layout.picture(name) for name in REPORT_PICTURES),
        )
    }  # fmt: skip
    source = Path(fashionkit.__file__).parent
    found = []
    for path in sorted(source.rglob("*.py")):
        if path == source / "runs" / "_layout.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and any(name in node.value for name in names)
            ):
                found.append(f"{path.relative_to(source)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "\n".join(found)
