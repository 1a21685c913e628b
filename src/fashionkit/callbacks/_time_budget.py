"""A callback that stops training cleanly when a wall-clock budget is spent."""

from __future__ import annotations

import time
from typing import Any

import keras

from fashionkit._validation import Interval, params
from fashionkit.callbacks._context import TrainingContext


class TimeBudget(keras.callbacks.Callback):  # type: ignore[misc]
    """Stop training at the end of the batch during which ``seconds`` have passed.

    Keras finishes the current batch and then the epoch's bookkeeping, so the model is always
    left in a consistent state. After ``fit`` returns, :attr:`stopped` tells whether the budget
    ended training, and :attr:`stopped_epoch` (1-based) in which epoch; under
    :func:`fashionkit.train` it also reports its :attr:`reason` through the
    :class:`TrainingContext`, which ends up in the result's ``stop_reason``.

    Args:
        seconds: The budget, counted from the start of ``fit``; must be positive.

    Raises:
        ArgumentError: ``seconds`` is not a positive number.

    Attributes:
        stopped: Whether the budget stopped the last ``fit``.
        stopped_epoch: The 1-based epoch in which it stopped, or ``None``.
        epoch_cut_short: Whether that epoch lost batches (``False`` when the budget ran out on
            the epoch's last batch).

    Example:
        >>> from fashionkit.callbacks import TimeBudget
        >>> budget = TimeBudget(60.0)
        >>> result = fashionkit.train(callbacks=[budget])  # doctest: +SKIP
        >>> budget.stopped  # doctest: +SKIP
        False
    """

    @params(seconds=Interval("number", gt=0))
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = float(seconds)
        self.stopped = False
        self.stopped_epoch: int | None = None
        self.epoch_cut_short = False
        self._start = 0.0
        self._epoch = 0
        self._context: TrainingContext | None = None

    @params()
    def set_context(self, context: TrainingContext) -> None:
        """Remember the run, to report the stop to it."""
        self._context = context

    @property
    def reason(self) -> str | None:
        """A sentence saying why training stopped, or ``None`` if the budget did not stop it."""
        if not self.stopped:
            return None
        return (
            f"time budget of {self.seconds:g} s spent during epoch {self.stopped_epoch}; "
            f"training stopped at the end of a batch"
        )

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Reset the state and start the clock."""
        self.stopped = False
        self.stopped_epoch = None
        self.epoch_cut_short = False
        self._start = time.monotonic()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Remember the epoch for the report."""
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Ask Keras to stop once the budget is spent."""
        if not self.stopped and time.monotonic() - self._start >= self.seconds:
            self.stopped = True
            self.stopped_epoch = self._epoch + 1
            steps = (self.params or {}).get("steps")
            self.epoch_cut_short = steps is None or batch + 1 < steps
            self.model.stop_training = True
            if self._context is not None and self.reason is not None:
                self._context.record_stop(
                    self.reason, epoch=self.stopped_epoch, cut_short=self.epoch_cut_short
                )
