"""The search-space language: :class:`Parameter` and :class:`SearchSpace` over TrainConfig."""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
import numpy as np

from fashionkit import _schema, _validation
from fashionkit._io import os_errors_as
from fashionkit._messages import shown
from fashionkit._typing import PathLike
from fashionkit._validation import (
    AnyOf,
    Boolean,
    CheckedBy,
    Constraint,
    InstanceOf,
    Interval,
    MappingOf,
    NoneOr,
    Options,
    SequenceOf,
    annotated_fields,
    field_validator,
    refusal,
)
from fashionkit.config import TrainConfig, key_types, settable_keys
from fashionkit.exceptions import ArgumentError, ConfigError, ConfigFileNotFoundError, StorageError

_CORNER_LIMIT = 256  # corners checked together; beyond, each value is checked alone


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def _plain_number(value: Any) -> Any:
    """A NumPy number as Python's (so that an integer range stays one); anything else as is."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


@attrs.frozen
class OptunaTrial(Constraint):
    """An Optuna trial: anything with ``suggest_categorical``, ``suggest_int``, ``suggest_float``.

    Checked by what it has rather than by class, so that Optuna is not imported to check it.
    """

    def allows(self, value: object) -> bool:
        """Whether ``value`` can suggest values."""
        names = ("suggest_categorical", "suggest_int", "suggest_float")
        return all(callable(getattr(value, name, None)) for name in names)

    def describe(self) -> str:
        """``an Optuna trial``."""
        return "an Optuna trial (optuna.trial.Trial)"


#: What Optuna stores for a parameter: a choice that is a scalar, a number, or a list's index.
_STORED = AnyOf(
    (Options((None,)), Boolean(), Interval("number"), InstanceOf((str,), "a str")),
)
#: The choices of a parameter: at least one.
_CHOICES = SequenceOf(
    CheckedBy("Parameter: no None; the space: each a valid config value"),
    min_length=1,
    description="a non-empty list of values (numbers, strings, booleans or lists)",
)


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class Parameter:
    """One searched config field: a range or a list of choices.

    Attributes:
        key: A dotted config key, as ``fashionkit train --set`` takes them
            (``optimizer.learning_rate``); ``fashionkit train --list-keys`` lists them.
        low: Lower end of a range (included).
        high: Upper end of a range (included).
        log: Sample the range on a log scale (``low`` must be above 0).
        step: For an integer range, the spacing of the values (default 1); for a float range,
            an optional spacing.
        choices: The values to choose from, instead of a range (any TOML values: numbers,
            strings, booleans, lists).

    A range whose ends are both integers is sampled as integers. Each field is checked on its
    own (an :class:`~fashionkit.exceptions.ArgumentError`, which is a ``ConfigError``), then
    the fields together (a ``ConfigError`` naming the key).

    Example:
        >>> Parameter(key="optimizer.learning_rate", low=1e-4, high=1e-2, log=True).kind
        'float'
        >>> Parameter(key="batch_size", choices=(64, 128)).kind
        'choice'
        >>> Parameter(key="epochs", low=5, high=1)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: search parameter 'epochs': low must be below high; ...
    """

    key: str
    low: int | float | None = attrs.field(default=None, converter=_plain_number)
    high: int | float | None = attrs.field(default=None, converter=_plain_number)
    log: bool = False
    step: float | None = attrs.field(
        default=None,
        converter=_plain_number,
        validator=field_validator(NoneOr(Interval("number", gt=0))),
    )
    choices: tuple[Any, ...] | None = attrs.field(
        default=None, converter=_as_tuple, validator=field_validator(NoneOr(_CHOICES))
    )

    def __attrs_post_init__(self) -> None:
        where = f"search parameter {shown(self.key)}"
        if not self.key:
            raise ConfigError("a search parameter needs a dotted config key; got ''.")
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.log or self.step is not None:
                raise ConfigError(
                    f"{where}: give either choices, or low and high (with log and step); not both."
                )
            if any(choice is None for choice in self.choices):
                raise ConfigError(
                    f"{where}: None cannot be a choice (space.toml keeps the space, and TOML "
                    f'has no null); write the choice "none", which unsets an optional key.'
                )
            return
        if self.low is None or self.high is None:
            raise ConfigError(
                f"{where}: give low and high (numbers) for a range, or choices = [...]; got "
                f"low={shown(self.low)}, high={shown(self.high)}."
            )
        if self.low >= self.high:
            raise ConfigError(
                f"{where}: low must be below high; got low={shown(self.low)}, "
                f"high={shown(self.high)}."
            )
        if self.log and self.low <= 0:
            raise ConfigError(f"{where}: a log range needs low > 0; got low={shown(self.low)}.")
        if self.log and self.step is not None:
            raise ConfigError(f"{where}: a log range cannot have a step.")
        if self.step is not None:
            count = (self.high - self.low) / self.step
            if abs(count - round(count)) > 1e-9 * max(1.0, abs(count)):
                raise ConfigError(
                    f"{where}: step={shown(self.step)} does not divide the range from "
                    f"{shown(self.low)} to "
                    f"{shown(self.high)} into whole steps; choose a step that does, or move high."
                )

    @property
    def kind(self) -> Literal["float", "int", "choice"]:
        """``"choice"``, ``"int"`` (both ends integers) or ``"float"``."""
        if self.choices is not None:
            return "choice"
        integers = isinstance(self.low, int) and isinstance(self.high, int)
        if integers and (self.step is None or float(self.step).is_integer()):
            return "int"
        return "float"

    def corners(self) -> tuple[Any, ...]:
        """The values a space checks: every choice, or both ends of the range."""
        if self.choices is not None:
            return self.choices
        return (self.low, self.high)

    @_validation.params(trial=OptunaTrial())
    def suggest(self, trial: Any) -> Any:
        """Sample a value with an Optuna trial (``trial.suggest_*``)."""
        if self.choices is not None:
            if all(_scalar(c) for c in self.choices):
                return trial.suggest_categorical(self.key, list(self.choices))
            # Optuna stores scalar choices only: lists (model.filters) travel as their index.
            return self.choices[trial.suggest_categorical(self.key, list(range(len(self.choices))))]
        low, high = float(self.low or 0), float(self.high or 0)
        if self.kind == "int":
            step = int(self.step) if self.step is not None else 1
            return trial.suggest_int(self.key, int(low), int(high), step=step, log=self.log)
        return trial.suggest_float(self.key, low, high, step=self.step, log=self.log)

    @_validation.params(stored=_STORED)
    def value_of(self, stored: Any) -> Any:
        """The config value of what Optuna stored for this parameter (an index for lists)."""
        if self.choices is not None and not all(_scalar(c) for c in self.choices):
            return self.choices[int(stored)]
        return stored

    def to_dict(self) -> dict[str, Any]:
        """The TOML table of the parameter (without its key)."""
        if self.choices is not None:
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _with_values(base: TrainConfig, values: Mapping[str, Any]) -> TrainConfig:
    """``base`` with dotted keys set (a new architecture starts from its own defaults).

    Raises:
        ConfigError: The values do not make a valid config, or one a sweep cannot train: each
            trial trains on one machine, so ``device.strategy = "multi_worker"`` is refused.
    """
    config = base.with_overrides(*values.items(), context="search parameter")
    if config.device.strategy == "multi_worker":
        raise ConfigError(
            "sweeps train each trial on one machine; device.strategy = 'multi_worker' is not "
            "supported (use several sweep workers instead: --workers, or --storage on several "
            "machines)."
        )
    return config


def _merge(start: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``start`` with ``changes`` laid over it, table by table.

    A model table naming another architecture replaces the old one instead.
    """
    out = dict(start)
    for key, value in changes.items():
        old = out.get(key)
        same_model = not (
            key == "model"
            and isinstance(value, Mapping)
            and isinstance(old, dict)
            and value.get("architecture", old.get("architecture")) != old.get("architecture")
        )
        if isinstance(value, Mapping) and isinstance(old, dict) and same_model:
            out[key] = _merge(old, value)
        else:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


