"""Parameters declared once: the decorator that checks them, and annotations read as constraints.

Every public function and class of fashionkit declares what each of its parameters accepts,
beside the code, with :func:`params` (functions, methods, hand-written ``__init__``) or with
attrs field validators (configs and records; :func:`annotated_fields` derives one from a
field's annotation where none is written). A parameter's annotation is its declaration when
it says enough (``int``, ``bool``, ``Literal[...]``, ``Path | None``, a class); a range, an
array or a value that is checked further in the function is declared explicitly
(:class:`Interval`, :class:`ArrayLike`, :class:`CheckedBy`).

The constraints themselves, and the one message shape of a refusal, are in
``fashionkit._validation._constraints``. A test walks every public callable and fails on a
parameter without a constraint.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import os
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
import numpy as np

from fashionkit._messages import shown
from fashionkit._validation._constraints import (
    AnyOf,
    Boolean,
    CheckedBy,
    Constraint,
    InstanceOf,
    Interval,
    IsCallable,
    MappingOf,
    NoneOr,
    Options,
    PathLike,
    SequenceOf,
)

__all__ = [
    "annotated_fields",
    "constraint_for",
    "declared_params",
    "params",
]

_F = TypeVar("_F", bound=Callable[..., Any])
#: Where :func:`params` keeps a callable's declarations, for :func:`declared_params`.
_DECLARED = "__fashionkit_params__"


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
