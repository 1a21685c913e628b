"""A callback that checkpoints the whole model after every epoch, crash-safely."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import keras

from fashionkit import _schema
from fashionkit._io import atomic_save_model, atomic_write_text, os_errors_as
from fashionkit._messages import shown
from fashionkit._typing import PathLike
from fashionkit._validation import params
from fashionkit.callbacks._context import TrainingContext
from fashionkit.exceptions import RunDirError
from fashionkit.results import CheckpointState

_STATE = "state.json"


class EpochCheckpoint(keras.callbacks.Callback):  # type: ignore[misc]
    """Save the full model (weights and optimizer state) after each epoch, crash-safely.

    Each checkpoint is written to a temporary file, then renamed to ``epoch-NNNN.keras``; only
    then is ``state.json`` (which names the latest checkpoint) replaced, again by rename, and the
    older checkpoint deleted. A process killed at any instant therefore leaves ``state.json``
    pointing at a complete checkpoint. :func:`fashionkit.train` uses it for ``run_dir`` and
    resumes from :meth:`latest`.

    Args:
        directory: Folder for the checkpoints; created if needed.

    Example:
        >>> from fashionkit.callbacks import EpochCheckpoint
        >>> checkpoint = EpochCheckpoint("run/checkpoint")
        >>> EpochCheckpoint.latest("run/checkpoint") is None
        True
    """

    @params()
    def __init__(self, directory: PathLike) -> None:
        super().__init__()
        self.directory = Path(directory)
        self._context: TrainingContext | None = None

    @params()
    def set_context(self, context: TrainingContext) -> None:
        """Remember the run, to skip an epoch that a signal cut short."""
        self._context = context

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Write the checkpoint of the 1-based epoch ``epoch + 1``.

        Raises:
            RunDirError: The checkpoint could not be written; the previous one stays valid.
        """
        if self._context is not None and self._context.discards(epoch + 1):
            return  # cut short by a signal: the previous checkpoint stays the one to resume
        name = f"epoch-{epoch + 1:04d}.keras"
        hint = "The previous checkpoint stays valid: fix the cause, then resume."
        with os_errors_as(RunDirError, self.directory / name, hint=hint):
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_save_model(self.model, self.directory / name)
        previous = self.latest(self.directory)
        context = self._context
        state = CheckpointState(
            epoch=epoch + 1,
            checkpoint=name,
            best=context.best if context is not None else None,
            # A stop that ends the run (early stopping, a time budget) is kept; a signal's is
            # not: the run it interrupted must go on when resumed.
            stop_reason=(
                context.stop_reason
                if context is not None and context.interrupted_by is None
                else None
            ),
            partial=context is not None and context.partial_epoch == epoch + 1,
        )
        with os_errors_as(RunDirError, self.directory / _STATE, hint=hint):
            atomic_write_text(self.directory / _STATE, _schema.to_json(state, indent=None))
        # Files the new state no longer names. Deleting them is tidying, not safety: one that
        # cannot be deleted now goes with the checkpoint folder at the end.
        keep = {name, state.best.checkpoint if state.best is not None else None}
        with contextlib.suppress(OSError):
            if previous is not None and previous[1].name not in keep:
                previous[1].unlink(missing_ok=True)
            for old in self.directory.glob("best-*.keras"):
                if old.name not in keep:
                    old.unlink(missing_ok=True)

    @staticmethod
    @params()
    def latest(directory: PathLike) -> tuple[int, Path] | None:
        """Return ``(epoch, path)`` of the newest complete checkpoint, or ``None`` if there is none.

        Raises:
            RunDirError: ``state.json`` is unreadable or names a checkpoint that is missing.
        """
        state = EpochCheckpoint.read_state(directory)
        return None if state is None else (state.epoch, Path(directory) / state.checkpoint)

    @staticmethod
    @params()
    def read_state(directory: PathLike) -> CheckpointState | None:
        """Return the newest checkpoint's state, or ``None`` if there is none.

        Raises:
            RunDirError: ``state.json`` is unreadable or names a file that is missing.
        """
        folder = Path(directory)
        state = folder / _STATE
        if not state.is_file():
            return None
        try:
            data = _schema.from_data(json.loads(state.read_text(encoding="utf-8")), CheckpointState)
            names = [data.checkpoint]
            if data.best is not None and data.best.checkpoint is not None:
                names.append(data.best.checkpoint)
            if data.epoch < 1 or any(Path(name).name != name for name in names):
                raise ValueError(f"epoch {data.epoch}, files {shown(names)}")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise RunDirError(
                f"{state} is corrupted ({exc}); delete the checkpoint folder to start over."
            ) from exc
        for name in names:
            if not (folder / name).is_file():
                raise RunDirError(
                    f"{state} names {name}, which is missing; delete the checkpoint folder to "
                    f"start over."
                )
        return data
