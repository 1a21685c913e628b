"""Hyperparameter sweeps on Optuna: a search space over TrainConfig, parallel and resumable.

A **search space** (:class:`SearchSpace`) is a base :class:`~fashionkit.config.TrainConfig`
(the fixed fields, or a preset) and a few **parameters** (:class:`Parameter`), each a dotted
config key (as ``fashionkit train --set`` takes them) with a range (linear or log, float or
integer) or a list of choices. It is written in TOML::

    [fixed]
    preset = "fast"          # optional: start from a preset, then the keys below
    epochs = 5

    [search."optimizer.learning_rate"]
    low = 1e-4
    high = 1e-2
    log = true

    [search.batch_size]
    choices = [64, 128, 256]

A space is checked when it is built: every key must be a config key and every range valid,
and the config at every corner of the space (each choice, each end of each range) is built,
so a sampled config cannot fail validation unless two parameters clash in its interior (then
that trial fails with the config's message).

:func:`sweep` runs the trials with Optuna: each trial samples the parameters, trains the
config with :func:`~fashionkit.train` into its own run directory under the sweep folder, and
is scored by its best validation accuracy; a pruner stops trials whose per-epoch validation
accuracy is poor. The study lives in a database: SQLite in the sweep folder by default, or any
database URL Optuna supports, shared by workers on several machines. Workers record a
heartbeat; a trial whose worker died (even by ``SIGKILL``) is failed once its heartbeat is
stale and retried, resuming its run directory from its last checkpoint. Running the same
command again continues the study until the requested number of trials has finished.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import logging
import math
import multiprocessing
import os
import shutil
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from fashionkit import _schema
from fashionkit._io import atomic_write_text, folder_lock, os_errors_as
from fashionkit._typing import PathLike
from fashionkit.config import TrainConfig, set_keys, settable_keys
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.exceptions import (
    ConfigError,
    ConfigFileNotFoundError,
    FashionkitError,
    StorageError,
    TrainingInterrupted,
)

__all__ = [
    "PRUNERS",
    "Parameter",
    "SearchSpace",
    "SweepResult",
    "TrialRecord",
    "open_study",
    "sweep",
]

logger = logging.getLogger("fashionkit")

PrunerName = Literal["median", "hyperband", "none"]
#: The pruners :func:`sweep` offers.
PRUNERS: tuple[str, ...] = ("median", "hyperband", "none")

_STUDY_DB = "study.db"
_STUDY_NAME = "study-name.txt"
_TRIALS = "trials"
_BEST = "best.toml"
_TABLE = "trials.md"
_ASK_LOCK = ".ask.lock"  # held while a worker counts the trials and asks for one
_OBJECTIVE = "val_accuracy"
_CORNER_LIMIT = 256  # corners checked together; beyond, each value is checked alone
_INSTALL = 'install the sweep extra: pip install "fashionkit[sweep]"'


def _optuna() -> Any:
    try:
        import optuna
    except ImportError as exc:
        raise FashionkitError(f"Sweeps run on Optuna; {_INSTALL}.") from exc
    return optuna


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def _params(value: Any) -> tuple[Parameter, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Parameter:
    """One searched config field: a range or a list of choices.

    Attributes:
        key: A dotted config key, as ``fashionkit train --set`` takes them
            (``optimizer.learning_rate``); ``fashionkit train --list-keys`` lists them.
        low: Lower end of a range (included).
        high: Upper end of a range (included).
        log: Sample the range on a log scale (``low`` must be above 0).
        step: For an integer range, the spacing of the values (default 1); for a float range,
            an optional spacing.
        choices: The values to choose from, instead of a range (any TOML values: numbers,
            strings, booleans, lists).

    A range whose ends are both integers is sampled as integers.

    Example:
        >>> Parameter(key="optimizer.learning_rate", low=1e-4, high=1e-2, log=True).kind
        'float'
        >>> Parameter(key="batch_size", choices=(64, 128)).kind
        'choice'
        >>> Parameter(key="epochs", low=5, high=1)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: search parameter 'epochs': low must be below high; ...
    """

    key: str
    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] | None = attrs.field(default=None, converter=_as_tuple)

    def __attrs_post_init__(self) -> None:
        where = f"search parameter {self.key!r}"
        if not isinstance(self.key, str) or not self.key:
            raise ConfigError(f"a search parameter needs a dotted config key; got {self.key!r}.")
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.log or self.step is not None:
                raise ConfigError(
                    f"{where}: give either choices, or low and high (with log and step); not both."
                )
            if not isinstance(self.choices, tuple) or not self.choices:
                raise ConfigError(
                    f"{where}: choices must be a non-empty list; got {self.choices!r}."
                )
            return
        if self.low is None or self.high is None or not (_number(self.low) and _number(self.high)):
            raise ConfigError(
                f"{where}: give low and high (numbers) for a range, or choices = [...]; got "
                f"low={self.low!r}, high={self.high!r}."
            )
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
            raise ConfigError(
                f"{where}: low must be below high; got low={self.low!r}, high={self.high!r}."
            )
        if not isinstance(self.log, bool):
            raise ConfigError(f"{where}: log must be true or false; got {self.log!r}.")
        if self.log and self.low <= 0:
            raise ConfigError(f"{where}: a log range needs low > 0; got low={self.low!r}.")
        if self.step is not None and (not _number(self.step) or self.step <= 0):
            raise ConfigError(f"{where}: step must be a number above 0; got {self.step!r}.")
        if self.log and self.step is not None:
            raise ConfigError(f"{where}: a log range cannot have a step.")
        if self.step is not None:
            count = (self.high - self.low) / self.step
            if abs(count - round(count)) > 1e-9 * max(1.0, abs(count)):
                raise ConfigError(
                    f"{where}: step={self.step!r} does not divide the range from {self.low!r} to "
                    f"{self.high!r} into whole steps; choose a step that does, or move high."
                )

    @property
    def kind(self) -> Literal["float", "int", "choice"]:
        """``"choice"``, ``"int"`` (both ends integers) or ``"float"``."""
        if self.choices is not None:
            return "choice"
        integers = isinstance(self.low, int) and isinstance(self.high, int)
        if integers and (self.step is None or float(self.step).is_integer()):
            return "int"
        return "float"

    def corners(self) -> tuple[Any, ...]:
        """The values a space checks: every choice, or both ends of the range."""
        if self.choices is not None:
            return self.choices
        return (self.low, self.high)

    def suggest(self, trial: Any) -> Any:
        """Sample a value with an Optuna trial (``trial.suggest_*``)."""
        if self.choices is not None:
            if all(_scalar(c) for c in self.choices):
                return trial.suggest_categorical(self.key, list(self.choices))
            # Optuna stores scalar choices only: lists (model.filters) travel as their index.
            return self.choices[trial.suggest_categorical(self.key, list(range(len(self.choices))))]
        low, high = float(self.low or 0), float(self.high or 0)
        if self.kind == "int":
            step = int(self.step) if self.step is not None else 1
            return trial.suggest_int(self.key, int(low), int(high), step=step, log=self.log)
        return trial.suggest_float(self.key, low, high, step=self.step, log=self.log)

    def value_of(self, stored: Any) -> Any:
        """The config value of what Optuna stored for this parameter (an index for lists)."""
        if self.choices is not None and not all(_scalar(c) for c in self.choices):
            return self.choices[int(stored)]
        return stored

    def to_dict(self) -> dict[str, Any]:
        """The TOML table of the parameter (without its key)."""
        if self.choices is not None:
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _with_values(base: TrainConfig, values: Mapping[str, Any]) -> TrainConfig:
    """``base`` with dotted keys set; a new architecture starts from its own defaults."""
    data = base.to_dict()
    set_keys(
        data,
        [(key.split("."), value) for key, value in values.items()],
        context="search parameter ",
    )
    return TrainConfig.from_dict(data)


def _merge(start: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``start`` with ``changes`` laid over it, table by table.

    A model table naming another architecture replaces the old one instead.
    """
    out = dict(start)
    for key, value in changes.items():
        old = out.get(key)
        same_model = not (
            key == "model"
            and isinstance(value, Mapping)
            and isinstance(old, dict)
            and value.get("architecture", old.get("architecture")) != old.get("architecture")
        )
        if isinstance(value, Mapping) and isinstance(old, dict) and same_model:
            out[key] = _merge(old, value)
        else:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


