"""The names inside a run directory: the one place that spells them."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Literal

import attrs

from fashionkit._constants import ExportFormat, ExportSource, Quantization
from fashionkit._io import DirectoryLock
from fashionkit._typing import PathLike as PathLikeType
from fashionkit._validation import InstanceOf, PathLike, field_validator, params

__all__ = ["REPORT_PICTURES", "RunLayout"]

#: A picture ``fashionkit report`` draws into a run directory.
ReportPicture = Literal[
    "learning_curves", "confusion_matrix", "confident_mistakes", "mistakes_explained", "reliability"
]
#: The pictures ``fashionkit report`` draws, in the order it writes them.
REPORT_PICTURES: tuple[ReportPicture, ...] = typing.get_args(ReportPicture)

_EXPORT_NAMES: dict[str, str] = {
    "saved_model": "saved_model",
    "tflite": "model.tflite",
    "onnx": "model.onnx",
}


def _as_path(value: PathLikeType) -> Path:
    """The root as a Path; anything but a path is refused (an ArgumentError)."""
    PathLike().check(value, "RunLayout.root")
    return Path(value)


@attrs.frozen
class RunLayout:
    """Where each file of a run directory lies (see :mod:`fashionkit.runs` for what each holds).

    Every reader and writer of run directories asks it for paths, so the names are written
    once, here.

    Args:
        root: The run directory.

    Example:
        >>> layout = RunLayout("runs/cnn")
        >>> layout.config.as_posix(), layout.model_file("best").name
        ('runs/cnn/config.toml', 'best.keras')
    """

    root: Path = attrs.field(converter=_as_path, validator=field_validator(InstanceOf((Path,))))

    @property
    def config(self) -> Path:
        """``config.toml``: the resolved config, written first."""
        return self.root / "config.toml"

    @property
    def metrics(self) -> Path:
        """``metrics.jsonl``: one line per epoch."""
        return self.root / "metrics.jsonl"

    @property
    def checkpoints(self) -> Path:
        """``checkpoint/``: the newest epoch's full model while training runs."""
        return self.root / "checkpoint"

    @property
    def model(self) -> Path:
        """``model.keras``: the final model."""
        return self.root / "model.keras"

    @property
    def best(self) -> Path:
        """``best.keras``: the best epoch's model."""
        return self.root / "best.keras"

    @params()
    def model_file(self, which: ExportSource) -> Path:
        """``best.keras`` for ``"best"``, ``model.keras`` for ``"final"``."""
        return self.best if which == "best" else self.model

    @property
    def validation(self) -> Path:
        """``validation.json``: the validation split's report."""
        return self.root / "validation.json"

    @property
    def test(self) -> Path:
        """``test.json``: the test split's report."""
        return self.root / "test.json"

    @property
    def calibration(self) -> Path:
        """``calibration.json``: the fitted temperature (calibrated runs only)."""
        return self.root / "calibration.json"

    @property
    def tensorboard(self) -> Path:
        """``tensorboard/``: TensorBoard logs (with ``tensorboard = true`` only)."""
        return self.root / "tensorboard"

    @property
    def environment(self) -> Path:
        """``environment.json``: versions and machine facts."""
        return self.root / "environment.json"

    @property
    def summary(self) -> Path:
        """``summary.json``: written last; it marks the run complete."""
        return self.root / "summary.json"

    @property
    def lock(self) -> Path:
        """``.lock``: held by the process that trains into the folder."""
        return self.root / DirectoryLock.NAME

    @params()
    def export_path(self, format: ExportFormat, quantize: Quantization | None = None) -> Path:
        """Where an export of the run goes by default: ``export/saved_model``, ``model.tflite``...

        ``export/model.tflite`` and ``export/model.onnx`` are files; a quantized model's name
        says its quantization (``export/model-int8.tflite``).
        """
        name = _EXPORT_NAMES[format]
        if quantize is not None:
            name = name.replace(".tflite", f"-{quantize}.tflite")
        return self.root / "export" / name

    @params()
    def picture(self, name: ReportPicture) -> Path:
        """A picture of ``fashionkit report`` (:data:`~fashionkit.runs.REPORT_PICTURES`), as PNG."""
        return self.root / f"{name}.png"

    @property
    def explanations(self) -> Path:
        """``explanations.png``: where ``fashionkit explain`` draws by default."""
        return self.root / "explanations.png"
