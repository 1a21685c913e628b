"""The validator factories and converters every config field is built from."""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest

from fashionkit import _fields
from fashionkit.exceptions import ConfigError


@attrs.frozen(kw_only=True)
class _Sample(_fields.ConfigBase):
    """A config with one field of each kind the factories make."""

    count: int = attrs.field(default=1, validator=_fields.number(integer=True, ge=1, lt=5))
    rate: float = attrs.field(default=0.5, validator=_fields.number(gt=0.0, le=2.0))
    colour: str = attrs.field(
        default="red", converter=_fields.lower, validator=_fields.one_of(("red", "green"))
    )
    flag: bool = attrs.field(default=False, validator=_fields.is_bool)
    sizes: tuple[int, ...] = attrs.field(
        default=(1,), converter=_fields.to_tuple, validator=_fields.positive_ints
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", 0, "_Sample.count must be an integer >= 1 and < 5; got 0."),
        ("count", 5, "_Sample.count must be an integer >= 1 and < 5; got 5."),
        ("count", 2.0, "_Sample.count must be an integer >= 1 and < 5; got 2.0 (float)."),
        ("count", True, "_Sample.count must be an integer >= 1 and < 5; got True (bool)."),
        ("rate", 0, "_Sample.rate must be a number > 0.0 and <= 2.0; got 0."),
        ("rate", math.inf, "_Sample.rate must be a number > 0.0 and <= 2.0; got inf."),
        ("rate", "1", "_Sample.rate must be a number > 0.0 and <= 2.0; got '1' (str)."),
        ("colour", "blu", "_Sample.colour must be one of 'red', 'green'; got 'blu'."),
        ("flag", 1, "_Sample.flag must be true or false; got 1 (int)."),
        ("sizes", [2, 0], "_Sample.sizes must be a non-empty list of positive integers, such "),
    ],
)
def test_validators_say_field_expected_and_received(field: str, value: Any, message: str) -> None:
    """It raises ConfigError whose message names the field, what is allowed and the value."""
    with pytest.raises(ConfigError) as info:
        _Sample(**{field: value})
    assert str(info.value).startswith(message)


def test_number_accepts_huge_integers_without_overflow() -> None:
    """It compares a huge int with its bounds instead of overflowing in math.isfinite."""
    with pytest.raises(ConfigError, match=r"_Sample\.count must be an integer"):
        _Sample(count=2**2000)


def test_one_of_suggests_the_closest_choice() -> None:
    """It adds a did-you-mean hint for a misspelt string and none for other values."""
    with pytest.raises(ConfigError, match=r"got 'gren'\. Did you mean 'green'\?$"):
        _Sample(colour="gren")
    with pytest.raises(ConfigError, match=r"got 3\.$"):
        _Sample(colour=3)


@pytest.mark.parametrize(
    ("converter", "value", "expected"),
    [
        (_fields.lower, " GPU ", "gpu"),
        (_fields.lower, 3, 3),
        (_fields.snake, "One-Hot", "one_hot"),
        (_fields.to_tuple, [1, 2], (1, 2)),
        (_fields.to_tuple, 7, 7),
        (_fields.optional_tuple, None, None),
        (_fields.optional_tuple, [0], (0,)),
    ],
)
def test_converters_normalise_and_leave_other_values_to_the_validator(
    converter: Any, value: object, expected: object
) -> None:
    """It normalises strings and lists, and passes anything else through unchanged."""
    assert converter(value) == expected


def test_config_base_round_trips_through_dicts() -> None:
    """It writes every field to a plain dict and builds an equal config back from it."""
    config = _Sample(count=3, rate=1.5, colour="GREEN", flag=True, sizes=[4, 2])
    data = config.to_dict()
    assert data == {"count": 3, "rate": 1.5, "colour": "green", "flag": True, "sizes": [4, 2]}
    assert _Sample.from_dict(data) == config
    assert _Sample.from_dict({}) == _Sample()


def test_nested_builds_a_config_from_a_mapping_only() -> None:
    """It builds the class from a mapping and leaves a config or a bad value for the validator."""
    assert _fields.nested(_Sample, {"count": 2}) == _Sample(count=2)
    ready = _Sample()
    assert _fields.nested(_Sample, ready) is ready
    assert _fields.nested(_Sample, "nonsense") == "nonsense"
