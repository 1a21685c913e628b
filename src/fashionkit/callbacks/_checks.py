"""What the callbacks' arguments accept: constraints and value checks.

The constraints declare parameters (with :func:`~fashionkit._validation.params`) whose rule
the vocabulary of :mod:`fashionkit._validation` does not hold: a sub-folder name, a non-empty
string, a :class:`~fashionkit.exceptions.StorageError` class (the metrics log's and the
TensorBoard logger's ``error_type``), a ``(group, tag)`` pair. The checks that need more than
one value's rule (a confusion matrix against its class names, metrics that may be NaN) run
inside the functions, named by their ``CheckedBy`` declarations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from fashionkit._validation import Constraint, InstanceOf, SequenceOf, refusal, shown
from fashionkit.exceptions import ArgumentError, InputValidationError, StorageError


def number(value: Any) -> float | None:
    """``value`` as a float if it is one real number (NaN and infinities included), else None.

    Strings, booleans, ``None``, lists and arrays of several values (such as
    ``val_per_class_accuracy``) are not numbers; NumPy and tensor scalars are.
    """
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):
        return None
    if array.ndim != 0 or array.dtype.kind not in "iuf":
        return None
    return float(array)


@attrs.frozen
class FolderName(Constraint):
    """The name of one sub-folder: a string, not empty, ``.`` or ``..``, without slashes.

    Spaces at either end are refused too (TensorBoard would show a run that looks unnamed).
    """

    def allows(self, value: object) -> bool:
        """Whether ``value`` names one sub-folder."""
        return (
            isinstance(value, str)
            and value not in ("", ".", "..")
            and not any(c in value for c in "/\\")
            and value == value.strip()
        )

    def describe(self) -> str:
        """``the name of one sub-folder ...``."""
        return "the name of one sub-folder (such as 'validation'), without slashes"


@attrs.frozen
class NonEmptyText(Constraint):
    """A string with at least one character."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is a non-empty ``str``."""
        return isinstance(value, str) and bool(value)

    def describe(self) -> str:
        """``a non-empty str``."""
        return "a non-empty str"


@attrs.frozen
class StorageErrorClass(Constraint):
    """:class:`~fashionkit.exceptions.StorageError` or a subclass of it (the class, not one)."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is StorageError or a subclass."""
        return isinstance(value, type) and issubclass(value, StorageError)

    def describe(self) -> str:
        """``StorageError or a subclass of it ...``."""
        return "StorageError or a subclass of it (such as RunDirError)"


@attrs.frozen
class MetricName(Constraint):
    """A ``(group, tag)`` pair: the group ``""`` or a sub-folder name, the tag non-empty."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is such a pair (a tuple of two strings)."""
        if not isinstance(value, tuple) or len(value) != 2:
            return False
        group, tag = value
        return (group == "" or FolderName().allows(group)) and NonEmptyText().allows(tag)

    def describe(self) -> str:
        """``a (group, tag) pair ...``."""
        return "a (group, tag) pair"


#: The ``metrics`` of an HParams experiment.
METRIC_NAMES = SequenceOf(
    MetricName(),
    description=(
        "a list or tuple of (group, tag) pairs, such as [('', 'val_accuracy'), ('validation', "
        "'epoch_loss')]: the group '' (the session's folder) or a sub-folder name, the tag a "
        "non-empty str"
    ),
)
#: The ``class_names`` of a confusion matrix.
CLASS_NAMES = SequenceOf(
    InstanceOf((str,), "a str"),
    min_length=1,
    description="a non-empty list or tuple of strings (the class names in label order)",
)


def check_split(split: object, name: str = "split") -> str:
    """``split`` if it names one sub-folder of the log folder (:class:`FolderName`).

    Raises:
        ArgumentError: It does not.
    """
    FolderName().check(split, name)
    return str(split)


def counts(matrix: ArrayLike, class_names: Sequence[str]) -> NDArray[np.int64]:
    """``matrix`` as the ``(n, n)`` int64 count matrix of the ``n`` class names.

    Raises:
        InputValidationError: The shape does not fit the names, or a count is not a
            non-negative whole number.
    """
    try:
        array = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputValidationError(f"the confusion matrix is not numeric: {exc}") from exc
    n = len(class_names)
    if array.shape != (n, n):
        raise InputValidationError(
            f"the confusion matrix must be {n} x {n}, one row and column per class name; got "
            f"shape {array.shape}."
        )
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array != np.rint(array)):
        raise InputValidationError(
            "the confusion matrix must hold counts: non-negative whole numbers."
        )
    return array.astype(np.int64)


def check_metrics(metrics: object) -> dict[str, float]:
    """``metrics`` as names and floats (NaN and infinities kept, NumPy scalars converted).

    Raises:
        ArgumentError: ``metrics`` is not a mapping, a name is not a non-empty string, or a
            value is not one real number.
    """
    if not isinstance(metrics, Mapping):
        raise ArgumentError(
            refusal(
                "metrics",
                "a mapping of names to numbers, such as {'final_validation_accuracy': 0.91}",
                metrics,
            )
        )
    values = {}
    for name, value in metrics.items():
        converted = number(value)
        if not isinstance(name, str) or not name or converted is None:
            raise ArgumentError(
                f"metrics must map names to numbers; got {shown(name)}: {shown(value)}."
            )
        values[name] = converted
    return values
