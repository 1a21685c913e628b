"""Configuration objects: frozen, validated on construction, round-trip to dicts and TOML.

Every config is an immutable :mod:`attrs` class with keyword-only fields. A wrong value fails
at construction with a :class:`~fashionkit.exceptions.ConfigError` that names the field, what is
allowed and what was received. Change a config with :func:`attrs.evolve` (validators run again)
or by its dotted keys with :meth:`TrainConfig.with_overrides`, and build one from other sources
with :meth:`TrainConfig.from_dict` or :meth:`TrainConfig.from_toml`. The model section's
classes (:class:`~fashionkit.models.CNNConfig` and the others) live in :mod:`fashionkit.models`,
beside the architectures they build.

Example:
    >>> from fashionkit.config import TrainConfig, LossConfig
    >>> config = TrainConfig(epochs=3, loss=LossConfig(encoding="one_hot"))
    >>> TrainConfig.from_dict(config.to_dict()) == config
    True
    >>> config.with_overrides("model.architecture=mlp", "model.dropout=0.3").model.dropout
    0.3
"""

from fashionkit.config._keys import flatten as flatten
from fashionkit.config._keys import key_types as key_types
from fashionkit.config._keys import settable_keys as settable_keys
from fashionkit.config._keys import training_differences as training_differences
from fashionkit.config._overrides import parse_override as parse_override
from fashionkit.config._overrides import set_keys as set_keys
from fashionkit.config._sections import AugmentConfig as AugmentConfig
from fashionkit.config._sections import DataConfig as DataConfig
from fashionkit.config._sections import DeviceConfig as DeviceConfig
from fashionkit.config._sections import EarlyStoppingConfig as EarlyStoppingConfig
from fashionkit.config._sections import LossConfig as LossConfig
from fashionkit.config._sections import OptimizerConfig as OptimizerConfig
from fashionkit.config._train import TrainConfig as TrainConfig

__all__ = [
    "AugmentConfig",
    "DataConfig",
    "DeviceConfig",
    "EarlyStoppingConfig",
    "LossConfig",
    "OptimizerConfig",
    "TrainConfig",
    "flatten",
    "key_types",
    "parse_override",
    "set_keys",
    "settable_keys",
    "training_differences",
]
