"""Evaluating and using a trained model: typed reports, per-class metrics, predictions.

One implementation computes every metric fashionkit reports: :func:`report_from_probabilities`
turns softmax outputs and labels into an :class:`EvaluationReport` (the confusion matrix, then
precision, recall and F1 from it, and the loss). :class:`Evaluator` predicts one split in one
pass and builds that report; training uses it after every epoch for the ``val_*`` metrics
and at the end for the final reports, and :func:`evaluate` uses it on any labelled images.

**The loss.** ``loss`` here, and so ``val_loss`` in training logs, is the mean categorical
cross-entropy of the predicted probabilities against the true labels, with probabilities
clipped to ``[1e-7, 1 - 1e-7]`` as Keras clips them and **without label smoothing**: it
measures the model, not the training objective, so it is comparable across loss configs.
With ``LossConfig(label_smoothing=s)`` the training ``loss`` Keras logs includes the smoothing
and is therefore higher than ``val_loss`` would be on the same data.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit import _html, _schema
from fashionkit._constants import CLASS_NAMES
from fashionkit._pipeline import model_layout, predict_in_batches
from fashionkit._validation import (
    check_images,
    check_labels,
    check_probabilities,
    check_same_length,
    check_scalar,
    integer_labels,
)
from fashionkit.calibration import (
    DEFAULT_BINS,
    apply_temperature,
    check_temperature,
    expected_calibration_error,
    mean_cross_entropy,
)
from fashionkit.exceptions import InputValidationError

__all__ = [
    "ClassMetrics",
    "EvaluationReport",
    "Evaluator",
    "Prediction",
    "evaluate",
    "predict",
    "report_from_probabilities",
]


@attrs.frozen(kw_only=True)
class ClassMetrics:
    """Precision, recall and F1 of one class.

    Attributes:
        name: The class name.
        precision: Share of images predicted as this class that belong to it (0 when none is).
        recall: Share of this class's images predicted correctly (its accuracy).
        f1: Harmonic mean of precision and recall.
        support: Number of images of this class.
    """

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@attrs.frozen(kw_only=True, eq=False)
class EvaluationReport:
    """How well a model classifies one split.

    Attributes:
        split: Name of the evaluated split, such as ``"validation"`` or ``"test"``.
        loss: Mean categorical cross-entropy of the predicted probabilities, without label
            smoothing (see the module documentation).
        accuracy: Share of images classified correctly.
        per_class: Precision, recall and F1 of each class, in label order.
        confusion_matrix: ``confusion_matrix[i][j]`` counts images of class ``i`` predicted as
            class ``j``.
        class_names: Class names, in label order.
        tta: Whether the probabilities were averaged over each image and its mirror image
            (test-time augmentation). Reports written before this field existed read back as
            ``False``.
        temperature: The temperature applied to the model's probabilities before scoring
            (see :mod:`fashionkit.calibration`); 1.0 when uncalibrated, and in reports written
            before this field existed.
        ece: Expected calibration error of the scored probabilities (15 confidence bins);
            ``None`` in reports written before this field existed, NaN without images.
    """

    split: str
    loss: float
    accuracy: float
    per_class: tuple[ClassMetrics, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]
    class_names: tuple[str, ...]
    tta: bool = False
    temperature: float = 1.0
    ece: float | None = None

    @property
    def n_samples(self) -> int:
        """Number of evaluated images."""
        return sum(sum(row) for row in self.confusion_matrix)

    @property
    def per_class_recall(self) -> tuple[float, ...]:
        """Recall (per-class accuracy) of each class, in label order."""
        return tuple(m.recall for m in self.per_class)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain dicts and lists (JSON-ready), in its documented layout."""
        data: dict[str, Any] = _schema.to_data(self)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Rebuild a report from :meth:`to_dict` output (as read back from JSON).

        Unknown keys are ignored (a report written by a newer fashionkit stays readable).

        Raises:
            KeyError: A field is missing.
            TypeError, ValueError: A field has the wrong type, or the parts disagree (per-class
                rows, class names and the confusion matrix must all have one entry per class).
        """
        return _schema.from_data(data, cls)

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return :meth:`to_dict` as a JSON string (UTF-8 class names kept readable)."""
        return _schema.to_json(self, indent=indent)

    def to_text(self) -> str:
        """Return a plain-text table of the per-class metrics and the totals."""
        width = max(len("class"), *(len(n) for n in self.class_names))
        extras = [f"ECE {self.ece:.4f}"] if self.ece is not None else []
        if self.temperature != 1.0:
            extras.append(f"temperature {self.temperature:.4f}")
        if self.tta:
            extras.append("flip test-time augmentation")
        lines = [
            f"{self.split}: accuracy {self.accuracy:.4f}, loss {self.loss:.4f}, "
            f"{self.n_samples} images" + "".join(f", {e}" for e in extras),
            f"{'class':<{width}}  precision  recall  f1      support",
        ]
        for m in self.per_class:
            lines.append(
                f"{m.name:<{width}}  {m.precision:9.4f}  {m.recall:6.4f}  {m.f1:6.4f}  "
                f"{m.support:7d}"
            )
        return "\n".join(lines)

    def epoch_logs(self, prefix: str = "val_") -> dict[str, Any]:
        """The metrics training writes into an epoch's logs: loss, accuracy, per-class recall.

        Example:
            >>> import numpy as np
            >>> report = report_from_probabilities(np.eye(10), np.arange(10), split="validation")
            >>> sorted(report.epoch_logs())
            ['val_accuracy', 'val_loss', 'val_per_class_accuracy']
        """
        return {
            f"{prefix}loss": self.loss,
            f"{prefix}accuracy": self.accuracy,
            f"{prefix}per_class_accuracy": list(self.per_class_recall),
        }

    def __attrs_post_init__(self) -> None:
        n = len(self.class_names)
        if (
            len(self.per_class) != n
            or len(self.confusion_matrix) != n
            or any(len(row) != n for row in self.confusion_matrix)
            or any(m.name != name for m, name in zip(self.per_class, self.class_names, strict=True))
        ):
            raise ValueError(
                f"an evaluation report needs one per-class entry (of the same name) and one "
                f"confusion-matrix row and column per class; got {n} class names, "
                f"{len(self.per_class)} per-class entries and a {len(self.confusion_matrix)}-row "
                f"matrix"
            )

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        """The summary line, the per-class table and the confusion matrix, as HTML."""
        per_class = _html.table(
            ["class", "precision", "recall", "f1", "support"],
            ((m.name, m.precision, m.recall, m.f1, m.support) for m in self.per_class),
            row_header=True,
        )
        matrix = _html.table(
            ["true \\ predicted", *self.class_names],
            (
                (name, *row)
                for name, row in zip(self.class_names, self.confusion_matrix, strict=True)
            ),
            row_header=True,
        )
        return (
            _html.caption(self.to_text().splitlines()[0])
            + per_class
            + _html.caption("confusion matrix")
            + matrix
        )


