"""The one serialisation layer: every object fashionkit writes or reads as JSON or TOML.

Configs, evaluation reports, epoch records, placements, results and run files all go through
the :mod:`cattrs` converter defined here, so each object has exactly one plain-data layout:
an attrs class becomes a dict of its fields (nested classes as nested dicts, tuples as lists,
paths as strings). Two kinds of class are read back differently:

* **configs** (classes that set ``_fashionkit_config = True``) come from users, so reading one
  rejects unknown keys with a "did you mean" hint and passes every value to the class
  unconverted: the class's own validators then say what is wrong, exactly as when it is built
  in Python. A config may add fixed keys of its own (a model config's ``architecture``)
  through the ``_fixed_keys`` class method.
* **records** (reports, epoch records, results) come from fashionkit's own files, so cattrs
  structures and type-checks them field by field.

The layout of each file kind is documented in :mod:`fashionkit.runs`.
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
import cattrs
import numpy as np
import tomli_w

from fashionkit._messages import shown
from fashionkit.exceptions import ConfigError

__all__ = [
    "converter",
    "drop_none",
    "flatten",
    "from_data",
    "parse_toml",
    "to_data",
    "to_json",
    "to_toml",
    "unknown_keys_message",
]

_T = TypeVar("_T")

#: The converter every layout goes through.
# Records tolerate keys they do not know (a file written by a newer fashionkit stays readable);
# configs reject them through their own hook below.
converter = cattrs.Converter(detailed_validation=False)


def flatten(data: Mapping[str, Any], *, sep: str = ".") -> dict[str, Any]:
    """Plain nested data as one level of keys joined by ``sep`` (see ``fashionkit.config.flatten``).

    Example:
        >>> flatten({"a": 1, "b": {"c": [2]}})
        {'a': 1, 'b.c': [2]}
    """
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            for inner, leaf in flatten(value, sep=sep).items():
                flat[f"{key}{sep}{inner}"] = leaf
        else:
            flat[str(key)] = value
    return flat


def _is_config(cls: Any) -> bool:
    return isinstance(cls, type) and bool(getattr(cls, "_fashionkit_config", False))


def _unstructure_config(obj: Any) -> dict[str, Any]:
    # Dispatch on the runtime class: a field declared as ModelConfig holds a subclass.
    out: dict[str, Any] = dict(type(obj)._fixed_keys())
    for field in attrs.fields(type(obj)):
        out[field.name] = to_data(getattr(obj, field.name))
    return out


def unknown_keys_message(owner: str, unknown: list[str], allowed: list[str]) -> str:
    """The message for unknown keys: each with its closest allowed key, then the allowed list."""
    hints = []
    for key in sorted(unknown, key=str):
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hints.append(f"{shown(key)}" + (f" (did you mean {shown(close[0])}?)" if close else ""))
    return (
        f"{owner} got unknown key(s) {', '.join(hints)}; allowed keys are "
        f"{', '.join(allowed) or 'none'}."
    )


def _structure_config(data: Any, cls: type[_T]) -> _T:
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{cls.__name__} must be built from a mapping (a TOML table) of its fields; got "
            f"{type(data).__name__} {shown(data)}."
        )
    names = [f.name for f in attrs.fields(cls)]  # type: ignore[arg-type]
    fixed = dict(cls._fixed_keys())  # type: ignore[attr-defined]
    for key, value in fixed.items():
        if key in data and data[key] != value:
            raise ConfigError(
                f"{cls.__name__} has {key} {shown(value)}; got {key}={shown(data[key])}. Build the "
                f"config class of {shown(data[key])} instead."
            )
    given = {k: v for k, v in data.items() if k not in fixed}
    unknown = [k for k in given if k not in names]
    if unknown:
        raise ConfigError(unknown_keys_message(cls.__name__, unknown, [*fixed, *names]))
    # Values go to the class unconverted: its validators and converters produce the messages.
    return cls(**given)


def _unstructure_path(path: Path) -> str:
    return str(path)


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"expected a number, got {shown(value)}")
    return float(value)


converter.register_unstructure_hook_func(_is_config, _unstructure_config)
converter.register_structure_hook_func(_is_config, _structure_config)
converter.register_unstructure_hook(Path, _unstructure_path)
converter.register_structure_hook(Path, lambda value, _: Path(value))
converter.register_structure_hook(float, _structure_float)


def _structure_int(value: Any, _: type) -> int:
    # Strict: a float that is not whole, a bool or a string is a damaged file, not a count.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError(f"expected an integer, got {shown(value)}")
    return value


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {shown(value)}")
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {shown(value)}")
    return value


converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(bool, _structure_bool)


def to_data(obj: Any) -> Any:
    """Return ``obj`` as plain dicts, lists, strings, numbers, booleans and ``None``.

    Example:
        >>> import attrs
        >>> @attrs.frozen
        ... class Point:
        ...     xy: tuple[int, ...]
        >>> to_data(Point((1, 2)))
        {'xy': [1, 2]}
    """
    data = converter.unstructure(obj)
    return _lists(data)


def _lists(data: Any) -> Any:
    """Make unstructured data plain: lists, Python numbers and strings only.

    Tuples and NumPy arrays become lists, NumPy scalars Python numbers, and NaN and infinities
    the strings ``"nan"``, ``"inf"``, ``"-inf"``.

    JSON has no NaN or infinity; the strings are what ``float()`` reads back, and records read
    them back so.
    """
    if isinstance(data, Mapping):
        return {k: _lists(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_lists(v) for v in data]
    if isinstance(data, np.ndarray):
        return _lists(data.tolist())
    if isinstance(data, np.generic):  # NumPy scalars a callback put into the logs
        return _lists(data.item())
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    return data


def from_data(data: Any, cls: type[_T]) -> _T:
    """Build an instance of ``cls`` from the plain data :func:`to_data` produced.

    Raises:
        ConfigError: ``cls`` is a config and ``data`` is not a mapping of its fields, names an
            unknown field, or holds an invalid value.
        KeyError, TypeError, ValueError: ``cls`` is a record and ``data`` lacks a field or holds
            a value of the wrong type.
    """
    try:
        return converter.structure(data, cls)
    except cattrs.StructureHandlerNotFoundError as exc:
        raise TypeError(str(exc)) from exc


def drop_none(data: Any) -> Any:
    """Remove ``None`` values from nested dicts (TOML has no null; such fields default to it)."""
    if isinstance(data, Mapping):
        return {k: drop_none(v) for k, v in data.items() if v is not None}
    return data


def to_json(obj: Any, *, indent: int | None = 2) -> str:
    """Return ``obj`` as JSON text (non-ASCII class names kept readable)."""
    return json.dumps(to_data(obj), indent=indent, ensure_ascii=False)


def to_toml(obj: Any) -> str:
    """Return ``obj`` as a TOML document (fields that are ``None`` are left out)."""
    return tomli_w.dumps(drop_none(to_data(obj)))


#: How deep a config or search-space file may nest arrays and tables (fashionkit's own go three
#: deep); a deeper one is refused before Python's recursion limit is reached.
MAX_TOML_DEPTH = 32


def _depth(value: Any) -> int:
    """How deep ``value`` nests lists and dicts (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_toml(text: str, *, source: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error or a file nested too deep is a ConfigError naming ``source``.

    Raises:
        ConfigError: Not TOML, or arrays and tables nested deeper than :data:`MAX_TOML_DEPTH`.
    """
    too_deep = ConfigError(
        f"{source} nests arrays or tables deeper than {MAX_TOML_DEPTH} levels, fashionkit's "
        f"limit for config and search-space files (theirs need three); it is not one of them."
    )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}.") from exc
    except RecursionError:
        raise too_deep from None
    if _depth(data) > MAX_TOML_DEPTH:
        raise too_deep
    return data
