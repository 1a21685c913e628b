"""check_scalar, the one checker of plain arguments, and the error classes it raises."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit._validation import check_scalar
from fashionkit.exceptions import (
    ArgumentError,
    ConfigError,
    InputValidationError,
)

# --- plain scalar arguments ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (3, {"ge": 2}, 3),
        (np.int64(7), {"ge": 1}, 7),
        (0.5, {"kind": "number", "gt": 0, "le": 1}, 0.5),
        (np.float32(2.0), {"kind": "number"}, 2.0),
        (1000, {"ge": 1, "le": 1000}, 1000),
        (2**1100, {"ge": 0}, 2**1100),
    ],
)
def test_check_scalar_returns_python_numbers_inside_the_range(
    value: object, kwargs: dict[str, Any], expected: float
) -> None:
    """It returns the value as a Python int or float when type and range fit."""
    result = check_scalar(value, "x", **kwargs)
    assert result == expected
    assert type(result) is (int if kwargs.get("kind", "int") == "int" else float)


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (0, {"ge": 1}, "x must be an integer >= 1; got 0."),
        (True, {"ge": 1}, "x must be an integer >= 1; got True (bool)."),
        (2.0, {"ge": 1}, "x must be an integer >= 1; got 2.0 (float)."),
        (1001, {"ge": 1, "le": 1000}, "x must be an integer >= 1 and <= 1000; got 1001."),
        (2**32, {"ge": 0, "lt": 2**32}, "x must be an integer >= 0 and < 4294967296; got "),
        (0, {"kind": "number", "gt": 0}, "x must be a number > 0; got 0."),
        (math.nan, {"kind": "number"}, "x must be a finite number; got nan."),
        (math.inf, {"kind": "number", "ge": 0}, "x must be a number >= 0; got inf."),
        ("1", {"kind": "number"}, "x must be a finite number; got '1' (str)."),
        (1.0, {"kind": "number", "lt": 1}, "x must be a number < 1; got 1.0."),
        (2**1100, {"kind": "number"}, "x must be a finite number within float range; got "),
        (np.int64(3), {"numpy": False}, "x must be an integer; got np.int64(3) (int64)."),
    ],
)
def test_check_scalar_refuses_with_one_error_class_naming_what_is_allowed(
    value: object, kwargs: dict[str, Any], message: str
) -> None:
    """It raises ArgumentError whose message names the argument, the range and the value."""
    with pytest.raises(ArgumentError) as info:
        check_scalar(value, "x", **kwargs)
    assert str(info.value).startswith(message)


def test_check_scalar_raises_the_class_it_is_given() -> None:
    """With ``error=ConfigError`` (the config fields' validators) it raises exactly that class."""
    with pytest.raises(ConfigError) as info:
        check_scalar(0, "TrainConfig.epochs", ge=1, error=ConfigError)
    assert type(info.value) is ConfigError
    assert str(info.value) == "TrainConfig.epochs must be an integer >= 1; got 0."


def test_check_scalar_appends_the_hint() -> None:
    """It ends the message with the caller's hint."""
    with pytest.raises(ArgumentError, match=r"got 5\. Use 0\.2\.$"):
        check_scalar(5, "fraction", kind="number", le=1, hint="Use 0.2.")


def test_an_argument_error_is_caught_by_the_older_classes() -> None:
    """ArgumentError is a ConfigError, an InputValidationError and a ValueError at once."""
    assert issubclass(ArgumentError, ConfigError)
    assert issubclass(ArgumentError, InputValidationError)
    assert issubclass(ArgumentError, ValueError)
    assert fashionkit.ArgumentError is ArgumentError
