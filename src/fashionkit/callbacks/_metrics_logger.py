"""A callback that appends one JSON line of metrics per epoch."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

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
        self._epoch_start = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Create the folder, and empty the file unless ``append`` is set."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.append:
            self.path.write_text("", encoding="utf-8")

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the epoch's clock."""
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Append the epoch's line, flush and sync it, and close the file again."""
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "seconds": round(time.perf_counter() - self._epoch_start, 6),
        }
        record.update({k: _plain(v) for k, v in (logs or {}).items()})
        # Opened per line: no handle is left open if fit dies, and each line is durable.
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
