"""Every export setting in one object, checked once when it is built."""

from __future__ import annotations

from typing import Any

import attrs

from fashionkit._constants import EXPORT_FORMATS, ExportFormat, Quantization
from fashionkit._messages import shown
from fashionkit._validation import Constraint, Interval, NoneOr, Options, annotated_fields, refusal
from fashionkit.exceptions import ArgumentError

__all__ = ["DEFAULT_MAX_ACCURACY_LOSS", "DEFAULT_REPRESENTATIVE_SIZE", "ExportOptions"]

#: The largest drop in accuracy that an export may show against the float32 Keras model on
#: the labelled check images, as a share (0.01 is one percentage point); beyond it the export
#: fails.
DEFAULT_MAX_ACCURACY_LOSS = 0.01
#: How many training images :func:`~fashionkit.export.export_run` calibrates an int8 model on
#: by default.
DEFAULT_REPRESENTATIVE_SIZE = 500

_SHARE = "A share: 0.01 is one percentage point."


def _declared(constraint: Constraint, hint: str = "") -> Any:
    """An attrs validator: ``constraint`` checks the field, named ``ExportOptions.field``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not constraint.allows(value):
            name = f"{type(instance).__name__}.{attribute.name}"
            raise ArgumentError(refusal(name, constraint.describe(), value, hint))

    return check


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class ExportOptions:
    """What to export and how it is checked: the settings of an export, checked together.

    Every field is checked when the object is built (:class:`~fashionkit.exceptions.ArgumentError`
    names the field, what it allows and what it got), and so are the rules between fields: a
    setting that contradicts another is refused here, once, before any file is read.
    Change one with :func:`attrs.evolve`, which checks again.

    Attributes:
        format: ``"saved_model"`` (default, a folder), ``"tflite"`` or ``"onnx"`` (one file;
            ONNX needs the ``export`` extra).
        quantize: ``"float16"``, ``"dynamic"`` or ``"int8"`` post-training quantization
            (``format="tflite"`` only); ``None`` (default) exports float32. A quantized export
            is always checked by its accuracy.
        check_accuracy: Check the export's accuracy on labelled images against the float32
            Keras model's (``max_accuracy_loss``). ``None`` (default): checked when quantized,
            and by :func:`~fashionkit.export.export_model` when it is given labels; ``True``
            also for a float32 export (whose probabilities are checked to a rounding tolerance
            anyway); ``False`` only for a float32 export.
        representative_size: How many of a run's training images calibrate an int8 model
            (:func:`~fashionkit.export.export_run`; ``quantize="int8"`` only). ``None``
            (default): :data:`~fashionkit.export.DEFAULT_REPRESENTATIVE_SIZE`, or all of a
            smaller training part.
        max_accuracy_loss: The largest drop in accuracy allowed, a share from 0 to 1. Defaults
            to :data:`~fashionkit.export.DEFAULT_MAX_ACCURACY_LOSS` (one percentage point).
        integer_output: An int8 model outputs int8 probabilities (for integer-only
            accelerators) instead of float32 ones (``quantize="int8"`` only). Defaults to
            ``False``.

    Raises:
        ArgumentError: A bad value, or settings that contradict each other.

    Example:
        >>> ExportOptions(format="tflite", quantize="int8").checks_accuracy
        True
        >>> ExportOptions(format="onnx", quantize="int8")
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ArgumentError: ExportOptions.quantize='int8' applies to the ...
    """

    format: ExportFormat = attrs.field(
        default="saved_model", validator=_declared(Options(EXPORT_FORMATS))
    )
    quantize: Quantization | None = None
    check_accuracy: bool | None = None
    representative_size: int | None = attrs.field(
        default=None, validator=_declared(NoneOr(Interval("int", ge=1)), "A number of images.")
    )
    max_accuracy_loss: float = attrs.field(
        default=DEFAULT_MAX_ACCURACY_LOSS,
        validator=_declared(Interval("number", ge=0.0, le=1.0), _SHARE),
    )
    integer_output: bool = False

    def __attrs_post_init__(self) -> None:
        """Refuse settings that contradict each other, naming both fields."""
        rules = (
            (
                self.quantize is not None and self.format != "tflite",
                f"ExportOptions.quantize={shown(self.quantize)} applies to the tflite format only; "
                f"got format={shown(self.format)}. Use format='tflite', or quantize=None.",
            ),
            (
                self.quantize is not None and self.check_accuracy is False,
                f"ExportOptions.check_accuracy=False contradicts quantize={shown(self.quantize)}: "
                "a "
                f"quantized export is always checked by its accuracy (check_accuracy=False "
                f"applies to float32 exports only). Raise max_accuracy_loss to allow more loss.",
            ),
            (
                self.representative_size is not None and self.quantize != "int8",
                f"ExportOptions.representative_size sets the images that calibrate an int8 "
                f"model; give it with quantize='int8' only (got quantize={shown(self.quantize)}).",
            ),
            (
                self.integer_output and self.quantize != "int8",
                f"ExportOptions.integer_output applies to quantize='int8' only; got "
                f"quantize={shown(self.quantize)}.",
            ),
        )
        for broken, message in rules:
            if broken:
                raise ArgumentError(message)

    @property
    def checks_accuracy(self) -> bool:
        """Whether the accuracy is checked whatever the inputs (quantized, or ``check_accuracy``).

        When it is, :func:`~fashionkit.export.export_run` loads the data (the test split checks
        the accuracy) and :func:`~fashionkit.export.export_model` needs ``check_labels``.
        """
        return self.quantize is not None or self.check_accuracy is True
