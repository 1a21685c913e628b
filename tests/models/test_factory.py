"""create_model and the model configs beside their builders."""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import pytest

import fashionkit
from fashionkit.exceptions import ArgumentError, ConfigError
from fashionkit.models import (
    CNNConfig,
    MLPConfig,
    ResNetConfig,
    create_model,
    get_architecture,
    list_architectures,
)
from fashionkit.training import compile_model

ARCHITECTURES = list_architectures()


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize("layout", ["flat", "image"])
def test_every_architecture_creates_compiles_and_predicts(name: str, layout: str) -> None:
    """It creates, compiles and runs every architecture on a tiny batch, in either layout."""
    model = compile_model(create_model(name, layout=layout))
    batch = fashionkit.prepare_images(np.zeros((3, 28, 28), np.uint8), layout=layout)
    probs = np.asarray(model(batch, training=False))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert model.inputs[0].shape[1:] == batch.shape[1:]
    assert model.optimizer is not None
    assert model.layers[-1].name == "output"
    assert model.layers[-1].dtype_policy.name == "float32"


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_auto_layout_is_the_architectures_preference(name: str) -> None:
    """It gives the model the input shape of the layout its config prefers."""
    config = get_architecture(name).config()
    expected = {"flat": (784,), "image": (28, 28, 1)}[config.preferred_layout]
    assert tuple(create_model(name).inputs[0].shape[1:]) == expected


def test_create_model_applies_overrides_to_a_named_architecture() -> None:
    """It passes keyword overrides to the architecture's config."""
    model = create_model("mlp", hidden_units=(16, 8))
    dense = [layer.get_config()["units"] for layer in model.layers if "hidden" in layer.name]
    assert dense == [16, 8]


def test_create_model_builds_the_given_number_of_classes() -> None:
    """It makes the softmax output as wide as num_classes."""
    assert create_model("cnn", num_classes=3, filters=(4,), dense_units=8).output_shape == (
        None,
        3,
    )


def test_create_model_rejects_overrides_with_a_config_object() -> None:
    """It refuses field overrides when given a config object rather than a name."""
    with pytest.raises(ConfigError, match=r"attrs\.evolve"):
        create_model(MLPConfig(), hidden_units=(4,))


def test_create_model_rejects_an_unknown_override() -> None:
    """It validates overrides through the architecture's config, naming the closest field."""
    with pytest.raises(ConfigError, match=r"MLPConfig got unknown key\(s\) 'hidden_unit'"):
        create_model("mlp", hidden_unit=(4,))


@pytest.mark.parametrize("layout", ["square", "Flat", None, ""])
def test_create_model_rejects_an_unknown_layout(layout: object) -> None:
    """It raises ConfigError listing the layouts for anything else."""
    with pytest.raises(
        ConfigError, match=r"^layout must be one of 'auto', 'flat' or 'image'"
    ) as info:
        create_model("linear", layout=layout)  # type: ignore[arg-type]
    assert repr(layout) in str(info.value)


@pytest.mark.parametrize("num_classes", [1, 0, -3, 2.0, True, "10"])
def test_create_model_rejects_a_bad_number_of_classes(num_classes: object) -> None:
    """It raises ConfigError for a class count that is not an integer of at least 2."""
    with pytest.raises(ConfigError, match="num_classes must be an integer >= 2") as info:
        create_model("linear", num_classes=num_classes)  # type: ignore[arg-type]
    assert repr(num_classes) in str(info.value)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_builder_declares_its_input_shape_and_classes(name: str) -> None:
    """It refuses, naming the argument, an input shape given as one number or too few classes."""
    architecture = get_architecture(name)
    config = architecture.config()
    with pytest.raises(ArgumentError, match=r"^input_shape must be a list or tuple") as info:
        architecture.build(config, input_shape=784, num_classes=10)
    assert "got 784" in str(info.value)
    with pytest.raises(ArgumentError, match=r"^num_classes must be an integer >= 2; got 1\."):
        architecture.build(config, input_shape=(784,), num_classes=1)


