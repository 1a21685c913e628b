"""Feeding data to Keras without float copies of the whole dataset.

Training images stay uint8 (a quarter of float32's memory) until a batch is formed; the batch is
then augmented (when configured) and scaled through a 256-entry table holding exactly
:func:`~fashionkit.scale`'s values, so the model sees the same numbers as from ``scale`` on the
whole array.

Every random number of an epoch (its order, and each image's shift, flip and erased rectangle)
is drawn with NumPy from the seed and the epoch alone, before the epoch starts, and travels with
the image index through the pipeline; TensorFlow then applies the changes to the whole batch at
once. An epoch is therefore the same in any process, which makes resumed runs exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import IMAGE_SHAPE, LAYOUTS, Layout, input_shape_for
from fashionkit.config import AugmentConfig
from fashionkit.exceptions import InputValidationError
from fashionkit.preprocessing import prepare_images, scale

#: Entries of the per-epoch tables computed up front, at most (about 100 MB of int32); beyond,
#: one epoch's table at a time.
_PRECOMPUTED_ENTRIES = 25_000_000
#: Streams of ``default_rng([seed, epoch, stream])`` (the order uses ``[seed, epoch]``).
_AUGMENT_STREAM = 1
_FLIP_STREAM = 2
#: Columns of an epoch's table: the image index, then the augmentation of that image.
_INDEX, _SHIFT_Y, _SHIFT_X, _FLIP, _ERASE, _TOP, _LEFT, _HEIGHT, _WIDTH = range(9)
#: ``PIXEL_TABLE[v]`` is ``scale(v)`` for every uint8 value ``v``.
PIXEL_TABLE = scale(np.arange(256, dtype=np.uint8))


def epoch_table(
    n: int, *, seed: int, epoch: int, augment: AugmentConfig | None = None
) -> NDArray[np.int32]:
    """The plan of one epoch: row ``i`` is the ``i``-th image fed and its augmentation.

    Column 0 is the image index, a permutation drawn from ``default_rng([seed, epoch])`` (the
    order of an epoch does not depend on the epochs before it). With ``augment``, eight more
    columns follow: the crop offsets in the padded image (row, column; ``translate`` is the
    unshifted position), the flip (0 or 1), whether to erase (0 or 1), and the rectangle's top,
    left (negative when it sticks out above or to the left), height and width. They are drawn
    from ``default_rng([seed, epoch, 1])`` in a fixed order whatever the options, and the
    ``alternate`` flip's first coins from ``default_rng([seed, 0, 2])``.

    Example:
        >>> table = epoch_table(5, seed=0, epoch=0, augment=AugmentConfig(flip="random"))
        >>> table.shape, sorted(table[:, 0].tolist())
        ((5, 9), [0, 1, 2, 3, 4])
    """
    order = np.random.default_rng([seed, epoch]).permutation(n).astype(np.int32)
    if augment is None or not augment.enabled:
        return order[:, None]
    rng = np.random.default_rng([seed, epoch, _AUGMENT_STREAM])
    table = np.zeros((n, 9), np.int32)
    table[:, _SHIFT_Y : _SHIFT_X + 1] = rng.integers(0, 2 * augment.translate + 1, size=(n, 2))
    coins = rng.random(n) < 0.5
    if augment.flip == "alternate":
        first = np.random.default_rng([seed, 0, _FLIP_STREAM]).random(n) < 0.5
        coins = first ^ bool(epoch % 2)
    table[:, _FLIP] = coins if augment.flip != "none" else False
    table[:, _ERASE] = rng.random(n) < augment.erase_probability
    sides = rng.integers(1, augment.erase_max_size + 1, size=(n, 2))
    table[:, _HEIGHT : _WIDTH + 1] = sides
    # Every placement that overlaps the image is equally likely, so each edge of the image is
    # erased as often as the opposite one (the rectangle may stick out on any side).
    placements = IMAGE_SHAPE[0] + sides - 1
    table[:, _TOP : _LEFT + 1] = (rng.random((n, 2)) * placements).astype(np.int32) - (sides - 1)
    # Every column describes image i; feed them in the epoch's order.
    table = table[order]
    table[:, _INDEX] = order
    return table


def augment_batch(images: Any, plan: Any, augment: AugmentConfig) -> Any:
    """Apply a batch's rows of :func:`epoch_table` to ``(B, 28, 28)`` uint8 images, in TensorFlow.

    Only the enabled changes are computed; all are whole-batch operations (gathers and
    selects), so no Python runs per image.
    """
    import tensorflow as tf

    x = images
    steps = tf.range(IMAGE_SHAPE[0], dtype=tf.int32)
    if augment.translate > 0:
        k = augment.translate
        padded = tf.pad(x, [[0, 0], [k, k], [k, k]])
        rows = plan[:, _SHIFT_Y : _SHIFT_Y + 1] + steps[None, :]
        cols = plan[:, _SHIFT_X : _SHIFT_X + 1] + steps[None, :]
        x = tf.gather(padded, rows, axis=1, batch_dims=1)  # (B, 28, 28 + 2k)
        x = tf.gather(x, cols, axis=2, batch_dims=1)  # (B, 28, 28)
    if augment.flip != "none":
        x = tf.where(plan[:, _FLIP, None, None] > 0, tf.reverse(x, axis=[2]), x)
    if augment.erase_probability > 0:
        top, left = plan[:, _TOP : _TOP + 1], plan[:, _LEFT : _LEFT + 1]
        in_rows = (steps[None, :] >= top) & (steps[None, :] < top + plan[:, _HEIGHT : _HEIGHT + 1])
        in_cols = (steps[None, :] >= left) & (steps[None, :] < left + plan[:, _WIDTH : _WIDTH + 1])
        mask = in_rows[:, :, None] & in_cols[:, None, :] & (plan[:, _ERASE, None, None] > 0)
        x = tf.where(mask, tf.zeros_like(x), x)
    return x


def epoch_batches(
    images: NDArray[np.uint8],
    targets: NDArray[Any],
    *,
    layout: str,
    batch_size: int,
    seed: int,
    first_epoch: int,
    epochs: int,
    augment: AugmentConfig | None = None,
) -> Any:
    """A ``tf.data`` pipeline of shuffled, scaled batches for epochs ``first_epoch..epochs-1``.

    Each epoch follows its :func:`epoch_table`, drawn from the seed and the epoch only, so a
    resumed run equals an uninterrupted one. The last batch of an epoch may be smaller, as with
    ``fit(x, y, batch_size=...)``.

    Args:
        images: ``(N, 28, 28)`` uint8 images.
        targets: Encoded labels, ``(N,)`` or ``(N, 10)``.
        layout: ``"flat"`` or ``"image"``: the shape of the model's input.
        batch_size: Images per batch.
        seed: The run's seed.
        first_epoch: Index of the first epoch to produce (0 for a fresh run).
        epochs: One past the index of the last epoch.
        augment: Random changes to apply to the training images, or ``None``.

    Returns:
        A ``tf.data.Dataset`` of ``(float32 inputs, targets)`` batches.
    """
    import tensorflow as tf

    n = len(images)
    active = augment if augment is not None and augment.enabled else None
    columns = 1 if active is None else 9

    def table(epoch: int) -> NDArray[np.int32]:
        return epoch_table(n, seed=seed, epoch=epoch, augment=augment)

    if (epochs - first_epoch) * n * columns <= _PRECOMPUTED_ENTRIES:
        # The usual case: every epoch's table up front, the fastest pipeline.
        tables = tf.data.Dataset.from_tensor_slices(
            np.stack(
                [table(e) for e in range(first_epoch, epochs)] or [np.zeros((0, columns), np.int32)]
            ).astype(np.int32)
        )
    else:
        # Thousands of epochs (a run meant to end by its time budget): one table at a time, so
        # memory does not grow with the number of epochs.
        tables = tf.data.Dataset.from_generator(
            lambda: (table(e) for e in range(first_epoch, epochs)),
            output_signature=tf.TensorSpec(shape=(n, columns), dtype=tf.int32),
        )
    shape = input_shape_for(layout)
    pixels = tf.constant(
        np.ascontiguousarray(images).reshape(n, *(shape if active is None else IMAGE_SHAPE))
    )
    labels = tf.constant(targets)
    lookup = tf.constant(PIXEL_TABLE)

    def to_batch(plan: Any) -> tuple[Any, Any]:
        idx = plan[:, _INDEX]
        raw = tf.gather(pixels, idx)
        if active is not None:
            raw = tf.reshape(augment_batch(raw, plan, active), (-1, *shape))
        return tf.gather(lookup, tf.cast(raw, tf.int32)), tf.gather(labels, idx)

    options = tf.data.Options()
    # With autotuning on, destroying the iterator at the end of fit sometimes blocks for
    # about 2.4 s (seen on TensorFlow 2.21, about one run in three); a fixed pipeline does not.
    options.autotune.enabled = False
    return (
        tables.flat_map(lambda plan: tf.data.Dataset.from_tensor_slices(plan).batch(batch_size))
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


def mirrored(images: NDArray[Any]) -> NDArray[Any]:
    """Each image flipped left to right, in the shape it came in (flat rows are 28x28 images).

    Example:
        >>> mirrored(np.arange(784).reshape(1, 784))[0, :3].tolist()
        [27, 26, 25]
    """
    shape = images.shape
    return np.ascontiguousarray(images.reshape(-1, *IMAGE_SHAPE)[:, :, ::-1]).reshape(shape)


def predict_in_batches(
    model: Any,
    images: NDArray[Any],
    *,
    layout: str | None = None,
    batch_size: int = 1024,
    tta: bool = False,
) -> NDArray[np.float32]:
    """Softmax outputs of ``model`` by direct calls on batches (works under any strategy).

    ``images`` are raw uint8 images, scaled batch by batch for ``layout``, or, with
    ``layout=None``, inputs already shaped as the model takes them. With ``tta``, each output is
    the mean of the outputs for the image and its :func:`mirrored` image.
    """
    parts: list[NDArray[np.float32]] = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        views = (chunk, mirrored(chunk)) if tta else (chunk,)
        outputs = [
            np.asarray(
                model(
                    v if layout is None else prepare_images(v, layout=layout),  # type: ignore[arg-type]
                    training=False,
                ),
                dtype=np.float32,
            )
            for v in views
        ]
        parts.append(
            outputs[0] if len(outputs) == 1 else (outputs[0] + outputs[1]) * np.float32(0.5)
        )
    if not parts:
        return np.zeros((0, int(model.outputs[0].shape[-1])), np.float32)
    return np.concatenate(parts)
