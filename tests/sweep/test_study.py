"""Optuna studies: storages, heartbeats, masked passwords."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import fashionkit
from fashionkit.sweep import open_study, sweep
from tests.helpers import sweep_space

optuna = pytest.importorskip("optuna")


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


def test_a_journal_torn_by_a_killed_worker_resumes_keeping_its_trials(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A torn last record is cut with a warning; the finished trials are kept, the sweep goes on."""
    journal = tmp_path / "lr.journal"
    folder = tmp_path / "sweep"
    kwargs: dict[str, Any] = {
        "storage": f"journal:{journal}",
        "dataset": tiny_dataset,
        "pruner": "none",
        "seed": 0,
    }
    first = sweep(sweep_space(), folder, trials=2, **kwargs)
    assert first.finished == 2
    whole = journal.read_bytes()
    with journal.open("ab") as out:
        out.write(b'{"op_code": 5, "worker_id": "dead", "trial_id": 9, "par')
    with caplog.at_level(logging.WARNING, logger="fashionkit"):
        again = sweep(sweep_space(), folder, trials=3, **kwargs)
    assert again.finished == 3
    kept = {t.number: t.value for t in first.trials}
    assert {t.number: t.value for t in again.trials if t.number in kept} == kept
    assert any(
        "torn record" in r.getMessage() and "byte(s)" in r.getMessage() for r in caplog.records
    )
    assert journal.read_bytes().startswith(whole)
    assert b"dead" not in journal.read_bytes()
    assert len(open_study(folder, storage=f"journal:{journal}").trials) == 3


def test_a_journal_damaged_before_its_end_is_refused_and_left_alone(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """A bad record that is not the last is a StorageError naming the line; the file is kept."""
    from fashionkit.exceptions import StorageError

    journal = tmp_path / "lr.journal"
    kwargs: dict[str, Any] = {"storage": f"journal:{journal}", "dataset": tiny_dataset}
    sweep(sweep_space(), tmp_path / "sweep", trials=1, pruner="none", **kwargs)
    lines = journal.read_bytes().splitlines(keepends=True)
    damaged = b"".join([lines[0], b"not json\n", *lines[1:]])
    journal.write_bytes(damaged)
    with pytest.raises(StorageError, match=r"line 2"):
        sweep(sweep_space(), tmp_path / "sweep", trials=2, pruner="none", **kwargs)
    assert journal.read_bytes() == damaged


def test_a_journal_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    """It names the missing folder instead of failing inside Optuna."""
    from fashionkit.exceptions import StorageError

    with pytest.raises(StorageError, match="does not exist"):
        sweep(
            sweep_space(), tmp_path / "s", trials=1, storage=f"journal:{tmp_path}/no/such.journal"
        )


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
            sweep_space(),
            tmp_path / "s",
            trials=1,
            storage="postgresql+psycopg://fk:s3cret@localhost:1/db",
        )
    assert "s3cret" not in str(caught.value)
