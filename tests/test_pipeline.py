"""The input pipeline: uint8 images scaled batch by batch, epoch order, layouts, augmentation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit._pipeline import (
    PIXEL_TABLE,
    augment_batch,
    epoch_batches,
    epoch_table,
    mirrored,
    model_layout,
    predict_in_batches,
)
from fashionkit.config import AugmentConfig
from fashionkit.exceptions import InputValidationError
from tests.helpers import balanced_labels, synthetic_images


def test_pixel_table_holds_exactly_the_scaled_values() -> None:
    """It maps every uint8 value to the float32 that scale gives it, bit for bit."""
    values = np.arange(256, dtype=np.uint8)
    assert PIXEL_TABLE.dtype == np.float32
    np.testing.assert_array_equal(PIXEL_TABLE, fashionkit.scale(values))


def _batches(dataset: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(x), np.asarray(y)) for x, y in dataset]


@pytest.mark.parametrize("layout", ["flat", "image"])
def test_epoch_batches_scale_and_order_each_epoch_by_seed_and_epoch(layout: str) -> None:
    """It yields each epoch's rows in the order default_rng([seed, epoch]) permutes them."""
    images, labels = synthetic_images(10), balanced_labels(10)
    batches = _batches(
        epoch_batches(images, labels, layout=layout, batch_size=4, seed=3, first_epoch=0, epochs=2)
    )
    assert [len(y) for _, y in batches] == [4, 4, 2, 4, 4, 2]  # the last batch is smaller
    for epoch in range(2):
        order = np.random.default_rng([3, epoch]).permutation(10)
        x = np.concatenate([b[0] for b in batches[3 * epoch : 3 * epoch + 3]])
        y = np.concatenate([b[1] for b in batches[3 * epoch : 3 * epoch + 3]])
        assert x.dtype == np.float32
        np.testing.assert_array_equal(
            x,
            fashionkit.prepare_images(images[order], layout=layout),  # type: ignore[arg-type]
        )
        np.testing.assert_array_equal(y, labels[order])


def test_epoch_batches_of_a_resumed_run_equal_the_uninterrupted_ones() -> None:
    """It gives epoch 2 the same batches whether the pipeline starts at epoch 0 or at 2."""
    images = synthetic_images(9)
    targets = fashionkit.encode_labels(balanced_labels(9), encoding="one_hot")
    common: dict[str, Any] = {"layout": "flat", "batch_size": 3, "seed": 42, "epochs": 3}
    whole = _batches(epoch_batches(images, targets, first_epoch=0, **common))
    resumed = _batches(epoch_batches(images, targets, first_epoch=2, **common))
    assert len(resumed) == 3
    for (x1, y1), (x2, y2) in zip(whole[6:], resumed, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(whole[0][0], resumed[0][0])


def test_epoch_batches_for_no_remaining_epoch_are_empty() -> None:
    """It yields nothing when the run has no epoch left."""
    images, labels = synthetic_images(4), balanced_labels(4)
    dataset = epoch_batches(
        images, labels, layout="flat", batch_size=2, seed=0, first_epoch=3, epochs=3
    )
    assert _batches(dataset) == []


@pytest.mark.parametrize(("name", "layout"), [("linear", "flat"), ("cnn", "image")])
def test_model_layout_reads_the_models_input_shape(name: str, layout: str) -> None:
    """It finds the layout a model takes from its input shape."""
    assert model_layout(fashionkit.create_model(name)) == layout
    other = "image" if layout == "flat" else "flat"
    assert model_layout(fashionkit.create_model(name, layout=other)) == other


def test_model_layout_rejects_other_inputs() -> None:
    """It raises InputValidationError for a non-model and for inputs fashionkit cannot feed."""
    import keras

    with pytest.raises(InputValidationError, match=r"Expected a built keras\.Model"):
        model_layout(object())
    inputs = keras.Input(shape=(10,))
    odd = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    with pytest.raises(InputValidationError, match=r"inputs of shape \(10,\)"):
        model_layout(odd)


@pytest.mark.parametrize("batch_size", [1, 7, 1024])
def test_predict_in_batches_equals_one_call_on_the_whole_array(batch_size: int) -> None:
    """It gives the outputs of one model call on all images, whatever the batch size."""
    model = fashionkit.create_model("mlp", hidden_units=(8,))
    images = synthetic_images(20)
    whole = np.asarray(model(fashionkit.prepare_images(images), training=False))
    out = predict_in_batches(model, images, layout="flat", batch_size=batch_size)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, whole, rtol=1e-6, atol=1e-7)
    ready = predict_in_batches(
        model, fashionkit.prepare_images(images), layout=None, batch_size=batch_size
    )
    np.testing.assert_allclose(ready, whole, rtol=1e-6, atol=1e-7)


