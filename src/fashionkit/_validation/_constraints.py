"""The vocabulary of constraints: what a parameter accepts, and one message shape for a refusal.

Each constraint says whether a value is allowed (:meth:`Constraint.allows`) and what is
allowed, in words (:meth:`Constraint.describe`); :meth:`Constraint.check` refuses a value with
:class:`~fashionkit.exceptions.ArgumentError` in the one message shape, ``NAME must be
ALLOWED; got VALUE (TYPE).``, the value shortened (``fashionkit._messages.shown``).
:func:`check_scalar` is the one number check, on :class:`Interval`; :func:`field_validator`
makes any constraint an attrs field validator. ``fashionkit._validation._params`` declares
them beside each public function.
"""

from __future__ import annotations

import difflib
import math
import os
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, overload

import attrs
import numpy as np

from fashionkit._messages import shown
from fashionkit.exceptions import ArgumentError, FashionkitError

__all__ = [
    "AnyOf",
    "ArrayLike",
    "Boolean",
    "CheckedBy",
    "Constraint",
    "InstanceOf",
    "Interval",
    "IsCallable",
    "KerasModel",
    "MappingOf",
    "NoneOr",
    "Options",
    "PathLike",
    "SequenceOf",
    "bounds_text",
    "check_scalar",
    "field_validator",
    "refusal",
]


class Constraint:
    """One rule for a value: whether it is allowed, and how messages name what is allowed."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` follows the rule."""
        raise NotImplementedError

    def describe(self) -> str:
        """What is allowed, in words: ``an integer >= 1``, ``one of 'a' or 'b'``."""
        raise NotImplementedError

    def hint(self, value: object) -> str:
        """A sentence that helps fix ``value`` (a close match), or nothing."""
        return ""

    def check(self, value: object, name: str) -> None:
        """Raise :class:`~fashionkit.exceptions.ArgumentError` unless ``value`` is allowed.

        Args:
            value: The value as received.
            name: How messages name it (``"steps"``, ``"CPU.flags"``).
        """
        if not self.allows(value):
            raise ArgumentError(refusal(name, self.describe(), value, self.hint(value)))


def refusal(name: str, allowed: str, value: object, hint: str = "") -> str:
    """The one message shape: ``NAME must be ALLOWED; got VALUE (TYPE). HINT``."""
    plain = isinstance(value, (str, float)) or (type(value) is int)
    kind = "" if plain else f" ({type(value).__name__})"
    return f"{name} must be {allowed}; got {shown(value)}{kind}.{' ' + hint if hint else ''}"


def _objects(values: Iterable[object]) -> tuple[object, ...]:
    return tuple(values)


def _types(values: Iterable[type]) -> tuple[type, ...]:
    return tuple(values)


def _constraints(values: Iterable[Constraint]) -> tuple[Constraint, ...]:
    return tuple(values)


