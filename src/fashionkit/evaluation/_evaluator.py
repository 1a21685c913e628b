"""The evaluator of one labelled split: one prediction pass, one report."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import CLASS_NAMES
from fashionkit._pipeline import model_layout, predict_in_batches
from fashionkit._validation import (
    ArrayLike,
    KerasModel,
    check_images,
    check_same_length,
    integer_labels,
    params,
)
from fashionkit.calibration import PROBABILITIES, TEMPERATURE
from fashionkit.evaluation._report import (
    BATCH_SIZE,
    CLASS_NAMES_RULE,
    EvaluationReport,
    report_from_probabilities,
)
from fashionkit.preprocessing import IMAGES

#: What the ``labels`` of an evaluated split are (checked inside by ``integer_labels``).
LABELS_OR_ROWS = ArrayLike("integer labels (N,) or one-hot rows (N, num_classes)")

__all__ = ["Evaluator"]


class Evaluator:
    """Evaluates models on one labelled split: one prediction pass, one report.

    The images are validated once, here, and kept as they are (uint8 stays uint8); each call
    scales them batch by batch for the model's input layout, predicts, and builds the report
    with :func:`report_from_probabilities`. :func:`fashionkit.train` evaluates its validation
    split with one evaluator after every epoch (the ``val_*`` logs) and at the end (the
    result's ``validation`` report), so both are computed the same way.

    Args:
        images: ``(N, 28, 28)`` uint8 images (or any shape and dtype
            :func:`~fashionkit.preprocessing.check_images` accepts with floats allowed).
        labels: Integer labels ``(N,)`` or one-hot rows ``(N, num_classes)``.
        split: Name recorded in the reports. Defaults to ``"validation"``.
        class_names: Names in label order, at least two. Defaults to
            :data:`~fashionkit.datasets.CLASS_NAMES`.
        batch_size: Images per forward pass, at least 1. Defaults to 1024.
        tta: Flip test-time augmentation: average the probabilities of each image and its mirror
            image (two forward passes). Defaults to ``False``.

    Raises:
        InputValidationError: Bad images or labels, or different lengths.
        ArgumentError: A bad ``batch_size``, ``tta`` or ``class_names``.

    Attributes:
        latest: The report of the most recent call, or ``None`` before the first.

    Example:
        >>> import numpy as np
        >>> evaluator = Evaluator(np.zeros((4, 28, 28), np.uint8), [0, 1, 2, 3], split="demo")
        >>> len(evaluator), evaluator.latest is None
        (4, True)
    """

    @params(
        images=IMAGES, labels=LABELS_OR_ROWS, class_names=CLASS_NAMES_RULE, batch_size=BATCH_SIZE
    )
    def __init__(
        self,
        images: object,
        labels: object,
        *,
        split: str = "validation",
        class_names: Sequence[str] = CLASS_NAMES,
        batch_size: int = 1024,
        tta: bool = False,
    ) -> None:
        self.tta = tta
        self.class_names = tuple(class_names)
        self.labels = integer_labels(labels, num_classes=len(self.class_names))
        self.images = check_images(images, allow_float=True)
        check_same_length(self.images, self.labels, names="images and labels")
        self.split = split
        self.batch_size = batch_size
        self.latest: EvaluationReport | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @params()
    def with_tta(self, tta: bool) -> Evaluator:
        """Return an evaluator of the same split and images with test-time augmentation on or off.

        The images and labels are shared, not copied; each evaluator keeps its own
        :attr:`latest`.

        Example:
            >>> import numpy as np
            >>> evaluator = Evaluator(np.zeros((4, 28, 28), np.uint8), [0, 1, 2, 3], tta=True)
            >>> plain = evaluator.with_tta(False)
            >>> plain.tta, plain.images is evaluator.images
            (False, True)
        """
        other = copy.copy(self)
        other.tta = tta
        other.latest = None
        return other

    @params(model=KerasModel())
    def probabilities(self, model: Any) -> NDArray[np.float32]:
        """Predict the split with ``model`` and return the ``(N, num_classes)`` softmax outputs."""
        return predict_in_batches(
            model,
            self.images,
            layout=model_layout(model),
            batch_size=self.batch_size,
            tta=self.tta,
        )

    @params(probabilities=PROBABILITIES, temperature=TEMPERATURE)
    def report(self, probabilities: object, *, temperature: float = 1.0) -> EvaluationReport:
        """The report of probabilities :meth:`probabilities` returned, remembered as latest.

        Args:
            probabilities: ``(N, num_classes)`` outputs for this split's images.
            temperature: Applied before scoring (see
                :func:`~fashionkit.calibration.apply_temperature`). Defaults to 1.0.

        Raises:
            InputValidationError: As :func:`report_from_probabilities`.
        """
        report = report_from_probabilities(
            probabilities,
            self.labels,
            split=self.split,
            class_names=self.class_names,
            tta=self.tta,
            temperature=temperature,
        )
        self.latest = report
        return report

    def __call__(self, model: Any, *, temperature: float = 1.0) -> EvaluationReport:
        """Evaluate ``model`` on the split, remember the report as :attr:`latest`, return it.

        ``temperature`` rescales the probabilities before scoring (1.0: as the model gives
        them).
        """
        return self.report(self.probabilities(model), temperature=temperature)
