"""Reading images to classify: 28x28 grayscale PNG files and ``.npy`` arrays."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fashionkit._typing import PathLike
from fashionkit._validation import PathLike as PathRule
from fashionkit._validation import SequenceOf, check_images, params
from fashionkit.exceptions import InputValidationError

__all__ = ["read_images"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The signature, then the IHDR chunk: length 13, type, width, height, bit depth, colour type,
# compression, filter and interlace methods, CRC.
_PNG_HEADER_BYTES = 33
# PNG colour type: its name, its channels, and the bit depths the PNG specification allows.
_COLOUR_TYPES: dict[int, tuple[str, str, tuple[int, ...]]] = {
    0: ("grayscale", "1 channel", (1, 2, 4, 8, 16)),
    2: ("RGB", "3 colour channels", (8, 16)),
    3: ("palette (indexed-colour)", "colours from a palette", (1, 2, 4, 8)),
    4: ("grayscale with alpha", "2 channels", (8, 16)),
    6: ("RGBA", "4 colour channels", (8, 16)),
}
# Grayscale, and grayscale with an alpha channel that is ignored.
_ACCEPTED_COLOUR_TYPES = (0, 4)
_ACCEPTED = (
    "fashionkit reads 8-bit grayscale PNG images (colour type 0, or 4 with the alpha channel "
    "ignored) of 28x28 pixels"
)


def _not_a_png(path: Path, reason: str) -> InputValidationError:
    return InputValidationError(
        f"{path} is not a readable PNG image ({reason}). Give a readable 8-bit grayscale PNG "
        f"file of 28x28 pixels: save the image again in that format."
    )


def _png_header(path: Path, data: bytes) -> tuple[int, int, int, int]:
    """Width, height, bit depth and colour type from a PNG file's IHDR chunk.

    Raises:
        InputValidationError: The bytes do not start with a PNG signature and a valid IHDR.
    """
    if not data.startswith(_PNG_SIGNATURE):
        raise _not_a_png(path, "it does not start with the PNG signature")
    if len(data) < _PNG_HEADER_BYTES:
        raise _not_a_png(path, f"it ends after {len(data)} bytes, before its header (IHDR)")
    length, kind = struct.unpack(">I4s", data[8:16])
    if length != 13 or kind != b"IHDR":
        raise _not_a_png(path, "its first chunk is not a PNG header (IHDR)")
    (crc,) = struct.unpack(">I", data[29:33])
    if zlib.crc32(data[12:29]) != crc:
        raise _not_a_png(path, "its header (IHDR) is damaged: the checksum does not match")
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    if colour not in _COLOUR_TYPES or depth not in _COLOUR_TYPES[colour][2]:
        reason = (
            f"its header gives colour type {colour} with bit depth {depth}, which PNG does not "
            f"define"
        )
        raise _not_a_png(path, reason)
    return width, height, depth, colour


def _read_png(path: Path) -> NDArray[np.uint8]:
    data = path.read_bytes()
    width, height, depth, colour = _png_header(path, data)
    if colour not in _ACCEPTED_COLOUR_TYPES or depth != 8:
        name, channels, _ = _COLOUR_TYPES[colour]
        raise InputValidationError(
            f"{path} is a {depth}-bit {name} PNG ({channels}, colour type {colour}); {_ACCEPTED}, "
            f"as Fashion-MNIST stores them (a light garment on black), and converts nothing "
            f"else. Save it as an 8-bit grayscale PNG first."
        )
    if (height, width) != (28, 28):
        raise InputValidationError(
            f"{path} is {width}x{height} pixels; Fashion-MNIST images are 28x28 and fashionkit "
            f"does not resize silently. Resize or crop it to 28x28 first."
        )
    import tensorflow as tf

    try:
        decoded = tf.io.decode_png(data, channels=0, dtype=tf.uint8)
    except (tf.errors.OpError, ValueError) as exc:
        raise _not_a_png(
            path, "its header is valid but its image data is damaged or cut short"
        ) from exc
    array = np.asarray(decoded)
    if array.ndim != 3 or array.shape[:2] != (28, 28) or array.shape[2] not in (1, 2):
        raise _not_a_png(path, f"it decodes to an array of shape {array.shape}, not its header's")
    return array[np.newaxis, :, :, 0]


def _read_npy(path: Path) -> NDArray[np.generic]:
    try:
        array: NDArray[np.generic] = np.asarray(np.load(path, allow_pickle=False))
    except (ValueError, OSError) as exc:
        raise InputValidationError(f"{path} is not a NumPy .npy array ({exc}).") from exc
    batch = array[np.newaxis] if array.ndim == 2 else array
    if batch.ndim != 3 or batch.shape[1:] != (28, 28):
        raise InputValidationError(
            f"{path} holds an array of shape {array.shape}; expected (28, 28) or (N, 28, 28). "
            f"fashionkit does not resize silently."
        )
    # The pixel type the header declares: uint8 0..255, or floats already scaled to [0, 1].
    return check_images(batch, name=str(path), allow_float=True, nonempty=True)


@params(
    paths=SequenceOf(
        PathRule(),
        min_length=1,
        description="a list or tuple of one file path or more (str or os.PathLike), never "
        "one path alone",
    )
)
def read_images(paths: Sequence[PathLike]) -> tuple[NDArray[np.generic], list[str]]:
    """Read PNG files and ``.npy`` arrays into one ``(N, 28, 28)`` batch.

    PNG files must be 8-bit grayscale (PNG colour type 0, or 4, grayscale with alpha, whose
    alpha channel is ignored) and exactly 28x28, as their header (IHDR) says; ``.npy`` files
    hold one ``(28, 28)`` image or a ``(N, 28, 28)`` batch, uint8 (or floats in ``[0, 1]``).
    Nothing is resized, recoloured, reduced to 8 bits or inverted: Fashion-MNIST shows a light
    garment on a black background, and photos need the same treatment before they are
    classified.

    Args:
        paths: The files, in order: a list or tuple, even of one file.

    Returns:
        The batch, and one label per image (``file`` or ``file[i]`` for batches).

    Raises:
        InputValidationError: A file is missing or of another kind; a PNG file is not readable
            (damaged, cut short, or not a PNG), is not 8-bit grayscale (16-bit, 1-, 2- or
            4-bit, RGB, RGBA or palette) or not 28x28; a ``.npy`` file is not an array of
            shape ``(28, 28)`` or ``(N, 28, 28)``, or holds another dtype than uint8 or floats
            in ``[0, 1]``. The message names the file.
        ArgumentError: ``paths`` is empty, or one path rather than a list of them.
    """
    arrays: list[NDArray[np.generic]] = []
    names: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise InputValidationError(f"{path} does not exist.")
        suffix = path.suffix.lower()
        if suffix == ".png":
            array: NDArray[np.generic] = _read_png(path)
        elif suffix == ".npy":
            array = _read_npy(path)
        else:
            raise InputValidationError(
                f"{path}: only .png and .npy files are supported; got {suffix or 'no suffix'}."
            )
        arrays.append(array)
        names.extend(
            [str(path)] if len(array) == 1 else [f"{path}[{i}]" for i in range(len(array))]
        )
    if len({a.dtype for a in arrays}) > 1:
        raise InputValidationError("All images must have the same dtype (uint8 or float).")
    return np.concatenate(arrays), names
