"""Hyperparameter sweeps: search spaces, parallel workers, resuming, pruning, storage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import fashionkit
from conftest import read_hparams
from fashionkit.config import TrainConfig
from fashionkit.exceptions import ArgumentError, ConfigError, ConfigFileNotFoundError
from fashionkit.sweep import Parameter, SearchSpace, open_study, sweep

optuna = pytest.importorskip("optuna")

SPACE_TOML = """
[fixed]
epochs = 3
batch_size = 16
model = { architecture = "mlp", hidden_units = [32] }

[search."optimizer.learning_rate"]
low = 1e-4
high = 0.1
log = true

[search."model.hidden_units"]
choices = [[16], [32, 16]]
"""


def _space() -> SearchSpace:
    return SearchSpace.from_dict(
        {
            "fixed": {"epochs": 3, "batch_size": 16, "model": {"architecture": "mlp"}},
            "search": {
                "optimizer.learning_rate": {"low": 1e-4, "high": 0.1, "log": True},
                "model.hidden_units": {"choices": [[16], [32, 16]]},
            },
        }
    )


# -- the search space ---------------------------------------------------------------------------


def test_a_space_reads_from_toml_and_round_trips(tmp_path: Path) -> None:
    """It reads a search space from TOML and reads its to_toml output back as an equal space."""
    path = tmp_path / "space.toml"
    path.write_text(SPACE_TOML)
    space = SearchSpace.from_toml(path)
    assert space.base.epochs == 3
    assert space.base.model.hidden_units == (32,)
    assert [p.key for p in space.params] == ["optimizer.learning_rate", "model.hidden_units"]
    assert [p.kind for p in space.params] == ["float", "choice"]
    again = tmp_path / "again.toml"
    again.write_text(space.to_toml())
    assert SearchSpace.from_toml(again) == space


def test_a_space_can_start_from_a_preset() -> None:
    """It starts the fixed config from a preset, overriding only the fields given."""
    space = SearchSpace.from_dict(
        {
            "fixed": {"preset": "fast", "epochs": 2, "model": {"dropout": 0.1}},
            "search": {"batch_size": {"choices": [64, 128]}},
        }
    )
    fast = fashionkit.presets.get_preset("fast")
    assert space.base.epochs == 2
    assert space.base.model.dropout == 0.1
    assert space.base.model.filters == fast.model.filters  # the rest of the preset stays
    assert space.base.optimizer == fast.optimizer


def test_every_sampled_config_is_valid() -> None:
    """It samples 30 valid TrainConfigs, each within the space's ranges and choices."""
    space = _space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        trial = study.ask()
        config = space.config_for(space.suggest(trial))
        assert isinstance(config, TrainConfig)
        assert 1e-4 <= config.optimizer.learning_rate <= 0.1
        assert config.model.hidden_units in ((16,), (32, 16))
        study.tell(trial, 0.0)


def test_integer_ranges_sample_integers() -> None:
    """It treats an integer range as int and samples only integers on its step."""
    parameter = Parameter(key="epochs", low=2, high=8, step=2)
    assert parameter.kind == "int"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    values = {parameter.suggest(study.ask()) for _ in range(20)}
    assert values <= {2, 4, 6, 8}
    assert all(isinstance(v, int) for v in values)


