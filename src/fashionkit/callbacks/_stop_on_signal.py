"""An internal callback that turns SIGINT and SIGTERM into a clean stop at a batch boundary."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import keras

from fashionkit._validation import params
from fashionkit.callbacks._context import TrainingContext

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignal(keras.callbacks.Callback):  # type: ignore[misc]
    """Stop training at the next batch boundary when the process receives SIGINT or SIGTERM.

    From ``on_train_begin`` until :meth:`restore` (which :func:`fashionkit.train` calls when it
    returns or fails), the two signals only raise a flag; the next ``on_train_batch_end`` sets
    ``model.stop_training`` and records the signal in the :class:`TrainingContext`. The epoch in
    progress is then neither logged nor checkpointed, so the run directory keeps exactly the
    completed epochs. A signal that arrives after the last batch (during the last epoch's
    validation or checkpoint) is recorded at ``on_train_end``, with no epoch lost. The first
    signal puts the previous handlers back, so a second one acts as it would without
    fashionkit (a second Ctrl-C aborts at once). Handlers can only be installed from the main
    thread; elsewhere this does nothing.
    """

    @params()
    def __init__(self, context: TrainingContext) -> None:
        super().__init__()
        self.context = context
        self.received: int | None = None
        self._previous: dict[int, Any] = {}
        self._epoch = 0

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        self.restore()  # a second signal acts as usual

    def restore(self) -> None:
        """Put the previous handlers back (nothing happens if they are back already)."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Install the handlers."""
        self.received = None
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Remember the epoch, for the report."""
        self._epoch = epoch

    def record(self, *, cut_short: bool) -> None:
        """Hand a received signal to the context once; the signal's reason wins."""
        if self.received is None or self.context.interrupted_by is not None:
            return
        self.context.interrupted_by = self.received
        self.context.stop_reason = None  # a signal overrides an earlier stop reason
        name = signal.Signals(self.received).name
        self.context.record_stop(
            f"interrupted by {name} during epoch {self._epoch + 1}",
            epoch=self._epoch + 1,
            cut_short=cut_short,
        )

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Stop once a signal has arrived."""
        if self.received is not None and self.context.interrupted_by is None:
            steps = (self.params or {}).get("steps")
            self.record(cut_short=steps is None or batch + 1 < steps)
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Record a signal that came after the last batch (no epoch is cut short then)."""
        self.record(cut_short=False)