def _typed(params: Sequence[Parameter]) -> tuple[Parameter, ...]:
    """Match each range to its field's type.

    A float field's range is sampled as floats even when written ``low = 0``; an integer
    field's range must have integer ends.
    """
    types = key_types()
    out = []
    for p in params:
        kinds = types.get(p.key, frozenset())
        if p.choices is None and kinds == {float} and p.kind == "int":
            p = attrs.evolve(p, low=float(p.low or 0), high=float(p.high or 0))
        elif p.choices is not None and kinds == {float}:
            p = attrs.evolve(p, choices=tuple(float(c) if is_number(c) else c for c in p.choices))
        elif p.choices is None and kinds == {int} and p.kind != "int":
            raise ConfigError(
                f"search parameter {shown(p.key)} is an integer field; give integer low, high and "
                f"step; got low={shown(p.low)}, high={shown(p.high)}, step={shown(p.step)}."
            )
        out.append(p)
    return tuple(out)


def _check_keys(params: Sequence[Parameter]) -> None:
    allowed = sorted({key for key, _ in settable_keys()})
    seen: set[str] = set()
    for p in params:
        if p.key in seen:
            raise ConfigError(f"search parameter {shown(p.key)} is given twice.")
        seen.add(p.key)
        if p.key not in allowed:
            close = difflib.get_close_matches(p.key, allowed, n=1)
            hint = f" (did you mean {shown(close[0])}?)" if close else ""
            raise ConfigError(
                f"search parameter {shown(p.key)} is not a config key{hint}; "
                f"'fashionkit train --list-keys' lists them."
            )


