"""The keys of a training config: what each accepts, and how two configs differ."""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from fashionkit import _fields, _schema
from fashionkit._validation import CheckedBy, InstanceOf, MappingOf, params
from fashionkit.config._train import TrainConfig
from fashionkit.models import ModelConfig, list_architectures
from fashionkit.models._registry import get_architecture

__all__ = ["flatten", "key_types", "settable_keys", "training_differences"]


@params(data=MappingOf(InstanceOf((str,), "a str"), CheckedBy("the walk: any value")))
def flatten(data: Mapping[str, Any], *, sep: str = ".") -> dict[str, Any]:
    """A config's plain data as one level of dotted keys: the one walk over a config's tree.

    Nested mappings become keys joined by ``sep``; every other value (numbers, strings,
    lists, ``None``) is a leaf, kept as it is. Run directories compare configs with it, the
    HParams records and the HTML tables list its keys, and the scikit-learn estimator names
    its nested parameters with it (``sep="__"``).

    Args:
        data: Plain nested data, such as ``TrainConfig().to_dict()``.
        sep: What joins the keys. Defaults to ``"."``.

    Returns:
        The leaves in the order of ``data``.

    Example:
        >>> flatten({"epochs": 5, "optimizer": {"name": "adam", "learning_rate": 0.001}})
        {'epochs': 5, 'optimizer.name': 'adam', 'optimizer.learning_rate': 0.001}
    """
    return _schema.flatten(data, sep=sep)


def _leaves(cls: type[Any], prefix: str = "") -> Iterator[tuple[str, Any, str | None]]:
    """Every leaf field below ``cls``: its dotted key, its annotation and its architecture.

    The model section is walked for every registered architecture (its keys are marked with
    the architecture's name); its ``architecture`` key admits the registered names.
    """
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        kind = hints[field.name]
        key = f"{prefix}{field.name}"
        if isinstance(kind, type) and issubclass(kind, ModelConfig):
            names = tuple(list_architectures())
            yield f"{key}.architecture", typing.Literal[names], None
            for name in names:
                for leaf, annotation, _ in _leaves(get_architecture(name).config, f"{key}."):
                    yield leaf, annotation, name
        elif isinstance(kind, type) and issubclass(kind, _fields.ConfigBase):
            yield from _leaves(kind, f"{key}.")
        else:
            yield key, kind, None


def _describe(kind: Any) -> str:
    """A short description of what a field accepts, from its annotation."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin is typing.Literal:
        return " | ".join(map(str, args))
    if kind is bool:
        return "true | false"
    if kind in (int, float, str):
        return str(kind.__name__)
    if origin is tuple:
        return f"list of {_describe(args[0])}"
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return f"{_describe(rest[0])}, or {_fields.UNSET_WORD} to unset"
    return str(getattr(kind, "__name__", kind))


def _scalar_types(kind: Any) -> frozenset[type]:
    """The Python types a field's annotation admits (``tuple`` for lists), ``None`` left out."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin is typing.Literal:
        return frozenset(type(a) for a in args)
    if origin is tuple:
        return frozenset({tuple})
    if args:  # a union such as float | None
        return frozenset().union(*(_scalar_types(a) for a in args if a is not type(None)))
    return frozenset({kind}) if isinstance(kind, type) else frozenset()


def settable_keys() -> list[tuple[str, str]]:
    """Every key of :class:`TrainConfig`, dotted, with what it accepts (for ``--set``).

    Model keys are listed for every registered architecture, each marked with its name.

    Example:
        >>> dict(settable_keys())["optimizer.name"]
        'rmsprop | adam | adamw | sgd | nadam | adagrad | muon'
    """
    return [
        (key, _describe(kind) + (f" ({name})" if name is not None else ""))
        for key, kind, name in _leaves(TrainConfig)
    ]


def key_types() -> dict[str, frozenset[type]]:
    """Every key :func:`settable_keys` lists, with the Python types its field's annotation admits.

    Read from the attrs fields themselves (``tuple`` for a list, ``None`` left out); a model
    key that several architectures share (``model.dropout``) gets the union of their types.

    Example:
        >>> types = key_types()
        >>> types["optimizer.learning_rate"] == {float}, types["epochs"] == {int}
        (True, True)
        >>> types["model.filters"] == {tuple}, types["time_budget_seconds"] == {float}
        (True, True)
    """
    types: dict[str, frozenset[type]] = {}
    for key, kind, _ in _leaves(TrainConfig):
        types[key] = types.get(key, frozenset()) | _scalar_types(kind)
    return types


@params()
def training_differences(old: TrainConfig, new: TrainConfig) -> list[tuple[str, Any, Any]]:
    """The keys whose values differ between two configs in what they train, sorted.

    The fields of :attr:`TrainConfig.REPORTING_FIELDS` (``verbose``, ``tensorboard``) change
    what is printed or logged, not what is trained, and are left out: a run may be resumed
    with other values of them. A key that only one config has (another architecture's) is
    listed with ``None`` on the other side.

    Example:
        >>> training_differences(TrainConfig(epochs=3), TrainConfig(epochs=4, verbose=0))
        [('epochs', 3, 4)]
    """
    before, after = _trained(old), _trained(new)
    return [
        (key, before.get(key), after.get(key))
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]


def _trained(config: TrainConfig) -> dict[str, Any]:
    return {
        key: value
        for key, value in _schema.flatten(config.to_dict()).items()
        if key not in TrainConfig.REPORTING_FIELDS
    }
