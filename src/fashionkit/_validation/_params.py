"""Parameters declared once: a small vocabulary of constraints, and the decorator that checks them.

Every public function and class of fashionkit declares what each of its parameters accepts,
beside the code, with :func:`params` (functions, methods, hand-written ``__init__``) or with
attrs field validators (configs and records; :func:`annotated_fields` derives one from a
field's annotation where none is written). A parameter's annotation is its declaration when
it says enough (``int``, ``bool``, ``Literal[...]``, ``Path | None``, a class); a range, an
array or a value that is checked further in the function is declared explicitly
(:class:`Interval`, :class:`ArrayLike`, :class:`CheckedBy`).

One message shape for every refusal: ``NAME must be ALLOWED; got VALUE (TYPE).`` with the
value shortened (:func:`~fashionkit._validation.shown`), raised as
:class:`~fashionkit.exceptions.ArgumentError`. A test walks every public callable and fails
on a parameter without a constraint.
"""

from __future__ import annotations

import collections.abc
import difflib
import functools
import inspect
import math
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs
import numpy as np

from fashionkit._validation._scalars import bounds_text, shown
from fashionkit.exceptions import ArgumentError

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
    "annotated_fields",
    "constraint_for",
    "declared_params",
    "field_validator",
    "params",
    "refusal",
]

