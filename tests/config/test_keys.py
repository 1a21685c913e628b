"""settable_keys: every key --set accepts, and what it accepts."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from fashionkit._constants import ACTIVATIONS, LAYOUT_CHOICES, OPTIMIZERS
from fashionkit.config import (
    TrainConfig,
    settable_keys,
)
from fashionkit.models import (
    get_architecture,
    list_architectures,
)

# --- settable keys -------------------------------------------------------------------------


def _leaves(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict):
            keys |= _leaves(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_settable_keys_lists_every_leaf_field_and_every_architectures_fields() -> None:
    """It lists each leaf of TrainConfig's dict form and the model keys of every architecture."""
    defaults = TrainConfig().to_dict()
    del defaults["model"]
    expected = _leaves(defaults)
    for name in list_architectures():
        expected |= _leaves(get_architecture(name).config().to_dict(), "model.")
    keys = [key for key, _ in settable_keys()]
    assert set(keys) == expected
    assert len(set(settable_keys())) == len(settable_keys())


@pytest.mark.parametrize("name", list_architectures())
def test_settable_model_keys_are_marked_with_their_architecture(name: str) -> None:
    """It marks each model field with the architecture it belongs to."""
    listed = dict(settable_keys())
    assert listed["model.architecture"] == " | ".join(list_architectures())
    marked = {key for key, text in settable_keys() if text.endswith(f"({name})")}
    fields = {f"model.{f.name}" for f in attrs.fields(get_architecture(name).config)}
    assert marked == fields


@pytest.mark.parametrize(
    ("key", "accepts"),
    [
        ("epochs", "int"),
        ("data.validation_fraction", "float"),
        ("data.stratify", "true | false"),
        ("data.layout", " | ".join(LAYOUT_CHOICES)),
        ("optimizer.name", " | ".join(OPTIMIZERS)),
        ("device.gpus", "list of int, or none to unset"),
        ("device.memory_limit_mb", "int, or none to unset"),
        ("time_budget_seconds", "float, or none to unset"),
    ],
)
def test_settable_keys_say_what_each_key_accepts(key: str, accepts: str) -> None:
    """It describes each key's type from its annotation, choices from their Literal."""
    assert dict(settable_keys())[key] == accepts


def test_settable_keys_describe_model_fields_per_architecture() -> None:
    """It describes list, choice and number fields of the architectures, each marked."""
    listed = set(settable_keys())
    assert ("model.hidden_units", "list of int (mlp)") in listed
    assert ("model.activation", f"{' | '.join(ACTIVATIONS)} (mlp)") in listed
    assert ("model.filters", "list of int (cnn)") in listed
    assert ("model.dropout", "float (mlp)") in listed
    assert ("model.dropout", "float (cnn)") in listed
