"""What an export wrote, and how well it matched: :class:`ExportResult`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from fashionkit import _schema
from fashionkit._constants import ExportFormat, ExportSource, Quantization
from fashionkit._validation import annotated_fields

__all__ = ["ExportResult", "size_of"]


def size_of(path: Path) -> int:
    """Bytes on disk of a file, or of a folder's files added up."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class ExportResult:
    """What :func:`~fashionkit.export.export_model` or :func:`~fashionkit.export.export_run` wrote.

    Attributes:
        path: The exported file (TFLite, ONNX) or folder (SavedModel), resolved: the path
            actually written, symbolic links on the way followed.
        format: ``"saved_model"``, ``"tflite"`` or ``"onnx"``.
        size_bytes: Size on disk (a SavedModel folder's files added up).
        seconds: Wall-clock time of the export and its check.
        tta: Whether flip test-time augmentation is part of the exported graph.
        temperature: The calibration temperature in the graph (1.0: none).
        max_difference: Largest absolute difference of any probability between the exported
            model and the Keras model on the check images.
        tolerance: The tolerance ``max_difference`` is within: the format's
            (:data:`~fashionkit.export.TOLERANCES`), times ``1 / temperature`` for a
            temperature below 1 (sharpening amplifies rounding); ``None`` for a quantized
            export, which is checked by its accuracy instead.
        check_images: Number of images the check ran on.
        precision_difference: For a model that computes in mixed precision: the largest
            absolute difference of any probability between the mixed-precision Keras model and
            the float32 computation that was exported, on the check images; ``None`` for a
            float32 model.
        which: Which of the run's models :func:`~fashionkit.export.export_run` exported:
            ``"best"`` (the best epoch's, ``best.keras``) or ``"final"`` (``model.keras``);
            ``None`` for a model given to :func:`~fashionkit.export.export_model`.
        quantize: ``"float16"``, ``"dynamic"`` or ``"int8"`` for a quantized TFLite model;
            ``None`` for a float32 one.
        latency_ms: Median milliseconds per call of one image with the format's runtime on
            this machine (after a warm-up): TensorFlow for a SavedModel, the LiteRT
            interpreter for TFLite (TensorFlow's own without the ``export`` extra), ONNX
            Runtime for ONNX.
        accuracy: The exported model's accuracy on the labelled check images (the test split
            for :func:`~fashionkit.export.export_run`); ``None`` without an accuracy check.
        reference_accuracy: The float32 Keras model's accuracy on the same images.
        max_accuracy_loss: The largest ``reference_accuracy - accuracy`` the check allowed;
            ``None`` without an accuracy check.
        representative_images: How many images calibrated an int8 model; ``None`` otherwise.
        integer_output: Whether an int8 model outputs int8 probabilities.
    """

    path: Path
    format: ExportFormat
    size_bytes: int
    seconds: float
    tta: bool
    temperature: float
    max_difference: float
    tolerance: float | None
    check_images: int
    precision_difference: float | None = None
    which: ExportSource | None = None
    quantize: Quantization | None = None
    latency_ms: float | None = None
    accuracy: float | None = None
    reference_accuracy: float | None = None
    max_accuracy_loss: float | None = None
    representative_images: int | None = None
    integer_output: bool = False

    @property
    def accuracy_loss(self) -> float | None:
        """``reference_accuracy - accuracy`` (negative: the export did better), if measured."""
        if self.accuracy is None or self.reference_accuracy is None:
            return None
        return self.reference_accuracy - self.accuracy

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the output of ``fashionkit export --json``), ``accuracy_loss`` included."""
        data: dict[str, Any] = _schema.to_data(self)
        data["accuracy_loss"] = self.accuracy_loss
        return data

    def to_text(self) -> str:
        """One line: what was written where, and how well it matched."""
        what = self.format if self.quantize is None else f"{self.format} ({self.quantize})"
        extras = (
            ([f"the run's {self.which} model"] if self.which is not None else [])
            + (["flip TTA"] if self.tta else [])
            + ([f"temperature {self.temperature:.4f}"] if self.temperature != 1.0 else [])
            + (
                [f"calibrated on {self.representative_images} images"]
                if self.representative_images is not None
                else []
            )
            + (["int8 output"] if self.integer_output else [])
            + ([f"{self.latency_ms:.3g} ms per image"] if self.latency_ms is not None else [])
        )
        tolerance = f" (tolerance {self.tolerance:g})" if self.tolerance is not None else ""
        return (
            f"exported {what} to {self.path} ({self.size_bytes / 1e6:.2f} MB, "
            f"{self.seconds:.1f} s{''.join(', ' + e for e in extras)}); max probability "
            f"difference from Keras {self.max_difference:.2g} on {self.check_images} "
            f"images{tolerance}{self._accuracy_text()}"
            + (
                f"; the float32 export differs from the mixed-precision model by up to "
                f"{self.precision_difference:.2g}"
                if self.precision_difference is not None
                else ""
            )
        )

    def _accuracy_text(self) -> str:
        if (
            self.accuracy is None
            or self.reference_accuracy is None
            or self.accuracy_loss is None
            or self.max_accuracy_loss is None
        ):
            return ""
        return (
            f"; accuracy {self.accuracy:.4f} against the float model's "
            f"{self.reference_accuracy:.4f} on {self.check_images} images (loss "
            f"{self.accuracy_loss:+.4f}, at most {self.max_accuracy_loss:g} allowed)"
        )

    def __str__(self) -> str:
        return self.to_text()