def _parameters(value: Any) -> Any:
    """A list of parameters as a tuple; anything else is left for the check."""
    return tuple(value) if isinstance(value, list) else value


#: What :attr:`SearchSpace.params` holds.
_PARAMETERS = SequenceOf(
    InstanceOf((Parameter,)),
    min_length=1,
    description="a list or tuple of at least one parameter (Parameter objects; the [search] "
    "tables of a TOML space)",
)


def _check_parameters(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Refuse anything but a non-empty sequence of parameters; one alone is told to wrap it."""
    if not _PARAMETERS.allows(value):
        hint = "Wrap a single one in a tuple: params=(parameter,)."
        hint = hint if isinstance(value, Parameter) else ""
        raise ArgumentError(refusal("SearchSpace.params", _PARAMETERS.describe(), value, hint))


#: What :meth:`SearchSpace.from_dict` reads.
_SPACE_TABLE = MappingOf(
    InstanceOf((str,), "a str"),
    CheckedBy("from_dict: the [fixed] and [search] tables"),
    description="a table (a mapping) with the sections 'fixed' and 'search'",
)


# The methods below are declared with _validation.params: in the class body, ``params`` is
# the field.
@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class SearchSpace:
    """A base config and the parameters a sweep searches; see the module documentation.

    Attributes:
        base: The fixed fields: the config every trial starts from.
        params: The searched parameters, in order.

    Raises:
        ArgumentError: ``base`` is not a TrainConfig, or ``params`` not a list or tuple of at
            least one :class:`Parameter` (an ArgumentError is a ConfigError).
        ConfigError: An unknown key, a bad range, or a corner of the space that is not a valid
            config (the message says which values and why).

    Example:
        >>> space = SearchSpace(
        ...     base=TrainConfig(model="mlp", epochs=3),
        ...     params=(Parameter(key="model.dropout", low=0.0, high=0.5),),
        ... )
        >>> space.config_for({"model.dropout": 0.25}).model.dropout
        0.25
        >>> SearchSpace(base=TrainConfig(), params=(Parameter(key="model.dropuot", low=0, high=1),))
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: search parameter 'model.dropuot' is not a config ...
    """

    base: TrainConfig = attrs.field(factory=TrainConfig)
    params: tuple[Parameter, ...] = attrs.field(
        converter=_parameters, default=(), validator=_check_parameters
    )

    def __attrs_post_init__(self) -> None:
        _check_keys(self.params)
        object.__setattr__(self, "params", _typed(self.params))
        self._check_corners()

    def _check_corners(self) -> None:
        values = [p.corners() for p in self.params]
        if math.prod(len(v) for v in values) <= _CORNER_LIMIT:
            combos: Iterator[tuple[Any, ...]] = itertools.product(*values)
        else:  # each value alone, the others at their first value
            firsts = [v[0] for v in values]
            combos = (
                tuple(value if j == i else firsts[j] for j in range(len(values)))
                for i, vs in enumerate(values)
                for value in vs
            )
        for combo in combos:
            chosen = dict(zip((p.key for p in self.params), combo, strict=True))
            try:
                _with_values(self.base, chosen)
            except ConfigError as exc:
                where = ", ".join(f"{k}={shown(v)}" for k, v in chosen.items())
                raise ConfigError(
                    f"the search space includes an invalid config at {where}: {exc}"
                ) from None

    @_validation.params()
    def config_for(self, values: Mapping[str, Any]) -> TrainConfig:
        """The base config with the parameters set to ``values`` (dotted keys).

        Raises:
            ConfigError: The values make an invalid config.
        """
        return _with_values(self.base, values)

    @_validation.params(trial=OptunaTrial())
    def suggest(self, trial: Any) -> dict[str, Any]:
        """Sample every parameter with an Optuna trial; returns the dotted keys' values."""
        return {p.key: p.suggest(trial) for p in self.params}

    def to_dict(self) -> dict[str, Any]:
        """The TOML layout: ``fixed`` (the base config) and ``search`` (one table per key)."""
        return {
            "fixed": self.base.to_dict(),
            "search": {p.key: p.to_dict() for p in self.params},
        }

    def to_toml(self) -> str:
        """The space as a TOML document (:meth:`from_toml` reads it back)."""
        return _schema.to_toml(self.to_dict())

    @classmethod
    @_validation.params(data=_SPACE_TABLE)
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        """Build a space from the TOML layout; ``fixed.preset`` names a preset to start from.

        Raises:
            ConfigError: Unknown keys, a bad value, or an invalid corner of the space.
        """
        unknown = sorted(set(data) - {"fixed", "search"})
        if unknown:
            raise ConfigError(
                _schema.unknown_keys_message("a search space", unknown, ["fixed", "search"])
            )
        fixed = data.get("fixed", {})
        if not isinstance(fixed, Mapping):
            raise ConfigError("[fixed] must be a table of config keys.")
        fixed = dict(fixed)
        preset = fixed.pop("preset", None)
        if preset is not None:
            from fashionkit.presets import get_preset

            fixed = _merge(get_preset(str(preset)).to_dict(), fixed)
        base = TrainConfig.from_dict(fixed)
        search = data.get("search", {})
        if not isinstance(search, Mapping):
            raise ConfigError("[search] must be a table of parameters.")
        params = []
        for key, table in search.items():
            if not isinstance(table, Mapping):
                raise ConfigError(
                    f"search parameter {shown(key)} must be a table such as "
                    f"{{ low = 0.0, high = 0.5 }} or {{ choices = [64, 128] }}; got {shown(table)}."
                )
            extra = sorted(set(table) - {"low", "high", "log", "step", "choices"})
            if extra:
                raise ConfigError(
                    _schema.unknown_keys_message(
                        f"search parameter {shown(key)}",
                        extra,
                        ["low", "high", "log", "step", "choices"],
                    )
                )
            params.append(_parameter(key, table))
        return cls(base=base, params=tuple(params))

    @classmethod
    @_validation.params()
    def from_toml(cls, path: PathLike) -> SearchSpace:
        """Read a space from a TOML file.

        Raises:
            ConfigFileNotFoundError: The file does not exist.
            ConfigError: The file is not valid TOML or not a valid space.
        """
        source = Path(path)
        if source.is_dir():
            raise ConfigError(f"{source} is a folder; give the search space's TOML file.")
        if not source.is_file():
            raise ConfigFileNotFoundError(f"Search space file {source} does not exist.")
        try:
            with os_errors_as(StorageError, source, action="read"):
                text = source.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{source} is not a UTF-8 text file, so not a TOML space.") from None
        return cls.from_dict(_schema.parse_toml(text, source=str(source)))


def _parameter(key: str, table: Mapping[str, Any]) -> Parameter:
    """The parameter of a ``[search]`` table; a field's refusal names the key it belongs to."""
    try:
        return Parameter(key=key, **table)
    except ArgumentError as exc:
        raise ArgumentError(f"search parameter {shown(key)}: {exc}") from None
