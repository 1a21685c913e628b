"""``fashionkit.sweep.sweep``: open the study, run the workers, collect the trials."""

from __future__ import annotations

import contextlib
import itertools
import time
import warnings
from pathlib import Path
from typing import Any

import attrs

from fashionkit._extras import require
from fashionkit._io import os_errors_as
from fashionkit._typing import PathLike
from fashionkit._validation import Interval, NoneOr, params
from fashionkit.config import TrainConfig
from fashionkit.datasets import FashionMNIST
from fashionkit.exceptions import ConfigError, FashionkitWarning, StorageError
from fashionkit.sweep._folder import STUDY_DB, TENSORBOARD, TRIALS, check_folder
from fashionkit.sweep._records import SweepResult, TrialRecord, write_results
from fashionkit.sweep._space import SearchSpace
from fashionkit.sweep._study import (
    JOURNAL,
    PrunerName,
    StorageURL,
    StudyName,
    count_states,
    import_optuna,
    journal_path,
    masked,
    start_study,
)
from fashionkit.sweep._worker import HPARAMS_METRICS, Job, hparam_domains, run_workers, work


@params(
    trials=Interval("int", ge=1),
    workers=Interval("int", ge=1),
    storage=NoneOr(StorageURL()),
    study_name=StudyName(),
    timeout_seconds=NoneOr(Interval("number", gt=0)),
    heartbeat_seconds=Interval("number", gt=0),
    seed=NoneOr(Interval("int", ge=0)),
)
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

    Each trial samples the parameters (Optuna's TPE), trains into ``FOLDER/trials/trial-NNNN``
    reporting each epoch's validation accuracy to the pruner, and is scored by its best one.
    Completed and pruned trials count as finished, failed ones do not. Storage and time
    budget: :mod:`fashionkit.sweep`.

    Args:
        space: What to search.
        folder: The sweep folder (created if missing; another space's is refused).
        trials: How many trials should have finished when the sweep ends, earlier runs' too.
        workers: Worker processes on this machine. Defaults to 1 (this process).
        storage: A database URL (``postgresql://user:pass@host/db``) or ``journal:PATH``,
            shared with other machines. Defaults to SQLite in the folder (one machine only).
        study_name: The study's name in the storage. Defaults to ``"fashionkit"``.
        pruner: ``"median"`` (default), ``"hyperband"`` or ``"none"``.
        timeout_seconds: Wall-clock budget of this call (no trial starts after it; running
            trials stop and are queued again); ``None`` for no budget.
        dataset: The data; loaded by each worker when omitted.
        heartbeat_seconds: How often a worker records that its trial is alive (a trial silent
            three times as long is retried). Defaults to 10.
        seed: Seed of the TPE sampler (worker ``i`` uses ``seed + i``), for a repeatable
            single-worker sweep; ``None`` (default): from the system.
        progress: Print a line per finished trial (the command line sets it).

    Returns:
        The trials, the best one and its config.

    Raises:
        ArgumentError: A bad argument (an ArgumentError is a ConfigError).
        ConfigError: A folder of another space, trials that keep failing, or ``tensorboard``
            missing (checked before anything is written).
        FashionkitError: Optuna is not installed, or a worker process failed.

    Example:
        >>> space = SearchSpace.from_toml("space.toml")  # doctest: +SKIP
        >>> result = sweep(space, "sweeps/lr", trials=20, workers=2)  # doctest: +SKIP
        >>> result.best_config.optimizer.learning_rate  # doctest: +SKIP
        0.0021
    """
    optuna = _sweep_extra()
    target = _checked_folder(Path(folder), space, study_name)
    latest = _latest_validation_start(space)
    if pruner != "none" and latest.first_validated_epoch > 1:
        warnings.warn(
            f"Some of the sweep's trials validate only from epoch "
            f"{latest.first_validated_epoch} of {latest.epochs} (validate_last_epochs="
            f"{latest.validate_last_epochs}), so the {pruner} pruner sees no score of theirs "
            f'before then and prunes nothing earlier. Set validate_last_epochs = "none" '
            f"under [fixed] (and keep it out of the search) to validate, and prune, from the "
            f"first epoch.",
            FashionkitWarning,
            stacklevel=3,  # past the params wrapper: the caller of sweep
        )
    job = Job(
        space=space,
        folder=target,
        url=_study_url(storage, target),
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
    result = _run(job, study, workers)
    write_results(result)
    return result


def _latest_validation_start(space: SearchSpace) -> TrainConfig:
    """The config of the space whose per-epoch validation starts latest.

    Only ``epochs`` and ``validate_last_epochs`` move the start, each monotonically, so the
    ends of their ranges (or their choices) decide it; the other keys keep the base values.
    """
    searched = [p for p in space.params if p.key in ("epochs", "validate_last_epochs")]
    configs = []
    for combo in itertools.product(*(p.corners() for p in searched)):  # () alone: the base
        with contextlib.suppress(ConfigError):  # invalid with the base's other values only
            configs.append(
                space.config_for(dict(zip([p.key for p in searched], combo, strict=True)))
            )
    return max(configs or [space.base], key=lambda config: config.first_validated_epoch)


def _sweep_extra() -> Any:
    """Optuna, once the ``sweep`` extra's packages are known to be there (before any write).

    Raises:
        ConfigError: ``tensorboard`` is missing (a sweep writes its trials' HParams records).
        FashionkitError: Optuna is missing.
    """
    require(
        "tensorboard",
        extra="sweep",
        purpose="A sweep writes TensorBoard's HParams records of its trials",
    )
    return import_optuna()


def _run(job: Job, study: Any, workers: int) -> SweepResult:
    """Run the workers (this process alone for one) until enough trials finished; collect."""
    counts = count_states(study)
    job = attrs.evolve(
        job, started=time.time(), finished_at_start=counts["complete"] + counts["pruned"]
    )
    if workers == 1:
        work(job)
    else:
        run_workers(job, workers)
    return _collect(job, study)


def _checked_folder(target: Path, space: SearchSpace, study_name: str) -> Path:
    """``target``, unless it is a file or holds another space or study (checked, not written)."""
    if target.exists() and not target.is_dir():
        raise StorageError(f"Cannot sweep into {target}: it is a file, not a folder.")
    check_folder(target, space, write=False, study_name=study_name)  # before any write
    return target


def _study_url(storage: str | None, folder: Path) -> str:
    """The study's URL: ``storage`` (a journal's path made absolute), or SQLite in ``folder``."""
    journal = None if storage is None else journal_path(storage)
    if journal is not None:  # absolute, for worker processes and the results
        return f"{JOURNAL}{journal.resolve()}"
    return storage if storage is not None else f"sqlite:///{(folder / STUDY_DB).resolve()}"


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
    HParams records needs the ``tensorboard`` package, which the ``sweep`` extra installs
    (:func:`sweep` checks that first, before it writes anything).
    """
    from fashionkit.callbacks._tensorboard_writers import write_hparams_experiment

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
