"""The callbacks: checkpoint, metrics log, time budget, validation report, and TrainingContext.

Each is tested on its own with ``model.fit`` (no context) and inside :func:`fashionkit.train`,
which hands every callback with a ``set_context`` method the run's TrainingContext.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit.callbacks import (
    EpochCheckpoint,
    JSONLinesLogger,
    TimeBudget,
    TrainingContext,
    ValidationReport,
)
from fashionkit.callbacks._evaluate_each_epoch import EvaluateEachEpoch
from fashionkit.callbacks._record_epochs import RecordEpochs
from fashionkit.callbacks._reseed import ReseedEachEpoch
from fashionkit.config import TrainConfig
from fashionkit.evaluation import Evaluator
from fashionkit.exceptions import (
    ArgumentError,
    ConfigError,
    InputValidationError,
    RunDirError,
    StorageError,
)
from fashionkit.models import MLPConfig


def _config(**changes: Any) -> TrainConfig:
    base: dict[str, Any] = {"epochs": 3, "batch_size": 16, "verbose": 0}
    base.update(changes)
    return TrainConfig(**base)


def _fit(
    data: fashionkit.FashionMNIST, callbacks: list[Any], *, epochs: int = 2, model: Any = None
) -> Any:
    """Plain model.fit on the tiny training split, without fashionkit.train."""
    model = model or fashionkit.create_training_model(TrainConfig(steps_per_execution=1))
    x = fashionkit.prepare_images(data.train.images)
    model.fit(x, data.train.labels, epochs=epochs, batch_size=50, verbose=0, callbacks=callbacks)
    return model


# --- EpochCheckpoint -----------------------------------------------------------------------


def test_checkpoint_keeps_only_the_newest_complete_epoch(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It saves a loadable model after every epoch, names it in state.json, deletes the older."""
    folder = tmp_path / "checkpoint"
    assert EpochCheckpoint.latest(folder) is None
    model = _fit(tiny_dataset, [EpochCheckpoint(folder)], epochs=3)
    assert EpochCheckpoint.latest(folder) == (3, folder / "epoch-0003.keras")
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0003.keras", "state.json"]
    assert json.loads((folder / "state.json").read_text()) == {
        "epoch": 3,
        "checkpoint": "epoch-0003.keras",
        "best": None,  # used with plain fit: no context, so no best epoch and no stop
        "stop_reason": None,
        "partial": False,
    }
    restored = keras.saving.load_model(folder / "epoch-0003.keras")
    x = fashionkit.prepare_images(tiny_dataset.test.images)
    np.testing.assert_array_equal(np.asarray(restored(x)), np.asarray(model(x)))
    assert (folder / "epoch-0003.keras").stat().st_mode & 0o044, "readable like other files"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("garbage", r"state\.json is corrupted"),
        ('{"epoch": 0, "checkpoint": "epoch-0000.keras"}', r"state\.json is corrupted"),
        ('{"epoch": 1, "checkpoint": "../elsewhere.keras"}', r"state\.json is corrupted"),
        ('{"epoch": 1}', r"state\.json is corrupted"),
        ('{"epoch": 1, "checkpoint": "epoch-0001.keras"}', r"epoch-0001\.keras, which is missing"),
    ],
    ids=["not-json", "epoch-0", "outside-folder", "no-checkpoint", "missing-file"],
)
def test_checkpoint_reports_a_damaged_state(tmp_path: Path, state: str, message: str) -> None:
    """It raises RunDirError for an unreadable state.json or one naming a missing file."""
    (tmp_path / "state.json").write_text(state)
    with pytest.raises(RunDirError, match=message):
        EpochCheckpoint.latest(tmp_path)


# --- JSONLinesLogger -----------------------------------------------------------------------


