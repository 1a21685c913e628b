"""The architecture registry and the model factory."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np
import pytest

import fashionkit
from fashionkit.config import ModelConfig, TrainConfig
from fashionkit.models import (
    create_model,
    get_architecture,
    list_architectures,
    register_architecture,
    unregister_architecture,
)

ARCHITECTURES = list_architectures()


def test_builtin_architectures_are_registered() -> None:
    """It registers the tutorial's linear model plus an MLP and a CNN."""
    assert ARCHITECTURES == ["cnn", "linear", "mlp"]


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize("layout", ["flat", "image"])
def test_every_architecture_builds_compiles_and_predicts(name: str, layout: str) -> None:
    """It builds, compiles and runs every registered architecture on a tiny batch, either layout."""
    config = TrainConfig(model=name, data={"layout": layout}, verbose=0)
    model = fashionkit.build_model(config)
    batch = fashionkit.prepare_images(np.zeros((3, 28, 28), np.uint8), layout=layout)
    probs = np.asarray(model(batch, training=False))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert model.inputs[0].shape[1:] == batch.shape[1:]
    assert model.optimizer is not None


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


def test_create_model_rejects_overrides_with_a_config_object() -> None:
    """It refuses field overrides when given a config object rather than a name."""
    with pytest.raises(fashionkit.ConfigError, match=r"attrs\.evolve"):
        create_model(fashionkit.MLPConfig(), hidden_units=(4,))


def test_unknown_architecture_lists_known_names_and_a_close_match() -> None:
    """It raises UnknownModelError naming close matches and every registered architecture."""
    with pytest.raises(fashionkit.UnknownModelError) as info:
        get_architecture("mpl")
    message = str(info.value)
    assert "Did you mean 'mlp'?" in message
    assert "cnn, linear, mlp" in message
    assert isinstance(info.value, KeyError)


def test_list_architectures_filters_by_glob() -> None:
    """It filters names with a shell-style pattern."""
    assert list_architectures("c*") == ["cnn"]
    assert list_architectures("zzz*") == []


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
def tiny_registered() -> Any:
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
    model = fashionkit.build_model(config)
    assert model.output_shape == (None, 10)
    assert get_architecture("tiny_test").summary == "A tiny test architecture."


@pytest.mark.usefixtures("tiny_registered")
def test_registering_a_taken_name_fails_unless_overwrite() -> None:
    """It refuses to register a name twice without overwrite=True."""
    with pytest.raises(fashionkit.ConfigError, match="already registered"):
        register_architecture(_TinyConfig)(_build_tiny)
    register_architecture(_TinyConfig, overwrite=True)(_build_tiny)


def test_register_rejects_classes_that_are_not_model_configs() -> None:
    """It refuses a config class that is not an attrs ModelConfig subclass with a name."""

    class NotAttrs(ModelConfig):
        architecture: ClassVar[str] = "nope"

    with pytest.raises(fashionkit.ConfigError):
        register_architecture(dict)  # type: ignore[type-var]
    with pytest.raises(fashionkit.ConfigError):
        register_architecture(NotAttrs)

    @attrs.frozen(kw_only=True)
    class Nameless(ModelConfig):
        pass

    with pytest.raises(fashionkit.ConfigError, match="identifier"):
        register_architecture(Nameless)
