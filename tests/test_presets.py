"""Named presets: lookup, errors, and that every preset builds."""

from __future__ import annotations

import pytest

import fashionkit
from fashionkit.cli import main
from fashionkit.config import TrainConfig
from fashionkit.presets import describe_presets, get_preset, list_presets


def test_presets_are_listed_with_summaries() -> None:
    """It offers the tutorial, fast and accurate presets, each with a summary."""
    assert list_presets() == ["accurate", "fast", "tutorial"]
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
    """It round-trips each preset through TOML and builds its model."""
    config = get_preset(name)
    assert TrainConfig.from_dict(config.to_dict()) == config
    model = fashionkit.build_model(config)
    assert model.output_shape == (None, 10)


def test_cli_train_takes_a_preset_and_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    """It starts from the preset and applies flags on top."""
    assert main(["train", "--preset", "fast", "--epochs", "1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert 'architecture = "cnn"' in out
    assert "epochs = 1" in out
