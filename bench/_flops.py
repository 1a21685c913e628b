"""The limit beside the figure: a model's FLOPs per epoch and the machine's matmul peak.

Used by ``bench/time_to_accuracy.py`` in its measured child processes; TensorFlow and Keras are
imported inside the functions, never when this module is.

- :func:`forward_flops` counts one image's forward pass from the model's layers;
- :func:`epoch_flops` turns it into one epoch's training and per-epoch validation;
- :func:`measured_peak` times a large square matmul in the precision the entry computes in:
  the *achievable matmul peak* of this process (its TensorFlow, its oneDNN switch, its
  threads), not the CPU's datasheet peak.

A fit's share of that peak, ``epoch FLOPs x epochs / fit seconds / peak``, says how far the
entry is from what the machine's best kernel does: small models spend their time in Python,
data movement and small kernels, not in arithmetic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

#: Keras dtype policy (or plain dtype) -> the dtype the matmul computes in.
MATMUL_DTYPES: dict[str, str] = {
    "float32": "float32",
    "mixed_bfloat16": "bfloat16",
    "bfloat16": "bfloat16",
    "mixed_float16": "float16",
    "float16": "float16",
}
#: Side of the first, small matmul that estimates the speed (and so the size to time).
PROBE_SIZE = 256


def _layers(model: Any) -> Iterator[Any]:
    """Every layer of ``model``, nested models' layers in their place (not the models)."""
    for layer in model.layers:
        if hasattr(layer, "layers"):  # a nested Model or Sequential
            yield from _layers(layer)
        else:
            yield layer


def _shape(layer: Any, which: str) -> tuple[int, ...]:
    """The per-image shape (batch axis dropped) of the layer's input or output."""
    try:
        tensor = getattr(layer, which)
    except (AttributeError, ValueError) as exc:  # never called, or called more than once
        raise ValueError(
            f"cannot count the FLOPs of layer {layer.name!r}: no single {which} ({exc})"
        ) from exc
    shape = tuple(tensor.shape)[1:]
    if any(dim is None for dim in shape):
        raise ValueError(
            f"cannot count the FLOPs of layer {layer.name!r}: its {which} shape {shape} is "
            "not fully known"
        )
    return tuple(int(dim) for dim in shape)


def _spatial(layer: Any, shape: tuple[int, ...]) -> int:
    """The number of positions of a convolution's input or output (channels left out)."""
    channels_first = getattr(layer, "data_format", "channels_last") == "channels_first"
    return math.prod(shape[1:] if channels_first else shape[:-1])


def _bias(layer: Any, output: tuple[int, ...]) -> int:
    return math.prod(output) if getattr(layer, "use_bias", False) else 0


def _layer_flops(layer: Any) -> int:
    """FLOPs of one layer for one image: 2 per multiply-add, 1 per bias add."""
    import keras

    layers = keras.layers
    if isinstance(layer, layers.Dense):
        output = _shape(layer, "output")
        # The kernel (in, out) applies at every leading position of the input.
        return 2 * math.prod(output[:-1]) * math.prod(layer.kernel.shape) + _bias(layer, output)
    if isinstance(layer, layers.SeparableConv1D | layers.SeparableConv2D):
        output = _shape(layer, "output")
        kernels = math.prod(layer.depthwise_kernel.shape) + math.prod(layer.pointwise_kernel.shape)
        return 2 * _spatial(layer, output) * kernels + _bias(layer, output)
    if isinstance(
        layer,
        layers.Conv1D
        | layers.Conv2D
        | layers.Conv3D
        | layers.DepthwiseConv1D
        | layers.DepthwiseConv2D,
    ):
        output = _shape(layer, "output")
        # Kernel (k_h, k_w, C_in / groups, C_out), or (k_h, k_w, C_in, multiplier) for a
        # depthwise one: its size is the multiply-adds of one output position.
        return 2 * _spatial(layer, output) * math.prod(layer.kernel.shape) + _bias(layer, output)
    if isinstance(layer, layers.Conv1DTranspose | layers.Conv2DTranspose | layers.Conv3DTranspose):
        # Every input position scatters the whole kernel (k_h, k_w, C_out, C_in).
        spatial = _spatial(layer, _shape(layer, "input"))
        output = _shape(layer, "output")
        return 2 * spatial * math.prod(layer.kernel.shape) + _bias(layer, output)
    if getattr(layer, "kernel", None) is not None:
        raise ValueError(
            f"cannot count the FLOPs of layer {layer.name!r} ({type(layer).__name__}): it has "
            "a kernel, but it is neither a Dense nor a convolution layer"
        )
    return 0


