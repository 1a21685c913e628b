"""What every config class shares: validator factories and the :class:`ConfigBase` mix-in.

Validators raise :class:`~fashionkit.exceptions.ConfigError` with one message shape: the
field, what is allowed, what was received and, for a misspelt choice, the closest allowed one.
Choice validators take their allowed values from a ``Literal`` type, so a choice list is
written once (see :mod:`fashionkit._constants`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal, Self

import attrs

from fashionkit import _html, _schema
from fashionkit._messages import shown
from fashionkit._validation import check_scalar
from fashionkit.exceptions import ConfigError

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def where(instance: object, attribute: attrs.Attribute[Any]) -> str:
    """``ClassName.field`` for messages."""
    return f"{type(instance).__name__}.{attribute.name}"


def one_of(allowed: Iterable[str]) -> Validator:
    """Accept one of ``allowed``; otherwise name them and suggest the closest."""
    choices = tuple(allowed)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, str) and value in choices:
            return
        listed = ", ".join(repr(c) for c in choices)
        hint = ""
        if isinstance(value, str):
            close = difflib.get_close_matches(value, choices, n=1)
            hint = f" Did you mean {shown(close[0])}?" if close else ""
        raise ConfigError(
            f"{where(instance, attribute)} must be one of {listed}; got {shown(value)}.{hint}"
        )

    return check


def number(
    *,
    integer: bool = False,
    ge: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    hint: str = "",
) -> Validator:
    """Accept a finite Python number (an ``int`` when ``integer``) within the given bounds.

    The check is :func:`fashionkit._validation.check_scalar`'s, raising ``ConfigError`` that
    names ``Class.field``; ``hint`` is a sentence appended to its message.
    """
    kind: Literal["int", "number"] = "int" if integer else "number"

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        check_scalar(
            value,
            where(instance, attribute),
            kind=kind,
            ge=ge,
            gt=gt,
            le=le,
            lt=lt,
            hint=hint,
            numpy=False,
            error=ConfigError,
        )

    return check


#: The word that unsets an optional field where no null can be written (``--set KEY=none``,
#: a TOML file, a sweep's fixed values).
UNSET_WORD = "none"


def unset_word(value: object) -> object:
    """``None`` for the word ``none`` (any case, spaces around it); other values unchanged."""
    if isinstance(value, str) and value.strip().lower() == UNSET_WORD:
        return None
    return value


def optional_number(
    *,
    unset: str,
    integer: bool = False,
    ge: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> Any:
    """An optional number field: ``None`` by default, the word ``none`` unsets it.

    Args:
        unset: What leaving the field unset does, completing "or none to ...", such as
            ``"validate after every epoch"``; it ends the message of a refused value.
        integer: Accept integers only.
        ge: The bounds, as for :func:`number` (likewise ``gt``, ``lt``, ``le``).
        gt: See ``ge``.
        lt: See ``ge``.
        le: See ``ge``.
    """
    check = number(
        integer=integer,
        ge=ge,
        gt=gt,
        lt=lt,
        le=le,
        hint=f"Or leave it unset (None; {UNSET_WORD} in TOML and --set) to {unset}.",
    )
    return attrs.field(
        default=None, converter=unset_word, validator=attrs.validators.optional(check)
    )


def is_bool(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Accept ``True`` or ``False`` only (not 0, 1 or strings)."""
    if not isinstance(value, bool):
        raise ConfigError(
            f"{where(instance, attribute)} must be true or false; got {shown(value)} "
            f"({type(value).__name__})."
        )


def positive_ints(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Accept a non-empty tuple of positive integers."""
    if (
        not isinstance(value, tuple)
        or not value
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)
    ):
        given = list(value) if isinstance(value, tuple) else value
        raise ConfigError(
            f"{where(instance, attribute)} must be a non-empty list of positive integers, such "
            f"as [128, 64]; got {shown(given)}."
        )


def to_tuple(value: object) -> object:
    """Convert a list to a tuple (TOML and JSON have only lists)."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def optional_tuple(value: object) -> object:
    """:func:`to_tuple`, keeping ``None`` (and reading the word ``none`` as ``None``)."""
    value = unset_word(value)
    return None if value is None else to_tuple(value)


def lower(value: object) -> object:
    """Normalise a string choice: ``" GPU "`` becomes ``"gpu"``."""
    return value.strip().lower() if isinstance(value, str) else value


def snake(value: object) -> object:
    """Normalise a string choice with words: ``"One-Hot"`` becomes ``"one_hot"``."""
    return value.strip().lower().replace("-", "_") if isinstance(value, str) else value


def instance_of(cls: type) -> Validator:
    """Accept an instance of ``cls`` (mappings were converted before this runs)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            raise ConfigError(
                f"{where(instance, attribute)} must be a {cls.__name__} or a mapping of its "
                f"fields; got {shown(value)}."
            )

    return check


class ConfigBase:
    """Dict round-tripping shared by every config class (through :mod:`fashionkit._schema`)."""

    _fashionkit_config: ClassVar[bool] = True

    @classmethod
    def _fixed_keys(cls) -> Mapping[str, Any]:
        """Keys written before the fields that are not fields themselves (none by default)."""
        return {}

    def _repr_html_(self) -> str:
        """An HTML table of every field (dotted keys), changed ones in bold: Jupyter's display."""
        try:
            defaults: dict[str, Any] | None = _schema.flatten(type(self)().to_dict())
        except (TypeError, ConfigError):  # a class without defaults for every field
            defaults = None
        flat = _schema.flatten(self.to_dict())
        return _html.key_value_table(type(self).__name__, flat, defaults=defaults)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain nested dicts, lists and scalars.

        Example:
            >>> from fashionkit.config import LossConfig
            >>> LossConfig().to_dict()
            {'encoding': 'sparse', 'label_smoothing': 0.0}
        """
        data: dict[str, Any] = _schema.to_data(self)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build the config from a mapping such as :meth:`to_dict` returns.

        Missing keys take their defaults; unknown keys raise
        :class:`~fashionkit.exceptions.ConfigError` naming the closest allowed ones.

        Example:
            >>> from fashionkit.config import LossConfig
            >>> LossConfig.from_dict({"encodng": "one_hot"})
            Traceback (most recent call last):
            ...
            fashionkit.exceptions.ConfigError: LossConfig got unknown key(s) 'encodng' (did you
            mean 'encoding'?); allowed keys are encoding, label_smoothing.
        """
        return _schema.from_data(data, cls)


def nested(cls: type[ConfigBase], value: object) -> object:
    """For a field's converter: build ``cls`` from a mapping and leave other values alone."""
    return cls.from_dict(value) if isinstance(value, Mapping) else value
