"""What a training process reads from a run directory to resume it, and the folder checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fashionkit._messages import shown
from fashionkit._validation import params
from fashionkit.config import TrainConfig, training_differences
from fashionkit.exceptions import RunDirError
from fashionkit.results import CheckpointState, EpochRecord
from fashionkit.runs._files import read_config
from fashionkit.runs._layout import RunLayout
from fashionkit.runs._models import load_model

__all__ = ["ResumeState", "check_contents", "refuse_file", "same_training"]


@params()
def same_training(old: TrainConfig, new: TrainConfig) -> bool:
    """Whether a run of ``old`` may go on as a run of ``new`` (the check of a resume).

    They may differ only in :attr:`~fashionkit.config.TrainConfig.REPORTING_FIELDS` (what is
    printed, not what is trained). Sweeps ask it too, to tell a trial's own run directory.
    """
    return not training_differences(old, new)


def read_checkpoint_state(layout: RunLayout) -> CheckpointState | None:
    """The newest checkpoint's state, or ``None`` when the run has none."""
    from fashionkit.callbacks import EpochCheckpoint

    return EpochCheckpoint.read_state(layout.checkpoints)


class ResumeState:
    """A run directory's config, newest checkpoint and completed epochs, as training resumes.

    The shared part of :class:`~fashionkit.runs.RunWriter` (the process that writes the
    folder) and :class:`~fashionkit.runs.RunFollower` (another worker of a multi-worker run):
    the epoch to resume after and the checkpoint to resume from both come from the
    checkpoint's saved state.

    Attributes:
        layout: Where the run's files lie.
        config: The config of the run.
        state: The checkpoint's saved state (the epoch, the best epoch, and whether training
            had stopped there), or ``None`` for a new run.
        history: The records of the completed epochs, from ``metrics.jsonl``.
    """

    @params()
    def __init__(
        self,
        layout: RunLayout,
        config: TrainConfig,
        *,
        state: CheckpointState | None,
        history: tuple[EpochRecord, ...],
    ) -> None:
        self.layout = layout
        self.config = config
        self.state = state
        self.history = history

    @property
    def path(self) -> Path:
        """The folder."""
        return self.layout.root

    @property
    def resume_epoch(self) -> int:
        """Epochs already completed (0 for a new run)."""
        return self.state.epoch if self.state is not None else 0

    @property
    def checkpoint(self) -> Path | None:
        """The checkpoint to resume from, or ``None`` for a new run."""
        if self.state is None:
            return None
        return self.layout.checkpoints / self.state.checkpoint

    @property
    def stop_reason(self) -> str | None:
        """Why training stopped at the resumed checkpoint (nothing more to train), or ``None``."""
        return None if self.state is None else self.state.stop_reason

    def restore_model(self) -> Any:
        """The model of the newest checkpoint, or ``None`` for a new run."""
        return None if self.checkpoint is None else load_model(self.checkpoint)


def refuse_file(directory: Path) -> None:
    """Refuse a path that is a file, where a run directory (new or unfinished) belongs.

    Raises:
        RunDirError: It is a file.
    """
    if directory.exists() and not directory.is_dir():
        raise RunDirError(
            f"{directory} is a file, not a folder; choose a folder (new or holding an "
            f"unfinished run) as the run directory."
        )


def _has_progress(layout: RunLayout) -> bool:
    """Whether a run directory holds a checkpoint or a logged epoch (work to resume)."""
    metrics = layout.metrics
    return layout.checkpoints.exists() or (metrics.is_file() and metrics.stat().st_size > 0)


def check_contents(layout: RunLayout, config: TrainConfig) -> None:
    """Refuse a folder that holds a run of another config, a completed run, or other files.

    Raises:
        RunDirError: It does, or its config cannot be read back.
    """
    directory = layout.root
    if not layout.config.is_file():
        # Hidden names are the lock and the leftovers of interrupted writes.
        others = (
            sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))
            if directory.is_dir()
            else []
        )
        if others:
            raise RunDirError(
                f"{directory} is not empty ({', '.join(others[:5])}"
                f"{', ...' if len(others) > 5 else ''}) and holds no run ({layout.config.name} "
                f"is missing). Choose a new or empty folder as the run directory."
            )
        return
    diffs = training_differences(read_config(layout.config), config)
    if diffs and not _has_progress(layout) and not layout.summary.exists():
        return  # an earlier attempt failed before its first epoch: the new config replaces it
    if diffs:
        listed = "; ".join(
            f"{key}: {shown(a)} in the directory, {shown(b)} now" for key, a, b in diffs
        )
        raise RunDirError(
            f"{directory} holds a run with a different config, so it cannot be resumed: "
            f"{listed}. Use the same config to resume, or a new run directory."
        )
    if layout.summary.is_file():
        raise RunDirError(
            f"{directory} already holds a completed run. Read it with fashionkit.load_run, or "
            f"train into a new run directory."
        )
