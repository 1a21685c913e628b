"""The tutorial's model: one ``Dense(10, softmax)`` layer."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

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
class LinearConfig(ModelConfig):
    """The tutorial's model: one ``Dense(10, softmax)`` layer on the 784 pixels.

    It has no parameters: it is softmax (multinomial logistic) regression.
    """

    architecture: ClassVar[str] = "linear"


@register_architecture(LinearConfig)
@params(input_shape=INPUT_SHAPE_RULE, num_classes=NUM_CLASSES_RULE)
def build_linear(config: LinearConfig, *, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """The tutorial's single Dense softmax layer (multinomial logistic regression)."""
    import keras

    inputs, x = inputs_as(input_shape, want="flat")
    return keras.Model(inputs, softmax_output(num_classes)(x), name="linear")