_F = TypeVar("_F", bound=Callable[..., Any])
#: Where :func:`params` keeps a callable's declarations, for :func:`declared_params`.
_DECLARED = "__fashionkit_params__"


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

    NumPy integers and floats are accepted like Python's.
    """

    kind: typing.Literal["int", "number"] = "number"
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def allows(self, value: object) -> bool:
        """Whether ``value`` is a number of the kind, finite and within the bounds."""
        integer = self.kind == "int"
        types_: tuple[type, ...] = (int, np.integer) if integer else (int, float, np.number)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, types_):
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


_UNION_TYPES = (typing.Union, types.UnionType)


def constraint_for(annotation: object) -> Constraint | None:
    """The constraint an annotation states, or ``None`` when it says too little (``Any``).

    ``int``, ``float`` (an int is a float here), ``bool``, ``str``, ``Path`` and fashionkit's
    ``PathLike``, ``Literal[...]``, ``X | None``, unions, ``tuple[X, ...]``,
    ``Sequence[X]``, ``Mapping[K, V]``, ``Callable[...]``, NumPy arrays and classes.

    Example:
        >>> constraint_for(int | None).describe()
        'an integer or None'
    """
    if annotation is Any or annotation is object:
        return None
    if annotation is type(None):
        return Options((None,))
    if annotation is bool:
        return Boolean()
    if annotation is int:
        return Interval("int")
    if annotation is float:
        return Interval("number")
    if annotation is str:
        return InstanceOf((str,), "a str")
    if annotation is Path:
        return PathLike()
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return Options(args)
    if origin in _UNION_TYPES:
        return _union(args)
    if origin in (tuple, list, collections.abc.Sequence, collections.abc.Iterable):
        item = constraint_for(args[0]) if args else None
        return SequenceOf(item if item is not None else CheckedBy("the function"))
    if origin in (dict, collections.abc.Mapping):
        key, value = (constraint_for(a) for a in args) if args else (None, None)
        return MappingOf(key or CheckedBy("the function"), value or CheckedBy("the function"))
    if origin is collections.abc.Callable or annotation is collections.abc.Callable:
        return IsCallable()
    if origin is type:
        return InstanceOf((type,), "a class")
    if origin is np.ndarray or annotation is np.ndarray:
        return InstanceOf((np.ndarray,), "a NumPy array")
    if isinstance(annotation, type):
        return InstanceOf((annotation,))
    return None


def _union(args: tuple[Any, ...]) -> Constraint | None:
    rest = [a for a in args if a is not type(None)]
    if set(rest) == {str, os.PathLike} or (
        str in rest and any(typing.get_origin(a) is os.PathLike or a is os.PathLike for a in rest)
    ):
        inner: Constraint | None = PathLike()
        others = [a for a in rest if a is not str and a is not os.PathLike]
        others = [a for a in others if typing.get_origin(a) is not os.PathLike]
        if others:
            parts = [constraint_for(a) for a in others]
            if any(p is None for p in parts):
                return None
            inner = AnyOf((PathLike(), *(p for p in parts if p is not None)))
    else:
        parts = [constraint_for(a) for a in rest]
        if any(p is None for p in parts):
            return None
        found = [p for p in parts if p is not None]
        inner = found[0] if len(found) == 1 else AnyOf(found)
    if inner is None:
        return None
    return NoneOr(inner) if len(rest) < len(args) else inner


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    target = func.__init__ if isinstance(func, type) else func  # type: ignore[misc]
    try:
        return typing.get_type_hints(target)
    except (NameError, TypeError):  # an annotation that names what this process lacks
        return {}


def _resolve(
    func: Callable[..., Any], declared: Mapping[str, Constraint | None]
) -> dict[str, Constraint]:
    """Each checked parameter's constraint: declared, or stated by its annotation.

    Raises:
        TypeError: A parameter has neither (a programming error, which the test of the
            public API finds for every public callable).
    """
    hints = _hints(func)
    resolved: dict[str, Constraint] = {}
    for name, parameter in inspect.signature(func).parameters.items():
        if name in ("self", "cls") or parameter.kind in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            continue
        constraint = declared[name] if name in declared else constraint_for(hints.get(name, Any))
        if constraint is None:
            raise TypeError(
                f"{func.__qualname__}: parameter {shown(name)} declares no constraint; its "
                f"annotation ({hints.get(name, 'none')}) says too little. Declare it with "
                f"@params({name}=...)."
            )
        resolved[name] = constraint
    return resolved


def params(**declared: Constraint) -> Callable[[_F], _F]:
    """Declare what a public function's parameters accept, and check it at every call.

    Parameters not named take their constraint from their annotation (see
    :func:`constraint_for`); a parameter whose annotation says too little must be named.
    The constraints are resolved at the first call (annotations may name classes defined
    later in the module). ``*args`` and ``**kwargs`` are not checked; defaults are not
    checked at calls (a test checks that each default is allowed).

    Raises:
        ArgumentError: At a call, when a value is not allowed; the message names the
            parameter, what is allowed and what was received.

    Example:
        >>> @params(steps=Interval("int", ge=1))
        ... def run(steps: int, *, name: str = "x") -> int:
        ...     return steps
        >>> run(0)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ArgumentError: steps must be an integer >= 1; got 0.
    """

    def decorate(func: _F) -> _F:
        signature = inspect.signature(func)
        unknown = set(declared) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{func.__qualname__} has no parameter(s) {sorted(unknown)}")
        checks: list[dict[str, Constraint]] = []

        def constraints() -> dict[str, Constraint]:
            if not checks:
                checks.append(_resolve(func, declared))
            return checks[0]

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return func(*args, **kwargs)  # Python's own message for a wrong call
            rules = constraints()
            for name, value in bound.arguments.items():
                rule = rules.get(name)
                if rule is not None:
                    rule.check(value, name)
            return func(*args, **kwargs)

        setattr(checked, _DECLARED, constraints)
        return checked  # type: ignore[return-value]

    return decorate


def declared_params(func: Callable[..., Any]) -> dict[str, Constraint] | None:
    """The constraints :func:`params` declared for ``func`` (resolved), or ``None`` if none."""
    constraints = getattr(func, _DECLARED, None)
    return constraints() if callable(constraints) else None


class _FromAnnotation:
    """An attrs validator that checks a field against its annotation, resolved on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.constraint: Constraint | None = None

    def __call__(self, instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if self.constraint is None:
            try:
                annotation = typing.get_type_hints(type(instance)).get(self.name, Any)
            except (NameError, TypeError):  # an annotation naming what this process lacks
                annotation = Any
            self.constraint = constraint_for(annotation) or CheckedBy("its annotation (Any)")
        self.constraint.check(value, f"{type(instance).__name__}.{self.name}")


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


def annotated_fields(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """An attrs ``field_transformer``: a field without a validator is checked by its annotation.

    For records that users may build themselves (reports, results, machine descriptions):
    ``@attrs.frozen(kw_only=True, field_transformer=annotated_fields)``.
    """
    return [
        field
        if field.validator is not None
        else field.evolve(validator=_FromAnnotation(field.name))
        for field in fields
    ]