@pytest.mark.parametrize(
    ("search", "match"),
    [
        (
            {"optimizer.learning_rat": {"low": 0.1, "high": 1}},
            "did you mean 'optimizer.learning_rate'",
        ),
        ({"epochs": {"low": 5, "high": 2}}, "low must be below high"),
        (
            {"optimizer.learning_rate": {"low": 0, "high": 1, "log": True}},
            "log range needs low > 0",
        ),
        ({"batch_size": {"choices": []}}, "non-empty list"),
        ({"batch_size": {"choices": [8], "low": 1, "high": 2}}, "either choices"),
        ({"batch_size": {"low": 1}}, "give low and high"),
        ({"batch_size": {"lo": 1, "high": 2}}, "unknown key"),
        ({"batch_size": 64}, "must be a table"),
        ({"epochs": {"low": 0, "high": 3}}, r"invalid config at epochs=0: TrainConfig\.epochs"),
        (
            {"loss.label_smoothing": {"low": 0.0, "high": 0.2}},
            "invalid config at loss.label_smoothing=0.2.*one_hot",
        ),
        ({}, "at least one parameter"),
    ],
)
def test_bad_spaces_fail_with_the_configs_message(search: dict[str, Any], match: str) -> None:
    """It raises ConfigError saying what is wrong with each bad search space."""
    with pytest.raises(ConfigError, match=match):
        SearchSpace.from_dict({"fixed": {}, "search": search})


def test_a_single_parameter_instead_of_a_sequence_is_refused_with_a_hint() -> None:
    """It raises ArgumentError (not a raw TypeError) telling to wrap one parameter in a tuple."""
    one = Parameter(key="model.dropout", low=0.0, high=0.5)
    message = (
        r"^SearchSpace.params must be a list or tuple of at least one parameter .*; got "
        r"Parameter\(key='model.dropout'.*\(Parameter\)\. Wrap a single one in a tuple"
    )
    with pytest.raises(ArgumentError, match=message):
        SearchSpace(base=TrainConfig(model="mlp"), params=one)  # type: ignore[arg-type]
    space = SearchSpace(base=TrainConfig(model="mlp"), params=[one])
    assert space.params == (one,)
    with pytest.raises(ArgumentError, match=r"SearchSpace\.params must be"):
        SearchSpace(base=TrainConfig(model="mlp"), params=("model.dropout",))  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"SearchSpace\.base must be a TrainConfig"):
        SearchSpace(base={"epochs": 1}, params=(one,))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"low": "0", "high": 1.0}, "Parameter.low must be an integer or a finite number or None"),
        ({"low": 0.0, "high": float("inf")}, "Parameter.high must be"),
        ({"low": True, "high": 3}, "Parameter.low must be"),
        ({"low": 0.0, "high": 1.0, "log": "yes"}, "Parameter.log must be True or False"),
        ({"low": 0.0, "high": 1.0, "step": 0}, "Parameter.step must be a number > 0 or None"),
        ({"choices": "abc"}, "Parameter.choices must be a non-empty list of values"),
        ({"key": 3, "low": 0.0, "high": 1.0}, "Parameter.key must be a str; got 3"),
    ],
)
def test_each_field_of_a_parameter_is_checked_on_its_own(
    fields: dict[str, Any], match: str
) -> None:
    """It raises ArgumentError (a ConfigError) naming the field, what it takes and the value."""
    arguments = {"key": "model.dropout", **fields}
    with pytest.raises(ArgumentError, match=match):
        Parameter(**arguments)


def test_a_bad_field_in_a_toml_space_names_its_parameter() -> None:
    """It prefixes a field's refusal with the search parameter it belongs to."""
    match = r"^search parameter 'model.dropout': Parameter.log must be True or False; got 'yes'"
    with pytest.raises(ArgumentError, match=match):
        SearchSpace.from_dict(
            {"search": {"model.dropout": {"low": 0.0, "high": 0.5, "log": "yes"}}}
        )
    with pytest.raises(ArgumentError, match=r"^data must be a table \(a mapping\)"):
        SearchSpace.from_dict([("search", {})])  # type: ignore[arg-type]


def test_numpy_numbers_make_the_same_range_as_python_ones() -> None:
    """It turns NumPy ends into Python numbers, so that an integer range stays an integer one."""
    import numpy as np

    parameter = Parameter(key="epochs", low=np.int64(2), high=np.int64(6))
    assert parameter.kind == "int"
    assert parameter == Parameter(key="epochs", low=2, high=6)


