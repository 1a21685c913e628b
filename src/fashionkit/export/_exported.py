"""An export loaded back with its format's own runtime, as a server would run it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import IMAGE_SHAPE, ExportFormat
from fashionkit._messages import brief
from fashionkit._typing import PathLike
from fashionkit._validation import ArrayLike, IsCallable, check_images, params
from fashionkit.exceptions import ExportError, InputValidationError
from fashionkit.export import _formats

__all__ = ["ExportedModel", "load", "load_exported"]


class ExportedModel:
    """An exported model loaded with its format's own runtime, for checks and quick use.

    Call it (or :meth:`predict`) with ``(N, 28, 28)`` uint8 images to get ``(N, 10)`` float32
    probabilities. Use :func:`load_exported` to create one.

    Args:
        path: The exported file or folder.
        format: ``"saved_model"``, ``"tflite"`` or ``"onnx"``.
        runner: The runtime's function from a ``(N, 28, 28)`` uint8 batch to probabilities.

    Attributes:
        path: The exported file or folder.
        format: ``"saved_model"``, ``"tflite"`` or ``"onnx"``.
    """

    @params(runner=IsCallable("the runtime's function from uint8 images to probabilities"))
    def __init__(self, path: Path, format: ExportFormat, runner: Any) -> None:
        self.path = Path(path)
        self.format = format
        self._run = runner

    @params(images=ArrayLike("uint8 images (N, 28, 28), or one (28, 28)"))
    def predict(self, images: object) -> NDArray[np.float32]:
        """Probabilities ``(N, 10)`` for uint8 images ``(N, 28, 28)`` (or one ``(28, 28)``).

        Raises:
            InputValidationError: Images of another shape or dtype (the exported model takes
                uint8 pixels only).
        """
        x = check_images(images)
        if x.ndim == 2:
            x = x[None]
        if x.shape[1:] != IMAGE_SHAPE:
            raise InputValidationError(
                f"an exported model takes (N, 28, 28) uint8 images; got shape {x.shape}."
            )
        return np.asarray(self._run(np.ascontiguousarray(x)), dtype=np.float32)

    __call__ = predict

    def __repr__(self) -> str:
        return f"ExportedModel({str(self.path)!r}, format={self.format!r})"


@params()
def load_exported(path: PathLike) -> ExportedModel:
    """Load an exported model with its format's runtime (TensorFlow, LiteRT, ONNX Runtime).

    Args:
        path: A SavedModel folder, or a ``.tflite`` or ``.onnx`` file.

    Raises:
        InputValidationError: Nothing exported at ``path``, or a path of an unknown format.
        ExportError: The runtime is missing or cannot read the file.

    Example:
        >>> exported = load_exported("runs/cnn/export/model.onnx")  # doctest: +SKIP
        >>> exported(data.test.images[:5]).argmax(axis=1)  # doctest: +SKIP
        array([9, 2, 1, 1, 6])
    """
    target = Path(path)
    if not target.exists():
        raise InputValidationError(f"No exported model at {target}.")
    return load(target, _formats.format_of(target))


def load(path: Path, format: ExportFormat) -> ExportedModel:
    """The export at ``path``, of a known format, with its runtime.

    Raises:
        ExportError: The runtime is missing or cannot read the file.
    """
    try:
        runner = _formats.runner(path, format)
    except ExportError:
        raise
    except Exception as exc:  # each runtime raises its own types for a damaged file
        raise ExportError(
            f"{path} could not be loaded as a {format} model ({brief(exc)})."
        ) from exc
    return ExportedModel(path, format, runner)
