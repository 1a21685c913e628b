"""What a run produces: EpochRecord (a metrics line, a history entry) and TrainResult."""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest

import fashionkit
from fashionkit.results import EpochRecord
from tests.helpers import sample_result


def test_from_logs_reads_the_known_metrics_and_keeps_the_rest_as_extra() -> None:
    """It takes loss, accuracy and val_* from the logs and keeps any other metric in extra."""
    logs = {
        "loss": np.float32(0.5),
        "accuracy": 0.75,
        "val_loss": np.float64(0.625),
        "val_accuracy": 0.5,
        "val_per_class_accuracy": [np.float32(1.0), 0.0],
        "seconds": 1.25,
        "lr": 0.01,
        "epoch": 3,
    }
    record = EpochRecord.from_logs(2, logs)
    assert record == EpochRecord(
        epoch=2,
        loss=0.5,
        accuracy=0.75,
        val_loss=0.625,
        val_accuracy=0.5,
        val_per_class_accuracy=(1.0, 0.0),
        seconds=1.25,
        partial=False,
        extra={"lr": 0.01},
    )
    assert all(type(v) is float for v in (record.loss, record.val_loss))


def test_from_logs_marks_missing_or_unreadable_metrics_as_nan() -> None:
    """It records NaN for a metric that is missing or not a number, instead of failing."""
    record = EpochRecord.from_logs(1, {"loss": "diverged"})
    assert math.isnan(record.loss)
    assert math.isnan(record.accuracy)
    assert math.isnan(record.val_loss)
    assert record.val_per_class_accuracy == ()
    assert record.seconds is None
    assert record.extra == {}


def test_from_logs_reads_partial_from_the_logs_or_the_argument() -> None:
    """It takes partial from a metrics-log line when present, else from the argument."""
    assert EpochRecord.from_logs(1, {}, partial=True).partial
    assert EpochRecord.from_logs(1, {"partial": True}).partial
    assert not EpochRecord.from_logs(1, {"partial": False}, partial=True).partial


def test_epochs_completed_does_not_count_a_partial_epoch() -> None:
    """It counts only the epochs that ran to their end."""
    result = sample_result()
    assert result.epochs_completed == 2
    cut = attrs.evolve(result.history[1], partial=True)
    assert sample_result(history=(result.history[0], cut)).epochs_completed == 1


def test_summary_names_model_metrics_timings_and_an_early_stop() -> None:
    """It writes a few lines with the final metrics, and the stop reason when there is one."""
    result = sample_result()
    lines = result.summary().splitlines()
    assert lines[0] == ("model linear, loss sparse_categorical_crossentropy, 2/2 epochs on cpu")
    assert lines[1] == (
        f"validation accuracy {result.validation.accuracy:.4f} (loss {result.validation.loss:.4f})"
    )
    assert lines[3] == "fit 2.8 s, total 3.5 s"
    assert len(lines) == 4
    stopped = sample_result(stop_reason="time budget spent")
    assert stopped.summary().splitlines()[-1] == "stopped early: time budget spent"


def test_to_dict_is_plain_json_ready_data() -> None:
    """It holds only dicts, lists, strings, numbers, booleans and None."""

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (str, int, float, bool))

    data = sample_result(history=(EpochRecord.from_logs(1, {"loss": math.nan}),)).to_dict()
    assert plain(data)
    assert data["history"][0]["loss"] == "nan"
    assert "model" not in data


@pytest.mark.parametrize("name", ["EpochRecord", "TrainResult"])
def test_results_are_exported_from_the_package_and_their_home_only(name: str) -> None:
    """It offers the result types from fashionkit and fashionkit.results, and not from training."""
    assert getattr(fashionkit, name) is getattr(fashionkit.results, name)
    assert name not in fashionkit.training.__all__


# --- every field is declared ------------------------------------------------------------------


def _record(**changes: object) -> EpochRecord:
    fields: dict[str, object] = {
        "epoch": 1,
        "loss": 0.5,
        "accuracy": 0.8,
        "val_loss": 0.6,
        "val_accuracy": 0.75,
    }
    fields.update(changes)
    return EpochRecord(**fields)  # type: ignore[arg-type]


def test_an_epoch_record_keeps_a_metric_that_diverged_as_nan() -> None:
    """It accepts NaN (a diverged loss, a metric that was not logged) and NumPy numbers."""
    record = _record(loss=math.nan, accuracy=np.float32(0.5), val_per_class_accuracy=[math.nan])
    assert math.isnan(record.loss)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epoch": 0}, "EpochRecord.epoch must be an integer >= 1; got 0."),
        ({"epoch": 1.0}, "EpochRecord.epoch must be an integer >= 1; got 1.0."),
        ({"loss": "0.5"}, "EpochRecord.loss must be a number (NaN where undefined"),
        ({"partial": 1}, "EpochRecord.partial must be True or False; got 1."),
        ({"val_per_class_accuracy": "0.8"}, "EpochRecord.val_per_class_accuracy must be a list"),
    ],
)
def test_an_epoch_record_refuses_a_field_of_the_wrong_kind(
    changes: dict[str, object], message: str
) -> None:
    """It raises ArgumentError naming the field, for a bad type or range, a str for a list too."""
    with pytest.raises(fashionkit.ArgumentError) as info:
        _record(**changes)
    assert str(info.value).startswith(message)


def test_from_logs_refuses_an_epoch_that_is_not_1_based() -> None:
    """It raises ArgumentError naming ``epoch`` for 0 (Keras's 0-based index passed as is)."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^epoch must be an integer >= 1; got 0\."):
        EpochRecord.from_logs(0, {"loss": 0.5})


def test_a_train_result_refuses_a_model_that_is_no_keras_model() -> None:
    """It raises ArgumentError naming TrainResult.model for a path given instead of the model."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^TrainResult\.model must be a Keras"):
        sample_result(model="run/model.keras")
    with pytest.raises(fashionkit.ArgumentError, match=r"^TrainResult\.fit_seconds must be"):
        sample_result(fit_seconds="2.75")
