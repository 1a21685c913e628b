"""What :func:`fashionkit.train` tells the callbacks about the run."""

from __future__ import annotations

from pathlib import Path

import attrs

from fashionkit._validation import Interval, NoneOr, annotated_fields, field_validator, params
from fashionkit.config import TrainConfig
from fashionkit.evaluation import Evaluator
from fashionkit.results import BestEpoch

#: A 1-based epoch.
_EPOCH = Interval("int", ge=1)


@attrs.define(kw_only=True, eq=False, field_transformer=annotated_fields)
class TrainingContext:
    """The run a callback takes part in, handed to it by :func:`fashionkit.train`.

    Before training starts, ``train`` calls ``callback.set_context(context)`` on every callback
    that defines a ``set_context`` method, fashionkit's own and the user's alike; a callback
    used with plain ``model.fit`` simply never receives one. Through it a callback reads the
    run's config and validation split, and reports why it stopped training.

    Attributes:
        config: The run's resolved config.
        validation: The evaluator of the validation split. Its ``latest`` report is the one
            behind this epoch's ``val_*`` logs once fashionkit's own epoch-end evaluation has
            run, which is before any callback passed to ``train``.
        initial_epoch: Epochs completed before this ``fit`` started (above 0 when resumed).
        run_dir: The run directory, or ``None``.
        stop_reason: Why a callback stopped training, as it reported through
            :meth:`record_stop`; ``None`` while none has.
        partial_epoch: The 1-based epoch that stop cut short, or ``None``.
        interrupted_by: The signal number (SIGINT, SIGTERM) that stopped training, or ``None``.
            An epoch it cut short is neither logged nor checkpointed in the run directory, so
            that resuming repeats it whole.
        best: The best epoch so far by ``config.early_stopping.monitor``, or ``None`` before
            the first evaluation.

    Example:
        >>> class StopAtEpochTwo(keras.callbacks.Callback):  # doctest: +SKIP
        ...     def set_context(self, context):
        ...         self.context = context
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         if epoch + 1 == 2:
        ...             self.model.stop_training = True
        ...             self.context.record_stop("enough after two epochs", epoch=2)
    """

    config: TrainConfig
    validation: Evaluator
    initial_epoch: int = attrs.field(default=0, validator=field_validator(Interval("int", ge=0)))
    run_dir: Path | None = None
    stop_reason: str | None = None
    partial_epoch: int | None = attrs.field(default=None, validator=field_validator(NoneOr(_EPOCH)))
    interrupted_by: int | None = None
    best: BestEpoch | None = None

    @params(epoch=_EPOCH)
    def record_stop(self, reason: str, *, epoch: int, cut_short: bool = False) -> None:
        """Say why training stops after 1-based ``epoch``; the first reason recorded is kept.

        Args:
            reason: A sentence for :attr:`fashionkit.TrainResult.stop_reason`.
            epoch: The 1-based epoch in which training stops.
            cut_short: That epoch lost batches (its metrics cover only part of it).
        """
        if self.stop_reason is None:
            self.stop_reason = reason
            self.partial_epoch = epoch if cut_short else None

    @params(epoch=_EPOCH)
    def discards(self, epoch: int) -> bool:
        """Whether the 1-based ``epoch`` was cut short by a signal (and must not be kept)."""
        return self.interrupted_by is not None and self.partial_epoch == epoch
