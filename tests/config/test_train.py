"""The frozen, validated config objects and their dict/TOML round trips."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs
import pytest

from fashionkit.config import (
    AugmentConfig,
    DataConfig,
    DeviceConfig,
    EarlyStoppingConfig,
    LossConfig,
    OptimizerConfig,
    TrainConfig,
)
from fashionkit.exceptions import (
    ConfigError,
    ConfigFileNotFoundError,
    FashionkitError,
    StorageError,
    UnknownModelError,
)
from fashionkit.models import (
    CNNConfig,
    LinearConfig,
    MLPConfig,
)

# --- defaults ------------------------------------------------------------------------------


def test_defaults_reproduce_the_tutorial() -> None:
    """It defaults to the tutorial's linear model, sparse loss, RMSprop and 80/20 split."""
    config = TrainConfig()
    assert isinstance(config.model, LinearConfig)
    assert config.model.architecture == "linear"
    assert config.loss.encoding == "sparse"
    assert config.loss.label_smoothing == 0.0
    assert config.loss.keras_name == "sparse_categorical_crossentropy"
    assert config.optimizer.name == "rmsprop"
    assert config.optimizer.learning_rate == 0.001
    assert config.epochs == 5
    assert config.batch_size == 32
    assert config.data.validation_fraction == 0.2
    assert config.data.split_seed == 42
    assert config.data.stratify is False
    assert config.device.accelerator == "auto"
    assert config.time_budget_seconds is None
    assert config.layout == "flat"


# --- every field rejects a bad value -------------------------------------------------------


