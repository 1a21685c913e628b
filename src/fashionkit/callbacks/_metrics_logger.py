"""A callback that appends one JSON line of metrics per epoch."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from fashionkit import _schema
from fashionkit._io import folder_lock, os_errors_as
from fashionkit._jsonl import append_record, repair
from fashionkit._typing import PathLike
from fashionkit._validation import params
from fashionkit.callbacks._checks import StorageErrorClass
from fashionkit.callbacks._context import TrainingContext
from fashionkit.exceptions import StorageError


def _plain(value: Any) -> Any:
    """Convert NumPy and tensor scalars and arrays to JSON-ready Python values.

    Non-finite floats become the strings ``"nan"``, ``"inf"`` and ``"-inf"``, as everywhere in
    fashionkit's files (JSON has no NaN).
    """
    if not isinstance(value, (str, bool, int, float, np.generic, np.ndarray)) and value is not None:
        value = np.asarray(value)  # a tensor
    return _schema.to_data(value)


class JSONLinesLogger(keras.callbacks.Callback):  # type: ignore[misc]
    """Write one JSON object per completed epoch to a file, flushed and synced at once.

    Each line holds ``epoch`` (1-based), ``seconds`` (the epoch's wall time) and every metric
    Keras logged (``loss``, ``accuracy``, ``val_loss``, ...); under :func:`fashionkit.train`, an
    epoch that a callback cut short also gets ``"partial": true``. The line is flushed and
    ``fsync``-ed before the next epoch starts, so a crash or a kill loses no completed epoch,
    and a reader never sees half a line from a finished epoch. Each write holds the file's
    lock (a hidden ``.NAME.lock`` beside it). With ``append``, a last line that a writer killed
    mid-append left torn is cut off when training begins (with a warning saying what was
    dropped and kept), and a damaged line elsewhere is refused, leaving the file as it is.

    Args:
        path: The ``.jsonl`` file; its folder is created if needed.
        append: Keep existing lines and add to them (for resumed runs) instead of starting a
            new file. Defaults to ``False``.
        error_type: The :class:`~fashionkit.exceptions.StorageError` class a failed write
            raises (a run directory's log raises ``RunDirError``). Defaults to ``StorageError``.
        error_hint: A sentence appended to that error's message (what the user can do).
            Defaults to none.

    Raises:
        ArgumentError: ``path`` is not a path, ``error_type`` not StorageError or a subclass
            of it, or another argument of the wrong type.

    Example:
        >>> from fashionkit.callbacks import JSONLinesLogger
        >>> logger = JSONLinesLogger("run/metrics.jsonl")
        >>> result = fashionkit.train(callbacks=[logger])  # doctest: +SKIP
    """

    @params(error_type=StorageErrorClass())
    def __init__(
        self,
        path: PathLike,
        *,
        append: bool = False,
        error_type: type[StorageError] = StorageError,
        error_hint: str = "",
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.append = append
        self._epoch_start = 0.0
        self._context: TrainingContext | None = None
        self.error_type = error_type
        self.error_hint = error_hint

    @params()
    def set_context(self, context: TrainingContext) -> None:
        """Remember the run, to mark an epoch that was cut short."""
        self._context = context

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Create the folder, and empty the file unless ``append`` is set."""
        with os_errors_as(self.error_type, self.path, hint=self.error_hint):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with folder_lock(self.path.parent, f".{self.path.name}.lock"):
                if self.append:
                    repair(self.path, error=self.error_type)
                else:
                    self.path.write_text("", encoding="utf-8")

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the epoch's clock."""
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Append the epoch's line, flush and sync it, and close the file again."""
        if self._context is not None and self._context.discards(epoch + 1):
            return  # cut short by a signal: resuming repeats the epoch
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "seconds": round(time.perf_counter() - self._epoch_start, 6),
        }
        record.update({k: _plain(v) for k, v in (logs or {}).items()})
        if self._context is not None and self._context.partial_epoch == epoch + 1:
            record["partial"] = True
        # Opened per line: no handle is left open if fit dies, and each line is durable.
        with (
            os_errors_as(self.error_type, self.path, hint=self.error_hint),
            folder_lock(self.path.parent, f".{self.path.name}.lock"),
        ):
            append_record(self.path, json.dumps(record, ensure_ascii=False))
