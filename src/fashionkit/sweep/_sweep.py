"""``fashionkit.sweep.sweep``: check the arguments, open the study, run the workers, collect."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import attrs

from fashionkit._extras import require
from fashionkit._io import os_errors_as
from fashionkit._typing import PathLike
from fashionkit._validation import check_scalar
from fashionkit.datasets import FashionMNIST
from fashionkit.exceptions import ConfigError, StorageError
from fashionkit.sweep._folder import STUDY_DB, TENSORBOARD, TRIALS, check_folder
from fashionkit.sweep._records import SweepResult, TrialRecord, write_results
from fashionkit.sweep._space import SearchSpace
from fashionkit.sweep._study import (
    JOURNAL,
    PRUNERS,
    PrunerName,
    count_states,
    import_optuna,
    journal_path,
    masked,
    start_study,
)
from fashionkit.sweep._worker import HPARAMS_METRICS, Job, hparam_domains, run_workers, work


def sweep(
    space: SearchSpace,
    folder: PathLike,
    *,
    trials: int,
    workers: int = 1,
    storage: str | None = None,
    study_name: str = "fashionkit",
    pruner: PrunerName = "median",
    timeout_seconds: float | None = None,
    dataset: FashionMNIST | None = None,
    heartbeat_seconds: float = 10.0,
    seed: int | None = None,
    progress: bool = False,
) -> SweepResult:
    """Search ``space`` with Optuna until ``trials`` trials have finished; resumable.

    Each trial samples the parameters (Optuna's default TPE sampler), trains the config into
    ``FOLDER/trials/trial-NNNN`` with its per-epoch validation accuracy reported to the pruner,
    and is scored by its best validation accuracy. Completed and pruned trials count as
    finished; failed ones (a worker that died, an invalid corner of the space) do not.

    Args:
        space: What to search.
        folder: The sweep folder; created if missing. It keeps ``space.toml`` (a folder of
            another space is refused), the trials' run directories, ``study.db`` (the default
            storage), ``trials.md`` and ``best.toml``.
        trials: How many trials should have finished when the sweep ends, counting those of
            earlier runs of the same sweep.
        workers: Worker processes on this machine, sharing the study. Defaults to 1 (this
            process).
        storage: Where the study lives, to share it with workers on other machines: a
            database URL Optuna supports (``postgresql://user:pass@host/db``), or
            ``journal:PATH``, Optuna's journal file, for a study shared through a file on a
            filesystem every worker mounts (NFS, say), with no server; relative paths are
            relative to the working directory. Defaults to SQLite in the folder, which is for
            one machine only (SQLite's locks are unsafe on network filesystems).
        study_name: The study's name in the storage. Defaults to ``"fashionkit"``.
        pruner: ``"median"`` (default), ``"hyperband"`` or ``"none"``.
        timeout_seconds: Wall-clock budget of this call: no trial starts after it, and running
            trials stop at their next batch, are marked failed and queued again, so that the
            next run resumes them from their last checkpoint. ``None`` for no budget. This is
            not :class:`~fashionkit.callbacks.TimeBudget`, which ends ``fit`` early and keeps
            the run as complete: a trial cut short that way would be scored on fewer epochs
            than the others and never trained further.
        dataset: The data; loaded by each worker when omitted.
        heartbeat_seconds: How often workers record that their trial is alive; a trial silent
            for three times as long is failed and retried. Defaults to 10.
        seed: Seed of the TPE sampler (worker ``i`` uses ``seed + i``), for a repeatable
            single-worker sweep; ``None`` (default) seeds from the system. Each trial's
            training is seeded by its config, as always.
        progress: Print a line per finished trial (the command line sets it).

    Returns:
        The trials, the best one and its config.

    Raises:
        ConfigError: Bad arguments, a folder of another space, or trials that keep failing.
        FashionkitError: Optuna is not installed, or a worker process failed.

    Example:
        >>> space = SearchSpace.from_toml("space.toml")  # doctest: +SKIP
        >>> result = sweep(space, "sweeps/lr", trials=20, workers=2)  # doctest: +SKIP
        >>> result.best_config.optimizer.learning_rate  # doctest: +SKIP
        0.0021
    """
    _check_arguments(
        space,
        trials=trials,
        workers=workers,
        storage=storage,
        study_name=study_name,
        pruner=pruner,
        timeout_seconds=timeout_seconds,
        heartbeat_seconds=heartbeat_seconds,
        seed=seed,
    )
    optuna = import_optuna()
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise StorageError(f"Cannot sweep into {target}: it is a file, not a folder.")
    check_folder(target, space, write=False, study_name=study_name)  # before any write
    journal = None if storage is None else journal_path(storage)
    if journal is not None:  # absolute, for worker processes and the results
        url = f"{JOURNAL}{journal.resolve()}"
    else:
        url = storage if storage is not None else f"sqlite:///{(target / STUDY_DB).resolve()}"
    job = Job(
        space=space,
        folder=target,
        url=url,
        study_name=study_name,
        trials=trials,
        pruner=pruner,
        # An instant, not a span: every worker stops asking for trials at the same moment.
        deadline=time.time() + timeout_seconds if timeout_seconds is not None else None,
        heartbeat=float(heartbeat_seconds),
        progress=progress,
        dataset=dataset,
        seed=seed,
    )
    study = _open_folder(optuna, job, on_server=storage is not None)
    counts = count_states(study)
    job = attrs.evolve(
        job, started=time.time(), finished_at_start=counts["complete"] + counts["pruned"]
    )
    if workers == 1:
        work(job)
    else:
        run_workers(job, workers)
    result = _collect(job, study)
    write_results(result)
    return result


def _check_arguments(
    space: SearchSpace,
    *,
    trials: int,
    workers: int,
    storage: str | None,
    study_name: str,
    pruner: str,
    timeout_seconds: float | None,
    heartbeat_seconds: float,
    seed: int | None,
) -> None:
    """Refuse a bad argument of :func:`sweep` with a :class:`ConfigError` naming it.

    Plain numbers go through :func:`~fashionkit._validation.check_scalar` (an
    :class:`~fashionkit.exceptions.ArgumentError`, which is a ``ConfigError``).
    """
    if not isinstance(space, SearchSpace):
        raise ConfigError(f"sweep() takes a SearchSpace; got {type(space).__name__}.")
    check_scalar(trials, "trials", ge=1)
    check_scalar(workers, "workers", ge=1)
    if pruner not in PRUNERS:
        raise ConfigError(f"pruner must be one of {', '.join(PRUNERS)}; got {pruner!r}.")
    if timeout_seconds is not None:
        check_scalar(timeout_seconds, "timeout_seconds", kind="number", gt=0, hint="Or None.")
    check_scalar(heartbeat_seconds, "heartbeat_seconds", kind="number", gt=0)
    if seed is not None:
        check_scalar(seed, "seed", ge=0, hint="Or None.")
    if storage is not None and (
        not isinstance(storage, str)
        or ("://" not in storage and journal_path(storage) is None)
        or storage.strip() == JOURNAL
    ):
        raise ConfigError(
            f"storage must be a database URL such as postgresql+psycopg2://user@host/db or "
            f"sqlite:///path/study.db, or journal:PATH for a journal file on a shared "
            f"filesystem; got {storage!r}."
        )
    if not isinstance(study_name, str) or not study_name.strip():
        raise ConfigError(f"study_name must be a non-empty string; got {study_name!r}.")
    if space.base.device.strategy == "multi_worker":
        raise ConfigError("sweeps train each trial on one machine; multi_worker is not supported.")


def _open_folder(optuna: Any, job: Job, *, on_server: bool) -> Any:
    """Open the study and make the folder (study first on a server: it is checked untouched)."""
    if on_server:  # a server: check it before the folder is touched
        study = _start(optuna, job)
    with os_errors_as(StorageError, job.folder):
        job.folder.mkdir(parents=True, exist_ok=True)
    if not on_server:
        study = _start(optuna, job)
    check_folder(job.folder, job.space, write=True, study_name=job.study_name)
    with os_errors_as(StorageError, job.folder / TRIALS):
        (job.folder / TRIALS).mkdir(exist_ok=True)
    _write_experiment(job)
    return study


def _write_experiment(job: Job) -> None:
    """The sweep's HParams experiment: the searched parameters' domains and the metrics.

    Written once, when the folder has none (the space of a folder never changes). Writing
    HParams records needs the ``tensorboard`` package, which the ``sweep`` extra installs.

    Raises:
        ConfigError: The ``tensorboard`` package is not installed.
    """
    from fashionkit.callbacks._tensorboard import write_hparams_experiment

    require(
        "tensorboard",
        extra="sweep",
        purpose="A sweep writes TensorBoard's HParams records of its trials",
    )
    board = job.folder / TENSORBOARD
    if board.is_dir() and any(board.glob("events.out.tfevents.*")):
        return
    write_hparams_experiment(
        board,
        hparam_domains(job.space),
        [("", name) for name in HPARAMS_METRICS],
        description=f"fashionkit sweep {job.study_name}: each trial's best val_accuracy.",
    )


def _start(optuna: Any, job: Job) -> Any:
    return start_study(
        optuna, space=job.space, url=job.url, study_name=job.study_name, heartbeat=job.heartbeat
    )


def _collect(job: Job, study: Any) -> SweepResult:
    by_key = {p.key: p for p in job.space.params}
    records = []
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        params = {k: by_key[k].value_of(v) if k in by_key else v for k, v in t.params.items()}
        records.append(
            TrialRecord(
                number=t.number,
                state=t.state.name.lower(),
                params=params,
                value=t.value if t.state.name == "COMPLETE" else None,
                epochs=t.user_attrs.get("epochs"),
                seconds=t.user_attrs.get("seconds"),
                run_dir=f"{TRIALS}/{t.user_attrs['run']}" if t.user_attrs.get("run") else None,
                note=t.user_attrs.get("note"),
            )
        )
    complete = [r for r in records if r.state == "complete" and r.value is not None]
    best = max(complete, key=lambda r: (r.value, -r.number)) if complete else None
    best_config = None
    if best is not None:
        best_config = attrs.evolve(
            job.space.config_for(best.params), verbose=job.space.base.verbose
        )
    return SweepResult(
        folder=job.folder,
        study_name=job.study_name,
        storage=masked(job.url),
        trials=tuple(records),
        best=best,
        best_config=best_config,
    )