# (class, base keyword arguments, field, bad value). The base arguments isolate the field under
# test from cross-field rules (label smoothing needs one_hot).
_BAD_VALUES: list[Any] = [
    # DataConfig
    (DataConfig, {}, "validation_fraction", 0),
    (DataConfig, {}, "validation_fraction", 1),
    (DataConfig, {}, "validation_fraction", -0.1),
    (DataConfig, {}, "validation_fraction", 1.5),
    (DataConfig, {}, "validation_fraction", True),
    (DataConfig, {}, "validation_fraction", "0.2"),
    (DataConfig, {}, "validation_fraction", math.nan),
    (DataConfig, {}, "split_seed", -1),
    (DataConfig, {}, "split_seed", 1.5),
    (DataConfig, {}, "split_seed", True),
    (DataConfig, {}, "split_seed", "42"),
    (DataConfig, {}, "stratify", 1),
    (DataConfig, {}, "stratify", "yes"),
    (DataConfig, {}, "stratify", None),
    (DataConfig, {}, "layout", "square"),
    (DataConfig, {}, "layout", 3),
    # LossConfig
    (LossConfig, {}, "encoding", "binary"),
    (LossConfig, {}, "encoding", 1),
    (LossConfig, {"encoding": "one_hot"}, "label_smoothing", -0.1),
    (LossConfig, {"encoding": "one_hot"}, "label_smoothing", 1.0),
    (LossConfig, {"encoding": "one_hot"}, "label_smoothing", True),
    (LossConfig, {"encoding": "one_hot"}, "label_smoothing", "0.1"),
    # OptimizerConfig
    (OptimizerConfig, {}, "name", "rmsprob"),
    (OptimizerConfig, {}, "name", "lbfgs"),
    (OptimizerConfig, {}, "name", None),
    (OptimizerConfig, {}, "learning_rate", 0),
    (OptimizerConfig, {}, "learning_rate", -0.001),
    (OptimizerConfig, {}, "learning_rate", 11.0),
    (OptimizerConfig, {}, "learning_rate", math.inf),
    (OptimizerConfig, {}, "learning_rate", True),
    (OptimizerConfig, {}, "learning_rate", "0.01"),
    (OptimizerConfig, {}, "schedule", "cosin"),
    (OptimizerConfig, {}, "schedule", None),
    (OptimizerConfig, {}, "warmup_fraction", 1.0),
    (OptimizerConfig, {}, "warmup_fraction", -0.1),
    (OptimizerConfig, {}, "weight_decay", 1.5),
    (OptimizerConfig, {}, "weight_decay", "0.1"),
    (OptimizerConfig, {"name": "sgd"}, "momentum", 1.0),
    (OptimizerConfig, {"name": "sgd"}, "momentum", -0.5),
    (OptimizerConfig, {"name": "sgd", "momentum": 0.9}, "nesterov", "yes"),
    (OptimizerConfig, {}, "ema_momentum", 1.0),
    (OptimizerConfig, {}, "ema_momentum", 0),
    (OptimizerConfig, {}, "ema_momentum", "0.99"),
    # AugmentConfig
    (AugmentConfig, {}, "translate", 9),
    (AugmentConfig, {}, "translate", -1),
    (AugmentConfig, {}, "translate", 1.5),
    (AugmentConfig, {}, "flip", "vertical"),
    (AugmentConfig, {}, "flip", True),
    (AugmentConfig, {}, "erase_probability", 1.5),
    (AugmentConfig, {}, "erase_probability", -0.1),
    (AugmentConfig, {}, "erase_max_size", 0),
    (AugmentConfig, {}, "erase_max_size", 29),
    # EarlyStoppingConfig
    (EarlyStoppingConfig, {}, "monitor", "accuracy"),
    (EarlyStoppingConfig, {}, "monitor", None),
    (EarlyStoppingConfig, {}, "patience", 0),
    (EarlyStoppingConfig, {}, "patience", 2.5),
    (EarlyStoppingConfig, {}, "min_delta", -0.01),
    (EarlyStoppingConfig, {}, "min_delta", math.inf),
    (EarlyStoppingConfig, {}, "restore_best", "yes"),
    # DeviceConfig
    (DeviceConfig, {}, "accelerator", "cuda"),
    (DeviceConfig, {}, "accelerator", None),
    (DeviceConfig, {}, "gpus", [0, 0]),
    (DeviceConfig, {}, "gpus", [-1]),
    (DeviceConfig, {}, "gpus", []),
    (DeviceConfig, {}, "gpus", "0"),
    (DeviceConfig, {}, "memory_growth", "yes"),
    (DeviceConfig, {}, "memory_limit_mb", 0),
    (DeviceConfig, {}, "memory_limit_mb", 1.5),
    (DeviceConfig, {}, "precision", "float16"),
    (DeviceConfig, {}, "strategy", "horovod"),
    (DeviceConfig, {}, "virtual_cpus", 0),
    (DeviceConfig, {}, "virtual_cpus", 65),
    (DeviceConfig, {}, "jit_compile", "xla"),
    (DeviceConfig, {}, "jit_compile", True),
    # TrainConfig
    (TrainConfig, {}, "data", 5),
    (TrainConfig, {}, "data", "flat"),
    (TrainConfig, {}, "model", 5),
    (TrainConfig, {}, "model", None),
    (TrainConfig, {}, "loss", "sparse"),
    (TrainConfig, {}, "optimizer", "adam"),
    (TrainConfig, {}, "device", "gpu"),
    (TrainConfig, {}, "epochs", 0),
    (TrainConfig, {}, "epochs", 1.5),
    (TrainConfig, {}, "epochs", True),
    (TrainConfig, {}, "epochs", "5"),
    (TrainConfig, {}, "batch_size", 0),
    (TrainConfig, {}, "batch_size", 32.0),
    (TrainConfig, {}, "batch_size", True),
    (TrainConfig, {}, "seed", -1),
    (TrainConfig, {}, "seed", 2**32),
    (TrainConfig, {}, "seed", True),
    pytest.param(TrainConfig, {}, "seed", 2**1100),
    (TrainConfig, {}, "verbose", 3),
    (TrainConfig, {}, "verbose", -1),
    (TrainConfig, {}, "verbose", True),
    (TrainConfig, {}, "deterministic", 1),
    (TrainConfig, {}, "steps_per_execution", 0),
    (TrainConfig, {}, "time_budget_seconds", 0),
    (TrainConfig, {}, "time_budget_seconds", -1.0),
    (TrainConfig, {}, "time_budget_seconds", True),
    (TrainConfig, {}, "time_budget_seconds", "60"),
    (TrainConfig, {}, "time_budget_seconds", math.nan),
    (TrainConfig, {}, "augment", "flip"),
    (TrainConfig, {}, "early_stopping", 3),
    (TrainConfig, {}, "tta", "yes"),
    (TrainConfig, {"tta": True}, "tta_each_epoch", "yes"),
    (TrainConfig, {}, "validate_last_epochs", 0),
    (TrainConfig, {}, "validate_last_epochs", 1.0),
    (TrainConfig, {}, "validate_last_epochs", True),
    (TrainConfig, {}, "calibrate", 1),
    (TrainConfig, {}, "tensorboard", "on"),
]


