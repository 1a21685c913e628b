"""The architecture registry, the model configs beside their builders, and the model factory."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar

import attrs
import numpy as np
import pytest

import fashionkit
from fashionkit.config import TrainConfig, settable_keys
from fashionkit.exceptions import ArgumentError, ConfigError, UnknownModelError
from fashionkit.models import (
    CNNConfig,
    MLPConfig,
    ModelConfig,
    ResNetConfig,
    create_model,
    get_architecture,
    list_architectures,
    register_architecture,
    unregister_architecture,
)
from fashionkit.training import compile_model, create_training_model

ARCHITECTURES = list_architectures()


def test_builtin_architectures_are_registered() -> None:
    """It registers the tutorial's linear model plus an MLP and a CNN."""
    assert ARCHITECTURES == ["cnn", "linear", "mlp", "resnet"]


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_is_registered_under_its_configs_name(name: str) -> None:
    """It keys each architecture by its config's name and summarises it from the builder."""
    architecture = get_architecture(name)
    assert architecture.name == architecture.config.architecture == name
    assert issubclass(architecture.config, ModelConfig)
    assert architecture.summary
    assert architecture.summary == architecture.build.__doc__.strip().splitlines()[0]


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


def test_linear_model_is_the_tutorials_single_dense_layer() -> None:
    """It builds the tutorial's Dense(10, softmax) on 784 inputs: 7850 parameters."""
    model = create_model("linear")
    assert model.count_params() == 784 * 10 + 10
    assert model.layers[-1].get_config()["activation"] == "softmax"


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


def test_create_model_rejects_a_config_of_another_class_with_a_registered_name() -> None:
    """It refuses a config that claims a registered name but is not that architecture's class."""

    @attrs.frozen(kw_only=True)
    class Impostor(ModelConfig):
        architecture: ClassVar[str] = "mlp"

    with pytest.raises(ConfigError, match="expects a MLPConfig; got Impostor"):
        create_model(Impostor())


def test_unknown_architecture_lists_known_names_and_a_close_match() -> None:
    """It raises UnknownModelError naming close matches and every registered architecture."""
    with pytest.raises(UnknownModelError) as info:
        get_architecture("mpl")
    message = str(info.value)
    assert "Did you mean 'mlp'?" in message
    assert "cnn, linear, mlp, resnet" in message
    assert isinstance(info.value, KeyError)
    with pytest.raises(UnknownModelError, match="No architecture named"):
        create_model("mpl")


def test_an_unhashable_name_is_an_unknown_architecture() -> None:
    """It raises UnknownModelError, not TypeError, for a name that cannot be a key."""
    with pytest.raises(UnknownModelError, match=r"No architecture named \['mlp'\]"):
        get_architecture(["mlp"])  # type: ignore[arg-type]


def test_list_architectures_filters_by_glob() -> None:
    """It filters names with a shell-style pattern."""
    assert list_architectures("c*") == ["cnn"]
    assert list_architectures("zzz*") == []


# --- user architectures --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _TinyConfig(ModelConfig):
    architecture: ClassVar[str] = "tiny_test"
    units: int = 4


def _build_tiny(config: _TinyConfig, *, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """A tiny test architecture."""
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(config.units, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))


@pytest.fixture
def tiny_registered() -> Iterator[None]:
    register_architecture(_TinyConfig)(_build_tiny)
    yield
    unregister_architecture("tiny_test")


@pytest.mark.usefixtures("tiny_registered")
def test_registered_architecture_is_usable_by_name_and_in_configs() -> None:
    """It makes a user architecture available to configs, TOML round trips and the factory."""
    assert "tiny_test" in list_architectures()
    config = TrainConfig.from_dict({"model": {"architecture": "tiny_test", "units": 3}})
    assert config.model == _TinyConfig(units=3)
    assert TrainConfig.from_dict(config.to_dict()) == config
    model = create_training_model(config)
    assert model.output_shape == (None, 10)
    assert get_architecture("tiny_test").summary == "A tiny test architecture."


@pytest.mark.usefixtures("tiny_registered")
def test_registered_architecture_fields_become_settable_keys() -> None:
    """It lists a user architecture's fields among the keys --set accepts."""
    assert ("model.units", "int (tiny_test)") in settable_keys()


@pytest.mark.usefixtures("tiny_registered")
def test_registering_a_taken_name_fails_unless_overwrite() -> None:
    """It refuses to register a name twice without overwrite=True."""
    with pytest.raises(ConfigError, match="already registered"):
        register_architecture(_TinyConfig)(_build_tiny)
    register_architecture(_TinyConfig, overwrite=True)(_build_tiny)
    assert get_architecture("tiny_test").config is _TinyConfig


def test_unregistering_an_unknown_name_raises_unknown_model_error() -> None:
    """It refuses to remove an architecture that is not registered."""
    with pytest.raises(UnknownModelError):
        unregister_architecture("tiny_test")


def test_register_rejects_classes_that_are_not_model_configs() -> None:
    """It refuses a config class that is not an attrs ModelConfig subclass with a name."""

    class NotAttrs(ModelConfig):
        architecture: ClassVar[str] = "nope"

    with pytest.raises(ConfigError):
        register_architecture(dict)  # type: ignore[type-var]
    with pytest.raises(ConfigError):
        register_architecture(NotAttrs)

    @attrs.frozen(kw_only=True)
    class Nameless(ModelConfig):
        pass

    with pytest.raises(ConfigError, match="identifier"):
        register_architecture(Nameless)
    assert "nope" not in list_architectures()


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


def test_cnn_with_five_filter_blocks_is_rejected() -> None:
    """It rejects five convolution blocks, since at most four fit a 28x28 image."""
    with pytest.raises(ConfigError, match="at most 4"):
        CNNConfig(filters=[8, 8, 8, 8, 8])


def test_cnn_with_four_filter_blocks_is_accepted() -> None:
    """It accepts exactly four convolution blocks."""
    assert CNNConfig(filters=[8, 8, 8, 8]).filters == (8, 8, 8, 8)


@pytest.mark.parametrize("kernel_size", [2, 4, 6])
def test_cnn_even_kernel_size_is_rejected(kernel_size: int) -> None:
    """It rejects an even kernel size and suggests the odd neighbours."""
    with pytest.raises(ConfigError, match="odd") as info:
        CNNConfig(kernel_size=kernel_size)
    assert str(kernel_size + 1) in str(info.value)
