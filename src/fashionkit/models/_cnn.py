"""A small convolutional network."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np

from fashionkit import _fields
from fashionkit._constants import Layout
from fashionkit._messages import shown
from fashionkit._validation import Options, field_validator, params
from fashionkit.exceptions import ConfigError
from fashionkit.models._base import ModelConfig
from fashionkit.models._layers import (
    INPUT_SHAPE_RULE,
    NUM_CLASSES_RULE,
    inputs_as,
    softmax_output,
)
from fashionkit.models._registry import register_architecture
from fashionkit.models._whitening import WHITENING_SIZES, whitening_layer


@attrs.frozen(kw_only=True)
class CNNConfig(ModelConfig):
    """A small convolutional network for ``(28, 28, 1)`` images.

    Each block is ``Conv2D(filters, kernel_size, relu, padding="same")`` (with
    ``batch_norm``: the convolution, ``BatchNormalization``, then ReLU) and ``MaxPooling2D(2)``;
    then ``Flatten``, ``Dense(dense_units, relu)``, ``Dropout`` and ``Dense(10, softmax)``.
    With ``whiten``, a frozen patch-whitening convolution and a ReLU come first (see
    :func:`~fashionkit.models.adapt_to_data`).

    Attributes:
        filters: Filters of each convolution block; its length is the number of blocks
            (at most 4, since each block halves the 28x28 image). Defaults to ``(32, 64)``.
        kernel_size: Side of the square convolution kernels, odd, 1 to 7. Defaults to 3.
        dense_units: Width of the dense layer after the blocks. Defaults to 100.
        dropout: Dropout rate before the output layer, in [0, 1). Defaults to 0.3.
        batch_norm: Normalise each convolution's output over the batch before its ReLU.
            Defaults to ``False``.
        norm_after_pool: With ``batch_norm``, order each block convolution, pooling, batch
            normalisation, ReLU: the same kind of network (max pooling commutes with the ReLU)
            whose normalisation runs on a quarter of the values. Defaults to ``False``.
        whiten: ``0`` for none, or the patch side (2 or 3) of a frozen first layer of
            ``2 * whiten**2`` filters that whitens the image's patches, computed from the
            training images when training starts and saved with the model. Defaults to 0.
        whiten_stride: The whitening layer's stride: 1, or 2 to whiten non-overlapping
            patches and halve the image (14x14) before the first block, a quarter of the
            first block's work. Defaults to 1.
        identity_init: Start each block's convolution as close to the identity as its shape
            allows: its first ``min(in_channels, filters)`` filters each pass one input channel
            through (the kernel's centre tap set to 1, the rest 0), the others start as Keras's
            default (Glorot uniform). The network then starts out passing its input, or the
            whitened patches, on to the next layer. Defaults to ``False``.

    Example:
        >>> CNNConfig(filters=(16, 64), batch_norm=True, norm_after_pool=True, whiten=3).whiten
        3
    """

    architecture: ClassVar[str] = "cnn"
    preferred_layout: ClassVar[Layout] = "image"

    filters: tuple[int, ...] = attrs.field(
        default=(32, 64), converter=_fields.to_tuple, validator=_fields.positive_ints
    )
    kernel_size: int = attrs.field(default=3, validator=_fields.number(integer=True, ge=1, le=7))
    dense_units: int = attrs.field(default=100, validator=_fields.number(integer=True, ge=1))
    dropout: float = attrs.field(default=0.3, validator=_fields.number(ge=0.0, lt=1.0))
    batch_norm: bool = attrs.field(default=False, validator=_fields.is_bool)
    norm_after_pool: bool = attrs.field(default=False, validator=_fields.is_bool)
    whiten: int = attrs.field(default=0, validator=field_validator(Options((0, *WHITENING_SIZES))))
    whiten_stride: int = attrs.field(default=1, validator=field_validator(Options((1, 2))))
    identity_init: bool = attrs.field(default=False, validator=_fields.is_bool)

    def __attrs_post_init__(self) -> None:
        if self.norm_after_pool and not self.batch_norm:
            raise ConfigError(
                "CNNConfig.norm_after_pool=True moves the batch normalisation after the pooling; "
                "it needs batch_norm=True. Set both, or leave norm_after_pool off."
            )
        if self.whiten_stride != 1 and not self.whiten:
            raise ConfigError(
                f"CNNConfig.whiten_stride={self.whiten_stride} is the stride of the whitening "
                f"layer; it needs whiten=2 or 3. Set whiten, or leave whiten_stride at 1."
            )
        # Each block halves the image: 28x28 fits 4, the 14x14 a whitening stride leaves 3.
        side, room = (28, 4) if self.whiten_stride == 1 else (14, 3)
        if len(self.filters) > room:
            after = " after a whitening stride of 2" if side == 14 else ""
            raise ConfigError(
                f"CNNConfig.filters has {len(self.filters)} blocks{after}; at most {room} fit a "
                f"{side}x{side} image (each block halves it). Got {shown(list(self.filters))}."
            )
        if self.kernel_size % 2 == 0:
            raise ConfigError(
                f"CNNConfig.kernel_size must be odd so that 'same' padding stays centred; got "
                f"{self.kernel_size}. Use {self.kernel_size + 1} or {self.kernel_size - 1}."
            )


def identity_start(conv: Any) -> None:
    """Set a built ``Conv2D``'s first ``min(in, out)`` filters to pass one channel each.

    Filter ``j`` gets a kernel whose centre tap on input channel ``j`` is 1 and every other
    tap 0; the remaining filters keep the values they were initialised with.
    """
    kernel = np.array(conv.kernel.numpy())
    height, width, channels, filters = kernel.shape
    kept = min(channels, filters)
    kernel[:, :, :, :kept] = 0.0
    kernel[height // 2, width // 2, np.arange(kept), np.arange(kept)] = 1.0
    conv.kernel.assign(kernel)


def _block(x: Any, config: CNNConfig, filters: int, *, name: str) -> Any:
    """One convolution block in the order the config asks for."""
    import keras

    layers = keras.layers
    # Without batch norm the ReLU is the convolution's; with it, the norm's bias replaces the
    # convolution's and a ReLU layer follows the norm.
    if config.batch_norm:
        options: dict[str, Any] = {"use_bias": False}
    else:
        options = {"activation": "relu"}
    conv = layers.Conv2D(
        filters, config.kernel_size, padding="same", name=f"conv_{name}", **options
    )
    x = conv(x)
    if config.identity_init:
        identity_start(conv)
    if not config.batch_norm:
        return layers.MaxPooling2D(2, name=f"pool_{name}")(x)
    if config.norm_after_pool:
        x = layers.MaxPooling2D(2, name=f"pool_{name}")(x)
    x = layers.BatchNormalization(name=f"norm_{name}")(x)
    x = layers.ReLU(name=f"relu_{name}")(x)
    if not config.norm_after_pool:
        x = layers.MaxPooling2D(2, name=f"pool_{name}")(x)
    return x


@register_architecture(CNNConfig)
@params(input_shape=INPUT_SHAPE_RULE, num_classes=NUM_CLASSES_RULE)
def build_cnn(config: CNNConfig, *, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """Convolution and max-pooling blocks, a dense layer with dropout, then softmax."""
    import keras

    inputs, x = inputs_as(input_shape, want="image")
    if config.whiten:
        x = whitening_layer(config.whiten, stride=config.whiten_stride)(x)
        x = keras.layers.ReLU(name="whiten_relu")(x)
    for i, filters in enumerate(config.filters):
        x = _block(x, config, filters, name=str(i))
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    if config.dropout > 0:
        x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    return keras.Model(inputs, softmax_output(num_classes)(x), name="cnn")
