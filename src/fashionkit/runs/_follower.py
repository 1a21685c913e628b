"""The other workers of a multi-worker run: they resume from the chief's folder, writing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fashionkit._typing import PathLike
from fashionkit._validation import ArrayLike, NoneOr, SequenceOf, params
from fashionkit.config import TrainConfig
from fashionkit.results import CheckpointState, EpochRecord, TrainResult
from fashionkit.runs._files import read_epoch_lines, records
from fashionkit.runs._layout import RunLayout
from fashionkit.runs._models import load_model
from fashionkit.runs._resume import ResumeState, check_contents, read_checkpoint_state, refuse_file

__all__ = ["RunFollower"]


class RunFollower(ResumeState):
    """A run directory that another process writes: the chief of a multi-worker run.

    Every other worker of a ``multi_worker`` run follows the chief's folder: it resumes from
    the same checkpoint, and writes nothing and takes no lock (the chief holds it). The folder
    must be on a filesystem every worker sees. Its methods mirror
    :class:`~fashionkit.runs.RunWriter`'s, doing nothing where the writer writes.
    """

    @params(best_weights=NoneOr(SequenceOf(ArrayLike("weight arrays"))))
    def __init__(
        self,
        layout: RunLayout,
        config: TrainConfig,
        *,
        state: CheckpointState | None,
        history: tuple[EpochRecord, ...],
        best_weights: list[Any] | None,
    ) -> None:
        super().__init__(layout, config, state=state, history=history)
        self._best_weights = best_weights

    @classmethod
    @params()
    def follow(cls, path: PathLike, config: TrainConfig) -> RunFollower:
        """Read the chief's folder: the checkpoint to resume from and the completed epochs.

        The best epoch's weights are read now, while the chief cannot yet move on (it waits for
        this worker in its first step).

        Raises:
            RunDirError: The path is a file, the folder holds a run of another config or a
                completed run, or the checkpoint state or the metrics log is damaged.
        """
        layout = RunLayout(Path(path))
        refuse_file(layout.root)
        if layout.config.is_file():
            # The chief refuses the same folders; refusing here too spares this worker the wait
            # for a chief that has given up.
            check_contents(layout, config)
        state = read_checkpoint_state(layout)
        epoch = state.epoch if state is not None else 0
        history = records(read_epoch_lines(layout.metrics, through=epoch), layout.metrics)
        best = state.best if state is not None else None
        weights = None
        if config.early_stopping.restore_best and best is not None and best.checkpoint:
            weights = load_model(layout.checkpoints / best.checkpoint).get_weights()
        return cls(layout, config, state=state, history=history, best_weights=weights)

    @property
    def checkpoint_folder(self) -> None:
        """``None``: a follower keeps no checkpoints (the chief does)."""
        return None

    def callbacks(self) -> list[Any]:
        """None: the chief keeps the folder up to date."""
        return []

    def best_weights(self) -> list[Any] | None:
        """The best epoch's weights as read when the folder was followed (or ``None``).

        By now the chief may have replaced or removed that checkpoint.
        """
        return self._best_weights

    @params()
    def write_results(self, result: TrainResult) -> None:
        """Nothing: the chief writes the results."""

    def close(self) -> None:
        """Nothing: a follower holds no lock."""
