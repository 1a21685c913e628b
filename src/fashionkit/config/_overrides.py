"""Changing a config by its dotted keys: ``KEY=VALUE`` text and the one writer of keys."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fashionkit._schema import parse_toml
from fashionkit._validation import CheckedBy, params, shown
from fashionkit.exceptions import ArgumentError, ConfigError

__all__ = ["parse_override", "set_keys"]

#: A path of keys into a config's plain data, such as ``("optimizer", "learning_rate")``.
KeyPath = tuple[str, ...]


@params(text=CheckedBy("parse_override, which names what a setting looks like"))
def parse_override(text: str, *, context: str = "") -> tuple[KeyPath, Any]:
    """Parse ``KEY=VALUE``: a dotted config key and a TOML value (a bare word is a string).

    Args:
        text: Such as ``"model.dropout=0.3"``, ``"model.filters=[16, 32]"`` or
            ``"optimizer.name=adam"`` (``adam`` needs no quotes: a value that is not TOML is
            taken as a string).
        context: What the message of a malformed setting puts before ``expects``, such as
            ``"--set"``. Defaults to ``"an override"``.

    Returns:
        The key's path and the value.

    Raises:
        ConfigError: The text is not ``KEY=VALUE`` with a dotted key of non-empty parts and a
            value.

    Example:
        >>> parse_override("model.filters=[16, 32]")
        (('model', 'filters'), [16, 32])
        >>> parse_override("optimizer.name=adam")
        (('optimizer', 'name'), 'adam')
    """
    if not isinstance(text, str):
        raise ArgumentError(
            f"an override must be a KEY=VALUE string, such as 'model.dropout=0.3'; got "
            f"{shown(text)} ({type(text).__name__})."
        )
    key, sep, raw = text.partition("=")
    path = tuple(part.strip() for part in key.split("."))
    if not sep or not all(path) or not raw.strip():
        raise ConfigError(
            f"{context or 'an override'} expects KEY=VALUE with a dotted config key, such as "
            f"model.dropout=0.3 or model.filters=[16,32]; got {shown(text)}. 'fashionkit train "
            f"--list-keys' lists the keys."
        )
    try:
        value = parse_toml(f"value = {raw.strip()}", source=f"the value of {'.'.join(path)}")[
            "value"
        ]
    except ConfigError as exc:
        if not isinstance(exc.__cause__, tomllib.TOMLDecodeError):
            raise  # nested too deep
        value = raw.strip()  # adam, one_hot, cpu: plain words need no quotes
    return path, value


def _key_path(path: object, *, sep: str) -> KeyPath:
    """``path`` as a tuple of non-empty strings, or an ArgumentError saying what it should be."""
    if isinstance(path, str) or not isinstance(path, Sequence):
        raise ArgumentError(
            f"each change must be a pair of a key path, such as ('optimizer', "
            f"'learning_rate'), and a value; got the path {shown(path)}."
        )
    parts = tuple(path)
    if not parts or any(not isinstance(part, str) or not part for part in parts):
        raise ArgumentError(
            f"a key path must be one or more non-empty names, such as ('model', 'dropout'); "
            f"got {shown(sep.join(map(str, parts)) if parts else parts)}."
        )
    return parts


def _changes(changes: object, *, sep: str) -> list[tuple[KeyPath, Any]]:
    if isinstance(changes, (str, bytes, Mapping)) or not isinstance(changes, Iterable):
        raise ArgumentError(
            f"changes must be an iterable of (key path, value) pairs, such as "
            f"[(('model', 'dropout'), 0.3)]; got {shown(changes)} ({type(changes).__name__})."
        )
    steps = []
    for change in changes:
        if not isinstance(change, Sequence) or isinstance(change, str) or len(change) != 2:
            raise ArgumentError(
                f"each change must be a pair of a key path and a value; got {shown(change)}."
            )
        steps.append((_key_path(change[0], sep=sep), change[1]))
    return steps


@params(
    data=CheckedBy("set_keys (a dict of a config's plain data)"),
    changes=CheckedBy("set_keys (an iterable of key path and value pairs)"),
)
def set_keys(
    data: dict[str, Any],
    changes: Iterable[tuple[Sequence[str], Any]],
    *,
    sep: str = ".",
    context: str = "",
) -> None:
    """Write keys into ``data``, a config's plain data (:meth:`TrainConfig.to_dict`'s layout).

    The one writer of the keys :func:`settable_keys` lists:
    :meth:`TrainConfig.with_overrides` (``fashionkit train --set``), the parameters of a sweep
    and the scikit-learn estimator's ``set_params(optimizer__learning_rate=...)`` all go
    through it. Each change is a path of keys, such as ``("optimizer", "learning_rate")``, and
    a value; the changes are applied in order (the last change of a key wins) and missing
    sections are created. A change of ``model.architecture`` to another architecture than
    ``data``'s is applied first: it replaces the model section by the architecture's name
    alone, so the new architecture starts from its own defaults and the other model keys apply
    on top of them, in any order.

    Neither the keys nor the values are checked here: build the config from ``data``
    (:meth:`TrainConfig.from_dict`, or a section's class) to check them, with the message that
    names an unknown key, its closest match and the allowed keys.

    Args:
        data: The plain data, changed in place; it may hold only some sections.
        changes: Pairs of a path of keys and the value to write there.
        sep: What joins the keys of a path in messages. Defaults to ``"."``.
        context: What messages put before the key, such as ``"--set "``. Defaults to ``""``.

    Raises:
        ArgumentError: ``data`` is not a dict, ``changes`` is not an iterable of pairs, or a
            path is not one or more non-empty names.
        ConfigError: A path goes below a value (``epochs.x``: ``epochs`` is a number).

    Example:
        >>> from fashionkit.config import TrainConfig
        >>> data = TrainConfig(model="mlp").to_dict()
        >>> set_keys(data, [(("model", "filters"), [16]), (("model", "architecture"), "cnn")])
        >>> TrainConfig.from_dict(data).model.filters
        (16,)
        >>> set_keys(data, [(("epochs", "x"), 1)])
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: epochs.x: epochs is a value, not a section, so it ...
    """
    if not isinstance(data, dict):
        raise ArgumentError(
            f"data must be a dict of a config's plain data (TrainConfig.to_dict()); got "
            f"{type(data).__name__}."
        )
    steps = _changes(changes, sep=sep)
    architectures = [value for path, value in steps if path == ("model", "architecture")]
    if architectures:
        model = data.get("model")
        current = model.get("architecture") if isinstance(model, dict) else None
        if architectures[-1] != current:
            data["model"] = {"architecture": architectures[-1]}
    for path, value in steps:
        section = data
        for depth, key in enumerate(path[:-1]):
            child = section.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(
                    f"{context}{sep.join(path)}: {sep.join(path[: depth + 1])} is a value, not "
                    f"a section, so it has no key {shown(path[depth + 1])}."
                )
            section = child
        section[path[-1]] = value
