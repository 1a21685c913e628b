"""Evaluating and using a trained model: typed reports, per-class metrics, predictions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit.datasets import CLASS_NAMES
from fashionkit.exceptions import ConfigError, InputValidationError, LabelEncodingError
from fashionkit.preprocessing import check_labels, prepare_images

__all__ = [
    "ClassMetrics",
    "EvaluationReport",
    "Prediction",
    "check_targets",
    "evaluate",
    "predict",
]

_EPSILON = 1e-7  # Keras's clip value for probabilities in cross-entropy


@attrs.frozen(kw_only=True)
class ClassMetrics:
    """Precision, recall and F1 of one class.

    Attributes:
        name: The class name.
        precision: Share of images predicted as this class that belong to it.
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
        loss: Mean categorical cross-entropy of the predicted probabilities (without label
            smoothing, so comparable across loss configs).
        accuracy: Share of images classified correctly.
        per_class: Precision, recall and F1 of each class, in label order.
        confusion_matrix: ``confusion_matrix[i][j]`` counts images of class ``i`` predicted as
            class ``j``.
        class_names: Class names, in label order.
    """

    split: str
    loss: float
    accuracy: float
    per_class: tuple[ClassMetrics, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]
    class_names: tuple[str, ...]

    @property
    def n_samples(self) -> int:
        """Number of evaluated images."""
        return sum(sum(row) for row in self.confusion_matrix)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain dicts and lists (JSON-ready)."""
        return {
            "split": self.split,
            "n_samples": self.n_samples,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "class_names": list(self.class_names),
            "per_class": [attrs.asdict(m) for m in self.per_class],
            "confusion_matrix": [list(row) for row in self.confusion_matrix],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Rebuild a report from :meth:`to_dict` output (as read back from JSON).

        Raises:
            KeyError: A field is missing.
            TypeError: A field has the wrong type.
        """
        return cls(
            split=str(data["split"]),
            loss=float(data["loss"]),
            accuracy=float(data["accuracy"]),
            per_class=tuple(ClassMetrics(**m) for m in data["per_class"]),
            confusion_matrix=tuple(tuple(int(v) for v in row) for row in data["confusion_matrix"]),
            class_names=tuple(str(n) for n in data["class_names"]),
        )

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return :meth:`to_dict` as a JSON string (UTF-8 class names kept readable)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_text(self) -> str:
        """Return a plain-text table of the per-class metrics and the totals."""
        width = max(len("class"), *(len(n) for n in self.class_names))
        lines = [
            f"{self.split}: accuracy {self.accuracy:.4f}, loss {self.loss:.4f}, "
            f"{self.n_samples} images",
            f"{'class':<{width}}  precision  recall  f1      support",
        ]
        for m in self.per_class:
            lines.append(
                f"{m.name:<{width}}  {m.precision:9.4f}  {m.recall:6.4f}  {m.f1:6.4f}  "
                f"{m.support:7d}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


@attrs.frozen(kw_only=True, eq=False)
class Prediction:
    """Predicted classes of a batch of images.

    Attributes:
        classes: ``(N,)`` predicted class indices.
        names: Predicted class names, one per image.
        probabilities: ``(N, num_classes)`` softmax outputs.
    """

    classes: NDArray[np.intp]
    names: tuple[str, ...]
    probabilities: NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.names)


def check_targets(
    targets: object, *, encoding: str, num_classes: int = 10, name: str = "labels"
) -> NDArray[np.generic]:
    """Check that encoded targets match the loss's label encoding, before Keras sees them.

    Keras reports a mismatch only deep inside ``fit`` (``Shapes (None, 1) and (None, 10) are
    incompatible``) or, worse, trains on it silently; this says what is wrong instead.

    Args:
        targets: ``(N,)`` integer labels for ``"sparse"``, ``(N, num_classes)`` one-hot rows for
            ``"one_hot"``.
        encoding: ``"sparse"`` or ``"one_hot"``.
        num_classes: Number of classes. Defaults to 10.
        name: How to call the argument in error messages.

    Returns:
        The targets as an array.

    Raises:
        LabelEncodingError: The targets do not have the encoding's shape, or one-hot rows are not
            one-hot.

    Example:
        >>> import numpy as np
        >>> check_targets(np.eye(10)[[1, 2]], encoding="sparse")
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.LabelEncodingError: labels are one-hot (shape (2, 10)) ...
    """
    array = np.asarray(targets)
    if encoding == "sparse":
        if array.ndim == 2:
            raise LabelEncodingError(
                f"{name} are one-hot (shape {array.shape}) but the loss encoding is 'sparse', "
                f"which expects integer labels (N,). Use LossConfig(encoding='one_hot'), or pass "
                f"labels.argmax(axis=1)."
            )
        return check_labels(array, name=name, num_classes=num_classes)
    if encoding != "one_hot":
        raise ConfigError(f"encoding must be 'sparse' or 'one_hot'; got {encoding!r}.")
    if array.ndim == 1:
        raise LabelEncodingError(
            f"{name} are integer labels (shape {array.shape}) but the loss encoding is 'one_hot', "
            f"which expects rows of {num_classes} (N, {num_classes}). Encode them with "
            f"fashionkit.encode_labels(labels, encoding='one_hot'), or use "
            f"LossConfig(encoding='sparse')."
        )
    if array.ndim != 2 or array.shape[1] != num_classes:
        raise LabelEncodingError(
            f"{name} must have shape (N, {num_classes}) for the one_hot encoding; got "
            f"{array.shape}. The number of columns must equal the number of classes."
        )
    if array.size and not (np.isin(array, (0, 1)).all() and (array.sum(axis=1) == 1).all()):
        raise LabelEncodingError(
            f"{name} are not one-hot: every row must hold a single 1 and zeros elsewhere. Apply "
            f"label smoothing through LossConfig(label_smoothing=...) rather than in the labels."
        )
    return array


def _integer_labels(labels: object, num_classes: int) -> NDArray[np.uint8]:
    array = np.asarray(labels)
    if array.ndim == 2:
        return check_labels(
            check_targets(array, encoding="one_hot", num_classes=num_classes).argmax(axis=1),
            num_classes=num_classes,
        )
    return check_labels(array, num_classes=num_classes)


def _model_layout(model: Any) -> str:
    shape = tuple(model.inputs[0].shape[1:])
    if shape == (784,):
        return "flat"
    if shape == (28, 28, 1):
        return "image"
    raise InputValidationError(
        f"The model takes inputs of shape {shape}; fashionkit feeds (784,) or (28, 28, 1)."
    )


def _probabilities(model: Any, x: NDArray[np.float32], batch_size: int) -> NDArray[np.float32]:
    from fashionkit._pipeline import predict_in_batches

    return predict_in_batches(model, x, batch_size=batch_size)


def predict(
    model: Any,
    images: object,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    batch_size: int = 256,
) -> Prediction:
    """Classify one ``(28, 28)`` uint8 image or a batch ``(N, 28, 28)``.

    Args:
        model: A trained ``keras.Model`` taking ``(784,)`` or ``(28, 28, 1)`` inputs.
        images: uint8 pixels as loaded from Fashion-MNIST (or floats already in ``[0, 1]``).
        class_names: Names to report, in label order. Defaults to
            :data:`~fashionkit.datasets.CLASS_NAMES`.
        batch_size: Images per forward pass. Defaults to 256.

    Returns:
        Class indices, names and probabilities.

    Raises:
        InputValidationError: Images of the wrong shape or dtype; nothing is resized.

    Example:
        >>> result = fashionkit.train()  # doctest: +SKIP
        >>> predict(result.model, data.test.images[0]).names  # doctest: +SKIP
        ('Ankle boot',)
    """
    x = prepare_images(images, layout=_model_layout(model))  # type: ignore[arg-type]
    probs = _probabilities(model, x, batch_size)
    classes = probs.argmax(axis=1)
    if probs.shape[1] != len(class_names):
        raise InputValidationError(
            f"The model predicts {probs.shape[1]} classes but {len(class_names)} class names "
            f"were given."
        )
    return Prediction(
        classes=classes,
        names=tuple(class_names[int(c)] for c in classes),
        probabilities=probs,
    )


def loss_and_accuracy(
    probabilities: NDArray[np.floating[Any]], labels: NDArray[np.integer[Any]]
) -> tuple[float, float]:
    """Mean cross-entropy (probabilities clipped as Keras does) and accuracy, for integer labels."""
    probs = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.intp)
    picked = np.clip(probs[np.arange(len(y)), y], _EPSILON, 1.0 - _EPSILON)
    return float(-np.log(picked).mean()), float((probs.argmax(axis=1) == y).mean())


def report_from_probabilities(
    probabilities: NDArray[np.floating[Any]],
    labels: NDArray[np.integer[Any]],
    *,
    split: str,
    class_names: Sequence[str] = CLASS_NAMES,
) -> EvaluationReport:
    """Build an :class:`EvaluationReport` from softmax outputs and integer labels."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    n_classes = len(class_names)
    y = check_labels(labels, num_classes=n_classes).astype(np.intp)
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.shape != (len(y), n_classes):
        raise InputValidationError(
            f"probabilities must have shape ({len(y)}, {n_classes}); got {probs.shape}."
        )
    predicted = probs.argmax(axis=1)
    loss, accuracy = loss_and_accuracy(probs, y)
    label_range = list(range(n_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=label_range, zero_division=0
    )
    matrix = confusion_matrix(y, predicted, labels=label_range)
    per_class = tuple(
        ClassMetrics(
            name=class_names[i],
            precision=float(precision[i]),
            recall=float(recall[i]),
            f1=float(f1[i]),
            support=int(support[i]),
        )
        for i in label_range
    )
    return EvaluationReport(
        split=split,
        loss=loss,
        accuracy=accuracy,
        per_class=per_class,
        confusion_matrix=tuple(tuple(int(v) for v in row) for row in matrix),
        class_names=tuple(class_names),
    )


def evaluate(
    model: Any,
    images: object,
    labels: object,
    *,
    split: str = "test",
    class_names: Sequence[str] = CLASS_NAMES,
    batch_size: int = 256,
) -> EvaluationReport:
    """Evaluate a model on labelled images and return a typed report.

    Args:
        model: A trained ``keras.Model`` with a softmax output.
        images: uint8 images ``(N, 28, 28)`` (see :func:`~fashionkit.check_images`).
        labels: Integer labels ``(N,)`` or one-hot rows ``(N, 10)``.
        split: Name recorded in the report. Defaults to ``"test"``.
        class_names: Names in label order. Defaults to :data:`~fashionkit.datasets.CLASS_NAMES`.
        batch_size: Images per forward pass. Defaults to 256.

    Returns:
        Loss, accuracy, per-class precision/recall/F1 and the confusion matrix.

    Raises:
        InputValidationError: Bad images or labels, or different lengths.

    Example:
        >>> report = evaluate(model, data.test.images, data.test.labels)  # doctest: +SKIP
        >>> print(report.to_text())  # doctest: +SKIP
    """
    y = _integer_labels(labels, len(class_names))
    x = prepare_images(images, layout=_model_layout(model))  # type: ignore[arg-type]
    if x.shape[0] != y.shape[0]:
        raise InputValidationError(
            f"images and labels must have the same length; got {x.shape[0]} images and "
            f"{y.shape[0]} labels."
        )
    probs = _probabilities(model, x, batch_size)
    return report_from_probabilities(probs, y, split=split, class_names=class_names)
