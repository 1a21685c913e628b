"""An internal callback that turns each epoch's logs into an EpochRecord."""

from __future__ import annotations

import time
from typing import Any

import keras

from fashionkit.results import EpochRecord


class RecordEpochs(keras.callbacks.Callback):  # type: ignore[misc]
    """Keep one :class:`~fashionkit.EpochRecord` per epoch of the last ``fit``, with its time."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[EpochRecord] = []
        self._epoch_start = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Forget the records of an earlier ``fit``."""
        self.records = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the epoch's clock."""
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the epoch's metrics."""
        seconds = time.perf_counter() - self._epoch_start
        self.records.append(EpochRecord.from_logs(epoch + 1, {**(logs or {}), "seconds": seconds}))
