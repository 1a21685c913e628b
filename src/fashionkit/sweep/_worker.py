"""The workers: each asks the study for trials and trains them until enough have finished."""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import attrs

from fashionkit._io import folder_lock
from fashionkit._validation import annotated_fields
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.exceptions import ConfigError, FashionkitError, StorageError, TrainingInterrupted
from fashionkit.runs import RunLayout, load_run
from fashionkit.sweep._folder import ASK_LOCK, TENSORBOARD, TRIALS, free_run_name
from fashionkit.sweep._space import SearchSpace
from fashionkit.sweep._study import (
    count_states,
    import_optuna,
    keep_heartbeat,
    make_pruner,
    open_storage,
)

logger = logging.getLogger("fashionkit")

_OBJECTIVE = "val_accuracy"


def _run_name(study: Any, trial: Any) -> str:
    """The trial's run directory: its own, or that of the trial it retries or resumes."""
    # A retried trial (a dead worker's) carries the failed trial's user attributes; a queued
    # one (stopped by a budget or a signal) the name it was queued with.
    if trial.user_attrs.get("run"):
        return str(trial.user_attrs["run"])
    origin = study._storage.get_trial_system_attrs(trial._trial_id).get("failed_trial")
    if origin is not None:
        return f"trial-{int(origin):04d}"
    return f"trial-{trial.number:04d}"


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class Job:
    """What each worker needs (picklable, for worker processes)."""

    space: SearchSpace
    folder: Path
    url: str
    study_name: str
    trials: int
    pruner: str
    deadline: float | None
    heartbeat: float
    progress: bool
    dataset: FashionMNIST | None
    seed: int | None = None
    worker: int = 0
    #: When this run of the sweep started (``time.time()``, shared by its worker processes) and
    #: how many trials had finished then: the pace since is what the time left is estimated
    #: from.
    started: float = 0.0
    finished_at_start: int = 0


def _say(job: Job, text: str) -> None:
    if job.progress:
        print(text, flush=True)
    else:
        logger.info("%s", text)


def work(job: Job) -> None:
    """One worker: ask for trials and run them until the study has ``job.trials`` finished."""
    optuna = import_optuna()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(job.url, job.heartbeat)
    seed = None if job.seed is None else job.seed + job.worker
    study = optuna.load_study(
        study_name=job.study_name,
        storage=storage,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=make_pruner(job.pruner, job.space.base.epochs),
    )
    data = job.dataset if job.dataset is not None else load_fashion_mnist()
    failures = 0
    while job.deadline is None or time.time() < job.deadline:
        # This machine's workers take turns to count the trials, then ask for one.
        with folder_lock(job.folder, ASK_LOCK):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
            counts = count_states(study)
            done = counts["complete"] + counts["pruned"]
            if done >= job.trials:
                return
            trial = None
            if counts["waiting"] or done + counts["running"] < job.trials:
                with warnings.catch_warnings():
                    # Optuna notes that heartbeats are meant for Study.optimize; fashionkit
                    # records them itself (see keep_heartbeat).
                    warnings.simplefilter("ignore", UserWarning)
                    trial = study.ask()
        if trial is None:  # the last trials run elsewhere: wait for them (or their staleness)
            time.sleep(job.heartbeat)
            continue
        if not _run_trial(job, study, storage, trial, data):
            failures += 1
            if failures > job.trials:
                raise ConfigError(
                    f"{failures} trials of the sweep failed with invalid configs; the search "
                    f"space's parameters clash (see trials.md). Narrow the space."
                )


