"""Evaluation reports: per-class metrics, the confusion matrix, the loss and calibration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit import _html, _schema
from fashionkit._constants import CLASS_NAMES
from fashionkit._validation import (
    InstanceOf,
    Interval,
    NoneOr,
    SequenceOf,
    annotated_fields,
    check_labels,
    check_probabilities,
    field_validator,
    params,
)
from fashionkit.calibration import (
    DEFAULT_BINS,
    METRIC,
    PROBABILITIES,
    TEMPERATURE,
    apply_temperature,
    expected_calibration_error,
    mean_cross_entropy,
)
from fashionkit.preprocessing import LABELS

__all__ = ["ClassMetrics", "EvaluationReport", "report_from_probabilities"]

#: What ``class_names`` parameters accept: the names in label order, at least two.
CLASS_NAMES_RULE = SequenceOf(
    InstanceOf((str,), "a str"),
    min_length=2,
    description="at least two class names (a list or tuple of str), in label order",
)
#: What ``batch_size`` parameters accept: images per forward pass.
BATCH_SIZE = Interval("int", ge=1)


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
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


@attrs.frozen(kw_only=True, eq=False, field_transformer=annotated_fields)
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
    loss: float = attrs.field(validator=field_validator(METRIC))
    accuracy: float = attrs.field(validator=field_validator(METRIC))
    per_class: tuple[ClassMetrics, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]
    class_names: tuple[str, ...]
    tta: bool = False
    temperature: float = attrs.field(default=1.0, validator=field_validator(TEMPERATURE))
    ece: float | None = attrs.field(default=None, validator=field_validator(NoneOr(METRIC)))

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
    @params()
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Rebuild a report from :meth:`to_dict` output (as read back from JSON).

        Unknown keys are ignored (a report written by a newer fashionkit stays readable).

        Raises:
            KeyError: A field is missing.
            TypeError, ValueError: A field has the wrong type, or the parts disagree (per-class
                rows, class names and the confusion matrix must all have one entry per class).
        """
        return _schema.from_data(data, cls)

    @params(indent=NoneOr(Interval("int", ge=0)))
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

    @params()
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


@params(
    probabilities=PROBABILITIES,
    labels=LABELS,
    class_names=CLASS_NAMES_RULE,
    temperature=TEMPERATURE,
)
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
        class_names: Names in label order, at least two; their number is the number of
            classes.
        tta: Recorded in the report: the probabilities come from flip test-time augmentation.
        temperature: Applied to the probabilities before scoring (see
            :func:`~fashionkit.calibration.apply_temperature`) and recorded. Defaults to 1.0.

    Raises:
        InputValidationError: Labels out of range; probabilities that are not one distribution
            per row (the wrong shape, NaN, infinite or negative values, values above 1, rows
            that do not sum to 1 within 0.01, such as logits or sigmoid scores).
        ArgumentError: A temperature that is not a positive finite number, or fewer than two
            class names.

    Example:
        >>> import numpy as np
        >>> report = report_from_probabilities(
        ...     np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), [0, 1, 1],
        ...     split="demo", class_names=("no", "yes"))
        >>> report.confusion_matrix, round(report.accuracy, 4)
        (((1, 0), (1, 1)), 0.6667)
    """
    names = tuple(class_names)
    n_classes = len(names)
    y = check_labels(labels, num_classes=n_classes).astype(np.intp)
    probs = check_probabilities(probabilities, rows=len(y), num_classes=n_classes)
    t = float(temperature)
    # The classes come from the model's own probabilities: a temperature never changes them,
    # not even where rounding the rescaled probabilities would break a near tie.
    predicted = probs.argmax(axis=1) if len(y) else np.zeros(0, np.intp)
    if t != 1.0:
        probs = apply_temperature(probs, t).astype(np.float64)
    matrix = np.bincount(y * n_classes + predicted, minlength=n_classes**2).reshape(
        n_classes, n_classes
    )
    hits = np.diag(matrix).sum()
    return EvaluationReport(
        split=split,
        loss=mean_cross_entropy(probs, y),
        accuracy=float(hits / len(y)) if len(y) else float("nan"),
        per_class=_per_class(matrix, names),
        confusion_matrix=tuple(tuple(int(v) for v in row) for row in matrix),
        class_names=names,
        tta=bool(tta),
        temperature=t,
        ece=expected_calibration_error(probs, y, bins=DEFAULT_BINS),
    )


def _per_class(matrix: NDArray[np.int64], names: tuple[str, ...]) -> tuple[ClassMetrics, ...]:
    """Precision, recall and F1 of each class from the confusion matrix (0 for 0 / 0)."""
    n_classes = len(names)
    hits = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)
    predicted_counts = matrix.sum(axis=0)
    precision = np.divide(
        hits, predicted_counts, out=np.zeros(n_classes), where=predicted_counts > 0
    )
    recall = np.divide(hits, support, out=np.zeros(n_classes), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(n_classes), where=both > 0)
    return tuple(
        ClassMetrics(
            name=names[i],
            precision=float(precision[i]),
            recall=float(recall[i]),
            f1=float(f1[i]),
            support=int(support[i]),
        )
        for i in range(n_classes)
    )
