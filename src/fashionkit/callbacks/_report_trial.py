"""An internal callback of sweeps: report each epoch to an Optuna trial, and keep the deadline."""

from __future__ import annotations

import math
import time
from typing import Any

import attrs
import keras

from fashionkit._validation import Constraint, Interval, NoneOr, params


class PrunedError(Exception):
    """Raised by :class:`ReportToTrial` when the pruner stops the trial.

    Args:
        message: Why, for the trial's note.
        epochs: The epochs trained when it was pruned.
        best: The best value reported before it was pruned (``nan``: none).
    """

    def __init__(self, message: str, epochs: int, best: float = math.nan) -> None:
        super().__init__(message)
        self.epochs = epochs
        self.best = best


class DeadlineError(Exception):
    """Raised by :class:`ReportToTrial` when the sweep's time budget has run out."""


@attrs.frozen
class _Trial(Constraint):
    """An Optuna trial as this callback uses it: ``report`` and ``should_prune``."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` can be reported to and asked whether to prune."""
        return all(callable(getattr(value, name, None)) for name in ("report", "should_prune"))

    def describe(self) -> str:
        """``an Optuna trial``."""
        return "an Optuna trial (optuna.trial.Trial)"


class ReportToTrial(keras.callbacks.Callback):  # type: ignore[misc]
    """Report each epoch's ``monitor`` to an Optuna trial, prune, and keep the sweep's deadline.

    The deadline is a second time budget beside :class:`~fashionkit.callbacks.TimeBudget`, on
    purpose. ``TimeBudget`` asks Keras to stop, and :func:`fashionkit.train` then finishes the
    run as complete, with its stop reason. A sweep's trial must not end that way: scored on the
    epochs it had, it would be compared with trials that trained them all, and never trained
    further. So this callback raises :class:`DeadlineError` at the end of the batch during
    which the deadline passed; the run directory keeps its checkpoint, and the sweep fails the
    trial and queues it again, for the next run of the sweep to resume. The deadline is also
    an instant (``time.time()``), the same for every worker, not a span from the start of
    ``fit``.

    Args:
        trial: The Optuna trial (``trial.report``, ``trial.should_prune``).
        deadline: When to stop, as ``time.time()`` reads it; ``None`` for no deadline.
        monitor: The log value reported each epoch. Defaults to ``"val_accuracy"``.

    Raises:
        PrunedError: The pruner stopped the trial (from ``on_epoch_end``).
        DeadlineError: The deadline passed (from ``on_train_batch_end``).
    """

    @params(trial=_Trial(), deadline=NoneOr(Interval("number", ge=0)))
    def __init__(self, trial: Any, *, deadline: float | None, monitor: str = "val_accuracy"):
        super().__init__()
        self.trial = trial
        self.deadline = deadline
        self.monitor = monitor
        self._best = math.nan

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Forget the values of an earlier ``fit``."""
        self._best = math.nan

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Report the epoch's value (when finite), and stop the trial if the pruner says so."""
        value = (logs or {}).get(self.monitor)
        if isinstance(value, int | float) and math.isfinite(value):
            self.trial.report(float(value), step=epoch + 1)
            self._best = float(value) if math.isnan(self._best) else max(self._best, value)
            if self.trial.should_prune():
                raise PrunedError(
                    f"pruned after epoch {epoch + 1} ({self.monitor} {value:.4f})",
                    epoch + 1,
                    best=self._best,
                )

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Stop the trial once the deadline has passed."""
        if self.deadline is not None and time.time() >= self.deadline:
            raise DeadlineError("stopped by the sweep's time budget")
