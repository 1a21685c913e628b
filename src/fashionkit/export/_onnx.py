"""ONNX: one file, converted by tf2onnx (as Keras does) and served by ONNX Runtime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import NUM_CLASSES
from fashionkit.exceptions import ExportError
from fashionkit.export._converter import INSTALL, keras_export

__all__ = ["runner", "write"]


def write(serving: Any, tmp: Path) -> None:
    """Write ``serving`` as an ONNX file at ``tmp``.

    Raises:
        ExportError: The ``tf2onnx`` converter is not installed, or it failed.
    """
    try:
        import tf2onnx  # noqa: F401 - Keras's ONNX export uses it on TensorFlow
    except ImportError as exc:
        raise ExportError(f"Exporting to ONNX needs the tf2onnx converter; {INSTALL}.") from exc
    keras_export(serving, tmp, "onnx")


def runner(path: Path) -> Callable[[NDArray[np.uint8]], Any]:
    """A function from uint8 images to probabilities, run by ONNX Runtime on the CPU.

    Raises:
        ExportError: ONNX Runtime is not installed.
    """
    try:
        import onnxruntime
    except ImportError as exc:
        raise ExportError(f"Running an ONNX model needs ONNX Runtime; {INSTALL}.") from exc
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(x: NDArray[np.uint8]) -> Any:
        if not len(x):
            return np.zeros((0, NUM_CLASSES), np.float32)
        return session.run(None, {name: x})[0]

    return run