def _case(entry: Any) -> tuple[Any, ...]:
    return tuple(entry.values) if hasattr(entry, "values") else tuple(entry)


def _case_id(entry: Any) -> str:
    cls, _, field, value = _case(entry)
    text = repr(value)
    return f"{cls.__name__}.{field}={text if len(text) < 20 else text[:17] + '...'}"


@pytest.mark.parametrize(
    ("cls", "base", "field", "value"), _BAD_VALUES, ids=[_case_id(e) for e in _BAD_VALUES]
)
def test_every_field_rejects_a_bad_value_naming_field_and_value(
    cls: type, base: dict[str, Any], field: str, value: object
) -> None:
    """It raises ConfigError, a ValueError, naming ``Class.field`` and the value (shortened)."""
    from fashionkit._messages import shown

    with pytest.raises(ConfigError) as info:
        cls(**base, **{field: value})
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, FashionkitError)
    message = str(info.value)
    assert f"{cls.__name__}.{field}" in message
    assert shown(list(value) if isinstance(value, list) else value) in message


#: Every config class whose fields these tests walk.
_CONFIG_CLASSES = (
    DataConfig,
    LossConfig,
    OptimizerConfig,
    DeviceConfig,
    AugmentConfig,
    EarlyStoppingConfig,
    TrainConfig,
)


@pytest.mark.parametrize("cls", _CONFIG_CLASSES)
def test_bad_value_table_covers_every_field(cls: type) -> None:
    """It lists at least one bad value for every field, so a new field cannot go untested."""
    covered = {_case(e)[2] for e in _BAD_VALUES if _case(e)[0] is cls}
    assert covered == {f.name for f in attrs.fields(cls)}


def test_unknown_choice_suggests_the_near_miss() -> None:
    """It suggests 'rmsprop' for the typo 'rmsprob'."""
    with pytest.raises(ConfigError, match=r"Did you mean 'rmsprop'\?"):
        OptimizerConfig(name="rmsprob")


def test_unknown_choice_lists_the_allowed_values() -> None:
    """It lists every allowed accelerator when the value is unknown."""
    with pytest.raises(ConfigError) as info:
        DeviceConfig(accelerator="tpu")
    assert all(repr(c) in str(info.value) for c in ("auto", "cpu", "gpu"))


# --- cross-field rules ---------------------------------------------------------------------


def test_label_smoothing_with_sparse_encoding_asks_for_one_hot() -> None:
    """It rejects label smoothing with the sparse encoding and says one_hot is needed."""
    with pytest.raises(ConfigError, match="one_hot") as info:
        LossConfig(encoding="sparse", label_smoothing=0.1)
    assert "LossConfig.label_smoothing" in str(info.value)
    assert "0.1" in str(info.value)