def _typed(params: Sequence[Parameter]) -> tuple[Parameter, ...]:
    """Match each range to its field's type.

    A float field's range is sampled as floats even when written ``low = 0``; an integer
    field's range must have integer ends.
    """
    accepts: dict[str, set[str]] = {}
    for key, text in settable_keys():
        accepts.setdefault(key, set()).add(text.split(" ")[0])
    out = []
    for p in params:
        kinds = accepts.get(p.key, set())
        if p.choices is None and kinds == {"float"} and p.kind == "int":
            p = attrs.evolve(p, low=float(p.low or 0), high=float(p.high or 0))
        elif p.choices is not None and kinds == {"float"}:
            p = attrs.evolve(p, choices=tuple(float(c) if _number(c) else c for c in p.choices))
        elif p.choices is None and kinds == {"int"} and p.kind != "int":
            raise ConfigError(
                f"search parameter {p.key!r} is an integer field; give integer low, high and "
                f"step; got low={p.low!r}, high={p.high!r}, step={p.step!r}."
            )
        out.append(p)
    return tuple(out)


def _check_keys(params: Sequence[Parameter]) -> None:
    allowed = sorted({key for key, _ in settable_keys()})
    seen: set[str] = set()
    for p in params:
        if p.key in seen:
            raise ConfigError(f"search parameter {p.key!r} is given twice.")
        seen.add(p.key)
        if p.key not in allowed:
            close = difflib.get_close_matches(p.key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"search parameter {p.key!r} is not a config key{hint}; "
                f"'fashionkit train --list-keys' lists them."
            )


