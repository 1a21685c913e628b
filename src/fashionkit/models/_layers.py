"""Building blocks the built-in architectures share: the input and the softmax output."""

from __future__ import annotations

from typing import Any

from fashionkit._constants import IMAGE_SHAPE
from fashionkit._validation import Interval, SequenceOf

#: What a builder's ``input_shape`` is: the shape of one example, ``(784,)`` or ``(28, 28, 1)``.
INPUT_SHAPE_RULE = SequenceOf(Interval("int", ge=1), min_length=1)
#: What ``num_classes`` is: the units of the softmax output.
NUM_CLASSES_RULE = Interval("int", ge=2)


def inputs_as(input_shape: tuple[int, ...], *, want: str) -> tuple[Any, Any]:
    """Create the ``keras.Input`` and adapt it to the layout the architecture computes on."""
    import keras

    inputs = keras.Input(shape=input_shape, name="pixels")
    x = inputs
    if want == "flat" and len(input_shape) != 1:
        x = keras.layers.Flatten(name="flatten")(x)
    elif want == "image" and len(input_shape) == 1:
        x = keras.layers.Reshape((*IMAGE_SHAPE, 1), name="to_image")(x)
    return inputs, x


def softmax_output(num_classes: int) -> Any:
    """The output layer: a float32 ``Dense`` softmax (stable under mixed precision)."""
    import keras

    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="output")
