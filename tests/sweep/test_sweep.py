"""sweep(): parallel workers, resuming, pruning, time budgets, HParams sessions."""

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
from tensorboard.plugins.hparams import api_pb2

import fashionkit
from fashionkit.config import TrainConfig
from fashionkit.exceptions import ConfigError
from fashionkit.sweep import Parameter, SearchSpace, open_study, sweep
from tests.helpers import read_hparams, sweep_space

optuna = pytest.importorskip("optuna")


def test_every_sweep_trial_is_a_session_of_the_sweep_s_experiment(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """FOLDER/tensorboard holds the searched domains and one session per trial, with its score."""
    space = SearchSpace(
        base=fashionkit.TrainConfig(epochs=2, batch_size=16, model="mlp"),
        params=(
            Parameter(key="optimizer.learning_rate", low=1e-3, high=0.1, log=True),
            Parameter(key="model.hidden_units", choices=((16,), (32, 16))),
        ),
    )
    folder = tmp_path / "sweep"
    result = sweep(space, folder, trials=3, dataset=tiny_dataset, pruner="none", seed=0)
    experiment, groups = read_hparams(folder / "tensorboard")
    infos = {info.name: info for info in experiment.hparam_infos}
    assert set(infos) == {"optimizer.learning_rate", "model.hidden_units"}  # TensorBoard sorts
    rate = infos["optimizer.learning_rate"].domain_interval
    assert (rate.min_value, rate.max_value) == (1e-3, 0.1)
    choices = [v.string_value for v in infos["model.hidden_units"].domain_discrete.values]
    assert choices == ["[16]", "[32, 16]"]
    assert {m.name.tag for m in experiment.metric_infos} == {
        "val_accuracy",
        "epochs",
        "seconds",
        "pruned",
    }
    sessions = {s.name: s for g in groups.session_groups for s in g.sessions}
    assert len(sessions) == 3
    for trial in result.trials:
        session = sessions[Path(str(trial.run_dir)).name]
        values = {v.name.tag: v.value for v in session.metric_values}
        assert trial.value is not None
        assert values["val_accuracy"] == pytest.approx(trial.value, abs=1e-6)
        assert values["epochs"] == 2
        assert values["pruned"] == 0
        assert session.status == api_pb2.STATUS_SUCCESS
    by_session = {s.name: g for g in groups.session_groups for s in g.sessions}
    for trial in result.trials:
        group = by_session[Path(str(trial.run_dir)).name]
        assert group.hparams["optimizer.learning_rate"].number_value == pytest.approx(
            trial.params["optimizer.learning_rate"]
        )
        assert group.hparams["model.hidden_units"].string_value == json.dumps(
            list(trial.params["model.hidden_units"])
        )


def test_a_pruned_sweep_of_a_config_that_validates_late_warns_and_still_scores(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """validate_last_epochs hides the early epochs from the pruner: said, and trials still score."""
    space = SearchSpace(
        base=fashionkit.TrainConfig(
            epochs=2, batch_size=16, model="mlp", validate_last_epochs=1, verbose=0
        ),
        params=(Parameter(key="optimizer.learning_rate", low=1e-3, high=0.1, log=True),),
    )
    # Recorded, not pytest.warns: that re-emits TensorFlow's own warnings as errors here.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sweep(space, tmp_path / "late", trials=1, dataset=tiny_dataset, seed=0)
    ours = [w for w in caught if issubclass(w.category, fashionkit.FashionkitWarning)]
    assert len(ours) == 1
    assert "validate only from epoch 2 of 2" in str(ours[0].message)
    assert 'validate_last_epochs = "none"' in str(ours[0].message)
    assert ours[0].filename == __file__  # it points at the caller of sweep()
    (trial,) = result.trials
    assert trial.value is not None
    run = fashionkit.load_run(tmp_path / "late" / str(trial.run_dir))
    assert trial.value == pytest.approx(run.history[-1].val_accuracy)


@pytest.mark.parametrize(
    ("fixed", "epochs", "warned"),
    [
        # The base validates from its first epoch; the 6-epoch trials only from epoch 5.
        ({"epochs": 2, "validate_last_epochs": 2}, Parameter(key="epochs", choices=(2, 6)), 5),
        # The base validates late, but the space searches validate_last_epochs down to 1.
        (
            {"epochs": 4, "validate_last_epochs": 4},
            Parameter(key="validate_last_epochs", low=1, high=4),
            4,
        ),
        # Every trial validates every epoch: nothing to say.
        ({"epochs": 3, "validate_last_epochs": "none"}, Parameter(key="epochs", low=2, high=5), 0),
        # The base validates late, but no trial keeps its epochs: the 3-epoch trials from 3.
        ({"epochs": 10, "validate_last_epochs": 1}, Parameter(key="epochs", choices=(2, 3)), 3),
        # Every trial overrides the base's late validation with one from the first epoch.
        (
            {"epochs": 2, "validate_last_epochs": 1},
            Parameter(key="validate_last_epochs", choices=("none", 2)),
            0,
        ),
    ],
)
def test_the_late_validation_warning_reads_the_searched_epochs(
    fixed: dict[str, Any], epochs: Parameter, warned: int
) -> None:
    """The warning is about the trial that validates latest, not just the base config."""
    from fashionkit.sweep._sweep import _latest_validation_start

    space = SearchSpace(base=fashionkit.TrainConfig(model="mlp", **fixed), params=(epochs,))
    assert _latest_validation_start(space).first_validated_epoch == max(warned, 1)


def test_a_sweep_s_number_choices_stay_numbers_and_its_experiment_is_written_once(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """Integer choices are a number column whose values filter the trials' rows."""
    space = SearchSpace(
        base=fashionkit.TrainConfig(epochs=1, model="mlp"),
        params=(Parameter(key="batch_size", choices=(16, 32)),),
    )
    folder = tmp_path / "sweep"
    result = sweep(space, folder, trials=2, dataset=tiny_dataset, pruner="none", seed=3)
    experiment, groups = read_hparams(folder / "tensorboard")
    (info,) = experiment.hparam_infos
    assert info.type == api_pb2.DATA_TYPE_FLOAT64
    assert [v.number_value for v in info.domain_discrete.values] == [16, 32]
    chosen = sorted(t.params["batch_size"] for t in result.trials)
    rows = sorted(g.hparams["batch_size"].number_value for g in groups.session_groups)
    assert rows == chosen  # one row per trial, even for trials of the same values
    # Another run of the sweep keeps its one experiment file.
    sweep(space, folder, trials=3, dataset=tiny_dataset, pruner="none", seed=4)
    assert len(list((folder / "tensorboard").glob("events.out.tfevents.*"))) == 1


def test_none_is_no_choice() -> None:
    """TOML has no null: a None choice is refused when the space is made."""
    from fashionkit.exceptions import ConfigError

    with pytest.raises(ConfigError, match=r'None cannot be a choice .* write the choice "none"'):
        Parameter(key="optimizer.ema_momentum", choices=(None, 0.9))
    # The word is a choice like any other, and unsets the key in the trial's config.
    space = SearchSpace(
        base=TrainConfig(model="mlp", optimizer={"ema_momentum": 0.99}),
        params=(Parameter(key="optimizer.ema_momentum", choices=("none", 0.9)),),
    )
    assert space.config_for({"optimizer.ema_momentum": "none"}).optimizer.ema_momentum is None
    assert SearchSpace.from_dict(space.to_dict()) == space


def test_a_sweep_without_tensorboard_is_refused_naming_the_sweep_extra(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It raises ConfigError with the sweep extra's pip command before any trial trains."""
    import sys

    from fashionkit.exceptions import ConfigError

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # how Python marks it unimportable
    space = SearchSpace(
        base=fashionkit.TrainConfig(epochs=1, model="mlp"),
        params=(Parameter(key="batch_size", choices=(16, 32)),),
    )
    folder = tmp_path / "sweep"
    with pytest.raises(ConfigError, match=r"needs the tensorboard package: .*fashionkit\[sweep\]"):
        sweep(space, folder, trials=1, dataset=tiny_dataset, pruner="none", seed=0)
    assert not list((folder / "trials").glob("*"))


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
            sweep(sweep_space(), tmp_path / "s", **kwargs)  # type: ignore[arg-type]


@pytest.mark.xdist_group("processes")
def test_a_two_worker_sweep_on_sqlite_completes(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It finishes four trials with two workers on SQLite and writes best.toml and trials.md."""
    folder = tmp_path / "sweep"
    result = sweep(
        sweep_space(), folder, trials=4, workers=2, dataset=tiny_dataset, heartbeat_seconds=2
    )
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
    first = sweep(sweep_space(), folder, trials=2, dataset=tiny_dataset, seed=0)
    again = sweep(sweep_space(), folder, trials=2, dataset=tiny_dataset, seed=0)
    assert [t.number for t in again.trials] == [t.number for t in first.trials]  # nothing new
    more = sweep(sweep_space(), folder, trials=3, dataset=tiny_dataset, seed=0)
    assert more.finished == 3
    assert len(more.trials) == 3


def test_a_folder_of_another_space_is_refused(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It refuses to continue a sweep folder with a different search space."""
    folder = tmp_path / "sweep"
    sweep(sweep_space(), folder, trials=1, dataset=tiny_dataset)
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
        base=TrainConfig(epochs=40, batch_size=8, model="mlp"),
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
    assert 0 < done_before < 40
    second = sweep(space, folder, trials=1, dataset=tiny_dataset, pruner="none")
    assert second.finished == 1
    assert second.trials[1].run_dir == first.trials[0].run_dir  # the same run directory
    summary = json.loads((run / "summary.json").read_text())
    assert summary["resumed_from_epoch"] == done_before
    assert len(summary["history"]) == 40


# The checkout's root, which a worker script puts on sys.path to import the tests' helpers.
ROOT = Path(__file__).resolve().parents[2]
_KILLED_WORKER = """
import sys
sys.path.insert(0, {root!r})
from tests.helpers import balanced_labels
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


@pytest.mark.xdist_group("processes")
def test_a_worker_killed_mid_trial_loses_only_that_trial(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It retries a killed worker's trial from its checkpoint, and all three trials complete."""
    folder = tmp_path / "sweep"
    script = tmp_path / "worker.py"
    epochs = 12
    script.write_text(_KILLED_WORKER.format(root=str(ROOT), epochs=epochs, folder=str(folder)))
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


@pytest.mark.skipif(
    not os.environ.get("FASHIONKIT_TEST_POSTGRES_URL"),
    reason="set FASHIONKIT_TEST_POSTGRES_URL to a PostgreSQL database URL to run",
)
def test_a_sweep_on_postgresql(tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path) -> None:
    """It runs three trials on PostgreSQL with two workers, writes no study.db, masks the URL."""
    url = os.environ["FASHIONKIT_TEST_POSTGRES_URL"]
    name = f"fashionkit-test-{os.getpid()}-{time.time_ns()}"
    result = sweep(
        sweep_space(),
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


@pytest.mark.xdist_group("processes")
def test_a_two_worker_sweep_on_a_journal_file_completes(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """Two worker processes share a study through one journal file, with no database."""
    shared = tmp_path / "shared"
    shared.mkdir()
    journal = shared / "lr.journal"
    folder = tmp_path / "sweep"
    result = sweep(
        sweep_space(),
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


def test_a_trial_folder_of_another_config_is_never_read_back(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """Starting over (study.db deleted) samples new configs; old folders are not their results."""
    folder = tmp_path / "sweep"
    first = sweep(sweep_space(), folder, trials=1, dataset=tiny_dataset, seed=0, pruner="none")
    (folder / "study.db").unlink()
    again = sweep(sweep_space(), folder, trials=1, dataset=tiny_dataset, seed=1, pruner="none")
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
    sweep(sweep_space(), folder, trials=1, dataset=tiny_dataset, pruner="none")
    with pytest.raises(ConfigError, match="study 'fashionkit'"):
        sweep(sweep_space(), folder, trials=1, dataset=tiny_dataset, study_name="other")


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
        sweep(sweep_space(), **arguments)
    assert not (tmp_path / "s").exists()