def test_metrics_logger_writes_one_flushed_line_per_epoch(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It writes one JSON line per epoch with the epoch number and every logged metric."""
    path = tmp_path / "logs" / "metrics.jsonl"
    result = fashionkit.train(_config(), dataset=tiny_dataset, callbacks=[JSONLinesLogger(path)])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert set(lines[0]) == {
        "epoch",
        "seconds",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "val_per_class_accuracy",
    }
    assert [line["val_loss"] for line in lines] == [r.val_loss for r in result.history]
    assert lines[-1]["val_per_class_accuracy"] == list(result.validation.per_class_recall)


def test_metrics_logger_flushes_before_training_ends(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It has each epoch's line on disk before the next epoch starts (crash safety)."""
    path = tmp_path / "metrics.jsonl"
    seen: list[int] = []

    class Peek(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            seen.append(len(path.read_text().splitlines()))

    fashionkit.train(_config(), dataset=tiny_dataset, callbacks=[JSONLinesLogger(path), Peek()])
    assert seen == [1, 2, 3]


def test_metrics_logger_appends_and_is_reusable(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It starts a new file per fit by default and keeps lines with append=True."""
    path = tmp_path / "metrics.jsonl"
    logger = JSONLinesLogger(path)
    _fit(tiny_dataset, [logger])
    _fit(tiny_dataset, [logger])
    assert len(path.read_text().splitlines()) == 2
    _fit(tiny_dataset, [JSONLinesLogger(path, append=True)], epochs=1)
    assert [json.loads(line)["epoch"] for line in path.read_text().splitlines()] == [1, 2, 1]


@pytest.mark.parametrize(
    ("kwargs", "expected", "hint"),
    [
        ({}, StorageError, ""),
        ({"error_type": RunDirError, "error_hint": "Resume it."}, RunDirError, "Resume it."),
    ],
)
def test_metrics_logger_raises_the_error_type_it_was_given(
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
    kwargs: dict[str, Any],
    expected: type[StorageError],
    hint: str,
) -> None:
    """A write that fails raises the class given at construction, its hint in the message."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    with pytest.raises(expected) as info:
        _fit(tiny_dataset, [JSONLinesLogger(blocker / "metrics.jsonl", **kwargs)])
    assert str(info.value).endswith(hint)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"path": ""}, "path must be a path"),
        ({"path": 3}, "path must be a path"),
        ({"append": "yes"}, "append must be True or False; got 'yes'"),
        ({"error_type": OSError}, r"error_type must be StorageError or a subclass of it"),
        ({"error_type": RunDirError()}, r"error_type must be StorageError or a subclass of it"),
        ({"error_hint": None}, r"error_hint must be a str; got None \(NoneType\)"),
    ],
)
def test_metrics_logger_refuses_bad_arguments_when_created(
    tmp_path: Path, kwargs: dict[str, Any], match: str
) -> None:
    """It raises ArgumentError at construction, not at the first epoch's write."""
    arguments = {"path": tmp_path / "metrics.jsonl", **kwargs}
    with pytest.raises(ArgumentError, match=match):
        JSONLinesLogger(**arguments)


def test_checkpoint_refuses_a_folder_that_is_not_a_path() -> None:
    """It raises ArgumentError for a directory that is not a path, and for latest()'s too."""
    with pytest.raises(ArgumentError, match="directory must be a path"):
        EpochCheckpoint(None)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="directory must be a path"):
        EpochCheckpoint.latest("")


# --- TimeBudget ----------------------------------------------------------------------------


