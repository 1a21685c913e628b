"""Reading images to classify: 28x28 grayscale PNG files and .npy arrays."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from fashionkit.exceptions import ArgumentError, InputValidationError
from fashionkit.images import read_images
from tests.helpers import synthetic_images


def _png(path: Path, array: np.ndarray) -> Path:
    import tensorflow as tf

    path.write_bytes(tf.io.encode_png(array).numpy())
    return path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with_header(
    path: Path, *, depth: int, colour: int, size: int = 28, palette: bool = False
) -> Path:
    """A valid PNG of zero pixels written by hand, with any bit depth and colour type."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = bytes(1 + (size * channels * depth + 7) // 8)  # filter byte 0, then the pixels
    ihdr = struct.pack(">IIBBBBB", size, size, depth, colour, 0, 0, 0)
    chunks = _chunk(b"IHDR", ihdr)
    if palette:
        chunks += _chunk(b"PLTE", bytes(range(0, 256, 16)) * 3)
    chunks += _chunk(b"IDAT", zlib.compress(row * size)) + _chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)
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


def test_read_images_reads_a_hand_written_8_bit_grayscale_png(tmp_path: Path) -> None:
    """It accepts an 8-bit grayscale PNG (colour type 0) of 28x28, whoever wrote it."""
    array, _ = read_images([_png_with_header(tmp_path / "g.png", depth=8, colour=0)])
    assert array.shape == (1, 28, 28)
    assert array.dtype == np.uint8


@pytest.mark.parametrize(
    ("depth", "colour", "palette", "described"),
    [
        (16, 0, False, "16-bit grayscale PNG"),
        (1, 0, False, "1-bit grayscale PNG"),
        (4, 0, False, "4-bit grayscale PNG"),
        (16, 4, False, "16-bit grayscale with alpha PNG"),
        (8, 2, False, "8-bit RGB PNG (3 colour channels"),
        (16, 2, False, "16-bit RGB PNG"),
        (8, 6, False, "8-bit RGBA PNG (4 colour channels"),
        (8, 3, True, "8-bit palette (indexed-colour) PNG"),
        (4, 3, True, "4-bit palette (indexed-colour) PNG"),
    ],
    ids=[
        "gray16",
        "gray1",
        "gray4",
        "gray-alpha16",
        "rgb8",
        "rgb16",
        "rgba8",
        "palette8",
        "palette4",
    ],
)
def test_read_images_refuses_pngs_that_are_not_8_bit_grayscale(
    tmp_path: Path, depth: int, colour: int, palette: bool, described: str
) -> None:
    """It names the file, its bit depth, its colour type and what is accepted; converts nothing."""
    path = _png_with_header(tmp_path / "img.png", depth=depth, colour=colour, palette=palette)
    with pytest.raises(InputValidationError) as info:
        read_images([path])
    message = str(info.value)
    assert message.startswith(f"{path} is a {described}")
    assert f"colour type {colour}" in message
    assert "fashionkit reads 8-bit grayscale PNG images" in message
    assert "28x28" in message


def test_read_images_refuses_a_16_bit_png_that_tensorflow_wrote(tmp_path: Path) -> None:
    """It refuses a real 16-bit grayscale PNG instead of reducing it to 8 bits silently."""
    path = _png(tmp_path / "deep.png", np.full((28, 28, 1), 40000, np.uint16))
    with pytest.raises(InputValidationError, match="is a 16-bit grayscale PNG"):
        read_images([path])


def test_read_images_refuses_an_rgba_png_that_tensorflow_wrote(tmp_path: Path) -> None:
    """It refuses a real RGBA PNG, naming its colour type."""
    path = _png(tmp_path / "rgba.png", np.zeros((28, 28, 4), np.uint8))
    with pytest.raises(InputValidationError, match=r"8-bit RGBA PNG \(4 colour channels"):
        read_images([path])


def _good_data(path: Path) -> bytes:
    """The bytes of a valid 8-bit grayscale 28x28 PNG."""
    return _png(path, synthetic_images(1)[0][..., np.newaxis]).read_bytes()


def _damaged_data(path: Path) -> bytes:
    """A valid 8-bit grayscale PNG header whose compressed pixels are replaced by garbage."""
    data = _good_data(path)
    start = data.index(b"IDAT") + 4
    return data[:start] + b"\x00garbage" * 8 + data[start + 80 :]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda p: _damaged_data(p), "image data is damaged or cut short"),
        (lambda p: _good_data(p)[:60], "cut short"),
        (lambda p: b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "not a PNG header"),
        (lambda p: _good_data(p)[:20] + b"\xff" + _good_data(p)[21:], "checksum does not match"),
        (lambda p: b"GIF89a" + b"\x00" * 40, "does not start with the PNG signature"),
        (lambda p: _good_data(p)[:20], "it ends after 20 bytes, before its header (IHDR)"),
        (
            lambda p: _png_with_header(p, depth=4, colour=2).read_bytes(),
            "its header gives colour type 2 with bit depth 4, which PNG does not define",
        ),
    ],
    ids=["damaged-pixels", "truncated", "no-ihdr", "bad-ihdr-crc", "gif", "no-header", "undefined"],
)
def test_read_images_explains_an_unreadable_png_without_tensorflow_internals(
    tmp_path: Path, damage: object, reason: str
) -> None:
    """It says the file is not a readable PNG and what to do, with no TensorFlow op names."""
    path = tmp_path / "broken.png"
    path.write_bytes(damage(tmp_path / "source.png"))  # type: ignore[operator]
    with pytest.raises(InputValidationError) as info:
        read_images([path])
    message = str(info.value)
    assert message.startswith(f"{path} is not a readable PNG image (")
    assert reason in message
    assert "8-bit grayscale PNG" in message
    assert "function_node" not in message
    assert "{{" not in message


def test_read_images_chains_the_decoders_error(tmp_path: Path) -> None:
    """It keeps TensorFlow's own error as the cause of a damaged PNG's error."""
    import tensorflow as tf

    path = tmp_path / "broken.png"
    path.write_bytes(_damaged_data(tmp_path / "source.png"))
    with pytest.raises(InputValidationError) as info:
        read_images([path])
    assert isinstance(info.value.__cause__, tf.errors.OpError)


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (np.zeros((28, 28), np.int64), "got dtype int64"),
        (np.zeros((2, 28, 28), np.uint16), "got dtype uint16"),
        (np.zeros((28, 28), bool), "got dtype bool"),
        (np.full((28, 28), 3.0, np.float32), "floats from 3.0 to 3.0"),
        (np.full((28, 28), np.nan, np.float64), "NaN"),
    ],
    ids=["int64", "uint16", "bool", "floats-above-1", "nan"],
)
def test_read_images_refuses_npy_files_of_other_pixel_types(
    tmp_path: Path, array: np.ndarray, words: str
) -> None:
    """It names the .npy file whose header declares another dtype than uint8 or scaled floats."""
    path = tmp_path / "pixels.npy"
    np.save(path, array)
    with pytest.raises(InputValidationError) as info:
        read_images([path])
    assert str(info.value).startswith(str(path))
    assert words in str(info.value)


@pytest.mark.parametrize("paths", ["shirt.png", Path("shirt.png"), []])
def test_paths_must_be_a_list_of_one_file_or_more(paths: object) -> None:
    """It raises ArgumentError for one path alone (not read letter by letter) or no path at all."""
    with pytest.raises(ArgumentError, match=r"^paths must be a list or tuple of one file path"):
        read_images(paths)  # type: ignore[arg-type]
