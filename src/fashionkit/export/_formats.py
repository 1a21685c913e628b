"""The formats side by side: which writer and which runtime each one uses (a dispatcher)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import ExportFormat
from fashionkit.exceptions import InputValidationError
from fashionkit.export import _onnx, _saved_model, _tflite
from fashionkit.export._options import ExportOptions
from fashionkit.export._targets import SUFFIXES

__all__ = ["format_of", "runner", "write"]

_RUNNERS: dict[str, Callable[[Path], Callable[[NDArray[np.uint8]], Any]]] = {
    "saved_model": _saved_model.runner,
    "tflite": _tflite.runner,
    "onnx": _onnx.runner,
}


def write(
    serving: Any, tmp: Path, options: ExportOptions, representative: NDArray[np.uint8] | None
) -> None:
    """Write ``serving`` at ``tmp`` in ``options.format`` (quantized TFLite as it says).

    Raises:
        ExportError: The converter is missing or failed.
    """
    if options.format == "tflite":
        _tflite.write(
            serving,
            tmp,
            quantize=options.quantize,
            representative=representative,
            integer_output=options.integer_output,
        )
    elif options.format == "onnx":
        _onnx.write(serving, tmp)
    else:
        _saved_model.write(serving, tmp)


def runner(path: Path, format: ExportFormat) -> Callable[[NDArray[np.uint8]], Any]:
    """The format's runtime, loaded with the export at ``path``: uint8 images to probabilities."""
    return _RUNNERS[format](path)


def format_of(path: Path) -> ExportFormat:
    """The format of an existing export: a SavedModel folder, or a ``.tflite``/``.onnx`` file.

    Raises:
        InputValidationError: A folder without ``saved_model.pb``, or another suffix.
    """
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return "saved_model"
        raise InputValidationError(f"{path} is a folder without saved_model.pb: not a SavedModel.")
    for fmt, suffix in SUFFIXES.items():
        if path.suffix == suffix:
            return fmt  # type: ignore[return-value]  # a key of SUFFIXES: an ExportFormat
    raise InputValidationError(
        f"{path}: cannot tell the format; exported models are SavedModel folders, .tflite or "
        f".onnx files."
    )