def test_label_smoothing_with_one_hot_encoding_is_accepted() -> None:
    """It accepts label smoothing with the one_hot encoding and picks Keras's categorical loss."""
    loss = LossConfig(encoding="one_hot", label_smoothing=0.1)
    assert loss.label_smoothing == 0.1
    assert loss.keras_name == "categorical_crossentropy"


# --- converters ----------------------------------------------------------------------------


def test_choice_strings_are_normalised_to_lower_case() -> None:
    """It normalises 'ADAM' to 'adam', ' GPU ' to 'gpu' and 'Image' to 'image'."""
    assert OptimizerConfig(name="ADAM").name == "adam"
    assert DeviceConfig(accelerator=" GPU ").accelerator == "gpu"
    assert DataConfig(layout="Image").layout == "image"
    assert MLPConfig(activation="ReLU").activation == "relu"


@pytest.mark.parametrize("spelling", ["one-hot", "One-Hot", "ONE_HOT", "one_hot"])
def test_one_hot_spellings_are_normalised(spelling: str) -> None:
    """It accepts 'one-hot' and other spellings as 'one_hot'."""
    assert LossConfig(encoding=spelling).encoding == "one_hot"


def test_lists_are_converted_to_tuples() -> None:
    """It stores hidden_units and filters given as lists as tuples (so configs stay hashable)."""
    mlp = MLPConfig(hidden_units=[64, 32])
    cnn = CNNConfig(filters=[16, 32])
    assert mlp.hidden_units == (64, 32)
    assert isinstance(mlp.hidden_units, tuple)
    assert cnn.filters == (16, 32)
    assert isinstance(cnn.filters, tuple)
    assert hash(mlp) == hash(MLPConfig(hidden_units=(64, 32)))


# --- frozen and evolve ---------------------------------------------------------------------


def test_assigning_a_field_raises_frozen_instance_error() -> None:
    """It refuses assignment: configs are frozen."""
    config = TrainConfig()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.epochs = 10  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.optimizer.learning_rate = 0.1  # type: ignore[misc]
    assert config.epochs == 5


def test_evolve_changes_a_copy() -> None:
    """It returns a changed copy from attrs.evolve and leaves the original untouched."""
    config = TrainConfig()
    changed = attrs.evolve(config, epochs=3)
    assert changed.epochs == 3
    assert config.epochs == 5


def test_evolve_to_a_bad_value_is_validated_again() -> None:
    """It runs the validators again in attrs.evolve, so a bad value raises ConfigError."""
    with pytest.raises(ConfigError, match=r"TrainConfig\.epochs"):
        attrs.evolve(TrainConfig(), epochs=0)


def test_evolve_checks_cross_field_rules_again() -> None:
    """It rejects evolving a one_hot loss with smoothing back to the sparse encoding."""
    smoothed = LossConfig(encoding="one_hot", label_smoothing=0.1)
    with pytest.raises(ConfigError, match="one_hot"):
        attrs.evolve(smoothed, encoding="sparse")


# --- round trips ---------------------------------------------------------------------------

_ROUND_TRIP_CONFIGS = {
    "defaults": TrainConfig(),
    "mlp-hidden-units": TrainConfig(
        model=MLPConfig(hidden_units=(256, 128), activation="tanh", dropout=0.25)
    ),
    "cnn": TrainConfig(
        model=CNNConfig(filters=(16, 32, 64), kernel_size=5, dense_units=64, dropout=0.0),
        data=DataConfig(layout="image", validation_fraction=0.1, split_seed=7, stratify=False),
    ),
    "one-hot-smoothing": TrainConfig(
        loss=LossConfig(encoding="one_hot", label_smoothing=0.1),
        optimizer=OptimizerConfig(name="adamw", learning_rate=3e-4),
        device=DeviceConfig(accelerator="cpu"),
    ),
    "time-budget-set": TrainConfig(
        time_budget_seconds=90.5, epochs=20, batch_size=128, seed=0, verbose=2
    ),
    "time-budget-int": TrainConfig(time_budget_seconds=60),
    "time-budget-unset": TrainConfig(time_budget_seconds=None),
}