def _choices(values: Sequence[object]) -> str:
    items = [repr(v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" or {items[-1]}"


@attrs.frozen
class Interval(Constraint):
    """A finite number (or an integer) within bounds; ``True`` and ``False`` are not numbers.

    NumPy integers and floats are accepted like Python's, unless ``numpy`` is false (a config
    field takes Python numbers only, so that it serialises as it was given).
    """

    kind: typing.Literal["int", "number"] = "number"
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    numpy: bool = True

    def is_number(self, value: object) -> bool:
        """Whether ``value`` is a number of the kind, whatever its value."""
        integer = self.kind == "int"
        types_: tuple[type, ...] = (int,) if integer else (int, float)
        if self.numpy:
            types_ += (np.integer,) if integer else (np.integer, np.floating)
        return not isinstance(value, (bool, np.bool_)) and isinstance(value, types_)

    def allows(self, value: object) -> bool:
        """Whether ``value`` is a number of the kind, finite and within the bounds."""
        if not self.is_number(value):
            return False
        if isinstance(value, np.complexfloating):
            return False
        given: Any = value  # an int, a float or a real NumPy number, as tested just above
        number = int(given) if isinstance(given, (int, np.integer)) else float(given)
        if isinstance(number, float) and not math.isfinite(number):
            return False
        return not (
            (self.ge is not None and number < self.ge)
            or (self.gt is not None and number <= self.gt)
            or (self.le is not None and number > self.le)
            or (self.lt is not None and number >= self.lt)
        )

    def describe(self) -> str:
        """``an integer >= 1``, ``a number > 0 and < 1``, ``a finite number``."""
        return bounds_text(
            integer=self.kind == "int", ge=self.ge, gt=self.gt, le=self.le, lt=self.lt
        )


@attrs.frozen
class Options(Constraint):
    """One of a few values (a ``Literal``'s); a misspelt string gets the closest as a hint."""

    values: tuple[object, ...] = attrs.field(converter=_objects)

    def allows(self, value: object) -> bool:
        """Whether ``value`` is one of the values (``True`` is not ``1`` here)."""
        return any(type(value) is type(v) and value == v for v in self.values)

    def describe(self) -> str:
        """``one of 'a', 'b' or 'c'``."""
        return f"one of {_choices(self.values)}"

    def hint(self, value: object) -> str:
        """``Did you mean 'adam'?`` for a close string."""
        if not isinstance(value, str):
            return ""
        strings = [v for v in self.values if isinstance(v, str)]
        close = difflib.get_close_matches(value, strings, n=1)
        return f"Did you mean {shown(close[0])}?" if close else ""


@attrs.frozen
class InstanceOf(Constraint):
    """An instance of one of some classes, named in messages by ``description``."""

    types: tuple[type, ...] = attrs.field(converter=_types)
    description: str = ""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is an instance (a bool is no ``int`` here)."""
        if isinstance(value, bool) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def describe(self) -> str:
        """The description, or ``a NAME`` of the classes."""
        if self.description:
            return self.description
        names = [t.__name__ for t in self.types]
        return " or ".join(f"{'an' if n[:1].lower() in 'aeiou' else 'a'} {n}" for n in names)


@attrs.frozen
class Boolean(Constraint):
    """``True`` or ``False`` (not 0, 1, NumPy booleans or strings)."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is a bool."""
        return isinstance(value, bool)

    def describe(self) -> str:
        """``True or False``."""
        return "True or False"


@attrs.frozen
class IsCallable(Constraint):
    """Something to call, named in messages by ``description``."""

    description: str = "a callable"

    def allows(self, value: object) -> bool:
        """Whether ``value`` can be called."""
        return callable(value)

    def describe(self) -> str:
        """The description."""
        return self.description


@attrs.frozen
class PathLike(Constraint):
    """A file system path: a non-empty ``str`` or an :class:`os.PathLike`."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` names a path."""
        if isinstance(value, str):
            return bool(value) and "\x00" not in value
        return isinstance(value, os.PathLike)

    def describe(self) -> str:
        """``a path (a str or os.PathLike)``."""
        return "a path (a non-empty str or an os.PathLike such as pathlib.Path)"


@attrs.frozen
class ArrayLike(Constraint):
    """An array or anything NumPy reads as one; its shape, dtype and values are checked later.

    ``description`` names what the array holds (``"uint8 images (N, 28, 28)"``).
    """

    description: str = "an array"

    def allows(self, value: object) -> bool:
        """Whether ``value`` could be an array (not ``None``, a string or a mapping)."""
        return value is not None and not isinstance(value, (str, bytes, Mapping))

    def describe(self) -> str:
        """The description."""
        return self.description


@attrs.frozen
class KerasModel(Constraint):
    """A Keras model (anything with ``layers``, ``inputs`` and ``predict``, as ``keras.Model``).

    Checked by what it has rather than by class, so that Keras is not imported to check it.
    """

    def allows(self, value: object) -> bool:
        """Whether ``value`` looks like a built Keras model."""
        return all(hasattr(value, name) for name in ("layers", "predict", "get_weights"))

    def describe(self) -> str:
        """``a Keras model``."""
        return "a Keras model (keras.Model)"


@attrs.frozen
class CheckedBy(Constraint):
    """Declared, and checked inside the function by ``by`` (which names what is allowed).

    For values whose rule needs the other arguments or a whole check of its own (a config
    mapping, a Keras callback list); ``by`` says where, for the reader and the test.
    """

    by: str

    def allows(self, value: object) -> bool:
        """Always: the check named by ``by`` runs inside the function."""
        return True

    def describe(self) -> str:
        """What checks it."""
        return f"checked by {self.by}"


@attrs.frozen
class NoneOr(Constraint):
    """``None`` or what ``inner`` allows."""

    inner: Constraint

    def allows(self, value: object) -> bool:
        """Whether ``value`` is ``None`` or allowed by ``inner``."""
        return value is None or self.inner.allows(value)

    def describe(self) -> str:
        """``None or ...``."""
        return f"{self.inner.describe()} or None"

    def hint(self, value: object) -> str:
        """The inner hint."""
        return self.inner.hint(value)


@attrs.frozen
class AnyOf(Constraint):
    """What any of the constraints allows."""

    options: tuple[Constraint, ...] = attrs.field(converter=_constraints)

    def allows(self, value: object) -> bool:
        """Whether any option allows ``value``."""
        return any(option.allows(value) for option in self.options)

    def describe(self) -> str:
        """``a or b``."""
        return " or ".join(option.describe() for option in self.options)


@attrs.frozen
class SequenceOf(Constraint):
    """A list or tuple (never a string or a mapping) of items ``item`` allows.

    ``min_length`` items at least; ``description`` overrides the generated wording.
    """

    item: Constraint
    min_length: int = 0
    description: str = ""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is a sequence of allowed items, long enough."""
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
            return False
        return len(value) >= self.min_length and all(self.item.allows(v) for v in value)

    def describe(self) -> str:
        """``a list of ...``."""
        if self.description:
            return self.description
        least = " (at least one)" if self.min_length == 1 else ""
        if self.min_length > 1:
            least = f" (at least {self.min_length})"
        return f"a list or tuple whose items are each {self.item.describe()}{least}"


@attrs.frozen
class MappingOf(Constraint):
    """A mapping whose keys and values the two constraints allow."""

    key: Constraint
    value: Constraint
    description: str = ""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is a mapping of allowed keys and values."""
        if not isinstance(value, Mapping):
            return False
        return all(self.key.allows(k) and self.value.allows(v) for k, v in value.items())

    def describe(self) -> str:
        """``a mapping of ... to ...``."""
        return self.description or (
            f"a mapping whose keys are each {self.key.describe()} and values each "
            f"{self.value.describe()}"
        )


def bounds_text(
    *,
    integer: bool,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> str:
    """What a number check allows: ``an integer >= 1``, ``a number > 0 and <= 2.0``..."""
    bounds = [
        f"{sign} {bound}"
        for sign, bound in ((">=", ge), (">", gt), ("<=", le), ("<", lt))
        if bound is not None
    ]
    if not bounds:
        return "an integer" if integer else "a finite number"
    return f"{'an integer' if integer else 'a number'} {' and '.join(bounds)}"


@overload
def check_scalar(
    value: object,
    name: str,
    *,
    kind: Literal["int"] = ...,
    ge: float | None = ...,
    gt: float | None = ...,
    le: float | None = ...,
    lt: float | None = ...,
    hint: str = ...,
    numpy: bool = ...,
    error: type[FashionkitError] = ...,
) -> int: ...


@overload
def check_scalar(
    value: object,
    name: str,
    *,
    kind: Literal["number"],
    ge: float | None = ...,
    gt: float | None = ...,
    le: float | None = ...,
    lt: float | None = ...,
    hint: str = ...,
    numpy: bool = ...,
    error: type[FashionkitError] = ...,
) -> float: ...


def check_scalar(
    value: object,
    name: str,
    *,
    kind: Literal["int", "number"] = "int",
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    hint: str = "",
    numpy: bool = True,
    error: type[FashionkitError] = ArgumentError,
) -> int | float:
    """Check one plain number: its type, that it is finite, and its bounds.

    The one number check of fashionkit: plain arguments use it directly, and the config
    fields' validators (``fashionkit._fields.number``) call it with ``error=ConfigError``.
    ``True`` and ``False`` are never numbers here (Python counts them as integers).

    Args:
        value: The value as received.
        name: Its name in the message (``"batch_size"``, ``"TrainConfig.epochs"``).
        kind: ``"int"`` for an integer, ``"number"`` for any finite real number.
        ge: The value must be ``>=`` this; ``None`` for no such bound (likewise ``gt``, ``le``,
            ``lt`` for ``>``, ``<=`` and ``<``).
        gt: See ``ge``.
        le: See ``ge``.
        lt: See ``ge``.
        hint: A sentence appended to the message (what a usual value is).
        numpy: Accept NumPy integers and floats too (a config field takes Python numbers only,
            so that it serialises as it was given).
        error: The exception class raised. Defaults to
            :class:`~fashionkit.exceptions.ArgumentError`.

    Returns:
        The value as a Python ``int`` (``kind="int"``) or ``float``.

    Raises:
        ArgumentError: Wrong type, NaN or infinite, or out of bounds (or ``error``); the
            message names the value, what is allowed and what was received.

    Example:
        >>> check_scalar(3, "folds", ge=2)
        3
        >>> check_scalar(0.0, "fraction", kind="number", gt=0, lt=1)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ArgumentError: fraction must be a number > 0 and < 1; got 0.0.
        >>> check_scalar(True, "steps", ge=1)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ArgumentError: steps must be an integer >= 1; got True (bool).
    """
    rule = Interval(kind, ge=ge, gt=gt, le=le, lt=lt, numpy=numpy)
    suffix = f" {hint}" if hint else ""
    if not rule.is_number(value):
        kind_of = type(value).__name__
        raise error(f"{name} must be {rule.describe()}; got {shown(value)} ({kind_of}).{suffix}")
    if not rule.allows(value):
        raise error(f"{name} must be {rule.describe()}; got {shown(value)}.{suffix}")
    given: Any = value  # a number of the kind, as tested just above
    if kind == "int":
        return int(given)
    try:
        return float(given)
    except OverflowError:  # an int beyond any float, with no upper bound to refuse it
        raise error(
            f"{name} must be {rule.describe()} within float range; got {shown(value)}.{suffix}"
        ) from None


def field_validator(constraint: Constraint) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that checks a field with ``constraint`` (``Class.field`` in messages).

    Example:
        >>> import attrs
        >>> @attrs.frozen
        ... class Box:
        ...     size: int = attrs.field(validator=field_validator(Interval("int", ge=1)))
        >>> Box(0)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ArgumentError: Box.size must be an integer >= 1; got 0.
    """

    def check(instance: object, attribute: Any, value: object) -> None:
        constraint.check(value, f"{type(instance).__name__}.{attribute.name}")

    return check
