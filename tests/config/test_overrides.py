"""set_keys: dotted settings applied to a config, architecture changes first."""

from __future__ import annotations

from typing import Any

import pytest

from fashionkit.config import (
    OptimizerConfig,
    TrainConfig,
    set_keys,
)
from fashionkit.exceptions import ConfigError
from fashionkit.models import (
    CNNConfig,
    MLPConfig,
)


def test_set_keys_starts_a_new_architecture_from_its_defaults_whatever_the_order() -> None:
    """It applies a change of architecture first, then the other model keys on its defaults."""
    data = TrainConfig(model=MLPConfig(hidden_units=(64,), dropout=0.5)).to_dict()
    set_keys(
        data,
        [
            (("model", "filters"), [8]),
            (("optimizer", "learning_rate"), 0.01),
            (("model", "architecture"), "cnn"),
        ],
    )
    config = TrainConfig.from_dict(data)
    assert config.model == CNNConfig(filters=(8,))
    assert config.optimizer == OptimizerConfig(learning_rate=0.01)
    partial: dict[str, Any] = {}
    set_keys(partial, [(("loss", "encoding"), "one_hot")])
    assert partial == {"loss": {"encoding": "one_hot"}}  # missing sections are created


def test_set_keys_refuses_a_key_below_a_value_in_the_callers_spelling() -> None:
    """It raises ConfigError naming the key with the caller's separator and context."""
    with pytest.raises(
        ConfigError,
        match=r"^X epochs__x: epochs is a value, not a section, so it has no key 'x'\.$",
    ):
        set_keys({"epochs": 5}, [(("epochs", "x"), 1)], sep="__", context="X ")
