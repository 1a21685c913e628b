"""A multi-layer perceptron."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from fashionkit import _fields
from fashionkit._constants import ACTIVATIONS, Activation
from fashionkit._validation import params
from fashionkit.models._base import ModelConfig
from fashionkit.models._layers import (
    INPUT_SHAPE_RULE,
    NUM_CLASSES_RULE,
    inputs_as,
    softmax_output,
)
from fashionkit.models._registry import register_architecture


@attrs.frozen(kw_only=True)
class MLPConfig(ModelConfig):
    """A multi-layer perceptron: hidden ``Dense`` layers, then ``Dense(10, softmax)``.

    Attributes:
        hidden_units: Width of each hidden layer, in order. Defaults to ``(100,)``.
        activation: Hidden activation. Defaults to ``"relu"``.
        dropout: Dropout rate after each hidden layer, in [0, 1). Defaults to 0.
    """

    architecture: ClassVar[str] = "mlp"

    hidden_units: tuple[int, ...] = attrs.field(
        default=(100,), converter=_fields.to_tuple, validator=_fields.positive_ints
    )
    activation: Activation = attrs.field(
        default="relu", converter=_fields.lower, validator=_fields.one_of(ACTIVATIONS)
    )
    dropout: float = attrs.field(default=0.0, validator=_fields.number(ge=0.0, lt=1.0))


@register_architecture(MLPConfig)
@params(input_shape=INPUT_SHAPE_RULE, num_classes=NUM_CLASSES_RULE)
def build_mlp(config: MLPConfig, *, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """Hidden Dense layers with optional dropout, then a softmax layer."""
    import keras

    inputs, x = inputs_as(input_shape, want="flat")
    for i, units in enumerate(config.hidden_units):
        x = keras.layers.Dense(units, activation=config.activation, name=f"hidden_{i}")(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    return keras.Model(inputs, softmax_output(num_classes)(x), name="mlp")
