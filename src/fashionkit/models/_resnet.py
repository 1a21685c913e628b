"""A small residual network for 28x28 images."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from fashionkit import _fields
from fashionkit._constants import Layout
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
class ResNetConfig(ModelConfig):
    """A small residual network with batch normalisation.

    A 3x3 convolution of ``width`` filters, then ``stages`` stages of ``blocks`` residual
    blocks each. A block is two 3x3 convolutions, each followed by ``BatchNormalization``
    (ReLU after the first, after the sum with the shortcut for the second). Stage ``i`` has
    ``width * 2**i`` filters, and every stage after the first starts with a stride of 2
    (28x28, 14x14, 7x7), its shortcut a 1x1 convolution. Global average pooling, ``Dropout``
    and ``Dense(10, softmax)`` end the network.

    Attributes:
        width: Filters of the first stage, 4 to 256. Defaults to 32.
        stages: Number of stages, 1 to 3 (each after the first halves the image). Defaults to
            3.
        blocks: Residual blocks per stage, 1 to 8. Defaults to 2.
        dropout: Dropout rate before the output layer, in [0, 1). Defaults to 0.

    Example:
        >>> ResNetConfig(width=16, stages=2).architecture
        'resnet'
    """

    architecture: ClassVar[str] = "resnet"
    preferred_layout: ClassVar[Layout] = "image"

    width: int = attrs.field(default=32, validator=_fields.number(integer=True, ge=4, le=256))
    stages: int = attrs.field(default=3, validator=_fields.number(integer=True, ge=1, le=3))
    blocks: int = attrs.field(default=2, validator=_fields.number(integer=True, ge=1, le=8))
    dropout: float = attrs.field(default=0.0, validator=_fields.number(ge=0.0, lt=1.0))


def _block(x: Any, filters: int, *, stride: int, name: str) -> Any:
    import keras

    layers = keras.layers
    shortcut = x
    y = layers.Conv2D(
        filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1"
    )(x)
    y = layers.BatchNormalization(name=f"{name}_norm1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_norm2")(y)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters, 1, strides=stride, use_bias=False, name=f"{name}_shortcut"
        )(shortcut)
        shortcut = layers.BatchNormalization(name=f"{name}_shortcut_norm")(shortcut)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


@register_architecture(ResNetConfig)
@params(input_shape=INPUT_SHAPE_RULE, num_classes=NUM_CLASSES_RULE)
def build_resnet(config: ResNetConfig, *, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """Residual stages with batch normalisation, global average pooling, then softmax."""
    import keras

    inputs, x = inputs_as(input_shape, want="image")
    x = keras.layers.Conv2D(config.width, 3, padding="same", use_bias=False, name="stem")(x)
    x = keras.layers.BatchNormalization(name="stem_norm")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for stage in range(config.stages):
        filters = config.width * 2**stage
        for block in range(config.blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            x = _block(x, filters, stride=stride, name=f"stage{stage}_block{block}")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if config.dropout > 0:
        x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    return keras.Model(inputs, softmax_output(num_classes)(x), name="resnet")