def _run_trial(job: Job, study: Any, storage: Any, trial: Any, data: FashionMNIST) -> bool:
    """Train one trial and tell the study; ``False`` if its config was invalid."""
    import keras

    from fashionkit.callbacks._report_trial import DeadlineError, PrunedError, ReportToTrial
    from fashionkit.training import train

    optuna = import_optuna()
    state = optuna.trial.TrialState
    started = time.perf_counter()
    try:
        values = job.space.suggest(trial)
        config = attrs.evolve(job.space.config_for(values), verbose=0)
    except ConfigError as exc:
        trial.set_user_attr("note", str(exc))
        study.tell(trial, state=state.FAIL)
        _say(job, f"trial {trial.number} failed: {exc}")
        return False
    name = free_run_name(job.folder / TRIALS, _run_name(study, trial), config)
    trial.set_user_attr("run", name)
    run_dir = job.folder / TRIALS / name
    layout = RunLayout(run_dir)
    began = time.time()
    try:
        with keep_heartbeat(storage, trial, job.heartbeat):
            if layout.summary.is_file():  # trained before its worker died: read it back
                record = load_run(run_dir)
                history = record.history
            else:
                reporter = ReportToTrial(trial, deadline=job.deadline, monitor=_OBJECTIVE)
                history = train(config, dataset=data, run_dir=run_dir, callbacks=[reporter]).history
    except PrunedError as exc:
        trial.set_user_attr("note", str(exc))
        trial.set_user_attr("epochs", exc.epochs)
        trial.set_user_attr("seconds", time.perf_counter() - started)
        study.tell(trial, state=state.PRUNED)
        shutil.rmtree(layout.checkpoints, ignore_errors=True)  # it will not be resumed
        _log_session(
            job, name, values, time.perf_counter() - started, began,
            best=exc.best, epochs=exc.epochs, pruned=True,
        )  # fmt: skip
        _progress(job, study, trial.number, str(exc))
        return True
    except (DeadlineError, TrainingInterrupted) as exc:
        # Fail it and queue it again: the next run of the sweep resumes its run directory.
        # This is why the sweep keeps its own deadline instead of TimeBudget: TimeBudget ends
        # fit early and train() finishes the run as complete, so the trial would be scored
        # on fewer epochs than the others and never resumed.
        trial.set_user_attr("note", str(exc).split(";")[0])
        study.tell(trial, state=state.FAIL)
        study.enqueue_trial(trial.params, user_attrs={"run": name}, skip_if_exists=False)
        _say(job, f"trial {trial.number} stopped ({str(exc).split(';')[0]}); queued to resume")
        if isinstance(exc, TrainingInterrupted):
            raise
        return True
    except BaseException as exc:
        trial.set_user_attr("note", f"{type(exc).__name__}: {exc}")
        study.tell(trial, state=state.FAIL)
        raise
    finally:
        keras.backend.clear_session()
    scores = [r.val_accuracy for r in history if math.isfinite(r.val_accuracy)]
    if not scores:
        trial.set_user_attr("note", "no epoch had a finite val_accuracy")
        study.tell(trial, state=state.FAIL)
        return True
    epochs = sum(1 for r in history if not r.partial)
    trial.set_user_attr("epochs", epochs)
    trial.set_user_attr("seconds", time.perf_counter() - started)
    study.tell(trial, max(scores))
    _log_session(
        job, name, values, time.perf_counter() - started, began,
        best=max(scores), epochs=epochs, pruned=False,
    )  # fmt: skip
    _progress(job, study, trial.number, f"complete: best val_accuracy {max(scores):.4f}")
    return True


#: The metrics of each trial's HParams session, in the order of the sweep's experiment.
HPARAMS_METRICS = ("val_accuracy", "epochs", "seconds", "pruned")


def hparam_domains(space: SearchSpace) -> list[Any]:
    """The HParams domain of each searched parameter: its choices, or its range."""
    from fashionkit.callbacks._hparams import HParamDomain, hparam_value

    domains = []
    for param in space.params:
        if param.choices is not None:
            shown = tuple(hparam_value(c) for c in param.choices)  # None is no choice
            domains.append(HParamDomain(name=param.key, values=shown))
        else:
            low, high = float(param.low or 0), float(param.high or 0)
            domains.append(HParamDomain(name=param.key, low=low, high=high))
    return domains


def _log_session(
    job: Job,
    name: str,
    values: dict[str, Any],
    seconds: float,
    began: float,
    *,
    best: float,
    epochs: int,
    pruned: bool,
) -> None:
    """The trial's HParams session in ``FOLDER/tensorboard/NAME``: its values and scores.

    Its metrics are those the sweep's experiment names: the best validation accuracy, the
    epochs trained, the seconds and whether the pruner stopped it (1) or not (0).
    """
    from fashionkit.callbacks._tensorboard_writers import write_hparams_session

    scores = (best, float(epochs), seconds, 1.0 if pruned else 0.0)
    metrics = dict(zip(HPARAMS_METRICS, scores, strict=True))
    domains = {d.name: d for d in hparam_domains(job.space)}
    shown = {
        key: domains[key].cast(value) if key in domains else value for key, value in values.items()
    }
    hparams = {key: value for key, value in shown.items() if value is not None}
    try:
        write_hparams_session(
            job.folder / TENSORBOARD / name,
            hparams,
            metrics,
            step=max(epochs, 1),
            start_time=began,
            group_name=name,  # a row per trial, even when two sampled the same values
        )
    except StorageError as exc:  # the trial is told and kept: its HParams row alone is missing
        logger.warning("fashionkit: trial %s has no HParams session: %s", name, exc)


