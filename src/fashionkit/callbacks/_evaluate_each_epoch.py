"""An internal callback that evaluates the validation split at the end of every epoch."""

from __future__ import annotations

from typing import Any

import keras

from fashionkit._averaging import averaged_weights
from fashionkit._validation import Interval, params
from fashionkit.evaluation import Evaluator


class EvaluateEachEpoch(keras.callbacks.Callback):  # type: ignore[misc]
    """Add ``val_loss``, ``val_accuracy`` and ``val_per_class_accuracy`` to the epoch logs.

    It plays the part of ``fit(validation_data=...)`` with fashionkit's one evaluator: the model
    is called directly on uint8 images scaled batch by batch, without tracing a separate
    evaluation function or holding float copies of the split, and the metrics are the ones the
    final reports hold (see :mod:`fashionkit.evaluation` for what ``val_loss`` is). Both
    training loops use it. With weight averaging the averaged weights are evaluated.

    Args:
        evaluator: The validation split's evaluator.
        first_epoch: The 1-based first epoch evaluated (``TrainConfig.first_validated_epoch``);
            the epochs before it get no ``val_*`` logs.
    """

    @params(first_epoch=Interval("int", ge=1))
    def __init__(self, evaluator: Evaluator, *, first_epoch: int = 1) -> None:
        super().__init__()
        self.evaluator = evaluator
        self.first_epoch = first_epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Evaluate and write the metrics into ``logs`` (from ``first_epoch`` on)."""
        if epoch + 1 < self.first_epoch:
            return
        with averaged_weights(self.model):
            report = self.evaluator(self.model)
        if logs is not None:
            logs.update(report.epoch_logs("val_"))