@attrs.frozen(kw_only=True, eq=False)
class Prediction:
    """Predicted classes of a batch of images.

    Attributes:
        classes: ``(N,)`` predicted class indices.
        names: Predicted class names, one per image.
        probabilities: ``(N, num_classes)`` softmax outputs (with ``tta``, the mean over each
            image and its mirror image; with a temperature other than 1, rescaled by it).
        tta: Whether flip test-time augmentation was used.
        temperature: The temperature applied to the probabilities (1.0: none).
    """

    classes: NDArray[np.intp]
    names: tuple[str, ...]
    probabilities: NDArray[np.float32]
    tta: bool = False
    temperature: float = 1.0

    def __len__(self) -> int:
        return len(self.names)


def _class_names(class_names: Sequence[str]) -> tuple[str, ...]:
    names = tuple(class_names)
    if len(names) < 2 or not all(isinstance(n, str) for n in names):
        raise InputValidationError(
            f"class_names must be at least two strings, in label order; got {class_names!r}."
        )
    return names


def _check_batch_size(batch_size: object) -> None:
    check_scalar(batch_size, "batch_size", ge=1)


def _check_tta(tta: object) -> None:
    if not isinstance(tta, bool):
        raise InputValidationError(f"tta must be True or False; got {tta!r}.")


