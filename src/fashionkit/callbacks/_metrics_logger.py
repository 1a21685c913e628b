"""A callback that appends one JSON line of metrics per epoch."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import IO, Any

import keras
import numpy as np

from fashionkit._typing import PathLike


def _plain(value: Any) -> Any:
    """Convert NumPy and tensor scalars and arrays to JSON-ready Python values."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    array = np.asarray(value)
    return array.item() if array.ndim == 0 else array.tolist()


class JSONLinesLogger(keras.callbacks.Callback):  # type: ignore[misc]
    """Write one JSON object per completed epoch to a file, flushed and synced at once.

    Each line holds ``epoch`` (1-based), ``seconds`` (the epoch's wall time) and every metric
    Keras logged (``loss``, ``accuracy``, ``val_loss``, ...). The line is flushed and
    ``fsync``-ed before the next epoch starts, so a crash or a kill loses no completed epoch,
    and a reader never sees half a line from a finished epoch.

    Args:
        path: The ``.jsonl`` file; its folder is created if needed.
        append: Keep existing lines and add to them (for resumed runs) instead of starting a
            new file. Defaults to ``False``.

    Example:
        >>> from fashionkit.callbacks import JSONLinesLogger
        >>> logger = JSONLinesLogger("run/metrics.jsonl")
        >>> result = fashionkit.train(callbacks=[logger])  # doctest: +SKIP
    """

    def __init__(self, path: PathLike, *, append: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self.append = append
        self._file: IO[str] | None = None
        self._epoch_start = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Open the file, truncating it unless ``append`` is set."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._close()
        self._file = self.path.open("a" if self.append else "w", encoding="utf-8")

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the epoch's clock."""
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Write, flush and sync the epoch's line."""
        if self._file is None:  # fit was not started through on_train_begin
            self.on_train_begin()
        assert self._file is not None  # noqa: S101 - for mypy
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "seconds": round(time.perf_counter() - self._epoch_start, 6),
        }
        record.update({k: _plain(v) for k, v in (logs or {}).items()})
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Close the file."""
        self._close()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
