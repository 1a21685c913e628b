"""Named training configs: the tutorial's, a fast one and an accurate one.

Example:
    >>> from fashionkit.presets import get_preset, list_presets
    >>> list_presets()
    ['accurate', 'fast', 'tutorial']
    >>> get_preset("fast").model.architecture
    'cnn'
"""

from __future__ import annotations

import difflib

import attrs

from fashionkit.config import CNNConfig, OptimizerConfig, TrainConfig
from fashionkit.exceptions import ConfigError

__all__ = ["Preset", "describe_presets", "get_preset", "list_presets"]


@attrs.frozen(kw_only=True)
class Preset:
    """A named config and what it is for.

    Attributes:
        name: The preset's name.
        summary: One sentence: the model, the schedule and what it reaches.
        config: The training config.
    """

    name: str
    summary: str
    config: TrainConfig


_PRESETS = {
    preset.name: preset
    for preset in (
        Preset(
            name="tutorial",
            summary="The tutorial: one Dense softmax layer, RMSprop, 5 epochs of 32 (about 0.85).",
            config=TrainConfig(),
        ),
        Preset(
            name="fast",
            summary="A small CNN, Adam, 3 epochs of 64: about 0.90 test accuracy in under a "
            "minute of fit on two CPU cores.",
            config=TrainConfig(
                model=CNNConfig(filters=(32, 64), dense_units=100, dropout=0.3),
                optimizer=OptimizerConfig(name="adam", learning_rate=1e-3),
                epochs=3,
                batch_size=64,
            ),
        ),
        Preset(
            name="accurate",
            summary="A wider CNN, Adam, 12 epochs of 64: above 0.92 test accuracy in minutes on "
            "two CPU cores.",
            config=TrainConfig(
                model=CNNConfig(filters=(32, 64, 128), dense_units=128, dropout=0.4),
                optimizer=OptimizerConfig(name="adam", learning_rate=1e-3),
                epochs=12,
                batch_size=64,
            ),
        ),
    )
}


def list_presets() -> list[str]:
    """Return the preset names, sorted."""
    return sorted(_PRESETS)


def get_preset(name: str) -> TrainConfig:
    """Return the config of preset ``name``; change it with :func:`attrs.evolve`.

    Raises:
        ConfigError: No preset has that name; the message lists them.
    """
    try:
        return _PRESETS[name].config
    except KeyError:
        close = difflib.get_close_matches(name, list(_PRESETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"No preset named {name!r}.{hint} Presets: {', '.join(list_presets())}."
        ) from None


def describe_presets() -> list[Preset]:
    """Return every preset with its summary, sorted by name."""
    return [_PRESETS[name] for name in list_presets()]