def test_time_budget_stops_at_a_batch_and_says_so(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It stops training once the budget is spent and reports it in the result."""
    config = _config(epochs=50, batch_size=4, time_budget_seconds=1e-6, steps_per_execution=1)
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert len(result.history) == 1
    assert result.history[0].partial
    assert result.epochs_completed == 0
    assert result.stop_reason == (
        "time budget of 1e-06 s spent during epoch 1; training stopped at the end of a batch"
    )
    assert "stopped early" in result.summary()


def test_time_budget_spent_on_an_epochs_last_batch_keeps_the_epoch_whole(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It counts the epoch as complete when the budget stops training on its last batch."""
    # 160 training images in batches of 4 are 40 steps, all run in one compiled call.
    config = _config(epochs=50, batch_size=4, time_budget_seconds=1e-6, steps_per_execution=40)
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert len(result.history) == 1
    assert not result.history[0].partial
    assert result.epochs_completed == 1
    assert result.stop_reason is not None
    assert "time budget" in result.stop_reason


def test_a_user_time_budgets_reason_reaches_the_result(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It reports its own reason through the context into TrainResult.stop_reason."""
    budget = TimeBudget(1e-9)
    config = _config(epochs=20, batch_size=4, steps_per_execution=1)
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[budget])
    assert budget.stopped
    assert budget.stopped_epoch == 1
    assert budget.epoch_cut_short
    assert budget.reason is not None
    assert result.stop_reason == budget.reason
    assert result.history[-1].partial


def test_time_budget_callback_resets_between_fits(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It resets its state in on_train_begin, so one instance serves several fits."""
    budget = TimeBudget(1e-9)
    _fit(tiny_dataset, [budget], epochs=3)
    assert budget.stopped
    budget.seconds = 3600.0
    result = fashionkit.train(_config(epochs=2), dataset=tiny_dataset, callbacks=[budget])
    assert not budget.stopped
    assert budget.stopped_epoch is None
    assert budget.reason is None
    assert result.stop_reason is None


def test_time_budget_works_with_plain_fit(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It stops model.fit without a context and keeps its reason for the caller."""
    budget = TimeBudget(1e-9)
    _fit(tiny_dataset, [budget], epochs=5)
    assert budget.stopped
    assert budget.stopped_epoch == 1
    assert budget.reason is not None
    assert "epoch 1" in budget.reason


@pytest.mark.parametrize("bad", [0, -1, float("nan"), True, "10"])
def test_time_budget_rejects_non_positive_seconds(bad: Any) -> None:
    """It raises ArgumentError (a ConfigError) for a budget that is not a positive number."""
    with pytest.raises(ArgumentError, match=r"^seconds must be a number > 0; got ") as info:
        TimeBudget(bad)
    assert isinstance(info.value, ConfigError)
    assert repr(bad) in str(info.value)


# --- ValidationReport ----------------------------------------------------------------------


def test_validation_report_reads_the_runs_evaluator_inside_train(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It keeps each epoch's matrix of the validation split train supplies, and its recalls."""
    report = ValidationReport()
    path = tmp_path / "m.jsonl"
    result = fashionkit.train(
        _config(), dataset=tiny_dataset, callbacks=[report, JSONLinesLogger(path)]
    )
    assert sorted(report.confusion_matrices) == [1, 2, 3]
    last = report.confusion_matrices[3]
    assert last.shape == (10, 10)
    assert last.dtype == np.int64
    assert last.sum() == result.validation.n_samples
    assert last.tolist() == [list(row) for row in result.validation.confusion_matrix]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[-1]["val_per_class_accuracy"] == list(result.validation.per_class_recall)


def test_validation_report_with_its_own_data_inside_train(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It evaluates its own data (the test split) every second epoch, leaving the logs alone."""
    split = tiny_dataset.test
    report = ValidationReport(split.images, split.labels, every=2)
    result = fashionkit.train(_config(epochs=4), dataset=tiny_dataset, callbacks=[report])
    assert sorted(report.confusion_matrices) == [2, 4]
    assert report.confusion_matrices[4].tolist() == [list(r) for r in result.test.confusion_matrix]
    # The logged per-class accuracy stays that of the run's validation split.
    assert result.history[-1].val_per_class_accuracy == result.validation.per_class_recall


@pytest.mark.parametrize("form", ["uint8", "scaled-flat", "one-hot"])
def test_validation_report_works_standalone_with_model_fit(
    tiny_dataset: fashionkit.FashionMNIST, form: str
) -> None:
    """It evaluates anything Evaluator accepts under plain model.fit and logs per-class recall."""
    split = tiny_dataset.test
    x: Any = split.images
    y: Any = split.labels
    if form == "scaled-flat":
        x = fashionkit.prepare_images(split.images)
    elif form == "one-hot":
        y = fashionkit.encode_labels(split.labels, encoding="one_hot")
    report = ValidationReport(x, y, batch_size=16)
    seen: list[list[float]] = []

    class Peek(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            assert logs is not None
            seen.append(logs["val_per_class_accuracy"])

    model = _fit(tiny_dataset, [report, Peek()])
    assert sorted(report.confusion_matrices) == [1, 2]
    final = fashionkit.evaluate(model, split.images, split.labels)
    assert report.confusion_matrices[2].tolist() == [list(r) for r in final.confusion_matrix]
    assert seen[-1] == list(final.per_class_recall)


def test_validation_report_without_data_outside_train_fails_clearly(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It explains that it needs data when used with model.fit directly."""
    with pytest.raises(InputValidationError, match="no validation data"):
        _fit(tiny_dataset, [ValidationReport()], epochs=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.zeros((2, 28, 28), np.uint8)}, "both x and y"),
        ({"y": [0, 1]}, "both x and y"),
        ({"every": 0}, "every must be an integer >= 1"),
        ({"every": True}, "every must be an integer >= 1"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1; got 0"),
        ({"x": "images", "y": [0]}, "x must be validation images"),
        ({"x": np.zeros((2, 28, 28), np.uint8), "y": [0, 1, 2]}, "same length"),
    ],
)
def test_validation_report_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    """It validates its arguments when it is created, not in the middle of training."""
    with pytest.raises(InputValidationError, match=message):
        ValidationReport(**kwargs)


# --- TrainingContext -----------------------------------------------------------------------


class _Remember(keras.callbacks.Callback):  # type: ignore[misc]
    """A user callback that takes the context and notes what it sees at each epoch end."""

    def __init__(self) -> None:
        super().__init__()
        self.context: TrainingContext | None = None
        self.latest_losses: list[float] = []
        self.logged_losses: list[float] = []

    def set_context(self, context: TrainingContext) -> None:
        self.context = context

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        assert self.context is not None
        assert self.context.validation.latest is not None
        self.latest_losses.append(self.context.validation.latest.loss)
        self.logged_losses.append((logs or {})["val_loss"])


def test_a_user_callback_with_set_context_receives_the_run(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It hands the config, the validation evaluator and the epoch to start from before fit."""
    remember = _Remember()
    config = _config(epochs=2)
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[remember])
    context = remember.context
    assert isinstance(context, TrainingContext)
    assert context.config is config
    assert isinstance(context.validation, Evaluator)
    assert len(context.validation) == result.validation.n_samples == 40
    assert context.initial_epoch == 0
    assert context.run_dir is None
    assert context.stop_reason is None
    # The context's latest report is the one behind the epoch's val_* logs.
    assert remember.latest_losses == remember.logged_losses
    assert remember.latest_losses[-1] == result.validation.loss


def test_a_callback_that_records_its_stop_names_the_reason(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It puts a callback's own reason, and a cut-short epoch, into the result."""

    class StopMidEpoch(keras.callbacks.Callback):  # type: ignore[misc]
        def set_context(self, context: TrainingContext) -> None:
            self.context = context

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if batch == 2:
                self.model.stop_training = True
                self.context.record_stop("enough batches", epoch=1, cut_short=True)

    config = _config(epochs=5, steps_per_execution=1)
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[StopMidEpoch()])
    assert result.stop_reason == "enough batches"
    assert [r.partial for r in result.history] == [True]
    assert result.epochs_completed == 0


def test_the_first_recorded_stop_reason_wins() -> None:
    """It keeps the first reason and its epoch when two callbacks report a stop."""
    context = TrainingContext(config=TrainConfig(), validation=_evaluator())
    context.record_stop("budget", epoch=3, cut_short=True)
    context.record_stop("early stopping", epoch=3)
    assert (context.stop_reason, context.partial_epoch) == ("budget", 3)
    whole = TrainingContext(config=TrainConfig(), validation=_evaluator())
    whole.record_stop("enough", epoch=2)
    assert (whole.stop_reason, whole.partial_epoch) == ("enough", None)


def _evaluator() -> Evaluator:
    """A validation evaluator of four blank images, for contexts built by hand."""
    return Evaluator(np.zeros((4, 28, 28), np.uint8), [0, 1, 2, 3])


def test_the_context_checks_its_fields_when_built_and_when_set() -> None:
    """It raises ArgumentError naming the field, at construction and at assignment."""
    with pytest.raises(ArgumentError, match=r"TrainingContext.validation must be an Evaluator"):
        TrainingContext(config=TrainConfig(), validation=None)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"TrainingContext.config must be a TrainConfig"):
        TrainingContext(config={"epochs": 1}, validation=_evaluator())  # type: ignore[arg-type]
    context = TrainingContext(config=TrainConfig(), validation=_evaluator())
    with pytest.raises(ArgumentError, match=r"TrainingContext.initial_epoch must be an integer"):
        context.initial_epoch = -1
    with pytest.raises(ArgumentError, match=r"TrainingContext.stop_reason must be a str or None"):
        context.stop_reason = 3  # type: ignore[assignment]
    with pytest.raises(ArgumentError, match=r"epoch must be an integer >= 1; got 0"):
        context.record_stop("why", epoch=0)
    assert context.stop_reason is None


def test_the_context_of_a_run_directory_names_it(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It gives the run directory to callbacks when train keeps one."""
    remember = _Remember()
    fashionkit.train(
        _config(epochs=1), dataset=tiny_dataset, callbacks=[remember], run_dir=tmp_path / "run"
    )
    assert remember.context is not None
    assert remember.context.run_dir == tmp_path / "run"


# --- fashionkit's internal callbacks -------------------------------------------------------


def test_evaluate_each_epoch_writes_the_evaluators_metrics_into_the_logs(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It adds the val_* metrics of its evaluator's report to every epoch's logs."""
    evaluator = Evaluator(tiny_dataset.test.images, tiny_dataset.test.labels)
    history = keras.callbacks.History()
    _fit(tiny_dataset, [EvaluateEachEpoch(evaluator), history])
    assert evaluator.latest is not None
    assert history.history["val_loss"][-1] == evaluator.latest.loss
    assert history.history["val_accuracy"][-1] == evaluator.latest.accuracy
    assert len(history.history["val_per_class_accuracy"]) == 2


def test_record_epochs_keeps_the_last_fit_only(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It forgets the records of an earlier fit and times every epoch."""
    records = RecordEpochs()
    _fit(tiny_dataset, [records], epochs=3)
    assert [r.epoch for r in records.records] == [1, 2, 3]
    _fit(tiny_dataset, [records], epochs=1)
    assert [r.epoch for r in records.records] == [1]
    assert records.records[0].seconds is not None
    assert records.records[0].seconds > 0
    assert records.records[0].accuracy >= 0


def test_reseed_makes_dropout_depend_only_on_seed_and_epoch() -> None:
    """It sets every random generator to a state fixed by (seed, epoch), whatever came before."""
    model = fashionkit.create_model(MLPConfig(hidden_units=(8, 8), dropout=0.5))
    reseed = ReseedEachEpoch(seed=42)
    reseed.set_model(model)
    generators = [
        value
        for layer in model.layers
        for value in vars(layer).values()
        if isinstance(value, keras.random.SeedGenerator)
    ]
    assert len(generators) == 2  # one per dropout layer

    def states() -> list[list[int]]:
        return [np.asarray(g.state).tolist() for g in generators]

    reseed.on_epoch_begin(3)
    at_three = states()
    model(np.ones((4, 784), np.float32), training=True)  # dropout draws advance the generators
    assert states() != at_three
    reseed.on_epoch_begin(3)
    assert states() == at_three
    reseed.on_epoch_begin(4)
    assert states() != at_three
    assert at_three[0] != at_three[1]


# --- live curves -----------------------------------------------------------------------------


def test_live_curves_redraw_after_every_epoch(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """With somewhere to show them, the curves are redrawn once per epoch as a PNG."""
    pytest.importorskip("matplotlib")
    from fashionkit.callbacks import LiveCurves

    pictures: list[bytes] = []
    live = LiveCurves(show=pictures.append)
    result = fashionkit.train(_config(epochs=3), dataset=tiny_dataset, callbacks=[live])
    assert live.active
    assert len(pictures) == 3
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pictures)
    assert live.history["val_accuracy"] == [r.val_accuracy for r in result.history]
    assert len(live.history["loss"]) == 3


def test_live_curves_do_nothing_outside_a_notebook(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """In a test (no Jupyter kernel) train(live=True) trains as usual and draws nothing."""
    from fashionkit.callbacks import LiveCurves

    assert not LiveCurves().active
    assert not LiveCurves(show=None).active
    result = fashionkit.train(_config(epochs=1), dataset=tiny_dataset, live=True)
    assert len(result.history) == 1
    with pytest.raises(ConfigError, match="live"):
        fashionkit.train(_config(epochs=1), dataset=tiny_dataset, live="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [42, "inline", b"png"])
def test_live_curves_refuse_a_show_that_cannot_be_called(bad: Any) -> None:
    """It raises ArgumentError when created, not at the end of the first epoch."""
    from fashionkit.callbacks import LiveCurves

    with pytest.raises(ArgumentError, match=r"^show must be a callable or None; got "):
        LiveCurves(show=bad)


def test_live_curves_update_one_notebook_output_in_place(
    tiny_dataset: fashionkit.FashionMNIST, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a Jupyter kernel the first epoch displays the picture and later ones update it."""
    pytest.importorskip("matplotlib")
    import sys
    import types

    events: list[str] = []

    class Handle:
        def update(self, image: Any) -> None:
            events.append("update")

    def display(image: Any, display_id: bool = False) -> Handle:
        assert display_id
        events.append("display")
        return Handle()

    class Shell:
        def __init__(self) -> None:
            self.config = {"IPKernelApp": {}}

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: Shell()  # type: ignore[attr-defined]
    shown = types.ModuleType("IPython.display")
    shown.Image = lambda data, retina=False: data  # type: ignore[attr-defined]
    shown.display = display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", shown)
    fashionkit.train(_config(epochs=3), dataset=tiny_dataset, live=True)
    assert events == ["display", "update", "update"]