def _progress(job: Job, study: Any, number: int, what: str) -> None:
    counts = count_states(study)
    done = counts["complete"] + counts["pruned"]
    try:
        best = f"best {study.best_value:.4f} (trial {study.best_trial.number})"
    except ValueError:
        best = "no complete trial yet"
    line = progress_line(
        f"trial {number} {what}",
        done=done,
        total=job.trials,
        best=best,
        seconds=time.time() - job.started if job.started else None,
        finished_here=done - job.finished_at_start,
        bar=job.progress and _is_terminal(),
    )
    _say(job, line)


def _is_terminal() -> bool:
    try:
        return os.isatty(1)
    except OSError:
        return False


def _duration(seconds: float) -> str:
    """``seconds`` rounded for a person: "40 s", "3 min 20 s", "2 h 05 min"."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_line(
    event: str,
    *,
    done: int,
    total: int,
    best: str,
    seconds: float | None,
    finished_here: int,
    bar: bool = False,
    width: int = 20,
) -> str:
    """One progress line of a sweep: the event, "N of M finished", the best, the time left.

    The time left is the pace of this run of the sweep (``finished_here`` trials in
    ``seconds``, all workers together) applied to the trials still to finish; it is left out
    until a trial has finished here. With ``bar`` (a terminal), the line starts with a bar of
    ``width`` cells and the share finished.

    Example:
        >>> progress_line("trial 3 complete", done=4, total=10, best="best 0.9230 (trial 0)",
        ...               seconds=200.0, finished_here=4)
        'trial 3 complete; 4 of 10 finished, best 0.9230 (trial 0), about 5 min 00 s left'
        >>> progress_line("trial 0 pruned", done=1, total=4, best="no complete trial yet",
        ...               seconds=9.0, finished_here=1, bar=True, width=8)
        '[##......]  25% trial 0 pruned; 1 of 4 finished, no complete trial yet, about 27 s left'
    """
    text = f"{event}; {done} of {total} finished, {best}"
    left = total - done
    if left <= 0:
        text += ", done"
    elif seconds is not None and finished_here > 0:
        text += f", about {_duration(seconds / finished_here * left)} left"
    if bar:
        share = min(max(done / total, 0.0), 1.0) if total > 0 else 1.0
        filled = round(share * width)
        text = f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%} {text}"
    return text


def _worker_main(job: Job) -> None:
    """Entry point of a worker process."""
    try:
        work(job)
    except (TrainingInterrupted, KeyboardInterrupt):
        raise SystemExit(130) from None


def run_workers(job: Job, workers: int) -> None:
    """Run ``workers`` worker processes on ``job`` and wait for them; Ctrl-C stops them."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=_worker_main,
            args=(attrs.evolve(job, worker=i),),
            name=f"fashionkit-sweep-{i}",
        )
        for i in range(workers)
    ]
    for p in processes:
        p.start()
    try:
        for p in processes:
            p.join()
    except KeyboardInterrupt:
        # A terminal's Ctrl-C reaches the workers too: give them time to stop at a batch and
        # queue their trials, and only then ask the stragglers with SIGTERM.
        for p in processes:
            p.join(timeout=60)
        for p in processes:
            if p.is_alive():
                os.kill(p.pid or 0, 15)
        for p in processes:
            p.join()
        raise
    if any(p.exitcode == 130 for p in processes):
        raise KeyboardInterrupt  # the workers were interrupted: their trials are queued
    failed = [p for p in processes if p.exitcode not in (0, None)]
    if failed:
        raise FashionkitError(
            f"{len(failed)} of {workers} sweep worker(s) failed (exit codes "
            f"{', '.join(str(p.exitcode) for p in failed)}); their errors are above. Run the "
            f"same command again to continue the sweep."
        )
