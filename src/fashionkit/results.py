"""What a training run produces: per-epoch records and the result of :func:`fashionkit.train`.

Both have one plain-data layout, written by fashionkit's one serialisation layer: an
:class:`EpochRecord` is an element of ``history`` in ``summary.json`` and is read back from a
line of a run's ``metrics.jsonl`` by :meth:`EpochRecord.from_logs` (the line holds the epoch's
logs, flat); :meth:`TrainResult.to_dict` is a run's ``summary.json`` and the output of
``fashionkit train --json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from cattrs.gen import make_dict_unstructure_fn, override

from fashionkit import _html, _schema
from fashionkit._validation import (
    Interval,
    KerasModel,
    NoneOr,
    SequenceOf,
    annotated_fields,
    field_validator,
    params,
)
from fashionkit.calibration import METRIC, Calibration
from fashionkit.config import TrainConfig
from fashionkit.devices import Placement
from fashionkit.evaluation import EvaluationReport, Predictor

__all__ = ["BestEpoch", "CheckpointState", "EpochRecord", "TrainResult"]


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


#: A 1-based epoch number.
_EPOCH = Interval("int", ge=1)


def _metric() -> Any:
    return attrs.field(validator=field_validator(METRIC))


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class EpochRecord:
    """Metrics of one epoch, as logged at its end.

    A metric that was not logged, or that diverged, is NaN; each field is checked on
    construction (:class:`~fashionkit.exceptions.ArgumentError` names a bad one).

    Attributes:
        epoch: 1-based epoch number.
        loss: Mean training loss over the epoch's batches (label smoothing included, as Keras
            computes it).
        accuracy: Training accuracy over the epoch's batches.
        val_loss: Validation loss after the epoch (see :mod:`fashionkit.evaluation` for its
            definition: no label smoothing).
        val_accuracy: Validation accuracy after the epoch.
        val_per_class_accuracy: Validation recall of each class, in label order.
        seconds: Wall-clock seconds of the epoch, validation included, when known; not compared
            by ``==``, so the histories of two identical runs are equal.
        partial: The epoch was cut short (by a time budget).
        extra: Any other metric logged for the epoch (by the user's callbacks), by name.
    """

    epoch: int = attrs.field(validator=field_validator(_EPOCH))
    loss: float = _metric()
    accuracy: float = _metric()
    val_loss: float = _metric()
    val_accuracy: float = _metric()
    val_per_class_accuracy: tuple[float, ...] = attrs.field(
        default=(), validator=field_validator(SequenceOf(METRIC))
    )
    seconds: float | None = attrs.field(  # wall time differs run to run
        default=None, eq=False, validator=field_validator(NoneOr(METRIC))
    )
    partial: bool = False
    extra: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    @params(epoch=_EPOCH)
    def from_logs(
        cls, epoch: int, logs: Mapping[str, Any], *, partial: bool = False
    ) -> EpochRecord:
        """Build a record from an epoch's logs (a metrics-log line, or Keras's logs).

        Example:
            >>> EpochRecord.from_logs(1, {"loss": 0.5, "accuracy": 0.8, "lr": 0.01}).extra
            {'lr': 0.01}
        """
        known = {f.name for f in attrs.fields(cls)}
        per_class = logs.get("val_per_class_accuracy", ())
        seconds = logs.get("seconds")
        return cls(
            epoch=int(epoch),
            loss=_number(logs.get("loss")),
            accuracy=_number(logs.get("accuracy")),
            val_loss=_number(logs.get("val_loss")),
            val_accuracy=_number(logs.get("val_accuracy")),
            val_per_class_accuracy=tuple(_number(v) for v in per_class),
            seconds=None if seconds is None else _number(seconds),
            partial=bool(logs.get("partial", partial)),
            extra={k: v for k, v in logs.items() if k not in known},
        )


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class BestEpoch:
    """The best epoch so far by the monitored validation metric, as checkpoints keep it.

    Attributes:
        epoch: The 1-based epoch.
        value: Its value of the monitored metric.
        waited: Epochs since, none of them an improvement.
        checkpoint: File name of its model in the checkpoint folder, or ``None`` when the run
            has no run directory.
    """

    epoch: int = attrs.field(validator=field_validator(_EPOCH))
    value: float
    waited: int = attrs.field(default=0, validator=field_validator(Interval("int", ge=0)))
    checkpoint: str | None = None


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class CheckpointState:
    """The layout of ``state.json``: the newest complete checkpoint and the run's state then.

    Attributes:
        epoch: The 1-based epoch the checkpoint ends.
        checkpoint: File name of its model.
        best: The best epoch by the monitored validation metric, and its model's file name.
        stop_reason: Set when training stopped at this epoch (early stopping, a time budget):
            a resumed run then does not train on, it only finishes.
        partial: The epoch was cut short by that stop.
    """

    epoch: int = attrs.field(validator=field_validator(_EPOCH))
    checkpoint: str
    best: BestEpoch | None = None
    stop_reason: str | None = None
    partial: bool = False


@attrs.frozen(kw_only=True, eq=False, field_transformer=annotated_fields)
class TrainResult:
    """Everything a training run produced.

    Attributes:
        model: The trained, compiled ``keras.Model`` (``None`` in a result built by hand
            without one, such as for writing reports).
        config: The resolved configuration the run used.
        history: One record per epoch, in order (resumed runs include the earlier epochs).
        validation: Evaluation of the final model on the held-out validation split.
        test: Evaluation of the final model on the test split.
        placement: Where the model trained.
        fit_seconds: Wall-clock seconds spent training (in ``fit`` or the multi-worker loop).
        total_seconds: Wall-clock seconds of the whole call, loading and evaluation included.
        stop_reason: Why training ended before ``config.epochs``, or ``None`` if it ran them all.
        run_dir: The run directory the results were written to, if any.
        resumed_from_epoch: The last epoch restored from a checkpoint (0 for a fresh run).
        best_epoch: The 1-based epoch with the best ``config.early_stopping.monitor``, or
            ``None`` when no epoch was evaluated.
        restored_best: Whether the model holds the best epoch's weights
            (``early_stopping.restore_best``) rather than the last epoch's.
        calibration: The temperature fitted on the validation split, with the ECE and loss of
            the validation and test splits before and after, when ``config.calibrate`` is on
            (``validation`` and ``test`` are then the calibrated reports); else ``None``.
    """

    model: Any = attrs.field(validator=field_validator(NoneOr(KerasModel())))
    config: TrainConfig
    history: tuple[EpochRecord, ...]
    validation: EvaluationReport
    test: EvaluationReport
    placement: Placement
    fit_seconds: float
    total_seconds: float
    stop_reason: str | None = None
    run_dir: Path | None = None
    resumed_from_epoch: int = 0
    best_epoch: int | None = None
    restored_best: bool = False
    calibration: Calibration | None = None

    @property
    def epochs_completed(self) -> int:
        """Number of epochs that ran to their end."""
        return sum(1 for r in self.history if not r.partial)

    def predictor(self) -> Predictor:
        """The model's predictor, as the reports predicted: the config's TTA, the temperature.

        Example:
            >>> result = fashionkit.train()  # doctest: +SKIP
            >>> result.predictor().predict(data.test.images[:1]).names  # doctest: +SKIP
            ('Ankle boot',)
        """
        temperature = self.calibration.temperature if self.calibration is not None else 1.0
        return Predictor(
            model=self.model,
            tta=self.config.tta,
            temperature=temperature,
            class_names=self.test.class_names,
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything but the model, as plain data: the layout of ``summary.json``."""
        data: dict[str, Any] = _schema.to_data(self)
        return data

    def summary(self) -> str:
        """A few lines with the final metrics and timings."""
        lines = [
            f"model {self.config.model.architecture}, loss {self.config.loss.keras_name}, "
            f"{self.epochs_completed}/{self.config.epochs} epochs on {self.placement.accelerator}",
            f"validation accuracy {self.validation.accuracy:.4f} (loss {self.validation.loss:.4f})",
            f"test accuracy       {self.test.accuracy:.4f} (loss {self.test.loss:.4f})",
            f"fit {self.fit_seconds:.1f} s, total {self.total_seconds:.1f} s",
        ]
        if self.stop_reason:
            lines.append(f"stopped early: {self.stop_reason}")
        if self.restored_best:
            lines.append(f"weights of the best epoch, {self.best_epoch}, restored")
        if self.calibration is not None:
            scores = self.calibration.scores_of("test")
            lines.append(
                f"calibrated: temperature {self.calibration.temperature:.3f}"
                + (
                    f", test ECE {scores.ece_before:.4f} -> {scores.ece_after:.4f}"
                    if scores is not None
                    else ""
                )
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The summary, then one row per epoch, as HTML (Jupyter's display)."""
        summary = "".join(_html.caption(line) for line in self.summary().splitlines())
        return summary + history_html(self.history)


def history_html(history: tuple[EpochRecord, ...]) -> str:
    """One HTML table row per epoch: losses, accuracies, seconds, and a mark on a cut epoch."""
    rows = (
        (
            r.epoch,
            r.loss,
            r.accuracy,
            r.val_loss,
            r.val_accuracy,
            r.seconds,
            "partial" if r.partial else "",
        )
        for r in history
    )
    return _html.table(
        ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", ""], rows
    )


# The model is a Keras object, saved as model.keras; every other field is plain data.
_schema.converter.register_unstructure_hook(
    TrainResult,
    make_dict_unstructure_fn(TrainResult, _schema.converter, model=override(omit=True)),
)
