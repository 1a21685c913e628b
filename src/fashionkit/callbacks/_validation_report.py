"""A callback that adds per-class validation accuracy to the epoch logs."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from numpy.typing import NDArray

from fashionkit._pipeline import predict_in_batches
from fashionkit.exceptions import InputValidationError


class ValidationReport(keras.callbacks.Callback):  # type: ignore[misc]
    """Compute the validation confusion matrix after every ``every`` epochs.

    It adds ``val_per_class_accuracy`` (a float array, one value per class) to the epoch's
    logs, where later callbacks such as :class:`JSONLinesLogger` record it (Keras's progress
    bar shows its mean, the balanced accuracy), and keeps each confusion matrix in
    :attr:`confusion_matrices`, keyed by the 1-based epoch.

    Args:
        x: Validation inputs as the model takes them. When omitted,
            :func:`fashionkit.train` supplies its validation split.
        y: Integer validation labels ``(N,)``.
        every: Report every this many epochs. Defaults to 1.
        batch_size: Images per forward pass. Defaults to 1024.

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

    def __init__(
        self,
        x: NDArray[np.float32] | None = None,
        y: NDArray[np.integer[Any]] | None = None,
        *,
        every: int = 1,
        batch_size: int = 1024,
    ) -> None:
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise InputValidationError(f"every must be a positive integer; got {every!r}.")
        self.every = every
        self.batch_size = batch_size
        self.x: NDArray[np.float32] | None = None
        self.y: NDArray[np.intp] | None = None
        if (x is None) != (y is None):
            raise InputValidationError("ValidationReport needs both x and y, or neither.")
        if x is not None and y is not None:
            self.set_data(x, y)
        self.confusion_matrices: dict[int, NDArray[np.int64]] = {}

    def set_data(self, x: NDArray[np.float32], y: NDArray[np.integer[Any]]) -> None:
        """Set the validation inputs and integer labels."""
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(x):
            raise InputValidationError(
                f"ValidationReport needs integer labels (N,) matching x's {len(x)} rows; got "
                f"shape {labels.shape}."
            )
        self.x = np.asarray(x)
        self.y = labels.astype(np.intp)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Forget the matrices of an earlier ``fit``."""
        if self.x is None:
            raise InputValidationError(
                "ValidationReport has no validation data: pass x and y, or use it through "
                "fashionkit.train, which supplies its validation split."
            )
        self.confusion_matrices = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Predict the validation set and add the per-class accuracy to ``logs``."""
        if (epoch + 1) % self.every != 0 or self.x is None or self.y is None:
            return
        probs = predict_in_batches(self.model, self.x, batch_size=self.batch_size)
        predicted = np.asarray(probs).argmax(axis=1)
        n = int(np.asarray(probs).shape[1])
        matrix = np.zeros((n, n), dtype=np.int64)
        np.add.at(matrix, (self.y, predicted), 1)
        self.confusion_matrices[epoch + 1] = matrix
        totals = matrix.sum(axis=1)
        per_class = np.divide(
            np.diag(matrix), totals, out=np.zeros(n, dtype=np.float64), where=totals > 0
        )
        if logs is not None:
            logs["val_per_class_accuracy"] = per_class.astype(np.float32)
