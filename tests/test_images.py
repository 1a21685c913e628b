"""Reading images to classify: 28x28 grayscale PNG files and .npy arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import synthetic_images
from fashionkit.exceptions import InputValidationError
from fashionkit.images import read_images


def _png(path: Path, array: np.ndarray) -> Path:
    import tensorflow as tf

    path.write_bytes(tf.io.encode_png(array).numpy())
    return path


def test_read_images_reads_png_and_npy_into_one_batch(tmp_path: Path) -> None:
    """It stacks a PNG, a single .npy image and a .npy batch, naming each image."""
    images = synthetic_images(4)
    png = _png(tmp_path / "a.png", images[0][..., np.newaxis])
    single = tmp_path / "b.npy"
    np.save(single, images[1])
    batch = tmp_path / "c.npy"
    np.save(batch, images[2:])
    array, names = read_images([png, single, str(batch)])
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, images)
    assert names == [str(png), str(single), f"{batch}[0]", f"{batch}[1]"]


def test_read_images_ignores_a_png_alpha_channel(tmp_path: Path) -> None:
    """It keeps the gray channel of a gray-and-alpha PNG."""
    image = synthetic_images(1)[0]
    gray_alpha = np.stack([image, np.full_like(image, 255)], axis=-1)
    array, _ = read_images([_png(tmp_path / "ga.png", gray_alpha)])
    np.testing.assert_array_equal(array[0], image)


def test_read_images_keeps_scaled_floats(tmp_path: Path) -> None:
    """It returns float .npy images as they are, for predict to validate."""
    floats = np.full((2, 28, 28), 0.5, np.float32)
    np.save(tmp_path / "f.npy", floats)
    array, _ = read_images([tmp_path / "f.npy"])
    assert array.dtype == np.float32


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _png(p / "big.png", np.zeros((32, 32, 1), np.uint8)), "32x32 pixels"),
        (lambda p: _png(p / "rgb.png", np.zeros((28, 28, 3), np.uint8)), "3 colour channels"),
        (lambda p: (p / "bad.png").write_bytes(b"not a png") and p / "bad.png", "readable 8-bit"),
        (lambda p: (p / "x.jpg").write_bytes(b"x") and p / "x.jpg", "got .jpg"),
        (lambda p: (p / "x").write_bytes(b"x") and p / "x", "got no suffix"),
        (lambda p: (np.save(p / "w.npy", np.zeros((28, 27))), p / "w.npy")[1], "(28, 27)"),
        (lambda p: (p / "t.npy").write_text("text") and p / "t.npy", "not a NumPy .npy"),
        (lambda p: p / "missing.png", "does not exist"),
    ],
    ids=["too-big", "colour", "not-png", "jpeg", "no-suffix", "wrong-shape", "not-npy", "missing"],
)
def test_read_images_rejects_what_it_cannot_use(tmp_path: Path, make: object, message: str) -> None:
    """It raises InputValidationError naming the file and the problem; nothing is resized."""
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(InputValidationError) as info:
        read_images([path])
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_read_images_refuses_mixed_dtypes(tmp_path: Path) -> None:
    """It refuses to stack uint8 and float images into one batch."""
    np.save(tmp_path / "u.npy", synthetic_images(1)[0])
    np.save(tmp_path / "f.npy", np.zeros((28, 28), np.float32))
    with pytest.raises(InputValidationError, match="same dtype"):
        read_images([tmp_path / "u.npy", tmp_path / "f.npy"])
