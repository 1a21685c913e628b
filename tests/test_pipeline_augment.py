"""Augmentation in the input pipeline: each change against a plain NumPy reference, and resume."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conftest import balanced_labels, synthetic_images
from fashionkit._pipeline import augment_batch, epoch_batches, epoch_table, mirrored
from fashionkit.config import AugmentConfig

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


def _batches(**kwargs: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    images, labels = synthetic_images(40), balanced_labels(40)
    return [
        (np.asarray(x), np.asarray(y))
        for x, y in epoch_batches(images, labels, batch_size=16, seed=6, **kwargs)
    ]


@pytest.mark.parametrize("layout", ["flat", "image"])
def test_augmented_batches_of_a_resumed_run_equal_the_uninterrupted_ones(layout: str) -> None:
    """It produces epochs 2 and 3 alike whether the pipeline starts at epoch 0 or at epoch 2."""
    whole = _batches(layout=layout, first_epoch=0, epochs=4, augment=FULL)
    resumed = _batches(layout=layout, first_epoch=2, epochs=4, augment=FULL)
    assert len(whole) == 12
    assert len(resumed) == 6
    for (xa, ya), (xb, yb) in zip(whole[6:], resumed, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_augmented_batches_keep_labels_with_their_images() -> None:
    """It feeds each image's own label, changes the pixels, and scales them into [0, 1]."""
    plain = _batches(layout="image", first_epoch=0, epochs=1)
    changed = _batches(layout="image", first_epoch=0, epochs=1, augment=FULL)
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