def forward_flops(model: Any) -> int:
    """FLOPs of one image's forward pass: 2 per multiply-add, plus the bias adds.

    Walks the layers of a built Keras model, through nested models: a convolution counts
    ``2 * H_out * W_out * k_h * k_w * C_in * C_out / groups`` (depthwise, separable and
    transposed convolutions by their own kernels), a ``Dense`` layer ``2 * in * out`` at every
    leading position of its input (once for a flat one), and each of them one add per output
    value for its bias. Pooling, activations, batch normalisation, dropout, reshapes and the
    loss are left out: on these models they are a few percent of the total. Each layer is
    counted once, as a model calls each layer once.

    Args:
        model: A built Keras model whose layers each have one input and one output.

    Raises:
        ValueError: A layer's shapes are unknown (called never or more than once), or a layer
            has a kernel but is no layer counted here (the message names it).
    """
    return sum(_layer_flops(layer) for layer in _layers(model))


def epoch_flops(forward: float, *, train_images: int, validation_images: int, tta: bool) -> float:
    """FLOPs of one epoch: training plus the per-epoch validation.

    Training costs three forward passes per image: the forward pass and the two products of the
    backward pass (the gradient with respect to the inputs and to the weights). Validation
    costs one forward pass per image, two with test-time augmentation (each image and its
    mirror image). The optimizer's update is left out.

    Example:
        >>> epoch_flops(10, train_images=48_000, validation_images=12_000, tta=True)
        1680000.0
    """
    return float(forward) * (3 * train_images + validation_images * (2 if tta else 1))


def matmul_dtype(precision: str) -> str:
    """The dtype the matmuls of a Keras precision policy compute in.

    Raises:
        ValueError: An unknown precision.
    """
    try:
        return MATMUL_DTYPES[precision]
    except KeyError:
        raise ValueError(
            f"no matmul dtype for precision {precision!r}; known: {', '.join(MATMUL_DTYPES)}"
        ) from None


def measured_peak(
    precision: str = "float32", *, size: int = 2048, seconds: float = 2.0, rounds: int = 3
) -> float:
    """The achievable matmul peak of this process, in GFLOP/s, for ``precision``.

    Times ``size x size`` matmuls in the precision's dtype (``mixed_bfloat16``: bfloat16,
    ``mixed_float16``: float16) with TensorFlow, in graph mode as Keras's ``fit`` runs, so
    that the process's oneDNN switch and threads apply: after a warm-up, ``rounds`` rounds of
    as many matmuls as take about ``seconds``, and the best round counts. Where the dtype is
    emulated (float16 on a CPU) and one matmul of ``size`` would take longer than ``seconds``,
    the side is halved until it does not (a small probe estimates the speed first). Run it
    outside any timed region: it keeps every core busy for about ``rounds * seconds``.

    Args:
        precision: A Keras precision policy or dtype (see :data:`MATMUL_DTYPES`).
        size: Side of the square matrices. Defaults to 2048.
        seconds: About how long each round lasts. Defaults to 2.
        rounds: Timed rounds; the best counts. Defaults to 3.

    Raises:
        ValueError: An unknown precision.
    """
    import tensorflow as tf

    dtype = matmul_dtype(precision)

    @tf.function
    def step(a: Any, b: Any) -> Any:
        # One element of the product is returned, so the matmul is neither pruned nor copied.
        return tf.linalg.matmul(a, b)[0, 0]

    def matrices(side: int) -> tuple[Any, Any]:
        a = tf.random.stateless_normal((side, side), seed=(1, 2))
        b = tf.random.stateless_normal((side, side), seed=(3, 4))
        return tf.cast(a, dtype), tf.cast(b, dtype)

    def timed(a: Any, b: Any, repeats: int) -> float:
        start = time.perf_counter()
        for _ in range(repeats):
            step(a, b).numpy()
        return time.perf_counter() - start

    probe = min(size, PROBE_SIZE)
    a, b = matrices(probe)
    timed(a, b, 1)  # traces the function and starts the thread pools
    rate = 3 * 2 * probe**3 / timed(a, b, 3)  # FLOP/s; an underestimate at this small side
    while size > probe and 2 * size**3 / rate > seconds:
        size //= 2
    a, b = matrices(size)
    once = timed(a, b, 1)  # the warm-up at this side, and about how long one matmul takes
    repeats = max(1, math.ceil(seconds / once))
    best = min(timed(a, b, repeats) for _ in range(rounds))
    return 2 * size**3 * repeats / best / 1e9