def test_create_model_refuses_a_model_that_is_neither_a_config_nor_a_name() -> None:
    """It raises ArgumentError naming ``model`` rather than an AttributeError from inside."""
    with pytest.raises(ArgumentError, match=r"^model must be a ModelConfig or a str; got 3"):
        create_model(3)  # type: ignore[arg-type]


# --- every model config field rejects a bad value -------------------------------------------

# (config class, field, bad value)
_BAD_VALUES: list[tuple[type[Any], str, Any]] = [
    (MLPConfig, "hidden_units", []),
    (MLPConfig, "hidden_units", [0]),
    (MLPConfig, "hidden_units", [64, -5]),
    (MLPConfig, "hidden_units", [1.5]),
    (MLPConfig, "hidden_units", [True]),
    (MLPConfig, "hidden_units", 100),
    (MLPConfig, "hidden_units", "100"),
    (MLPConfig, "activation", "rellu"),
    (MLPConfig, "activation", None),
    (MLPConfig, "dropout", 1.0),
    (MLPConfig, "dropout", -0.1),
    (MLPConfig, "dropout", True),
    (MLPConfig, "dropout", math.nan),
    (CNNConfig, "filters", []),
    (CNNConfig, "filters", [0]),
    (CNNConfig, "filters", [16.0]),
    (CNNConfig, "filters", [8, 8, 8, 8, 8]),
    (CNNConfig, "filters", 32),
    (CNNConfig, "kernel_size", 0),
    (CNNConfig, "kernel_size", 9),
    (CNNConfig, "kernel_size", 4),
    (CNNConfig, "kernel_size", 3.0),
    (CNNConfig, "kernel_size", True),
    (CNNConfig, "kernel_size", "3"),
    (CNNConfig, "dense_units", 0),
    (CNNConfig, "dense_units", 1.5),
    (CNNConfig, "dense_units", True),
    (CNNConfig, "dropout", 1.0),
    (CNNConfig, "dropout", -0.5),
    (CNNConfig, "batch_norm", 1),
    (CNNConfig, "norm_after_pool", "yes"),
    (CNNConfig, "whiten", 1),
    (CNNConfig, "whiten", 5),
    (CNNConfig, "whiten", 2.0),
    (CNNConfig, "whiten_stride", 0),
    (CNNConfig, "whiten_stride", "2"),
    (CNNConfig, "identity_init", 1),
    (ResNetConfig, "width", 2),
    (ResNetConfig, "width", 512),
    (ResNetConfig, "stages", 4),
    (ResNetConfig, "stages", 0),
    (ResNetConfig, "blocks", 9),
    (ResNetConfig, "blocks", 1.5),
    (ResNetConfig, "dropout", 1.0),
]


def _case_id(case: tuple[type[Any], str, Any]) -> str:
    cls, field, value = case
    return f"{cls.__name__}.{field}={value!r}"


@pytest.mark.parametrize(("cls", "field", "value"), _BAD_VALUES, ids=map(_case_id, _BAD_VALUES))
def test_every_model_field_rejects_a_bad_value_naming_field_and_value(
    cls: type[Any], field: str, value: object
) -> None:
    """It raises ConfigError naming ``Class.field`` and the received value."""
    with pytest.raises(ConfigError) as info:
        cls(**{field: value})
    message = str(info.value)
    assert f"{cls.__name__}.{field}" in message
    shown = repr(list(value)) if isinstance(value, list) else repr(value)
    assert shown in message


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_bad_value_table_covers_every_field_of_every_architecture(name: str) -> None:
    """It lists a bad value for every field of every registered architecture's config."""
    cls = get_architecture(name).config
    covered = {field for owner, field, _ in _BAD_VALUES if owner is cls}
    assert covered == {f.name for f in attrs.fields(cls)}