def test_predict_in_batches_of_no_image_is_empty() -> None:
    """It returns (0, classes) without calling the model when there is nothing to predict."""

    class NeverCalled:
        outputs = fashionkit.create_model("linear").outputs

        def __call__(self, *args: object, **kwargs: object) -> None:
            pytest.fail("the model was called")

    out = predict_in_batches(NeverCalled(), np.zeros((0, 28, 28), np.uint8), layout="flat")
    assert out.shape == (0, 10)


def test_epoch_batches_for_many_epochs_make_one_order_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It gives the same batches when the orders are made one epoch at a time (huge epochs)."""
    from fashionkit import _pipeline

    images, labels = synthetic_images(30), balanced_labels(30)

    def batches() -> list[list[int]]:
        stream = epoch_batches(
            images, labels, layout="flat", batch_size=8, seed=5, first_epoch=1, epochs=4
        )
        return [np.asarray(y).tolist() for _, y in stream]

    upfront = batches()
    monkeypatch.setattr(_pipeline, "_PRECOMPUTED_ENTRIES", 0)
    assert batches() == upfront
    assert len(upfront) == 3 * 4  # three epochs of ceil(30 / 8) batches


FULL = AugmentConfig(translate=3, flip="random", erase_probability=0.5, erase_max_size=10)


def _reference(image: np.ndarray, row: np.ndarray, augment: AugmentConfig) -> np.ndarray:
    """One image, changed the slow and obvious way."""
    k = augment.translate
    out = np.pad(image, k)[row[1] : row[1] + 28, row[2] : row[2] + 28].copy()
    if augment.flip != "none" and row[3]:
        out = out[:, ::-1].copy()
    if augment.erase_probability > 0 and row[4]:
        top, left, height, width = row[5:9]
        out[max(top, 0) : max(top + height, 0), max(left, 0) : max(left + width, 0)] = 0
    return out


@pytest.mark.parametrize(
    "augment",
    [
        FULL,
        AugmentConfig(translate=1),
        AugmentConfig(flip="alternate"),
        AugmentConfig(erase_probability=1.0, erase_max_size=28),
    ],
    ids=["all", "translate", "flip", "erase"],
)
def test_augment_batch_equals_a_per_image_reference(augment: AugmentConfig) -> None:
    """It shifts, mirrors and erases every image exactly as its row of the table says."""
    images = synthetic_images(64, seed=3)
    table = epoch_table(64, seed=9, epoch=1, augment=augment)
    batch = images[table[:, 0]]
    got = np.asarray(augment_batch(batch, table, augment))
    assert got.dtype == np.uint8
    for i in range(64):
        np.testing.assert_array_equal(got[i], _reference(batch[i], table[i], augment))


def test_translation_moves_a_pixel_by_the_drawn_offset() -> None:
    """It moves a lone bright pixel by (offset - translate) rows and columns, within the bound."""
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 14, 14] = 255
    augment = AugmentConfig(translate=2)
    table = epoch_table(1, seed=0, epoch=0, augment=augment)
    for dy in range(5):
        for dx in range(5):
            row = table.copy()
            row[0, 1:3] = (dy, dx)
            out = np.asarray(augment_batch(image, row, augment))[0]
            assert np.argwhere(out).tolist() == [[14 - (dy - 2), 14 - (dx - 2)]]


def test_table_draws_the_documented_ranges() -> None:
    """Its offsets lie in 0..2k, flips and erasures are 0/1 near their rates, sizes in bounds."""
    table = epoch_table(20_000, seed=1, epoch=3, augment=FULL)
    assert sorted(table[:, 0].tolist()) == list(range(20_000))
    assert table[:, 1:3].min() == 0
    assert table[:, 1:3].max() == 6
    assert set(np.unique(table[:, 3:5])) == {0, 1}
    assert abs(table[:, 3].mean() - 0.5) < 0.02
    assert abs(table[:, 4].mean() - 0.5) < 0.02
    assert table[:, 5:7].min() == -9  # a 10-pixel side may stick out by 9 above or left
    assert table[:, 5:7].max() == 27
    assert np.all(table[:, 5:7] + table[:, 7:9] >= 1)  # every rectangle overlaps the image
    assert table[:, 7:9].min() == 1
    assert table[:, 7:9].max() == 10


def test_table_depends_only_on_seed_and_epoch() -> None:
    """It is the same in any call for a (seed, epoch), and differs between epochs and seeds."""
    a = epoch_table(500, seed=4, epoch=2, augment=FULL)
    np.testing.assert_array_equal(a, epoch_table(500, seed=4, epoch=2, augment=FULL))
    assert not np.array_equal(a, epoch_table(500, seed=4, epoch=3, augment=FULL))
    assert not np.array_equal(a, epoch_table(500, seed=5, epoch=2, augment=FULL))


def test_alternate_flip_mirrors_each_image_every_other_epoch() -> None:
    """It flips each image in exactly one of two consecutive epochs, half of them in the first."""
    augment = AugmentConfig(flip="alternate")

    def flips(epoch: int) -> np.ndarray:
        table = epoch_table(4000, seed=2, epoch=epoch, augment=augment)
        by_image = np.empty(4000, np.int32)
        by_image[table[:, 0]] = table[:, 3]
        return by_image

    first, second, third = flips(0), flips(1), flips(2)
    assert np.all(first ^ second)
    assert np.array_equal(first, third)
    assert abs(first.mean() - 0.5) < 0.05


def test_random_flip_is_drawn_per_image_and_epoch() -> None:
    """It flips about half of the images, a different half in the next epoch."""
    augment = AugmentConfig(flip="random")
    a = epoch_table(4000, seed=2, epoch=0, augment=augment)
    b = epoch_table(4000, seed=2, epoch=1, augment=augment)
    flip_a, flip_b = np.empty(4000, int), np.empty(4000, int)
    flip_a[a[:, 0]], flip_b[b[:, 0]] = a[:, 3], b[:, 3]
    assert 0.4 < (flip_a ^ flip_b).mean() < 0.6


def test_no_augmentation_gives_the_plain_order() -> None:
    """It keeps the one-column order table when nothing is enabled."""
    plain = epoch_table(50, seed=1, epoch=0)
    np.testing.assert_array_equal(plain, epoch_table(50, seed=1, epoch=0, augment=AugmentConfig()))
    np.testing.assert_array_equal(plain[:, 0], np.random.default_rng([1, 0]).permutation(50))


# --- augmentation: each change against a plain NumPy reference, and resume ------------------


def _augmented_batches(**kwargs: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    images, labels = synthetic_images(40), balanced_labels(40)
    return [
        (np.asarray(x), np.asarray(y))
        for x, y in epoch_batches(images, labels, batch_size=16, seed=6, **kwargs)
    ]


@pytest.mark.parametrize("layout", ["flat", "image"])
def test_augmented_batches_of_a_resumed_run_equal_the_uninterrupted_ones(layout: str) -> None:
    """It produces epochs 2 and 3 alike whether the pipeline starts at epoch 0 or at epoch 2."""
    whole = _augmented_batches(layout=layout, first_epoch=0, epochs=4, augment=FULL)
    resumed = _augmented_batches(layout=layout, first_epoch=2, epochs=4, augment=FULL)
    assert len(whole) == 12
    assert len(resumed) == 6
    for (xa, ya), (xb, yb) in zip(whole[6:], resumed, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_augmented_batches_keep_labels_with_their_images() -> None:
    """It feeds each image's own label, changes the pixels, and scales them into [0, 1]."""
    plain = _augmented_batches(layout="image", first_epoch=0, epochs=1)
    changed = _augmented_batches(layout="image", first_epoch=0, epochs=1, augment=FULL)
    for (xa, ya), (xb, yb) in zip(plain, changed, strict=True):
        np.testing.assert_array_equal(ya, yb)
        assert xb.shape == xa.shape
        assert xb.dtype == np.float32
        assert xb.min() >= 0.0
        assert xb.max() <= 1.0
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(plain, changed, strict=True))


def test_mirrored_flips_images_and_flat_rows_alike() -> None:
    """It mirrors left to right and keeps the shape it was given."""
    images = synthetic_images(3)
    np.testing.assert_array_equal(mirrored(images), images[:, :, ::-1])
    flat = images.reshape(3, 784)
    np.testing.assert_array_equal(mirrored(flat), images[:, :, ::-1].reshape(3, 784))


def test_erasing_reaches_every_edge_alike() -> None:
    """It erases the first and last rows (and columns) about equally often."""
    augment = AugmentConfig(erase_probability=1.0, erase_max_size=12)
    table = epoch_table(20_000, seed=3, epoch=0, augment=augment)
    ones = np.full((20_000, 28, 28), 255, np.uint8)
    erased = np.asarray(augment_batch(ones, table, augment)) == 0
    rows, cols = erased.mean(axis=(0, 2)), erased.mean(axis=(0, 1))
    assert abs(rows[0] - rows[-1]) < 0.02
    assert abs(cols[0] - cols[-1]) < 0.02
    assert rows[0] > 0.02  # and not never (before, a top row was erased 6 times less often)