@pytest.mark.parametrize(
    "config", list(_ROUND_TRIP_CONFIGS.values()), ids=list(_ROUND_TRIP_CONFIGS)
)
def test_dict_round_trip_gives_an_equal_config(config: TrainConfig) -> None:
    """It rebuilds an equal config from to_dict()."""
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "config", list(_ROUND_TRIP_CONFIGS.values()), ids=list(_ROUND_TRIP_CONFIGS)
)
def test_toml_round_trip_gives_an_equal_config(config: TrainConfig, tmp_path: Path) -> None:
    """It rebuilds an equal config from a file written by write_toml."""
    path = config.write_toml(tmp_path / "train.toml")
    assert path == tmp_path / "train.toml"
    loaded = TrainConfig.from_toml(path)
    assert loaded == config
    assert loaded.time_budget_seconds == config.time_budget_seconds


def test_to_dict_gives_plain_nested_values() -> None:
    """It returns nested dicts, lists and the architecture name instead of attrs objects."""
    data = TrainConfig(model=MLPConfig(hidden_units=(64,))).to_dict()
    assert data["model"] == {
        "architecture": "mlp",
        "hidden_units": [64],
        "activation": "relu",
        "dropout": 0.0,
    }
    assert data["loss"] == {"encoding": "sparse", "label_smoothing": 0.0}
    assert data["time_budget_seconds"] is None


def test_to_toml_omits_an_unset_time_budget() -> None:
    """It leaves time_budget_seconds out of the TOML when it is None (TOML has no null)."""
    assert "time_budget_seconds" not in TrainConfig().to_toml()
    assert "time_budget_seconds = 30" in TrainConfig(time_budget_seconds=30).to_toml()


def test_write_toml_leaves_no_temporary_files(tmp_path: Path) -> None:
    """It leaves only the target file in the folder, also when overwriting it."""
    target = tmp_path / "config.toml"
    TrainConfig().write_toml(target)
    TrainConfig(epochs=9).write_toml(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]
    assert TrainConfig.from_toml(target).epochs == 9


def test_from_dict_with_missing_keys_uses_defaults() -> None:
    """It fills missing keys, at any level, with their defaults."""
    config = TrainConfig.from_dict({"epochs": 2, "optimizer": {"name": "adam"}})
    assert config == TrainConfig(epochs=2, optimizer=OptimizerConfig(name="adam"))


def test_from_dict_unknown_key_lists_allowed_keys_with_a_suggestion() -> None:
    """It rejects an unknown key, suggesting the close one and listing the allowed keys."""
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict({"epoch": 3})
    message = str(info.value)
    assert "'epoch'" in message
    assert "did you mean 'epochs'?" in message
    for name in ("data", "model", "loss", "optimizer", "device", "epochs", "batch_size"):
        assert name in message


def test_from_dict_unknown_nested_key_is_rejected() -> None:
    """It rejects an unknown key inside a nested table, naming the nested class."""
    with pytest.raises(ConfigError, match=r"OptimizerConfig.*'learning_rat'.*'learning_rate'"):
        TrainConfig.from_dict({"optimizer": {"learning_rat": 0.01}})


def test_from_dict_rejects_a_non_mapping() -> None:
    """It raises ConfigError when given something other than a mapping."""
    with pytest.raises(ConfigError, match="mapping"):
        TrainConfig.from_dict([("epochs", 3)])  # type: ignore[arg-type]


def test_model_given_as_a_name_is_converted() -> None:
    """It turns the architecture name 'mlp' into a default MLPConfig."""
    assert TrainConfig(model="mlp").model == MLPConfig()
    assert TrainConfig.from_dict({"model": "cnn"}).model == CNNConfig()


