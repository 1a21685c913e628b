"""Reading images to classify: 28x28 grayscale PNG files and ``.npy`` arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fashionkit._typing import PathLike
from fashionkit.exceptions import InputValidationError

__all__ = ["read_images"]


def _read_png(path: Path) -> NDArray[np.uint8]:
    import tensorflow as tf

    try:
        decoded = tf.io.decode_png(path.read_bytes(), channels=0, dtype=tf.uint8)
    except (tf.errors.InvalidArgumentError, ValueError) as exc:
        raise InputValidationError(f"{path} is not a readable 8-bit PNG image ({exc}).") from exc
    array = np.asarray(decoded)
    height, width, channels = array.shape
    if channels not in (1, 2):
        raise InputValidationError(
            f"{path} has {channels} colour channels; fashionkit classifies grayscale images "
            f"(white garment on black, as in Fashion-MNIST). Convert it to grayscale first."
        )
    if (height, width) != (28, 28):
        raise InputValidationError(
            f"{path} is {width}x{height} pixels; Fashion-MNIST images are 28x28 and fashionkit "
            f"does not resize silently. Resize or crop it to 28x28 first."
        )
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
    return batch


def read_images(paths: list[PathLike]) -> tuple[NDArray[np.generic], list[str]]:
    """Read PNG files and ``.npy`` arrays into one ``(N, 28, 28)`` batch.

    PNG files must be 8-bit grayscale (an alpha channel is ignored) and exactly 28x28; ``.npy``
    files hold one ``(28, 28)`` image or a ``(N, 28, 28)`` batch, uint8 (or floats in
    ``[0, 1]``). Nothing is resized, recoloured or inverted: Fashion-MNIST shows a light garment
    on a black background, and photos need the same treatment before they are classified.

    Args:
        paths: The files, in order.

    Returns:
        The batch, and one label per image (``file`` or ``file[i]`` for batches).

    Raises:
        InputValidationError: A file is missing, of another kind, or of the wrong size.
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
