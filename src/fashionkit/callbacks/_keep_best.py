"""An internal callback that keeps the best epoch's model and stops training on a plateau."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras
import numpy as np
from numpy.typing import NDArray

from fashionkit._averaging import averaged_weights
from fashionkit._io import atomic_save_model, os_errors_as
from fashionkit._validation import params
from fashionkit.callbacks._context import TrainingContext
from fashionkit.config import EarlyStoppingConfig
from fashionkit.exceptions import RunDirError
from fashionkit.results import BestEpoch


def best_name(epoch: int) -> str:
    """File name of the best model of 1-based ``epoch`` in a checkpoint folder."""
    return f"best-{epoch:04d}.keras"


class KeepBest(keras.callbacks.Callback):  # type: ignore[misc]
    """Track the monitored validation metric, keep the best model, stop after a patience.

    Runs after the epoch's evaluation (it reads ``val_*`` from the logs). On an improvement the
    evaluated weights (the average, with weight averaging) are kept: in memory, and in the run
    directory's checkpoint folder under :func:`best_name`, written atomically before the
    epoch's checkpoint names it in ``state.json`` (which then deletes the older best). The
    state it tracks is :attr:`TrainingContext.best`, which every checkpoint saves; a resumed
    run hands it back as ``resumed``.

    Args:
        config: The metric, patience and minimum improvement.
        directory: The run's checkpoint folder, or ``None`` to keep the best in memory only.
        resumed: The state of the best epoch saved by the checkpoint resumed from.
    """

    @params()
    def __init__(
        self,
        config: EarlyStoppingConfig,
        *,
        directory: Path | None = None,
        resumed: BestEpoch | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.directory = directory
        self.resumed = resumed
        self.best_weights: list[NDArray[Any]] | None = None
        self._context: TrainingContext | None = None

    @params()
    def set_context(self, context: TrainingContext) -> None:
        """Share the best epoch through the run's context (the checkpoint saves it)."""
        self._context = context
        context.best = self.resumed

    def _improves(self, value: float, best: BestEpoch | None) -> bool:
        if not math.isfinite(value):
            return False
        if best is None:
            return True
        delta = self.config.min_delta
        if self.config.higher_is_better:
            return value > best.value + delta
        return value < best.value - delta

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Compare, keep an improvement, and stop when the patience has run out.

        Raises:
            RunDirError: The best model could not be written (the previous best stays).
        """
        context = self._context
        if context is None or context.discards(epoch + 1):
            return
        monitor = self.config.monitor
        raw = (logs or {}).get(monitor)
        value = float(raw) if isinstance(raw, (int, float, np.floating)) else math.nan
        best = context.best
        if self._improves(value, best):
            name = None
            with averaged_weights(self.model):
                self.best_weights = [np.array(w) for w in self.model.get_weights()]
                if self.directory is not None:
                    name = best_name(epoch + 1)
                    target = self.directory / name
                    hint = "The previous best model stays: fix the cause, then resume."
                    with os_errors_as(RunDirError, target, hint=hint):
                        self.directory.mkdir(parents=True, exist_ok=True)
                        atomic_save_model(self.model, target)
            context.best = BestEpoch(epoch=epoch + 1, value=value, waited=0, checkpoint=name)
            return
        if best is None:
            return
        best = BestEpoch(
            epoch=best.epoch, value=best.value, waited=best.waited + 1, checkpoint=best.checkpoint
        )
        context.best = best
        patience = self.config.patience
        if patience is not None and best.waited >= patience:
            self.model.stop_training = True
            context.record_stop(
                f"early stopping: {monitor} did not improve for {patience} epoch(s) after its "
                f"best, {best.value:.4f} at epoch {best.epoch}",
                epoch=epoch + 1,
            )