def test_suggest_takes_an_optuna_trial() -> None:
    """It raises ArgumentError for something that is not a trial, before asking it anything."""
    with pytest.raises(ArgumentError, match=r"^trial must be an Optuna trial"):
        _space().suggest({"optimizer.learning_rate": 0.01})
    with pytest.raises(ArgumentError, match=r"^trial must be an Optuna trial"):
        _space().params[0].suggest(None)


def test_unknown_sections_and_files() -> None:
    """It refuses an unknown section and raises ConfigFileNotFoundError for a missing file."""
    with pytest.raises(ConfigError, match="unknown key"):
        SearchSpace.from_dict({"fixd": {}, "search": {"epochs": {"low": 1, "high": 2}}})
    with pytest.raises(ConfigFileNotFoundError):
        SearchSpace.from_toml("/nonexistent/space.toml")


# -- running sweeps -----------------------------------------------------------------------------


def test_bad_arguments(tmp_path: Path) -> None:
    """It refuses bad trials, workers, pruner, timeout_seconds and seed, naming the argument."""
    for kwargs, match in [
        ({"trials": 0}, "trials"),
        ({"trials": 2, "workers": 0}, "workers"),
        ({"trials": 2, "pruner": "random"}, "pruner"),
        ({"trials": 2, "timeout_seconds": -1}, "timeout_seconds"),
        ({"trials": 2, "seed": -1}, "seed"),
        ({"trials": 2, "workers": 1.5}, "workers must be an integer >= 1"),
        ({"trials": 2, "heartbeat_seconds": 0}, "heartbeat_seconds must be a number > 0"),
        ({"trials": 2, "pruner": "median "}, "pruner must be one of 'median', 'hyperband' or"),
        ({"trials": 2, "progress": "yes"}, "progress must be True or False"),
        ({"trials": 2, "dataset": "fashion"}, "dataset must be a FashionMNIST or None"),
    ]:
        with pytest.raises(ConfigError, match=match):
            sweep(_space(), tmp_path / "s", **kwargs)  # type: ignore[arg-type]


