"""A frozen first layer that whitens image patches, computed from the training images.

The layer is a plain, non-trainable ``Conv2D`` named :data:`WHITENING_LAYER`, so a saved model
carries its weights and loads, exports and converts like any other. Its ``2 * k * k`` filters
are the eigenvectors of the covariance of the ``k x k`` patches of the training images, each
divided by the square root of its eigenvalue (plus a small floor), and their negatives; the
bias centres the patches. After a ReLU the pair keeps both signs of every component, so the
next layer sees decorrelated, unit-variance patches and learns faster from the first step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._validation import ArrayLike, Interval, KerasModel, check_images, params

#: The name of the whitening layer in a built model.
WHITENING_LAYER = "whiten"
#: The patch sides a whitening layer may use.
WHITENING_SIZES = (2, 3)
#: The floor added to each eigenvalue before its square root (pixels scaled to [0, 1]), so that
#: directions of almost no variance are not blown up into noise.
WHITENING_EPSILON = 5e-4
#: At most this many training images are read to compute the layer (the covariance of their
#: patches is settled long before; a fixed, evenly spaced subset keeps it deterministic).
WHITENING_IMAGES = 10_000


def whitening_layer(size: int, *, stride: int = 1) -> Any:
    """The frozen ``Conv2D`` of ``2 * size * size`` filters, before it is fitted to data.

    With ``stride=2`` it whitens every other patch and halves the image.

    Until :func:`adapt_to_data` sets it, each filter picks one pixel of the patch (with both
    signs), so an unfitted layer passes the image on unchanged.
    """
    import keras

    pick = np.eye(size * size, dtype=np.float32)
    kernel = np.concatenate([pick, -pick], axis=1).reshape(size, size, 1, 2 * size * size)
    return keras.layers.Conv2D(
        2 * size * size,
        size,
        strides=stride,
        padding="same",
        trainable=False,
        kernel_initializer=keras.initializers.Constant(kernel),
        bias_initializer="zeros",
        name=WHITENING_LAYER,
    )


def _patches(images: NDArray[np.float64], size: int) -> NDArray[np.float64]:
    """Every ``size x size`` patch of ``(N, 28, 28)`` images, padded as ``"same"`` pads them."""
    before = (size - 1) // 2  # Keras pads the extra row and column of an even kernel after
    after = size - 1 - before
    padded = np.pad(images, ((0, 0), (before, after), (before, after)))
    n, height, width = images.shape
    columns = [padded[:, i : i + height, j : j + width] for i in range(size) for j in range(size)]
    return np.stack(columns, axis=-1).reshape(n * height * width, size * size)


@params(images=ArrayLike("uint8 images (N, 28, 28)"), size=Interval("int", ge=2, le=3))
def patch_whitening(
    images: NDArray[Any], size: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """The whitening layer's kernel and bias for ``images``.

    Args:
        images: Training images, uint8 or scaled to [0, 1] (any layout
            :func:`~fashionkit.preprocessing.check_images` accepts).
        size: The patch side, 2 or 3.

    Returns:
        ``(kernel, bias)``: the kernel shaped ``(size, size, 1, 2 * size * size)``, the bias
        ``(2 * size * size,)``; applied to a patch they give its whitened components and their
        negatives.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> kernel, bias = patch_whitening(rng.random((20, 28, 28)), 2)
        >>> kernel.shape, bias.shape
        ((2, 2, 1, 8), (8,))
    """
    checked = check_images(images, allow_float=True, nonempty=True)
    pixels = checked.astype(np.float64) / (255.0 if checked.dtype == np.uint8 else 1.0)
    if len(pixels) > WHITENING_IMAGES:
        pixels = pixels[np.linspace(0, len(pixels) - 1, WHITENING_IMAGES).astype(int)]
    patches = _patches(pixels, size)
    mean = patches.mean(axis=0)
    centred = patches - mean
    covariance = centred.T @ centred / len(centred)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    scaled = eigenvectors / np.sqrt(np.maximum(eigenvalues, 0.0) + WHITENING_EPSILON)
    both = np.concatenate([scaled, -scaled], axis=1)
    kernel = both.reshape(size, size, 1, 2 * size * size).astype(np.float32)
    bias = (-(mean @ both)).astype(np.float32)
    return kernel, bias


@params(model=KerasModel(), images=ArrayLike("uint8 images (N, 28, 28)"))
def adapt_to_data(model: Any, images: NDArray[Any]) -> bool:
    """Fit a model's layers that are computed from data (its whitening layer) to ``images``.

    :func:`fashionkit.train` calls it on the training split when it creates a model, as Keras's
    preprocessing layers are ``adapt``-ed; call it yourself on a model from
    :func:`~fashionkit.models.create_model` before fitting it in your own loop.

    Args:
        model: A Keras model.
        images: The training images, uint8 or scaled to [0, 1].

    Raises:
        InputValidationError: ``images`` are not a non-empty batch of 28x28 images.

    Returns:
        Whether the model had such a layer (``False``: nothing changed).

    Example:
        >>> import numpy as np
        >>> from fashionkit.models import CNNConfig, create_model
        >>> model = create_model(CNNConfig(filters=(8,), whiten=2))
        >>> adapt_to_data(model, np.zeros((10, 28, 28), np.uint8))
        True
    """
    try:
        layer = model.get_layer(WHITENING_LAYER)
    except ValueError:  # Keras: no layer of that name
        return False
    size = int(layer.kernel_size[0])
    kernel, bias = patch_whitening(images, size)
    layer.set_weights([kernel, bias])
    return True
