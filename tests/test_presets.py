"""Named presets: lookup, errors, and that every preset builds."""

from __future__ import annotations

import pytest

import fashionkit
from fashionkit.config import TrainConfig
from fashionkit.presets import describe_presets, get_preset, list_presets


def test_presets_are_listed_with_summaries() -> None:
    """It offers the tutorial, fast and accurate presets, each with a summary."""
    assert list_presets() == ["accurate", "fast", "tutorial"]
    assert [p.name for p in describe_presets()] == list_presets()
    assert all(p.summary for p in describe_presets())


def test_tutorial_preset_is_the_default_config() -> None:
    """It makes the tutorial preset equal to TrainConfig()."""
    assert get_preset("tutorial") == TrainConfig()


def test_unknown_preset_suggests_a_close_name() -> None:
    """It raises ConfigError naming the presets and the closest one."""
    with pytest.raises(fashionkit.ConfigError, match=r"Did you mean 'fast'\?.*accurate, fast"):
        get_preset("fsat")


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_round_trips_and_builds(name: str) -> None:
    """It round-trips each preset through TOML and creates and compiles its model."""
    config = get_preset(name)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig.from_dict(fashionkit._schema.parse_toml(config.to_toml(), source=name)) == (
        config
    )
    model = fashionkit.create_training_model(config, steps_per_epoch=375)
    assert model.output_shape == (None, 10)
    assert model.optimizer is not None
