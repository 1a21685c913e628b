"""TFLite (LiteRT): one file, float32 or quantized, served by the LiteRT interpreter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import NUM_CLASSES, Quantization
from fashionkit.export._converter import keras_export, quiet

__all__ = ["converter_options", "runner", "write"]


def converter_options(
    quantize: Quantization | None,
    representative: NDArray[np.uint8] | None,
    *,
    integer_output: bool,
) -> dict[str, Any]:
    """The TFLite converter settings of a quantization (Keras passes them to the converter).

    ``float16`` stores float16 weights; ``dynamic`` int8 weights; ``int8`` makes the whole
    network integer, its activation ranges calibrated on ``representative`` images one at a
    time (with ``integer_output``, the output too).
    """
    if quantize is None:
        return {}
    import tensorflow as tf

    options: dict[str, Any] = {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if quantize == "float16":
        options["target_spec"] = {"supported_types": [tf.float16]}
    elif quantize == "int8" and representative is not None:
        images = representative

        def calibration() -> Iterator[list[NDArray[np.uint8]]]:
            for index in range(len(images)):
                yield [images[index : index + 1]]

        options["representative_dataset"] = calibration
        if integer_output:
            options["inference_output_type"] = tf.int8
    return options


def write(
    serving: Any,
    tmp: Path,
    *,
    quantize: Quantization | None = None,
    representative: NDArray[np.uint8] | None = None,
    integer_output: bool = False,
) -> None:
    """Write ``serving`` as a TFLite file at ``tmp``, quantized as asked."""
    options = converter_options(quantize, representative, integer_output=integer_output)
    keras_export(serving, tmp, "litert", **options)


def _interpreter(path: Path) -> Any:
    """The LiteRT interpreter of the ``export`` extra, else TensorFlow's own (deprecated) one."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806 - a class
    with quiet():
        return Interpreter(model_path=str(path))


def runner(path: Path) -> Callable[[NDArray[np.uint8]], Any]:
    """A function from uint8 images to float32 probabilities, run by the TFLite interpreter.

    An int8 model's integer output is turned back into probabilities (``q * scale + offset``).
    """
    interpreter = _interpreter(path)
    source = interpreter.get_input_details()[0]["index"]
    output = interpreter.get_output_details()[0]
    target = output["index"]
    scale, zero_point = output.get("quantization", (0.0, 0))
    integer = np.issubdtype(output["dtype"], np.integer) and scale > 0
    shape: list[tuple[int, ...]] = []

    def run(x: NDArray[np.uint8]) -> Any:
        if not len(x):
            return np.zeros((0, NUM_CLASSES), np.float32)
        if shape != [x.shape]:  # resizing reallocates: only when the batch size changes
            interpreter.resize_tensor_input(source, x.shape)
            interpreter.allocate_tensors()
            shape[:] = [x.shape]
        interpreter.set_tensor(source, x)
        interpreter.invoke()
        got = interpreter.get_tensor(target)
        if integer:
            return (got.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
        return got.copy()

    return run