def test_model_given_as_a_mapping_is_converted() -> None:
    """It turns {'architecture': 'cnn', 'filters': [16]} into CNNConfig(filters=(16,))."""
    config = TrainConfig(model={"architecture": "cnn", "filters": [16]})
    assert config.model == CNNConfig(filters=(16,))


def test_model_mapping_with_unknown_field_is_rejected() -> None:
    """It rejects a model mapping with a field the architecture does not have."""
    with pytest.raises(ConfigError, match=r"MLPConfig.*'filters'"):
        TrainConfig(model={"architecture": "mlp", "filters": [16]})


@pytest.mark.parametrize("model", ["vit", {"architecture": "vit"}])
def test_unknown_architecture_lists_registered_ones(model: object) -> None:
    """It raises UnknownModelError, also a ConfigError and KeyError, listing the known names."""
    with pytest.raises(UnknownModelError) as info:
        TrainConfig(model=model)
    assert isinstance(info.value, ConfigError)
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "'vit'" in message
    for name in ("cnn", "linear", "mlp", "resnet"):
        assert name in message


def test_unknown_architecture_suggests_the_near_miss() -> None:
    """It suggests 'mlp' for 'mlpp'."""
    with pytest.raises(UnknownModelError, match=r"Did you mean 'mlp'\?"):
        TrainConfig.from_dict({"model": "mlpp"})


def test_model_mapping_without_architecture_is_rejected() -> None:
    """It rejects a model mapping that has no 'architecture' key."""
    with pytest.raises(ConfigError, match="'architecture'"):
        TrainConfig(model={"filters": [16]})


