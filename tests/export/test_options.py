"""ExportOptions: every field checked, and the rules between fields, in one place."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from fashionkit.exceptions import ArgumentError
from fashionkit.export import (
    DEFAULT_MAX_ACCURACY_LOSS,
    ExportOptions,
)

# ExportOptions: every field checked, and the rules between fields, in one place.


def test_the_default_options_export_a_float32_saved_model() -> None:
    """It defaults to a float32 SavedModel without an accuracy check."""
    options = ExportOptions()
    assert options.format == "saved_model"
    assert options.quantize is None
    assert options.check_accuracy is None
    assert options.representative_size is None
    assert options.max_accuracy_loss == DEFAULT_MAX_ACCURACY_LOSS
    assert options.integer_output is False
    assert not options.checks_accuracy


@pytest.mark.parametrize(
    ("changes", "checks"),
    [
        ({}, False),
        ({"check_accuracy": False}, False),
        ({"check_accuracy": True}, True),
        ({"format": "tflite", "quantize": "float16"}, True),
        ({"format": "tflite", "quantize": "dynamic", "check_accuracy": True}, True),
        ({"format": "tflite", "quantize": "int8", "representative_size": 5}, True),
    ],
)
def test_checks_accuracy_says_whether_the_accuracy_is_checked(
    changes: dict[str, Any], checks: bool
) -> None:
    """It is true for a quantized export and for check_accuracy=True, false otherwise."""
    assert ExportOptions(**changes).checks_accuracy is checks


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("format", "pickle", "one of 'saved_model', 'tflite' or 'onnx'"),
        ("format", None, "one of 'saved_model', 'tflite' or 'onnx'"),
        ("quantize", "int4", "one of 'float16', 'dynamic' or 'int8' or None"),
        ("check_accuracy", "yes", "True or False or None"),
        ("check_accuracy", 1, "True or False or None"),
        ("representative_size", 0, "an integer >= 1 or None"),
        ("representative_size", 2.5, "an integer >= 1 or None"),
        ("representative_size", True, "an integer >= 1 or None"),
        ("max_accuracy_loss", 2.0, "a number >= 0.0 and <= 1.0"),
        ("max_accuracy_loss", -0.1, "a number >= 0.0 and <= 1.0"),
        ("max_accuracy_loss", "1%", "a number >= 0.0 and <= 1.0"),
        ("max_accuracy_loss", True, "a number >= 0.0 and <= 1.0"),
        ("max_accuracy_loss", float("nan"), "a number >= 0.0 and <= 1.0"),
        ("integer_output", 1, "True or False"),
        ("integer_output", None, "True or False"),
    ],
)
def test_each_bad_option_value_is_refused_naming_the_field(
    field: str, value: Any, allowed: str
) -> None:
    """It raises ArgumentError saying the field, what it allows and what it got."""
    with pytest.raises(ArgumentError) as info:
        ExportOptions(**{field: value})
    assert str(info.value).startswith(f"ExportOptions.{field} must be {allowed}; got ")


@pytest.mark.parametrize(
    ("settings", "fields", "words"),
    [
        ({"format": "onnx", "quantize": "int8"}, ("quantize", "format"), "tflite format only"),
        (
            {"format": "saved_model", "quantize": "float16"},
            ("quantize", "format"),
            "tflite format only",
        ),
        (
            {"format": "tflite", "quantize": "float16", "check_accuracy": False},
            ("check_accuracy", "quantize"),
            "always checked by its accuracy",
        ),
        (
            {"format": "tflite", "quantize": "float16", "representative_size": 10},
            ("representative_size", "quantize"),
            "with quantize='int8' only",
        ),
        ({"representative_size": 10}, ("representative_size", "quantize"), "int8"),
        ({"integer_output": True}, ("integer_output", "quantize"), "quantize='int8' only"),
        (
            {"format": "tflite", "quantize": "dynamic", "integer_output": True},
            ("integer_output", "quantize"),
            "quantize='int8' only",
        ),
    ],
)
def test_contradicting_options_are_refused_naming_both_fields(
    settings: dict[str, Any], fields: tuple[str, str], words: str
) -> None:
    """It raises ArgumentError naming the two fields that contradict each other."""
    with pytest.raises(ArgumentError) as info:
        ExportOptions(**settings)
    message = str(info.value)
    assert message.startswith(f"ExportOptions.{fields[0]}")
    assert fields[1] in message
    assert words in message


def test_evolved_options_are_checked_again() -> None:
    """attrs.evolve runs the checks again: a contradiction added later is refused."""
    int8 = ExportOptions(format="tflite", quantize="int8", integer_output=True)
    with pytest.raises(ArgumentError, match="integer_output applies to quantize='int8'"):
        attrs.evolve(int8, quantize="dynamic")
    with pytest.raises(ArgumentError, match=r"ExportOptions\.max_accuracy_loss must be"):
        attrs.evolve(int8, max_accuracy_loss=1.5)
