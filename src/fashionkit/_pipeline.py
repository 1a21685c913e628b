"""Feeding data to Keras without float copies of the whole dataset.

Training images stay uint8 (a quarter of float32's memory) until a batch is formed; the batch is
then scaled through a 256-entry table holding exactly :func:`~fashionkit.scale`'s values, so the
model sees the same numbers as from ``scale`` on the whole array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import LAYOUTS, Layout, input_shape_for
from fashionkit.exceptions import InputValidationError
from fashionkit.preprocessing import prepare_images, scale

#: Shuffle orders computed up front, at most (about 200 MB of int64); beyond, one per epoch.
_PRECOMPUTED_ORDERS = 25_000_000
#: ``PIXEL_TABLE[v]`` is ``scale(v)`` for every uint8 value ``v``.
PIXEL_TABLE = scale(np.arange(256, dtype=np.uint8))


def epoch_batches(
    images: NDArray[np.uint8],
    targets: NDArray[Any],
    *,
    layout: str,
    batch_size: int,
    seed: int,
    first_epoch: int,
    epochs: int,
) -> Any:
    """A ``tf.data`` pipeline of shuffled, scaled batches for epochs ``first_epoch..epochs-1``.

    Epoch ``e`` is ordered by a permutation drawn from ``numpy.random.default_rng([seed, e])``,
    so the order of an epoch does not depend on how many epochs ran before it in this process;
    that is what makes a resumed run equal an uninterrupted one. The last batch of an epoch may
    be smaller, as with ``fit(x, y, batch_size=...)``.

    Args:
        images: ``(N, 28, 28)`` uint8 images.
        targets: Encoded labels, ``(N,)`` or ``(N, 10)``.
        layout: ``"flat"`` or ``"image"``: the shape of the model's input.
        batch_size: Images per batch.
        seed: The run's seed.
        first_epoch: Index of the first epoch to produce (0 for a fresh run).
        epochs: One past the index of the last epoch.

    Returns:
        A ``tf.data.Dataset`` of ``(float32 inputs, targets)`` batches.
    """
    import tensorflow as tf

    n = len(images)

    def order(epoch: int) -> NDArray[np.int64]:
        return np.random.default_rng([seed, epoch]).permutation(n).astype(np.int64)

    if (epochs - first_epoch) * n <= _PRECOMPUTED_ORDERS:
        # The usual case: every order up front, the fastest pipeline.
        orders = tf.data.Dataset.from_tensor_slices(
            np.stack([order(e) for e in range(first_epoch, epochs)] or [np.zeros(0, np.int64)])
        )
    else:
        # Thousands of epochs (a run meant to end by its time budget): one order at a time, so
        # memory does not grow with the number of epochs.
        orders = tf.data.Dataset.from_generator(
            lambda: (order(e) for e in range(first_epoch, epochs)),
            output_signature=tf.TensorSpec(shape=(n,), dtype=tf.int64),
        )
    pixels = tf.constant(np.ascontiguousarray(images).reshape(n, *input_shape_for(layout)))
    labels = tf.constant(targets)
    table = tf.constant(PIXEL_TABLE)

    def to_batch(idx: Any) -> tuple[Any, Any]:
        raw = tf.cast(tf.gather(pixels, idx), tf.int32)
        return tf.gather(table, raw), tf.gather(labels, idx)

    options = tf.data.Options()
    # With autotuning on, destroying the iterator at the end of fit sometimes blocks for
    # about 2.4 s (seen on TensorFlow 2.21, about one run in three); a fixed pipeline does not.
    options.autotune.enabled = False
    return (
        orders.flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
        .map(to_batch)
        .prefetch(4)
        .with_options(options)
    )


def model_layout(model: Any) -> Layout:
    """The layout a model takes: ``"flat"`` for ``(784,)`` inputs, ``"image"`` for ``(28, 28, 1)``.

    Raises:
        InputValidationError: The model takes inputs of another shape.
    """
    try:
        shape = tuple(model.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError) as exc:
        raise InputValidationError(
            f"Expected a built keras.Model with one input; got {type(model).__name__}."
        ) from exc
    for layout in LAYOUTS:
        if shape == input_shape_for(layout):
            return layout  # type: ignore[return-value]
    raise InputValidationError(
        f"The model takes inputs of shape {shape}; fashionkit feeds (784,) or (28, 28, 1)."
    )


def predict_in_batches(
    model: Any, images: NDArray[Any], *, layout: str | None = None, batch_size: int = 1024
) -> NDArray[np.float32]:
    """Softmax outputs of ``model`` by direct calls on batches (works under any strategy).

    ``images`` are raw uint8 images, scaled batch by batch for ``layout``, or, with
    ``layout=None``, inputs already shaped as the model takes them.
    """
    parts: list[NDArray[np.float32]] = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        x = chunk if layout is None else prepare_images(chunk, layout=layout)  # type: ignore[arg-type]
        parts.append(np.asarray(model(x, training=False), dtype=np.float32))
    if not parts:
        return np.zeros((0, int(model.outputs[0].shape[-1])), np.float32)
    return np.concatenate(parts)
