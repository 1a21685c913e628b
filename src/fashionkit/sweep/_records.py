"""What a sweep found: :class:`TrialRecord` and :class:`SweepResult`, and their files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from fashionkit import _schema
from fashionkit._io import atomic_write_text, os_errors_as
from fashionkit._validation import Interval, NoneOr, Options, annotated_fields, field_validator
from fashionkit.config import TrainConfig
from fashionkit.exceptions import StorageError
from fashionkit.sweep._folder import BEST, TABLE

#: The states of a trial, as Optuna names them (in lower case).
TRIAL_STATES = ("complete", "pruned", "fail", "running", "waiting")
_COUNT = field_validator(NoneOr(Interval("int", ge=0)))


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
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

    number: int = attrs.field(validator=field_validator(Interval("int", ge=0)))
    state: str = attrs.field(validator=field_validator(Options(TRIAL_STATES)))
    params: dict[str, Any]
    value: float | None = None
    epochs: int | None = attrs.field(default=None, validator=_COUNT)
    seconds: float | None = attrs.field(
        default=None, validator=field_validator(NoneOr(Interval("number", ge=0)))
    )
    run_dir: str | None = None
    note: str | None = None


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
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
                f"its config is {self.folder / BEST}"
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


def write_results(result: SweepResult) -> None:
    """Write ``trials.md`` and, when a trial completed, ``best.toml`` into the sweep folder."""
    with os_errors_as(StorageError, result.folder / TABLE):
        atomic_write_text(result.folder / TABLE, result.to_text() + "\n")
    if result.best_config is not None:
        result.best_config.write_toml(result.folder / BEST)
