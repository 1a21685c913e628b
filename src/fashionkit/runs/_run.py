"""A completed run read back: checked once, then everything a command needs from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from fashionkit import _html
from fashionkit._constants import ExportSource
from fashionkit._io import describe_holder, is_locked
from fashionkit._typing import PathLike
from fashionkit._validation import annotated_fields, params
from fashionkit.calibration import Calibration
from fashionkit.config import TrainConfig
from fashionkit.evaluation import EvaluationReport, Predictor
from fashionkit.exceptions import InputValidationError, RunDirError
from fashionkit.results import EpochRecord, history_html
from fashionkit.runs._files import (
    check_archive,
    read_calibration,
    read_config,
    read_epoch_lines,
    read_object,
    read_report,
    records,
)
from fashionkit.runs._layout import RunLayout
from fashionkit.runs._models import load_model

__all__ = ["Run", "load_run"]


@attrs.frozen(kw_only=True, eq=False, field_transformer=annotated_fields)
class Run:
    """A completed run directory, checked once by :func:`load_run`.

    Every command that reads a run (``evaluate``, ``predict``, ``explain``, ``report``,
    ``export``, the sweep) goes through it: the files are checked when the run is loaded, the
    models are loaded (with Keras's safe mode on) when first asked for, and
    :meth:`predictor` predicts as the run did, with its test-time augmentation and its
    calibration temperature.

    Attributes:
        layout: Where the run's files lie.
        config: The config the run trained with.
        validation: The validation report.
        test: The test report.
        history: One record per epoch, from the metrics log.
        environment: Versions and devices recorded at the end of the run.
        summary: The run's ``summary.json`` (the layout of :meth:`~fashionkit.TrainResult.to_dict`).
        calibration: The fitted temperature (``calibration.json``), or ``None`` for a run
            trained without ``calibrate``.
    """

    layout: RunLayout
    config: TrainConfig
    validation: EvaluationReport
    test: EvaluationReport
    history: tuple[EpochRecord, ...]
    environment: dict[str, Any]
    summary: dict[str, Any]
    calibration: Calibration | None = None
    _models: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False)

    @property
    def directory(self) -> Path:
        """The run directory."""
        return self.layout.root

    @property
    def ended_with(self) -> ExportSource:
        """``"best"`` when the run ended with its best epoch's weights, else ``"final"``.

        A run with ``restore_best`` that never had a best epoch (it stopped before any epoch
        was validated, or every score was NaN) ended with its final weights.
        """
        restored = self.summary.get("restored_best", self.config.early_stopping.restore_best)
        return "best" if restored else "final"

    @property
    def tta(self) -> bool:
        """Whether the run predicts with flip test-time augmentation."""
        return self.config.tta

    @property
    def temperature(self) -> float:
        """The temperature the run's probabilities use (1.0 when uncalibrated)."""
        return self.calibration.temperature if self.calibration is not None else 1.0

    @property
    def model(self) -> Any:
        """The final ``keras.Model`` (``model.keras``), loaded on first use."""
        return self.load_model("final")

    @params()
    def load_model(self, which: ExportSource | None = None) -> Any:
        """The run's ``"best"`` (``best.keras``) or ``"final"`` model (``model.keras``).

        Args:
            which: ``"best"``, ``"final"``, or ``None`` for the one the run ended with
                (:attr:`ended_with`).

        Raises:
            ArgumentError: ``which`` is none of these.
            RunDirError: The run kept no best model, or the file is not a loadable model.
        """
        chosen = which or self.ended_with
        if chosen not in self._models:
            path = self.layout.model_file(chosen)
            if not path.is_file():
                raise RunDirError(
                    f"{path} is missing: the run kept no best model (it is written after the "
                    f"first epoch with a validation score). Use the final model (--model final)."
                )
            self._models[chosen] = load_model(path)
        return self._models[chosen]

    @params()
    def temperature_for(self, which: ExportSource | None = None) -> float:
        """The temperature of the run's ``which`` model: the calibration belongs to one model.

        Raises:
            RunDirError: ``which="best"`` for a calibrated run that did not end with its best
                weights: the temperature was fitted to the final model, not to the best one.
        """
        chosen = which or self.ended_with
        if self.calibration is not None and chosen != self.ended_with:
            raise RunDirError(
                f"The run in {self.directory} was calibrated on its {self.ended_with} model, "
                f"not on its {chosen} one, so the temperature does not belong to "
                f"{self.layout.model_file(chosen).name}. Use the {self.ended_with} model "
                f"(--model {self.ended_with}), or train with early_stopping.restore_best = "
                f"true, which ends with the best weights and calibrates them."
            )
        return self.temperature

    @params()
    def predictor(
        self,
        which: ExportSource | None = None,
        *,
        tta: bool | None = None,
        calibrated: bool | None = None,
    ) -> Predictor:
        """The predictor of the run's model, predicting as the run did unless told otherwise.

        Args:
            which: ``"best"``, ``"final"`` or ``None`` for the model the run ended with.
            tta: Flip test-time augmentation; ``None`` (default) as the run's config says.
            calibrated: Apply the run's calibration temperature; ``None`` (default) when the
                run has one; ``True`` requires one.

        Raises:
            ArgumentError: A bad ``which``, ``tta`` or ``calibrated``.
            InputValidationError: ``calibrated=True`` for a run that was not calibrated.
            RunDirError: As :meth:`load_model` and :meth:`temperature_for`.

        Example:
            >>> run = load_run("runs/cnn")  # doctest: +SKIP
            >>> run.predictor().predict(data.test.images[:2]).names  # doctest: +SKIP
            ('Ankle boot', 'Pullover')
        """
        if calibrated and self.calibration is None:
            raise InputValidationError(
                f"calibrated=True (--calibrated) needs a calibrated run; {self.directory} has "
                f"no {self.layout.calibration.name} (train with --set calibrate=true)."
            )
        temperature = 1.0 if calibrated is False else self.temperature_for(which)
        return Predictor(
            model=self.load_model(which),
            tta=self.tta if tta is None else tta,
            temperature=temperature,
            class_names=self.test.class_names,
        )

    def _repr_html_(self) -> str:
        """The folder, the final reports' summary lines and one row per epoch, as HTML."""
        lines = [
            f"run {self.directory} ({self.config.model.architecture})",
            self.validation.to_text().splitlines()[0],
            self.test.to_text().splitlines()[0],
        ]
        return "".join(_html.caption(line) for line in lines) + history_html(self.history)


@params()
def load_run(path: PathLike) -> Run:
    """Read a completed run directory, checking it once: whole, finished, not being written.

    The config must read back, ``summary.json`` (written last) must exist, no process may be
    training into the folder, and every file the run wrote must be there and whole (the model
    files' archives are checked; the models themselves load when first used, with Keras's safe
    mode on, so loading never runs code stored in the file).

    Args:
        path: A run directory written by ``fashionkit.train(..., run_dir=path)``.

    Returns:
        The run.

    Raises:
        RunDirError: The folder is not a run directory, the run is still training or did not
            complete, or a file is missing or damaged; the message names the file.

    Example:
        >>> run = load_run("runs/tutorial")  # doctest: +SKIP
        >>> run.test.accuracy  # doctest: +SKIP
        0.8504
    """
    layout = RunLayout(Path(path))
    directory = layout.root
    if not directory.is_dir():
        why = "it is a file" if directory.exists() else "it does not exist"
        raise RunDirError(
            f"{directory} is not a directory ({why}); give a run directory written by "
            f"fashionkit train --run-dir (fashionkit.train(..., run_dir=...))."
        )
    if is_locked(directory):
        raise RunDirError(
            f"The run in {directory} is still in progress: {describe_holder(directory)} is "
            f"training into it. Use it once training has finished."
        )
    config = read_config(layout.config)
    if not layout.summary.is_file():
        raise RunDirError(
            f"{layout.summary} is missing: the run in {directory} did not complete. Resume it "
            f"by training again with the same config and run directory."
        )
    summary = read_object(layout.summary)
    calibration = read_calibration(layout.calibration)
    if calibration is None and config.calibrate:
        raise RunDirError(
            f"{layout.calibration} is missing although the run was trained with calibrate = "
            f"true; without it the run's probabilities would lose their temperature."
        )
    check_archive(layout.model)
    if summary.get("best_epoch") is not None:
        check_archive(layout.best)
    return Run(
        layout=layout,
        config=config,
        validation=read_report(layout.validation),
        test=read_report(layout.test),
        history=records(read_epoch_lines(layout.metrics), layout.metrics),
        environment=read_object(layout.environment),
        summary=summary,
        calibration=calibration,
    )
