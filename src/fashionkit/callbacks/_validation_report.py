"""A callback that keeps the validation confusion matrix of every epoch."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from numpy.typing import NDArray

from fashionkit._validation import ArrayLike, Interval, NoneOr, params
from fashionkit.callbacks._context import TrainingContext
from fashionkit.evaluation import Evaluator
from fashionkit.exceptions import InputValidationError


class ValidationReport(keras.callbacks.Callback):  # type: ignore[misc]
    """Keep the validation confusion matrix after every ``every`` epochs.

    It keeps each confusion matrix in :attr:`confusion_matrices`, keyed by the 1-based epoch,
    and, under plain ``model.fit``, adds ``val_per_class_accuracy`` (one recall per class) to
    the epoch's logs (:func:`fashionkit.train` logs that metric for its validation split
    anyway, and a report on other data does not overwrite it). Under :func:`fashionkit.train`
    without data of its own it reads the report of the run's validation evaluator (see
    :class:`TrainingContext`), so nothing is predicted twice; with ``x`` and ``y`` it
    evaluates them itself, also under plain ``model.fit``.

    Args:
        x: Validation images (anything :class:`~fashionkit.evaluation.Evaluator` accepts:
            uint8 ``(N, 28, 28)``, or scaled floats flat or as images). When omitted,
            :func:`fashionkit.train` supplies its validation split.
        y: Integer validation labels ``(N,)``.
        every: Report every this many epochs. Defaults to 1.
        batch_size: Images per forward pass. Defaults to 1024.

    Raises:
        InputValidationError: Only one of ``x`` and ``y`` given, or invalid arrays.
        ArgumentError: ``every`` or ``batch_size`` is not a positive integer.

    Attributes:
        confusion_matrices: ``(num_classes, num_classes)`` count matrices of the last ``fit``,
            keyed by 1-based epoch; rows are true classes, columns predicted ones.

    Example:
        >>> from fashionkit.callbacks import ValidationReport
        >>> report = ValidationReport()
        >>> result = fashionkit.train(callbacks=[report])  # doctest: +SKIP
        >>> report.confusion_matrices[5].shape  # doctest: +SKIP
        (10, 10)
    """

    @params(
        x=NoneOr(ArrayLike("validation images (N, 28, 28), uint8 or scaled floats")),
        y=NoneOr(ArrayLike("integer validation labels (N,)")),
        every=Interval("int", ge=1),
        batch_size=Interval("int", ge=1),
    )
    def __init__(
        self,
        x: object | None = None,
        y: object | None = None,
        *,
        every: int = 1,
        batch_size: int = 1024,
    ) -> None:
        super().__init__()
        if (x is None) != (y is None):
            raise InputValidationError("ValidationReport needs both x and y, or neither.")
        self.every = every
        self.batch_size = batch_size
        self._own: Evaluator | None = (
            Evaluator(x, y, batch_size=batch_size) if x is not None else None
        )
        self._shared: Evaluator | None = None
        self.confusion_matrices: dict[int, NDArray[np.int64]] = {}

    @params()
    def set_context(self, context: TrainingContext) -> None:
        """Use the run's validation evaluator when no data was given."""
        self._shared = context.validation

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Forget the matrices of an earlier ``fit``."""
        if self._own is None and self._shared is None:
            raise InputValidationError(
                "ValidationReport has no validation data: pass x and y, or use it through "
                "fashionkit.train, which supplies its validation split."
            )
        self.confusion_matrices = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the epoch's confusion matrix and per-class accuracy."""
        if (epoch + 1) % self.every != 0:
            return
        if self._own is not None:
            report = self._own(self.model)
        elif self._shared is not None and self._shared.latest is not None:
            report = self._shared.latest
        else:  # an epoch train() does not validate (TrainConfig.validate_last_epochs)
            return
        self.confusion_matrices[epoch + 1] = np.asarray(report.confusion_matrix, dtype=np.int64)
        # Inside train(), val_per_class_accuracy already describes the run's validation split;
        # a report on other data keeps its matrices without overwriting it.
        if logs is not None and not (self._own is not None and self._shared is not None):
            logs["val_per_class_accuracy"] = list(report.per_class_recall)