def test_a_two_worker_sweep_on_sqlite_completes(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It finishes four trials with two workers on SQLite and writes best.toml and trials.md."""
    folder = tmp_path / "sweep"
    result = sweep(_space(), folder, trials=4, workers=2, dataset=tiny_dataset, heartbeat_seconds=2)
    assert result.finished == 4
    states = [t.state for t in result.trials]
    assert states.count("complete") + states.count("pruned") == 4
    assert (folder / "study.db").is_file()
    run_dirs = [t.run_dir for t in result.trials]
    assert len(set(run_dirs)) == len(run_dirs)  # one run directory per trial
    for trial in result.trials:
        if trial.state == "complete":
            assert (folder / str(trial.run_dir) / "summary.json").is_file()
    assert result.best is not None
    assert result.best.value == max(t.value for t in result.trials if t.value is not None)
    best = TrainConfig.from_toml(folder / "best.toml")
    assert best == result.best_config
    assert best.optimizer.learning_rate == result.best.params["optimizer.learning_rate"]
    assert "| trial | state |" in (folder / "trials.md").read_text()


def test_a_second_run_continues_without_repeating(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It repeats no trial when run again, and runs only the extra trial when asked for more."""
    folder = tmp_path / "sweep"
    first = sweep(_space(), folder, trials=2, dataset=tiny_dataset, seed=0)
    again = sweep(_space(), folder, trials=2, dataset=tiny_dataset, seed=0)
    assert [t.number for t in again.trials] == [t.number for t in first.trials]  # nothing new
    more = sweep(_space(), folder, trials=3, dataset=tiny_dataset, seed=0)
    assert more.finished == 3
    assert len(more.trials) == 3


def test_a_folder_of_another_space_is_refused(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It refuses to continue a sweep folder with a different search space."""
    folder = tmp_path / "sweep"
    sweep(_space(), folder, trials=1, dataset=tiny_dataset)
    other = SearchSpace(base=TrainConfig(epochs=2), params=(Parameter(key="seed", low=1, high=9),))
    with pytest.raises(ConfigError, match="another search space"):
        sweep(other, folder, trials=1, dataset=tiny_dataset)


def test_pruning_stops_a_bad_trial_early(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It prunes the trial with a tiny learning rate before its last epoch; the rest complete."""
    space = SearchSpace(
        base=TrainConfig(epochs=4, batch_size=16, model="mlp"),
        params=(Parameter(key="optimizer.learning_rate", choices=(0.01, 1e-7)),),
    )
    study_folder = tmp_path / "sweep"
    study_folder.mkdir()
    # Three good trials first, so that the median pruner has something to compare with.
    study = optuna.create_study(
        study_name="fashionkit",
        storage=f"sqlite:///{study_folder.resolve() / 'study.db'}",
        direction="maximize",
    )
    for rate in (0.01, 0.01, 0.01, 1e-7):
        study.enqueue_trial({"optimizer.learning_rate": rate})
    result = sweep(space, study_folder, trials=4, dataset=tiny_dataset, pruner="median")
    bad = [t for t in result.trials if t.params["optimizer.learning_rate"] == 1e-7]
    assert [t.state for t in bad] == ["pruned"]
    assert bad[0].epochs is not None
    assert bad[0].epochs < 4
    assert not (study_folder / str(bad[0].run_dir) / "checkpoint").exists()
    good = [t for t in result.trials if t.state == "complete"]
    assert len(good) == 3
    assert all(t.epochs == 4 for t in good)
    # Its HParams session says so, with the epochs it trained.
    _, groups = read_hparams(study_folder / "tensorboard")
    sessions = {s.name: s for g in groups.session_groups for s in g.sessions}
    values = {v.name.tag: v.value for v in sessions[Path(str(bad[0].run_dir)).name].metric_values}
    assert values["pruned"] == 1
    assert values["epochs"] == bad[0].epochs
    assert 0 <= values["val_accuracy"] <= 1


class _TickingClock:
    """``time`` for the sweep's modules whose wall clock advances 0.2 s at every reading.

    The budget is read after every compiled call of batches (here one per epoch), so a 4 s
    budget runs out after about 20 epochs however fast the machine is.
    """

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        self.now += 0.2
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)  # perf_counter, sleep, monotonic_ns: the real ones


def test_the_time_budget_stops_a_trial_and_the_next_run_resumes_it(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It stops a trial at the time budget, and the next run resumes it in the same directory."""
    import fashionkit.callbacks._report_trial
    import fashionkit.sweep._sweep
    import fashionkit.sweep._worker

    space = SearchSpace(
        base=TrainConfig(epochs=80, batch_size=8, model="mlp"),
        params=(Parameter(key="optimizer.learning_rate", choices=(0.001,)),),
    )
    folder = tmp_path / "sweep"
    with monkeypatch.context() as patch:
        clock = _TickingClock()  # one clock, read by sweep(), the workers and the callback
        for module in (
            fashionkit.sweep._sweep,
            fashionkit.sweep._worker,
            fashionkit.callbacks._report_trial,
        ):
            patch.setattr(module, "time", clock)
        first = sweep(
            space, folder, trials=1, dataset=tiny_dataset, timeout_seconds=4, pruner="none"
        )
    assert first.finished == 0
    assert [t.state for t in first.trials] == ["fail", "waiting"]
    assert first.trials[0].note == "stopped by the sweep's time budget"
    run = folder / str(first.trials[0].run_dir)
    done_before = len((run / "metrics.jsonl").read_text().splitlines())
    assert 0 < done_before < 80
    second = sweep(space, folder, trials=1, dataset=tiny_dataset, pruner="none")
    assert second.finished == 1
    assert second.trials[1].run_dir == first.trials[0].run_dir  # the same run directory
    summary = json.loads((run / "summary.json").read_text())
    assert summary["resumed_from_epoch"] == done_before
    assert len(summary["history"]) == 80


_KILLED_WORKER = """
import sys
sys.path.insert(0, {tests!r})
from conftest import balanced_labels
import numpy as np, fashionkit
from pathlib import Path
from fashionkit.sweep import SearchSpace, Parameter, sweep
rng = np.random.default_rng(7)
def make(n):
    labels = balanced_labels(n)
    images = rng.integers(0, 40, size=(n, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i, 2 * label : 2 * label + 3, :] = 230
    return fashionkit.Split(images=images, labels=labels)
data = fashionkit.FashionMNIST(train=make(200), test=make(50), source=fashionkit.DataSource(
    directory=Path("."), origin="argument", verified=False))
space = SearchSpace(base=fashionkit.TrainConfig(epochs={epochs}, batch_size=8, model="mlp"),
                    params=(Parameter(key="optimizer.learning_rate", low=1e-3, high=1e-2),))
if __name__ == "__main__":
    sweep(space, {folder!r}, trials=3, dataset=data, heartbeat_seconds=1, pruner="none")
"""


def test_a_worker_killed_mid_trial_loses_only_that_trial(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It retries a killed worker's trial from its checkpoint, and all three trials complete."""
    folder = tmp_path / "sweep"
    script = tmp_path / "worker.py"
    epochs = 12
    script.write_text(
        _KILLED_WORKER.format(tests=str(Path(__file__).parent), epochs=epochs, folder=str(folder))
    )
    worker = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        # Wait until the first trial has finished and the second has checkpointed an epoch.
        deadline = time.monotonic() + 240
        second = folder / "trials" / "trial-0001" / "checkpoint" / "state.json"
        while time.monotonic() < deadline and not second.is_file():
            assert worker.poll() is None, "the worker ended before it was killed"
            time.sleep(0.2)
        assert second.is_file(), "the second trial never started"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    time.sleep(3.5)  # let its heartbeat go stale (grace period: 3 heartbeats of 1 s)
    space = SearchSpace(
        base=TrainConfig(epochs=epochs, batch_size=8, model="mlp"),
        params=(Parameter(key="optimizer.learning_rate", low=1e-3, high=1e-2),),
    )
    result = sweep(
        space, folder, trials=3, dataset=tiny_dataset, heartbeat_seconds=1, pruner="none"
    )
    assert result.finished == 3
    states = [t.state for t in result.trials]
    assert states.count("complete") == 3
    assert states.count("fail") == 1  # the killed trial, retried once
    killed = next(t for t in result.trials if t.state == "fail")
    retried = [t for t in result.trials if t.run_dir == killed.run_dir and t.state == "complete"]
    assert len(retried) == 1
    assert retried[0].params == killed.params  # the same trial, not a new one
    assert len({t.run_dir for t in result.trials if t.state == "complete"}) == 3
    summary = json.loads((folder / str(killed.run_dir) / "summary.json").read_text())
    assert summary["resumed_from_epoch"] >= 1  # resumed from its checkpoint, not restarted


def test_the_report_draws_the_sweep(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It writes the history, intermediate and importances plots of a sweep as PNG files."""
    pytest.importorskip("matplotlib")
    import fashionkit.plots
    from fashionkit.plots import write_sweep_report

    folder = tmp_path / "sweep"
    sweep(_space(), folder, trials=3, dataset=tiny_dataset, pruner="none", seed=1)
    drawn: dict[str, tuple[str, str, str]] = {}
    save = fashionkit.plots._save

    def keep_labels(fig: Any, path: Path) -> Path:
        ax = fig.axes[0]
        drawn[Path(path).name] = (ax.get_title(), ax.get_xlabel(), ax.get_ylabel())
        return save(fig, path)

    monkeypatch.setattr(fashionkit.plots, "_save", keep_labels)
    paths = write_sweep_report(folder)
    assert [p.name for p in paths] == ["history.png", "intermediate.png", "importances.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert open_study(folder).study_name == "fashionkit"
    # In fashionkit's words, not Optuna's defaults ("Objective Value", "Trial").
    assert drawn["history.png"][1:] == ("trial", "best validation accuracy")
    assert drawn["intermediate.png"][1:] == ("epoch", "validation accuracy")
    assert drawn["importances.png"][2] == "parameter"
    assert all(title and "Objective" not in title for title, _, _ in drawn.values())


def test_the_command_line_sweeps_and_reports(
    synthetic_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The sweep command runs the trials, prints progress and a table, and writes best.toml."""
    from fashionkit.cli import main

    data_dir = synthetic_dir
    space = tmp_path / "lr.toml"
    space.write_text(SPACE_TOML.replace("epochs = 3", "epochs = 1"))
    out = tmp_path / "out"
    argv = ["sweep", str(space), "--trials", "2", "--out", str(out), "--data-dir", str(data_dir)]
    assert main([*argv, "--no-verify", "--pruner", "none"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("finished, best") == 2  # one progress line per trial
    assert "| trial | state |" in printed
    assert (out / "best.toml").is_file()
    assert main(["train", "--config", str(out / "best.toml"), "--dry-run"]) == 0
    assert main(["sweep", str(tmp_path / "missing.toml"), "--trials", "1"]) == 1


@pytest.mark.skipif(
    not os.environ.get("FASHIONKIT_TEST_POSTGRES_URL"),
    reason="set FASHIONKIT_TEST_POSTGRES_URL to a PostgreSQL database URL to run",
)
def test_a_sweep_on_postgresql(tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path) -> None:
    """It runs three trials on PostgreSQL with two workers, writes no study.db, masks the URL."""
    url = os.environ["FASHIONKIT_TEST_POSTGRES_URL"]
    name = f"fashionkit-test-{os.getpid()}-{time.time_ns()}"
    result = sweep(
        _space(),
        tmp_path / "sweep",
        trials=3,
        workers=2,
        storage=url,
        study_name=name,
        dataset=tiny_dataset,
        heartbeat_seconds=2,
    )
    assert result.finished == 3
    assert not (tmp_path / "sweep" / "study.db").exists()
    assert "***" in result.storage or "@" not in url
    optuna.delete_study(study_name=name, storage=url)


def test_a_two_worker_sweep_on_a_journal_file_completes(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """Two worker processes share a study through one journal file, with no database."""
    shared = tmp_path / "shared"
    shared.mkdir()
    journal = shared / "lr.journal"
    folder = tmp_path / "sweep"
    result = sweep(
        _space(),
        folder,
        trials=2,
        workers=2,
        storage=f"journal:{journal}",
        dataset=tiny_dataset,
        heartbeat_seconds=2,
    )
    assert result.finished == 2
    assert result.storage == f"journal:{journal.resolve()}"
    assert journal.is_file()
    assert journal.stat().st_size > 0
    assert not (folder / "study.db").exists()
    # The journal alone holds the study: it loads back with every trial.
    study = open_study(folder, storage=f"journal:{journal}")
    assert sorted(t.number for t in study.trials) == [t.number for t in result.trials]
    run_dirs = [t.run_dir for t in result.trials if t.run_dir is not None]
    assert len(set(run_dirs)) == len(run_dirs)


def test_a_journal_fails_and_retries_a_trial_whose_heartbeat_stopped(tmp_path: Path) -> None:
    """A trial silent for over three heartbeats is failed and queued again; a live one is not."""
    from fashionkit.sweep._study import HEARTBEAT_ATTR, open_storage

    storage = open_storage(f"journal:{tmp_path / 'study.journal'}", 1.0)
    study = optuna.create_study(storage=storage, study_name="s")
    with warnings.catch_warnings():
        # Optuna notes that heartbeats are meant for Study.optimize; the sweep records them.
        warnings.simplefilter("ignore", UserWarning)
        dead, alive = study.ask(), study.ask()
    for trial in (dead, alive):
        trial.suggest_float("x", 0.0, 1.0)
        trial.set_user_attr("run", f"trial-{trial.number:04d}")
        storage.record_heartbeat(trial._trial_id)
    storage.set_trial_system_attr(dead._trial_id, HEARTBEAT_ATTR, time.time() - 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    trials = {t.number: t for t in study.get_trials()}
    assert trials[dead.number].state == optuna.trial.TrialState.FAIL
    assert trials[alive.number].state == optuna.trial.TrialState.RUNNING
    (retry,) = [t for t in trials.values() if t.state == optuna.trial.TrialState.WAITING]
    assert retry.params == trials[dead.number].params
    assert retry.user_attrs["run"] == f"trial-{dead.number:04d}"  # resumes the same folder


def test_a_journal_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    """It names the missing folder instead of failing inside Optuna."""
    from fashionkit.exceptions import StorageError

    with pytest.raises(StorageError, match="does not exist"):
        sweep(_space(), tmp_path / "s", trials=1, storage=f"journal:{tmp_path}/no/such.journal")


def test_ranges_follow_the_fields_type() -> None:
    """It makes a float field's integer range float and refuses a float range for an int field."""
    space = SearchSpace.from_dict(
        {
            "fixed": {},
            "search": {
                "optimizer.learning_rate": {"low": 1, "high": 2},  # written as integers
                "epochs": {"low": 1, "high": 3},
            },
        }
    )
    assert [p.kind for p in space.params] == ["float", "int"]
    assert space.params[0].low == 1.0
    assert isinstance(space.params[0].low, float)
    with pytest.raises(ConfigError, match="integer field"):
        SearchSpace.from_dict({"fixed": {}, "search": {"epochs": {"low": 1.5, "high": 3}}})


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://fk:s3cret@localhost:5433/db",
        "postgresql+psycopg2://localhost:5433/db?user=fk&password=s3cret",
    ],
)
def test_passwords_never_show(url: str) -> None:
    """It masks the password in a database URL, in the netloc or in the query."""
    from fashionkit.sweep._study import masked

    assert "s3cret" not in masked(url)
    assert "***" in masked(url)


def test_a_missing_database_driver_is_named(tmp_path: Path) -> None:
    """It raises StorageError saying the driver is missing, without showing the password."""
    from fashionkit.exceptions import StorageError

    pytest.importorskip("sqlalchemy")
    if __import__("importlib").util.find_spec("psycopg") is not None:
        pytest.skip("psycopg 3 is installed")
    with pytest.raises(StorageError, match="driver is missing") as caught:
        sweep(
            _space(),
            tmp_path / "s",
            trials=1,
            storage="postgresql+psycopg://fk:s3cret@localhost:1/db",
        )
    assert "s3cret" not in str(caught.value)


def test_a_trial_folder_of_another_config_is_never_read_back(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """Starting over (study.db deleted) samples new configs; old folders are not their results."""
    folder = tmp_path / "sweep"
    first = sweep(_space(), folder, trials=1, dataset=tiny_dataset, seed=0, pruner="none")
    (folder / "study.db").unlink()
    again = sweep(_space(), folder, trials=1, dataset=tiny_dataset, seed=1, pruner="none")
    assert first.trials[0].params != again.trials[0].params
    assert again.trials[0].run_dir == "trials/trial-0000-2"  # a folder of its own
    config = TrainConfig.from_toml(folder / "trials" / "trial-0000-2" / "config.toml")
    lr = again.trials[0].params["optimizer.learning_rate"]
    assert config.optimizer.learning_rate == lr


def test_a_folder_of_another_study_is_refused(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It refuses to continue a sweep folder under a different study name."""
    folder = tmp_path / "sweep"
    sweep(_space(), folder, trials=1, dataset=tiny_dataset, pruner="none")
    with pytest.raises(ConfigError, match="study 'fashionkit'"):
        sweep(_space(), folder, trials=1, dataset=tiny_dataset, study_name="other")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timeout_seconds": float("nan")}, "timeout_seconds"),
        ({"storage": "nonsense"}, "database URL"),
        ({"storage": "journal:"}, "journal:PATH"),
        ({"study_name": " "}, "study_name"),
        ({"storage": 5}, r"storage must be a database URL .* or None; got 5\.$"),
        ({"folder": 3}, "folder must be a path"),
    ],
)
def test_bad_sweep_arguments_leave_no_folder(
    kwargs: dict[str, Any], match: str, tmp_path: Path
) -> None:
    """It refuses a NaN timeout, a bad storage URL or a blank study name and creates no folder."""
    arguments = {"folder": tmp_path / "s", "trials": 1, **kwargs}
    with pytest.raises(ConfigError, match=match):
        sweep(_space(), **arguments)
    assert not (tmp_path / "s").exists()


def test_a_step_must_divide_the_range() -> None:
    """It raises ConfigError when the step does not divide the range."""
    with pytest.raises(ConfigError, match="does not divide"):
        Parameter(key="batch_size", low=32, high=64, step=100)


def test_integer_choices_of_a_float_field_become_floats() -> None:
    """It turns integer choices of a float field into floats."""
    space = SearchSpace.from_dict(
        {"fixed": {}, "search": {"optimizer.learning_rate": {"choices": [1, 2]}}}
    )
    assert space.params[0].choices == (1.0, 2.0)
    assert all(isinstance(c, float) for c in space.params[0].choices or ())


def test_the_progress_line_estimates_the_time_left_from_this_run_s_pace() -> None:
    """N of M, the best, and the time left: this run's seconds per finished trial times the rest."""
    from fashionkit.sweep._worker import progress_line

    line = progress_line(
        "trial 7 complete", done=8, total=10, best="best 0.9 (trial 2)",
        seconds=300.0, finished_here=3,
    )  # fmt: skip
    # Five trials were finished by an earlier run: the pace is 100 s a trial, two are left.
    assert line == "trial 7 complete; 8 of 10 finished, best 0.9 (trial 2), about 3 min 20 s left"
    assert progress_line(
        "x", done=5, total=5, best="b", seconds=10.0, finished_here=5
    ).endswith("5 of 5 finished, b, done")  # fmt: skip
    # Before a trial finishes here there is no pace: no estimate rather than a wrong one.
    assert "left" not in progress_line("x", done=2, total=5, best="b", seconds=9.0, finished_here=0)
    hours = progress_line("x", done=1, total=3, best="b", seconds=4000.0, finished_here=1)
    assert hours.endswith("about 2 h 13 min left")


def test_the_progress_bar_is_drawn_only_for_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A terminal gets a bar before the line; a pipe or a file gets the plain line."""
    from fashionkit.sweep import _worker

    bar = _worker.progress_line(
        "x", done=3, total=4, best="b", seconds=None, finished_here=0, bar=True
    )
    assert bar.startswith("[###############.....]  75% x; 3 of 4 finished")
    assert not _worker._is_terminal()  # pytest captures stdout: not a terminal
    monkeypatch.setattr(_worker, "_is_terminal", lambda: True)

    class Study:
        best_value = 0.5

        class best_trial:  # noqa: N801 (Optuna's attribute name)
            number = 1

        def get_trials(self, deepcopy: bool = False) -> list[Any]:
            return []

    job = _worker.Job(
        space=_space(), folder=Path("."), url="", study_name="s", trials=4, pruner="none",
        deadline=None, heartbeat=1.0, progress=True, dataset=None,
    )  # fmt: skip
    _worker._progress(job, Study(), 0, "complete")
    assert capsys.readouterr().out.startswith("[....................]   0% trial 0 complete")
