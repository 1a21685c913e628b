"""The architecture registry: names, user architectures, and their settable keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import attrs
import pytest

from fashionkit.config import TrainConfig, settable_keys
from fashionkit.exceptions import ConfigError, UnknownModelError
from fashionkit.models import (
    ModelConfig,
    create_model,
    get_architecture,
    list_architectures,
    register_architecture,
    unregister_architecture,
)
from fashionkit.training import create_training_model

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