@attrs.frozen(kw_only=True)
class SearchSpace:
    """A base config and the parameters a sweep searches; see the module documentation.

    Attributes:
        base: The fixed fields: the config every trial starts from.
        params: The searched parameters, in order.

    Raises:
        ConfigError: An unknown key, a bad range, or a corner of the space that is not a valid
            config (the message says which values and why).

    Example:
        >>> space = SearchSpace(
        ...     base=TrainConfig(model="mlp", epochs=3),
        ...     params=(Parameter(key="model.dropout", low=0.0, high=0.5),),
        ... )
        >>> space.config_for({"model.dropout": 0.25}).model.dropout
        0.25
        >>> SearchSpace(base=TrainConfig(), params=(Parameter(key="model.dropuot", low=0, high=1),))
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: search parameter 'model.dropuot' is not a config ...
    """

    base: TrainConfig = attrs.field(factory=TrainConfig)
    params: tuple[Parameter, ...] = attrs.field(converter=_params, default=())

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.base, TrainConfig):
            raise ConfigError(f"SearchSpace.base must be a TrainConfig; got {self.base!r}.")
        if not all(isinstance(p, Parameter) for p in self.params):
            raise ConfigError("SearchSpace.params must be Parameter objects.")
        if not self.params:
            raise ConfigError("a search space needs at least one parameter under [search].")
        _check_keys(self.params)
        object.__setattr__(self, "params", _typed(self.params))
        self._check_corners()

    def _check_corners(self) -> None:
        values = [p.corners() for p in self.params]
        if math.prod(len(v) for v in values) <= _CORNER_LIMIT:
            combos: Iterator[tuple[Any, ...]] = itertools.product(*values)
        else:  # each value alone, the others at their first value
            firsts = [v[0] for v in values]
            combos = (
                tuple(value if j == i else firsts[j] for j in range(len(values)))
                for i, vs in enumerate(values)
                for value in vs
            )
        for combo in combos:
            chosen = dict(zip((p.key for p in self.params), combo, strict=True))
            try:
                _with_values(self.base, chosen)
            except ConfigError as exc:
                shown = ", ".join(f"{k}={v!r}" for k, v in chosen.items())
                raise ConfigError(
                    f"the search space includes an invalid config at {shown}: {exc}"
                ) from None

    def config_for(self, values: Mapping[str, Any]) -> TrainConfig:
        """The base config with the parameters set to ``values`` (dotted keys).

        Raises:
            ConfigError: The values make an invalid config.
        """
        return _with_values(self.base, values)

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Sample every parameter with an Optuna trial; returns the dotted keys' values."""
        return {p.key: p.suggest(trial) for p in self.params}

    def to_dict(self) -> dict[str, Any]:
        """The TOML layout: ``fixed`` (the base config) and ``search`` (one table per key)."""
        return {
            "fixed": self.base.to_dict(),
            "search": {p.key: p.to_dict() for p in self.params},
        }

    def to_toml(self) -> str:
        """The space as a TOML document (:meth:`from_toml` reads it back)."""
        return _schema.to_toml(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        """Build a space from the TOML layout; ``fixed.preset`` names a preset to start from.

        Raises:
            ConfigError: Unknown keys, a bad value, or an invalid corner of the space.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"a search space is a table; got {type(data).__name__}.")
        unknown = sorted(set(data) - {"fixed", "search"})
        if unknown:
            raise ConfigError(
                _schema.unknown_keys_message("a search space", unknown, ["fixed", "search"])
            )
        fixed = data.get("fixed", {})
        if not isinstance(fixed, Mapping):
            raise ConfigError("[fixed] must be a table of config keys.")
        fixed = dict(fixed)
        preset = fixed.pop("preset", None)
        if preset is not None:
            from fashionkit.presets import get_preset

            fixed = _merge(get_preset(str(preset)).to_dict(), fixed)
        base = TrainConfig.from_dict(fixed)
        search = data.get("search", {})
        if not isinstance(search, Mapping):
            raise ConfigError("[search] must be a table of parameters.")
        params = []
        for key, table in search.items():
            if not isinstance(table, Mapping):
                raise ConfigError(
                    f"search parameter {key!r} must be a table such as "
                    f"{{ low = 0.0, high = 0.5 }} or {{ choices = [64, 128] }}; got {table!r}."
                )
            extra = sorted(set(table) - {"low", "high", "log", "step", "choices"})
            if extra:
                raise ConfigError(
                    _schema.unknown_keys_message(
                        f"search parameter {key!r}",
                        extra,
                        ["low", "high", "log", "step", "choices"],
                    )
                )
            params.append(Parameter(key=key, **table))
        return cls(base=base, params=tuple(params))

    @classmethod
    def from_toml(cls, path: PathLike) -> SearchSpace:
        """Read a space from a TOML file.

        Raises:
            ConfigFileNotFoundError: The file does not exist.
            ConfigError: The file is not valid TOML or not a valid space.
        """
        source = Path(path)
        if source.is_dir():
            raise ConfigError(f"{source} is a folder; give the search space's TOML file.")
        if not source.is_file():
            raise ConfigFileNotFoundError(f"Search space file {source} does not exist.")
        try:
            with os_errors_as(StorageError, source, action="read"):
                text = source.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{source} is not a UTF-8 text file, so not a TOML space.") from None
        return cls.from_dict(_schema.parse_toml(text, source=str(source)))


@attrs.frozen(kw_only=True)
class TrialRecord:
    """One trial of a sweep, as the study records it.

    Attributes:
        number: Optuna's trial number (0-based, in the order trials started).
        state: ``complete``, ``pruned``, ``fail``, ``running`` or ``waiting``.
        params: The sampled values, by dotted config key.
        value: Best validation accuracy over the trial's epochs (``None`` unless complete).
        epochs: Epochs trained (including those before a resume), when known.
        seconds: Wall-clock seconds of the trial's training call, when known.
        run_dir: The trial's run directory, relative to the sweep folder.
        note: Why a trial failed or was stopped, when it did.
    """

    number: int
    state: str
    params: dict[str, Any]
    value: float | None = None
    epochs: int | None = None
    seconds: float | None = None
    run_dir: str | None = None
    note: str | None = None


@attrs.frozen(kw_only=True)
class SweepResult:
    """What a sweep found: every trial, the best, and its config.

    Attributes:
        folder: The sweep folder (``space.toml``, ``trials/``, ``best.toml``, ``trials.md``).
        study_name: The Optuna study's name.
        storage: The study's database URL (a password in it is masked).
        trials: Every trial, by number.
        best: The complete trial with the highest validation accuracy, or ``None``.
        best_config: The best trial's :class:`~fashionkit.config.TrainConfig`, or ``None``;
            also written to ``best.toml`` for ``fashionkit train --config``.
    """

    folder: Path
    study_name: str
    storage: str
    trials: tuple[TrialRecord, ...]
    best: TrialRecord | None
    best_config: TrainConfig | None

    @property
    def finished(self) -> int:
        """Trials that completed or were pruned."""
        return sum(1 for t in self.trials if t.state in ("complete", "pruned"))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``fashionkit sweep --json``)."""
        data: dict[str, Any] = _schema.to_data(self)
        return data

    def to_text(self) -> str:
        """A Markdown table of the trials, then the best one."""
        keys = list(dict.fromkeys(k for t in self.trials for k in t.params))
        header = ["trial", "state", *keys, "best val_accuracy", "epochs", "seconds"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for t in self.trials:
            cells = [
                str(t.number),
                t.state,
                *(_show(t.params.get(k)) for k in keys),
                f"{t.value:.4f}" if t.value is not None else "",
                str(t.epochs) if t.epochs is not None else "",
                f"{t.seconds:.1f}" if t.seconds is not None else "",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        if self.best is not None:
            lines.append("")
            lines.append(
                f"best: trial {self.best.number}, validation accuracy {self.best.value:.4f}; "
                f"its config is {self.folder / _BEST}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return "" if value is None else str(value)


class _PrunedError(Exception):
    """Raised from the epoch callback when the pruner stops a trial."""

    def __init__(self, message: str, epochs: int) -> None:
        super().__init__(message)
        self.epochs = epochs


class _DeadlineError(Exception):
    """Raised from the batch callback when the sweep's time budget has run out."""


def _epoch_reporter(trial: Any, deadline: float | None) -> Any:
    """A Keras callback: report each epoch's val_accuracy, prune, and keep the time budget."""
    import keras

    class ReportEpochs(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            value = (logs or {}).get(_OBJECTIVE)
            if isinstance(value, int | float) and math.isfinite(value):
                trial.report(float(value), step=epoch + 1)
                if trial.should_prune():
                    raise _PrunedError(
                        f"pruned after epoch {epoch + 1} (val_accuracy {value:.4f})", epoch + 1
                    )

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if deadline is not None and time.time() >= deadline:
                raise _DeadlineError("stopped by the sweep's time budget")

    return ReportEpochs()


@contextlib.contextmanager
def _heartbeat(storage: Any, trial: Any, seconds: float) -> Iterator[None]:
    """Record the trial's heartbeat every ``seconds`` in a thread while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(seconds):
            with contextlib.suppress(Exception):  # a missed beat is not fatal; staleness is
                storage.record_heartbeat(trial._trial_id)

    storage.record_heartbeat(trial._trial_id)
    thread = threading.Thread(target=beat, name="fashionkit-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _storage(url: str, heartbeat: float) -> Any:
    optuna = _optuna()
    from optuna.storages import RDBStorage

    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if retry is None:  # Optuna before 4.9
        retry = optuna.storages.RetryFailedTrialCallback

    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 120}  # workers wait for each other's writes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=max(1, int(heartbeat)),
            grace_period=max(2, int(heartbeat * 3)),
            heartbeat_stale_trial_callback=retry(max_retry=2),
        )


def _pruner(name: str, epochs: int) -> Any:
    optuna = _optuna()
    if name == "median":
        # Steps are epochs, counted from 1: a trial can be pruned from its first epoch on.
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1))
    return optuna.pruners.NopPruner()


def _count(study: Any) -> dict[str, int]:
    counts = {"complete": 0, "pruned": 0, "fail": 0, "running": 0, "waiting": 0}
    for t in study.get_trials(deepcopy=False):
        name = t.state.name.lower()
        counts[name] = counts.get(name, 0) + 1
    return counts


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


@attrs.frozen(kw_only=True)
class _Job:
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


def _say(job: _Job, text: str) -> None:
    if job.progress:
        print(text, flush=True)
    else:
        logger.info("%s", text)


def _work(job: _Job) -> None:
    """One worker: ask for trials and run them until the study has ``job.trials`` finished."""
    optuna = _optuna()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = _storage(job.url, job.heartbeat)
    seed = None if job.seed is None else job.seed + job.worker
    study = optuna.load_study(
        study_name=job.study_name,
        storage=storage,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=_pruner(job.pruner, job.space.base.epochs),
    )
    data = job.dataset if job.dataset is not None else load_fashion_mnist()
    failures = 0
    while job.deadline is None or time.time() < job.deadline:
        # This machine's workers take turns to count the trials, then ask for one.
        with folder_lock(job.folder, _ASK_LOCK):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
            counts = _count(study)
            done = counts["complete"] + counts["pruned"]
            if done >= job.trials:
                return
            trial = None
            if counts["waiting"] or done + counts["running"] < job.trials:
                with warnings.catch_warnings():
                    # Optuna notes that heartbeats are meant for Study.optimize; fashionkit
                    # records them itself (see _heartbeat).
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


def _run_trial(job: _Job, study: Any, storage: Any, trial: Any, data: FashionMNIST) -> bool:
    """Train one trial and tell the study; ``False`` if its config was invalid."""
    import keras

    from fashionkit.runs import SUMMARY, load_run
    from fashionkit.training import train

    optuna = _optuna()
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
    name = _free_run_name(job.folder / _TRIALS, _run_name(study, trial), config)
    trial.set_user_attr("run", name)
    run_dir = job.folder / _TRIALS / name
    try:
        with _heartbeat(storage, trial, job.heartbeat):
            if (run_dir / SUMMARY).is_file():  # trained before its worker died: read it back
                record = load_run(run_dir)
                history = record.history
            else:
                reporter = _epoch_reporter(trial, job.deadline)
                history = train(config, dataset=data, run_dir=run_dir, callbacks=[reporter]).history
    except _PrunedError as exc:
        trial.set_user_attr("note", str(exc))
        trial.set_user_attr("epochs", exc.epochs)
        trial.set_user_attr("seconds", time.perf_counter() - started)
        study.tell(trial, state=state.PRUNED)
        shutil.rmtree(run_dir / "checkpoint", ignore_errors=True)  # it will not be resumed
        _progress(job, study, trial.number, str(exc))
        return True
    except (_DeadlineError, TrainingInterrupted) as exc:
        # Fail it and queue it again: the next run of the sweep resumes its run directory.
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
    trial.set_user_attr("epochs", sum(1 for r in history if not r.partial))
    trial.set_user_attr("seconds", time.perf_counter() - started)
    study.tell(trial, max(scores))
    _progress(job, study, trial.number, f"complete: best val_accuracy {max(scores):.4f}")
    return True


def _same_config(run_dir: Path, config: TrainConfig) -> bool:
    """Whether ``run_dir`` was trained (or is being trained) with ``config``."""
    try:
        old = TrainConfig.from_toml(run_dir / "config.toml")
    except (ConfigError, StorageError):
        return False
    ignore = {"verbose", "tensorboard"}  # they change what is printed, not what is trained
    return {k: v for k, v in old.to_dict().items() if k not in ignore} == {
        k: v for k, v in config.to_dict().items() if k not in ignore
    }


def _free_run_name(trials: Path, name: str, config: TrainConfig) -> str:
    """``name``, unless its folder holds a run of another config: then ``name-2``, ``-3``...

    A folder of the same config is the trial's own (a retry or a resume); one of another
    config belongs to another study that used this folder, and is never read as this trial's.
    """
    candidate, n = name, 1
    while (trials / candidate).exists() and any((trials / candidate).iterdir()):
        if _same_config(trials / candidate, config):
            return candidate
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def _progress(job: _Job, study: Any, number: int, what: str) -> None:
    counts = _count(study)
    done = counts["complete"] + counts["pruned"]
    try:
        best = f"best {study.best_value:.4f} (trial {study.best_trial.number})"
    except ValueError:
        best = "no complete trial yet"
    _say(job, f"trial {number} {what}; {done}/{job.trials} finished, {best}")


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""


def _masked(url: str) -> str:
    """The URL with any password (``user:password@`` or ``?password=``) replaced by ``***``."""
    import re

    try:
        from sqlalchemy.engine import make_url

        shown = str(make_url(url).render_as_string(hide_password=True))
    except Exception:  # not a URL SQLAlchemy can parse: mask by hand
        head, sep, tail = url.partition("://")
        userinfo, at, rest = tail.rpartition("@")
        shown = f"{head}{sep}{userinfo.split(':')[0]}:***@{rest}" if at and ":" in userinfo else url
    return re.sub(r"(?i)(password=)[^&;\s]*", r"\1***", shown)


def _collect(job: _Job, study: Any) -> SweepResult:
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
                run_dir=f"{_TRIALS}/{t.user_attrs['run']}" if t.user_attrs.get("run") else None,
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
        storage=_masked(job.url),
        trials=tuple(records),
        best=best,
        best_config=best_config,
    )


def _check_folder(
    folder: Path, space: SearchSpace, *, write: bool, study_name: str = "fashionkit"
) -> None:
    """Refuse a folder of another space or study; write the space and study into a new one."""
    marker = folder / _STUDY_NAME
    if marker.is_file():
        with os_errors_as(StorageError, marker, action="read"):
            recorded = marker.read_text(encoding="utf-8").strip()
        if recorded != study_name:
            raise ConfigError(
                f"{folder} holds the sweep of the study {recorded!r}; continue it with "
                f"--study-name {recorded}, or sweep the study {study_name!r} into another folder."
            )
    elif write:
        with os_errors_as(StorageError, marker):
            atomic_write_text(marker, study_name + "\n")
    saved = folder / "space.toml"
    if saved.is_file():
        try:
            old = SearchSpace.from_toml(saved)
        except ConfigError as exc:
            raise ConfigError(f"{saved} is damaged ({exc}); move the folder away.") from None
        if old.to_dict() != space.to_dict():
            raise ConfigError(
                f"{folder} holds a sweep of another search space ({saved}); continue it with "
                f"that space, or sweep into a new folder."
            )
        return
    if write:
        with os_errors_as(StorageError, saved):
            atomic_write_text(saved, space.to_toml())


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
        storage: A database URL Optuna supports (``postgresql://user:pass@host/db``) to share
            the study with workers on other machines; defaults to SQLite in the folder.
        study_name: The study's name in the storage. Defaults to ``"fashionkit"``.
        pruner: ``"median"`` (default), ``"hyperband"`` or ``"none"``.
        timeout_seconds: Wall-clock budget of this call: no trial starts after it, and running
            trials stop at their next batch, are marked failed and queued again, so that the
            next run resumes them from their last checkpoint. ``None`` for no budget.
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
    if not isinstance(space, SearchSpace):
        raise ConfigError(f"sweep() takes a SearchSpace; got {type(space).__name__}.")
    for name, value, low in (("trials", trials, 1), ("workers", workers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}; got {value!r}.")
    if pruner not in PRUNERS:
        raise ConfigError(f"pruner must be one of {', '.join(PRUNERS)}; got {pruner!r}.")
    if timeout_seconds is not None and (
        not _number(timeout_seconds) or not math.isfinite(timeout_seconds) or timeout_seconds <= 0
    ):
        raise ConfigError(
            f"timeout_seconds must be a finite number above 0 (or None); got {timeout_seconds!r}."
        )
    if (
        not _number(heartbeat_seconds)
        or not math.isfinite(heartbeat_seconds)
        or heartbeat_seconds <= 0
    ):
        raise ConfigError(f"heartbeat_seconds must be above 0; got {heartbeat_seconds!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ConfigError(f"seed must be an integer >= 0 or None; got {seed!r}.")
    if storage is not None and (not isinstance(storage, str) or "://" not in storage):
        raise ConfigError(
            f"storage must be a database URL such as postgresql+psycopg2://user@host/db or "
            f"sqlite:///path/study.db; got {storage!r}."
        )
    if not isinstance(study_name, str) or not study_name.strip():
        raise ConfigError(f"study_name must be a non-empty string; got {study_name!r}.")
    if space.base.device.strategy == "multi_worker":
        raise ConfigError("sweeps train each trial on one machine; multi_worker is not supported.")
    optuna = _optuna()
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise StorageError(f"Cannot sweep into {target}: it is a file, not a folder.")
    _check_folder(target, space, write=False, study_name=study_name)  # before any write
    url = storage if storage is not None else f"sqlite:///{(target / _STUDY_DB).resolve()}"
    job = _Job(
        space=space,
        folder=target,
        url=url,
        study_name=study_name,
        trials=trials,
        pruner=pruner,
        deadline=time.time() + timeout_seconds if timeout_seconds is not None else None,
        heartbeat=float(heartbeat_seconds),
        progress=progress,
        dataset=dataset,
        seed=seed,
    )
    if storage is not None:  # a server: check it before the folder is touched
        study = _open_study(optuna, job)
    with os_errors_as(StorageError, target):
        target.mkdir(parents=True, exist_ok=True)
    if storage is None:
        study = _open_study(optuna, job)
    _check_folder(target, space, write=True, study_name=study_name)
    with os_errors_as(StorageError, target / _TRIALS):
        (target / _TRIALS).mkdir(exist_ok=True)
    if workers == 1:
        _work(job)
    else:
        _run_workers(job, workers)
    result = _collect(job, study)
    _write_results(result)
    return result


def _open_study(optuna: Any, job: _Job) -> Any:
    """Create the study, or load it and check that it searches the same space."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = optuna.create_study(
            study_name=job.study_name,
            storage=_storage(job.url, job.heartbeat),
            direction="maximize",
            load_if_exists=True,
        )
    except Exception as exc:  # SQLAlchemy raises many types for a bad URL or server
        reason = _first_line(exc)
        if exc.__cause__ is not None:
            reason += f"; caused by {type(exc.__cause__).__name__}: {_first_line(exc.__cause__)}"
        hint = ""
        if isinstance(exc, ImportError) or "DB access module" in reason:
            hint = (
                " The database driver is missing: for postgresql:// URLs install "
                "psycopg2-binary, for mysql:// URLs PyMySQL (and write mysql+pymysql://)."
            )
        raise StorageError(
            f"Cannot open the study {job.study_name!r} at {_masked(job.url)} "
            f"({type(exc).__name__}: {_masked(reason)}).{hint}"
        ) from None
    space = _schema.to_json(job.space.to_dict(), indent=None)
    stored = study.user_attrs.get("fashionkit_space")
    if stored is None:
        study.set_user_attr("fashionkit_space", space)
    elif stored != space:
        raise ConfigError(
            f"The study {job.study_name!r} at {_masked(job.url)} searches another space; "
            f"use another --study-name, or the space it was created with."
        )
    return study


def open_study(
    folder: PathLike, *, storage: str | None = None, study_name: str = "fashionkit"
) -> Any:
    """Load a sweep's Optuna study (to analyse it with Optuna's own tools).

    Args:
        folder: The sweep folder.
        storage: The study's database URL; defaults to the folder's ``study.db``.
        study_name: The study's name. Defaults to ``"fashionkit"``.

    Raises:
        RunDirError: No study of that name at that storage.
        FashionkitError: Optuna is not installed.
    """
    from fashionkit.exceptions import RunDirError

    optuna = _optuna()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    directory = Path(folder)
    if storage is None and not (directory / _STUDY_DB).is_file():
        raise RunDirError(
            f"{directory} has no {_STUDY_DB}: its study lives in another database; pass its URL "
            f"(--storage)."
        )
    url = storage if storage is not None else f"sqlite:///{(directory / _STUDY_DB).resolve()}"
    try:
        return optuna.load_study(study_name=study_name, storage=url)
    except Exception as exc:  # a missing study is KeyError; a bad URL many others
        raise RunDirError(
            f"No study {study_name!r} at {_masked(url)} ({type(exc).__name__}: {exc})."
        ) from exc


def _worker_main(job: _Job) -> None:
    """Entry point of a worker process."""
    try:
        _work(job)
    except (TrainingInterrupted, KeyboardInterrupt):
        raise SystemExit(130) from None


def _run_workers(job: _Job, workers: int) -> None:
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


def _write_results(result: SweepResult) -> None:
    with os_errors_as(StorageError, result.folder / _TABLE):
        atomic_write_text(result.folder / _TABLE, result.to_text() + "\n")
    if result.best_config is not None:
        result.best_config.write_toml(result.folder / _BEST)
