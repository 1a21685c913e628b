"""An internal callback that evaluates the validation split at the end of every epoch."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from numpy.typing import NDArray

from fashionkit._pipeline import predict_in_batches


class EagerValidation(keras.callbacks.Callback):  # type: ignore[misc]
    """Add ``val_loss`` and ``val_accuracy`` to the epoch logs, as ``fit(validation_data=...)``.

    It calls the model directly on uint8 images scaled batch by batch, instead of letting
    ``fit`` trace a separate evaluation function and hold float copies of the split: on the
    tutorial's tiny model that tracing is a visible share of the whole ``fit``. The loss is the
    model's compiled loss (label smoothing included), as Keras reports it.
    """

    def __init__(
        self, images: NDArray[np.uint8], targets: NDArray[Any], *, layout: str, loss: Any
    ) -> None:
        super().__init__()
        self.images = images
        self.targets = targets
        self.layout = layout
        self.loss = loss

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Evaluate and write the two metrics into ``logs``."""
        if logs is None:
            return
        probs = predict_in_batches(self.model, self.images, layout=self.layout)
        labels = self.targets.argmax(axis=1) if self.targets.ndim == 2 else self.targets
        logs["val_loss"] = float(np.asarray(self.loss(self.targets, probs)))
        logs["val_accuracy"] = float((probs.argmax(axis=1) == labels).mean())