def test_from_toml_with_invalid_toml_raises_config_error(tmp_path: Path) -> None:
    """It raises ConfigError naming the file when it is not valid TOML."""
    path = tmp_path / "broken.toml"
    path.write_text("epochs = = 3\n[data\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        TrainConfig.from_toml(path)
    assert str(path) in str(info.value)


def test_from_toml_with_invalid_value_raises_config_error(tmp_path: Path) -> None:
    """It validates values read from TOML like any other."""
    path = tmp_path / "bad.toml"
    path.write_text("epochs = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"TrainConfig\.epochs"):
        TrainConfig.from_toml(path)


def test_from_toml_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    """It raises ConfigFileNotFoundError, a FileNotFoundError, naming the missing file."""
    with pytest.raises(ConfigFileNotFoundError, match=r"absent\.toml does not exist") as info:
        TrainConfig.from_toml(tmp_path / "absent.toml")
    assert isinstance(info.value, FileNotFoundError)


def test_from_toml_of_a_binary_file_is_a_config_error(tmp_path: Path) -> None:
    """It raises ConfigError for a file that is not UTF-8 text."""
    path = tmp_path / "model.keras"
    path.write_bytes(b"PK\x03\x04\xff\xfe")
    with pytest.raises(ConfigError, match="not a UTF-8 text file"):
        TrainConfig.from_toml(path)


def test_write_toml_where_a_file_blocks_the_folder_is_a_storage_error(tmp_path: Path) -> None:
    """It raises StorageError naming the path, and leaves nothing behind, when it cannot write."""
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(StorageError, match="taken") as info:
        TrainConfig().write_toml(tmp_path / "taken" / "config.toml")
    assert isinstance(info.value, OSError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


@pytest.mark.parametrize(
    ("model", "expected"), [("linear", "flat"), ("mlp", "flat"), ("cnn", "image")]
)
def test_auto_layout_resolves_to_the_model_preference(model: str, expected: str) -> None:
    """It resolves layout 'auto' to the architecture's preferred input layout."""
    assert TrainConfig(model=model).layout == expected


@pytest.mark.parametrize(
    ("model", "layout"), [("linear", "image"), ("mlp", "image"), ("cnn", "flat")]
)
def test_explicit_layout_is_respected(model: str, layout: str) -> None:
    """It keeps an explicit data layout even when the model prefers the other one."""
    assert TrainConfig(model=model, data=DataConfig(layout=layout)).layout == layout


def test_multi_worker_takes_both_presets_recipes() -> None:
    """A time budget and augmentation are valid under multi_worker, as on one machine."""
    config = TrainConfig(
        time_budget_seconds=60, augment={"translate": 2}, device={"strategy": "multi_worker"}
    )
    assert config.augment.enabled
    assert config.time_budget_seconds == 60


def test_tta_each_epoch_without_tta_is_refused_naming_both_fields() -> None:
    """Per-epoch test-time augmentation extends ``tta``; alone it is a ConfigError."""
    with pytest.raises(ConfigError, match=r"tta_each_epoch=True needs tta=True"):
        TrainConfig(tta_each_epoch=True)
    assert TrainConfig(tta=True, tta_each_epoch=True).tta_each_epoch


def _optional_fields() -> list[tuple[type, str]]:
    """Every config field whose annotation admits ``None``."""
    import typing

    found: list[tuple[type, str]] = []
    for cls in _CONFIG_CLASSES:
        hints = typing.get_type_hints(cls)
        for field in attrs.fields(cls):
            if type(None) in typing.get_args(hints[field.name]):
                found.append((cls, field.name))
    return found


@pytest.mark.parametrize(
    ("cls", "field"), _optional_fields(), ids=lambda v: getattr(v, "__name__", v)
)
def test_every_optional_field_is_unset_by_the_word_none(cls: type, field: str) -> None:
    """TOML and ``--set`` have no null: the word ``none`` (any case) unsets an optional field."""
    assert getattr(cls(**{field: " None "}), field) is None
    with pytest.raises(ConfigError, match=r"none") as info:
        cls(**{field: "nothing"})
    assert f"{cls.__name__}.{field}" in str(info.value)


def test_a_preset_s_optional_fields_can_be_unset_from_the_command_line_s_settings(
    tmp_path: Path,
) -> None:
    """``--set validate_last_epochs=none`` brings back the validation after every epoch."""
    from fashionkit.presets import get_preset

    config = get_preset("fast").with_overrides("validate_last_epochs=none", "device.gpus=NONE")
    assert config.validate_last_epochs is None
    assert config.device.gpus is None
    assert config.first_validated_epoch == 1
    assert TrainConfig.from_toml(config.write_toml(tmp_path / "c.toml")) == config
    (tmp_path / "unset.toml").write_text('validate_last_epochs = "none"\n')
    assert TrainConfig.from_toml(tmp_path / "unset.toml").validate_last_epochs is None


@pytest.mark.parametrize(("validated", "patience"), [(1, 1), (2, 1), (3, 2), (3, 5), (5, 4)])
def test_a_patience_that_only_the_last_epoch_could_reach_is_called_idle(
    validated: int, patience: int
) -> None:
    """Early stopping counts validated epochs, the first being the best: it needs room after."""
    config = TrainConfig(
        epochs=6, validate_last_epochs=validated, early_stopping={"patience": patience}
    )
    assert config.early_stopping.patience == patience  # built, so saved runs still read back
    message = config.idle_patience
    assert message is not None
    assert message.startswith(f"early_stopping.patience={patience} can never stop this run")
    assert f"validate_last_epochs to {patience + 2} or more" in message
    assert ("at most" in message) is (validated > 2)


@pytest.mark.parametrize(
    ("validated", "patience"), [(3, 1), (4, 2), (6, 6), (9, 6), (None, 9), (2, None)]
)
def test_a_patience_that_can_stop_the_run_or_none_is_not_idle(
    validated: int | None, patience: int | None
) -> None:
    """Within the validated epochs, or where every epoch is validated, nothing is said."""
    config = TrainConfig(
        epochs=6, validate_last_epochs=validated, early_stopping={"patience": patience}
    )
    assert config.idle_patience is None