def report_from_probabilities(
    probabilities: object,
    labels: object,
    *,
    split: str,
    class_names: Sequence[str] = CLASS_NAMES,
    tta: bool = False,
    temperature: float = 1.0,
) -> EvaluationReport:
    """Build an :class:`EvaluationReport` from softmax outputs and integer labels.

    The single implementation of every reported metric: the confusion matrix is counted from
    the arg-max predictions; precision, recall and F1 of each class follow from it (0 where a
    denominator is 0, as scikit-learn's ``zero_division=0``); the loss is the clipped
    cross-entropy described in the module documentation; the expected calibration error uses
    :data:`~fashionkit.calibration.DEFAULT_BINS` bins.

    Args:
        probabilities: ``(N, num_classes)`` softmax outputs: each row in ``[0, 1]`` and summing
            to 1 (within 0.01, which float16 and bfloat16 outputs keep).
        labels: ``(N,)`` integer labels.
        split: Name recorded in the report.
        class_names: Names in label order; their number is the number of classes.
        tta: Recorded in the report: the probabilities come from flip test-time augmentation.
        temperature: Applied to the probabilities before scoring (see
            :func:`~fashionkit.calibration.apply_temperature`) and recorded. Defaults to 1.0.

    Raises:
        InputValidationError: Labels out of range; probabilities that are not one distribution
            per row (the wrong shape, NaN, infinite or negative values, values above 1, rows
            that do not sum to 1 within 0.01, such as logits or sigmoid scores); or a
            temperature that is not a positive finite number.

    Example:
        >>> import numpy as np
        >>> report = report_from_probabilities(
        ...     np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), [0, 1, 1],
        ...     split="demo", class_names=("no", "yes"))
        >>> report.confusion_matrix, round(report.accuracy, 4)
        (((1, 0), (1, 1)), 0.6667)
    """
    names = _class_names(class_names)
    n_classes = len(names)
    y = check_labels(labels, num_classes=n_classes).astype(np.intp)
    probs = check_probabilities(probabilities, rows=len(y), num_classes=n_classes)
    t = check_temperature(temperature)
    # The classes come from the model's own probabilities: a temperature never changes them,
    # not even where rounding the rescaled probabilities would break a near tie.
    predicted = probs.argmax(axis=1) if len(y) else np.zeros(0, np.intp)
    if t != 1.0:
        probs = apply_temperature(probs, t).astype(np.float64)
    matrix = np.bincount(y * n_classes + predicted, minlength=n_classes**2).reshape(
        n_classes, n_classes
    )
    hits = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)
    predicted_counts = matrix.sum(axis=0)
    precision = np.divide(
        hits, predicted_counts, out=np.zeros(n_classes), where=predicted_counts > 0
    )
    recall = np.divide(hits, support, out=np.zeros(n_classes), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(n_classes), where=both > 0)
    loss = mean_cross_entropy(probs, y)
    accuracy = float(hits.sum() / len(y)) if len(y) else float("nan")
    return EvaluationReport(
        split=split,
        loss=loss,
        accuracy=accuracy,
        per_class=tuple(
            ClassMetrics(
                name=names[i],
                precision=float(precision[i]),
                recall=float(recall[i]),
                f1=float(f1[i]),
                support=int(support[i]),
            )
            for i in range(n_classes)
        ),
        confusion_matrix=tuple(tuple(int(v) for v in row) for row in matrix),
        class_names=names,
        tta=bool(tta),
        temperature=t,
        ece=expected_calibration_error(probs, y, bins=DEFAULT_BINS),
    )


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
        class_names: Names in label order. Defaults to :data:`~fashionkit.datasets.CLASS_NAMES`.
        batch_size: Images per forward pass. Defaults to 1024.
        tta: Flip test-time augmentation: average the probabilities of each image and its mirror
            image (two forward passes). Defaults to ``False``.

    Raises:
        InputValidationError: Bad images or labels, or different lengths.

    Attributes:
        latest: The report of the most recent call, or ``None`` before the first.

    Example:
        >>> import numpy as np
        >>> evaluator = Evaluator(np.zeros((4, 28, 28), np.uint8), [0, 1, 2, 3], split="demo")
        >>> len(evaluator), evaluator.latest is None
        (4, True)
    """

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
        _check_batch_size(batch_size)
        _check_tta(tta)
        self.tta = tta
        self.class_names = _class_names(class_names)
        self.labels = integer_labels(labels, num_classes=len(self.class_names))
        self.images = check_images(images, allow_float=True)
        check_same_length(self.images, self.labels, names="images and labels")
        self.split = split
        self.batch_size = batch_size
        self.latest: EvaluationReport | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

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
        _check_tta(tta)
        other = copy.copy(self)
        other.tta = tta
        other.latest = None
        return other

    def probabilities(self, model: Any) -> NDArray[np.float32]:
        """Predict the split with ``model`` and return the ``(N, num_classes)`` softmax outputs."""
        return predict_in_batches(
            model,
            self.images,
            layout=model_layout(model),
            batch_size=self.batch_size,
            tta=self.tta,
        )

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


def predict(
    model: Any,
    images: object,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    batch_size: int = 256,
    tta: bool = False,
    temperature: float = 1.0,
) -> Prediction:
    """Classify one ``(28, 28)`` uint8 image or a batch ``(N, 28, 28)``.

    Args:
        model: A trained ``keras.Model`` taking ``(784,)`` or ``(28, 28, 1)`` inputs.
        images: uint8 pixels as loaded from Fashion-MNIST (or floats already in ``[0, 1]``).
        class_names: Names to report, in label order. Defaults to
            :data:`~fashionkit.datasets.CLASS_NAMES`.
        batch_size: Images per forward pass. Defaults to 256.
        tta: Flip test-time augmentation: average the probabilities of each image and its mirror
            image. Defaults to ``False``.
        temperature: Rescale the probabilities by this temperature (a calibrated run's
            :attr:`Calibration.temperature <fashionkit.calibration.Calibration.temperature>`);
            the classes do not change. Defaults to 1.0 (as the model gives them).

    Returns:
        Class indices, names and probabilities.

    Raises:
        InputValidationError: Images of the wrong shape or dtype (nothing is resized), a model
            whose output does not match ``class_names``, one whose outputs are not probabilities
            (NaN, values outside ``[0, 1]``, or rows that do not sum to 1 within 0.01: no
            softmax output), or a temperature that is not a positive finite number.

    Example:
        >>> result = fashionkit.train()  # doctest: +SKIP
        >>> predict(result.model, data.test.images[0]).names  # doctest: +SKIP
        ('Ankle boot',)
    """
    names = _class_names(class_names)
    _check_batch_size(batch_size)
    _check_tta(tta)
    check_temperature(temperature)
    x = check_images(images, allow_float=True)
    raw = predict_in_batches(model, x, layout=model_layout(model), batch_size=batch_size, tta=tta)
    if raw.size and raw.shape[1] != len(names):
        raise InputValidationError(
            f"The model predicts {raw.shape[1]} classes but {len(names)} class names were given."
        )
    checked = check_probabilities(
        raw, rows=len(x), num_classes=len(names), name="the model's outputs"
    )
    classes = checked.argmax(axis=1) if len(x) else np.zeros(0, np.intp)  # before the temperature
    probs = apply_temperature(checked, temperature)
    return Prediction(
        classes=classes,
        names=tuple(names[int(c)] for c in classes),
        probabilities=probs,
        tta=tta,
        temperature=float(temperature),
    )


def evaluate(
    model: Any,
    images: object,
    labels: object,
    *,
    split: str = "test",
    class_names: Sequence[str] = CLASS_NAMES,
    batch_size: int = 256,
    tta: bool = False,
    temperature: float = 1.0,
) -> EvaluationReport:
    """Evaluate a model on labelled images and return a typed report.

    Args:
        model: A trained ``keras.Model`` with a softmax output.
        images: uint8 images ``(N, 28, 28)`` (see :func:`~fashionkit.preprocessing.check_images`).
        labels: Integer labels ``(N,)`` or one-hot rows ``(N, 10)``.
        split: Name recorded in the report. Defaults to ``"test"``.
        class_names: Names in label order. Defaults to :data:`~fashionkit.datasets.CLASS_NAMES`.
        batch_size: Images per forward pass. Defaults to 256.
        tta: Flip test-time augmentation: average the probabilities of each image and its mirror
            image; the report records it. Defaults to ``False``.
        temperature: Rescale the probabilities by this temperature before scoring (see
            :mod:`fashionkit.calibration`); the report records it. Defaults to 1.0.

    Returns:
        Loss, accuracy, expected calibration error, per-class precision/recall/F1 and the
        confusion matrix.

    Raises:
        InputValidationError: Bad images or labels, different lengths, a model whose outputs
            are not probabilities (see :func:`predict`), or a temperature that is not a
            positive finite number.

    Example:
        >>> report = evaluate(model, data.test.images, data.test.labels)  # doctest: +SKIP
        >>> print(report.to_text())  # doctest: +SKIP
    """
    check_temperature(temperature)
    evaluator = Evaluator(
        images, labels, split=split, class_names=class_names, batch_size=batch_size, tta=tta
    )
    return evaluator(model, temperature=temperature)
