"""The TensorBoard callback (read back from its event files), its checks, and its drawing."""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs
import keras
import numpy as np
import pytest
import tensorflow as tf

import fashionkit
from fashionkit import _drawing
from fashionkit.callbacks import TensorBoardLogger, TrainingContext
from fashionkit.callbacks._tensorboard import _learning_rate
from fashionkit.config import TrainConfig
from fashionkit.evaluation import Evaluator
from fashionkit.exceptions import (
    ArgumentError,
    ConfigError,
    InputValidationError,
    RunDirError,
    StorageError,
)
from tests.helpers import assert_session_results, read_hparams

STEPS_PER_EPOCH = 4  # 64 examples in batches of 16


def schedule() -> Any:
    """A rate that changes at every step, so a rate read at the wrong step is caught."""
    return keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.8)


def tiny_model(optimizer: Any = None) -> Any:
    """A softmax layer on 4 features, 3 classes."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(
        optimizer=optimizer if optimizer is not None else keras.optimizers.SGD(schedule()),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def tiny_data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, size=n)


class AddEntries(keras.callbacks.Callback):
    """Puts entries that are not one number, and a NaN, into each epoch's logs."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Add the entries."""
        assert logs is not None
        logs["val_per_class_accuracy"] = [0.1, 0.2, 0.3]
        logs["note"] = "text"
        logs["flag"] = True
        logs["diverged"] = float("nan")


def read_events(folder: Path) -> list[Any]:
    """Every summary value in the event files of ``folder``, as (step, value) pairs in order."""
    found = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            found.extend((event.step, value) for value in event.summary.value)
    return found


def scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """The scalar series of ``folder`` by tag, checking that they are filed as scalars."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for step, value in read_events(folder):
        if value.metadata.plugin_data.plugin_name == "images":
            continue  # the confusion matrix; see images()
        assert value.metadata.plugin_data.plugin_name == "scalars", value.tag
        series[value.tag].append((step, float(tf.make_ndarray(value.tensor))))
    return dict(series)


def images(folder: Path) -> list[tuple[int, Any]]:
    """The image summaries of ``folder`` as (step, value) pairs."""
    return [
        pair for pair in read_events(folder) if pair[1].metadata.plugin_data.plugin_name == "images"
    ]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[float]]]:
    """Three epochs of ``fit`` with validation data, logged; returns the folder and History."""
    log_dir = tmp_path_factory.mktemp("tensorboard") / "logs"
    x, y = tiny_data()
    history = tiny_model().fit(
        x,
        y,
        batch_size=16,
        epochs=3,
        validation_data=tiny_data(32, seed=1),
        callbacks=[AddEntries(), TensorBoardLogger(log_dir)],
        verbose=0,
    )
    return log_dir, history.history


def test_epoch_metrics_are_written_per_epoch_into_train_and_validation(
    fitted: tuple[Path, dict[str, list[float]]],
) -> None:
    """It writes each numeric log at its 1-based epoch, `val_` ones under validation, unprefixed."""
    log_dir, history = fitted
    assert sorted(p.name for p in log_dir.iterdir()) == ["train", "validation"]
    train, validation = scalars(log_dir / "train"), scalars(log_dir / "validation")
    metrics = ["epoch_accuracy", "epoch_diverged", "epoch_learning_rate", "epoch_loss"]
    assert sorted(train) == metrics
    assert sorted(validation) == ["epoch_accuracy", "epoch_loss"]
    for tags, prefix in ((train, ""), (validation, "val_")):
        for metric in ("loss", "accuracy"):
            logged = history[prefix + metric]
            expected = [(epoch, float(np.float32(v))) for epoch, v in enumerate(logged, 1)]
            assert tags[f"epoch_{metric}"] == expected
    # NaN is written (TensorBoard marks it); a list, text and a boolean are not.
    assert [step for step, _ in train["epoch_diverged"]] == [1, 2, 3]
    assert all(math.isnan(v) for _, v in train["epoch_diverged"])


def test_the_learning_rate_is_the_schedules_at_the_end_of_each_epoch(
    fitted: tuple[Path, dict[str, list[float]]],
) -> None:
    """It writes the schedule's rate at the optimizer's step count after each epoch."""
    log_dir, _ = fitted
    rates = scalars(log_dir / "train")["epoch_learning_rate"]
    expected = [(e, float(np.float32(schedule()(e * STEPS_PER_EPOCH)))) for e in (1, 2, 3)]
    assert rates == expected
    assert len({rate for _, rate in rates}) == 3


def test_a_resumed_fit_appends_its_epochs_to_the_same_series(tmp_path: Path) -> None:
    """It numbers the epochs of a fit from initial_epoch on, in a new file beside the first."""
    log_dir = tmp_path / "logs"
    model, (x, y) = tiny_model(), tiny_data()
    model.fit(x, y, batch_size=16, epochs=2, callbacks=[TensorBoardLogger(log_dir)], verbose=0)
    history = model.fit(
        x, y, batch_size=16, epochs=3, initial_epoch=2, callbacks=[TensorBoardLogger(log_dir)],
        verbose=0,
    )  # fmt: skip
    assert len(list((log_dir / "train").glob("events.out.tfevents.*"))) == 2
    loss = scalars(log_dir / "train")["epoch_loss"]
    assert [step for step, _ in loss] == [1, 2, 3]
    assert loss[-1][1] == float(np.float32(history.history["loss"][0]))
    assert not (log_dir / "validation").exists()  # no validation data, no validation run


def test_a_learning_rate_in_the_logs_is_written_once_instead_of_the_optimizers(
    tmp_path: Path,
) -> None:
    """It keeps the logged rate (say, from ReduceLROnPlateau) and does not read the optimizer."""
    logger = TensorBoardLogger(tmp_path)
    logger.set_model(tiny_model())
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.5, "learning_rate": 0.125})
    logger.on_train_end()
    assert scalars(tmp_path / "train") == {
        "epoch_loss": [(1, 1.5)],
        "epoch_learning_rate": [(1, 0.125)],
    }


def test_the_learning_rate_is_read_through_a_loss_scale_optimizer() -> None:
    """It reads the inner optimizer's schedule under mixed precision's LossScaleOptimizer."""
    inner = keras.optimizers.SGD(schedule())
    model = tiny_model(keras.optimizers.LossScaleOptimizer(inner))
    inner.iterations.assign(5)
    assert _learning_rate(model) == pytest.approx(float(schedule()(5)))
    assert _learning_rate(tiny_model(keras.optimizers.SGD(0.25))) == 0.25
    assert _learning_rate(keras.Sequential([keras.Input((4,))])) is None  # not compiled


def test_an_epoch_cut_short_by_a_signal_is_not_written(tmp_path: Path) -> None:
    """It skips the epoch a signal cut short under train(), as the metrics log does."""
    validation = Evaluator(np.zeros((4, 28, 28), np.uint8), [0, 1, 2, 3])
    context = TrainingContext(config=TrainConfig(), validation=validation)
    logger = TensorBoardLogger(tmp_path)
    logger.set_context(context)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 2.0})
    context.interrupted_by, context.partial_epoch = 2, 2
    logger.on_epoch_end(1, {"loss": 1.0})
    logger.on_train_end()
    assert scalars(tmp_path / "train") == {"epoch_loss": [(1, 2.0)]}


def test_closing_is_idempotent_and_writing_afterwards_reopens(tmp_path: Path) -> None:
    """It closes as often as asked; a later write opens a new file and closes it again."""
    logger = TensorBoardLogger(tmp_path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 2.0})
    logger.on_train_end()
    logger.on_train_end()
    logger.close()
    logger.write_confusion_matrix([[1, 0], [0, 1]], ["a", "b"], step=1)
    assert logger._writers == {}
    assert len(list((tmp_path / "validation").glob("events.out.tfevents.*"))) == 1


MATRIX = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 0]])
NAMES = ["cat", "dog", "bird"]


def decoded_image(log_dir: Path, *, tag: str = "confusion_matrix") -> tuple[int, Any, np.ndarray]:
    """The one image of the validation folder: its step, summary value and pixels."""
    [(step, value)] = images(log_dir / "validation")
    assert value.tag == tag
    width, height, png = tf.make_ndarray(value.tensor).tolist()
    pixels = tf.io.decode_png(png).numpy()
    assert pixels.shape[:2] == (int(height), int(width))
    return step, value, pixels


def test_the_confusion_matrix_is_written_as_the_plots_picture(tmp_path: Path) -> None:
    """It writes the 900 x 800 matplotlib picture under validation at the given step."""
    TensorBoardLogger(tmp_path).write_confusion_matrix(MATRIX, NAMES, step=3)
    step, value, pixels = decoded_image(tmp_path)
    assert step == 3
    assert pixels.shape == (800, 900, 4)
    assert len(np.unique(pixels.reshape(-1, 4), axis=0)) > 50  # drawn, not blank
    description = value.metadata.summary_description
    assert description.startswith("validation confusion matrix (accuracy 0.7273).")
    assert "in order: cat, dog, bird" in description


def test_the_image_holds_the_pixels_of_the_one_confusion_matrix_drawing(tmp_path: Path) -> None:
    """It writes the pixels of _drawing.confusion_matrix_figure, which the plots module draws."""
    TensorBoardLogger(tmp_path).write_confusion_matrix(MATRIX, NAMES, step=1, title="t")
    _, _, pixels = decoded_image(tmp_path)
    figure = _drawing.confusion_matrix_figure(MATRIX, NAMES, title="t")
    expected = tf.io.decode_png(_drawing.figure_png(figure)).numpy()
    np.testing.assert_array_equal(pixels, expected)


def test_the_confusion_matrix_is_drawn_by_scikit_learn_s_display(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It draws with ConfusionMatrixDisplay: the display's image and texts are the figure's."""
    from sklearn.metrics import ConfusionMatrixDisplay

    displays: list[Any] = []
    plot = ConfusionMatrixDisplay.plot

    def recorded(self: Any, **kwargs: Any) -> Any:
        displays.append(self)
        return plot(self, **kwargs)  # the real drawing, only noted

    monkeypatch.setattr(ConfusionMatrixDisplay, "plot", recorded)
    fig = _drawing.confusion_matrix_figure(MATRIX, NAMES, title="validation (accuracy 0.7)")
    [display] = displays
    ax = fig.axes[0]
    assert (display.figure_, display.ax_) == (fig, ax)
    assert ax.get_images() == [display.im_]
    np.testing.assert_array_equal(display.im_.get_array(), MATRIX)
    assert display.im_.get_cmap().name == "Blues"
    assert [t.get_text() for t in display.text_.ravel()] == [str(c) for c in MATRIX.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    assert [t.get_text() for t in ax.get_yticklabels()] == NAMES
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert ax.get_title() == "validation (accuracy 0.7)"
    assert len(fig.axes) == 2  # the matrix and its colour bar


@pytest.mark.parametrize(
    ("matrix", "names", "split", "match"),
    [
        ([[1, 2, 3]], ["a"], "validation", "must be 1 x 1"),
        ([[1, 0], [0, 1]], ["a", "b", "c"], "validation", "must be 3 x 3"),
        ([[1, -1], [0, 1]], ["a", "b"], "validation", "non-negative whole numbers"),
        ([[1.5, 0], [0, 1]], ["a", "b"], "validation", "non-negative whole numbers"),
        ([[1]], [], "validation", "class_names must be a non-empty list or tuple of strings"),
        ([[1]], ["a"], "../elsewhere", "split must be the name of one sub-folder"),
        ([[1]], ["a"], "", "split must be the name of one sub-folder"),
        ([[1]], ["a"], " validation", "split must be the name of one sub-folder"),
    ],
)
def test_a_wrong_confusion_matrix_or_split_is_refused(
    tmp_path: Path, matrix: Any, names: list[str], split: str, match: str
) -> None:
    """It raises InputValidationError before writing anything."""
    with pytest.raises(InputValidationError, match=match):
        TensorBoardLogger(tmp_path / "logs").write_confusion_matrix(matrix, names, 1, split=split)
    assert not (tmp_path / "logs").exists()


def test_an_unusable_log_folder_is_a_storage_error_when_training_begins(tmp_path: Path) -> None:
    """It fails before the first epoch when the log folder is a file."""
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(StorageError, match="taken"):
        TensorBoardLogger(tmp_path / "taken").on_train_begin()


def test_figure_png_renders_the_confusion_matrix_at_its_size() -> None:
    """It renders the figure on an Agg canvas to PNG bytes of 900 x 800 pixels."""
    pytest.importorskip("matplotlib")
    fig = _drawing.confusion_matrix_figure(MATRIX, NAMES, title="t")
    png = _drawing.figure_png(fig)
    assert png.startswith(_drawing.PNG_SIGNATURE)
    assert _drawing.png_size(png) == (900, 800)
    assert [t.get_text() for t in fig.axes[0].texts] == [str(c) for c in MATRIX.ravel()]
    with pytest.raises(InputValidationError, match="not a PNG"):
        _drawing.png_size(b"GIF89a" + bytes(30))


def test_a_tensorflow_write_error_is_raised_as_the_storage_error_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It turns TensorFlow's errors into error_type, with error_hint, as the metrics log does."""

    def refuse(logdir: str) -> Any:
        raise tf.errors.PermissionDeniedError(None, None, "no writing here")

    monkeypatch.setattr(tf.summary, "create_file_writer", refuse)
    logger = TensorBoardLogger(tmp_path)
    logger.error_type, logger.error_hint = RunDirError, "Resume later."
    logger.on_train_begin()
    with pytest.raises(RunDirError, match=r"train: no writing here Resume later\.$"):
        logger.on_epoch_end(0, {"loss": 1.0})


def test_train_writes_the_logs_into_the_run_directory(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It writes per-epoch train and validation scalars and an image into the run's tensorboard/."""
    run = tmp_path / "run"
    config = fashionkit.TrainConfig(epochs=2, verbose=0, tensorboard=True)
    result = fashionkit.train(config, dataset=tiny_dataset, run_dir=run)
    train_points = scalars(run / "tensorboard" / "train")
    validation_points = scalars(run / "tensorboard" / "validation")
    assert [step for step, _ in train_points["epoch_loss"]] == [1, 2]
    assert [value for _, value in validation_points["epoch_accuracy"]] == pytest.approx(
        [r.val_accuracy for r in result.history]
    )
    assert len(train_points["epoch_learning_rate"]) == 2
    step, _, picture = decoded_image(run / "tensorboard")
    assert step == 2
    assert picture.ndim == 3


def test_tensorboard_without_a_run_directory_is_refused(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It raises ConfigError naming run_dir when tensorboard is on without a run directory."""
    with pytest.raises(fashionkit.ConfigError, match="run_dir"):
        fashionkit.train(fashionkit.TrainConfig(tensorboard=True), dataset=tiny_dataset)


@pytest.mark.parametrize("module", ["tensorboard", "matplotlib"])
def test_without_the_extra_the_logger_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    """It raises ConfigError with the extra's pip command when a package of it is missing."""
    monkeypatch.setitem(sys.modules, module, None)  # how Python marks a module unimportable
    with pytest.raises(
        ConfigError, match=rf"needs the {module} package: pip install 'fashionkit\[tensorboard\]'"
    ):
        TensorBoardLogger(tmp_path / "logs")


def test_train_refuses_tensorboard_without_the_extra_before_touching_anything(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It raises ConfigError naming the tensorboard extra before the run directory exists."""
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    run = tmp_path / "run"
    config = fashionkit.TrainConfig(epochs=1, verbose=0, tensorboard=True)
    message = (
        r"^TrainConfig.tensorboard=True writes TensorBoard logs, which needs the tensorboard "
        r"package: pip install 'fashionkit\[tensorboard\]'\.$"
    )
    with pytest.raises(ConfigError, match=message):
        fashionkit.train(config, dataset=tiny_dataset, run_dir=run)
    assert not run.exists()


def test_a_logger_of_your_own_writes_the_final_matrix_and_ends_its_session(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It writes the matrix at the final model's epoch and ends the session in on_result."""
    config = fashionkit.TrainConfig(epochs=2, verbose=0)
    logger = TensorBoardLogger(tmp_path / "logs" / "mine", hparams={"epochs": 2})
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[logger])
    step, _, _ = decoded_image(tmp_path / "logs" / "mine")
    assert step == 2
    _, groups = read_hparams(tmp_path / "logs")
    [group] = groups.session_groups
    [session] = group.sessions
    values = assert_session_results(session, result, epochs=2)
    assert values["epochs_trained"].training_step == 2
    # With the best epoch's weights restored, the matrix is at that epoch.
    restored = attrs.evolve(result, restored_best=True, best_epoch=1)
    logger.on_result(restored)
    steps = sorted(step for step, _ in images(tmp_path / "logs" / "mine" / "validation"))
    assert steps == [1, 2]


def test_on_result_refuses_what_is_not_a_train_result(tmp_path: Path) -> None:
    """It raises ArgumentError naming TrainResult for anything else."""
    with pytest.raises(ArgumentError, match="on_result takes a TrainResult"):
        TensorBoardLogger(tmp_path).on_result({"history": []})  # type: ignore[arg-type]


def test_hparams_that_are_not_a_mapping_are_refused(tmp_path: Path) -> None:
    """It raises ArgumentError saying hparams must map names to booleans, numbers or strings."""
    message = (
        r"hparams must be a mapping of names to booleans, numbers or strings, .*; got "
        r"\[\('a', 1\)\] \(list\)\. Pass dict\(\.\.\.\) of pairs\."
    )
    with pytest.raises(ArgumentError, match=message):
        TensorBoardLogger(tmp_path, hparams=[("a", 1)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"log_dir": 3}, "log_dir must be a path"),
        ({"log_dir": ""}, "log_dir must be a path"),
        ({"error_type": ValueError}, "error_type must be StorageError or a subclass"),
        ({"error_type": "RunDirError"}, "error_type must be StorageError or a subclass"),
        ({"error_hint": None}, "error_hint must be a str"),
        ({"hparams": "rate=0.1"}, "hparams must be a mapping"),
    ],
)
def test_bad_logger_arguments_are_refused(
    tmp_path: Path, kwargs: dict[str, Any], match: str
) -> None:
    """It raises ArgumentError naming the argument, what is allowed and what it got."""
    arguments = {"log_dir": tmp_path, **kwargs}
    with pytest.raises(ArgumentError, match=match):
        TensorBoardLogger(**arguments)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda lg: lg.end_session({"a": 1.0}, step=1.5),
            r"step must be an integer >= 0; got 1\.5",
        ),
        (lambda lg: lg.end_session({"a": 1.0}, step=-1), "step must be an integer >= 0"),
        (lambda lg: lg.end_session({"a": 1.0}, step=True), "step must be an integer >= 0"),
        (lambda lg: lg.end_session([("a", 1.0)], step=1), "metrics must be a mapping"),
        (lambda lg: lg.end_session({"a": 1.0}, step=1, end_time=-5), "end_time must be"),
        (lambda lg: lg.end_session({"a": 1.0}, step=1, end_time=math.nan), "end_time must be"),
        (lambda lg: lg.end_session({"a": 1.0}, step=1, status="pruned"), "status must be one of"),
        (lambda lg: lg.start_session(start_time="now"), "start_time must be a number"),
        (lambda lg: lg.write_confusion_matrix(MATRIX, NAMES, step=0.5), "step must be"),
        (lambda lg: lg.write_confusion_matrix(MATRIX, NAMES, 1, tag=""), "tag must be a non-empty"),
        (lambda lg: lg.write_confusion_matrix(MATRIX, NAMES, 1, title=3), "title must be a str"),
        (
            lambda lg: lg.write_confusion_matrix(MATRIX, NAMES, 1, split=3),
            "split must be the name of one sub-folder",
        ),
        (lambda lg: lg.write_confusion_matrix(MATRIX, "cat", 1), "class_names must be"),
        (lambda lg: lg.write_confusion_matrix(None, NAMES, 1), r"matrix must be \(n, n\) counts"),
    ],
)
def test_bad_method_arguments_are_refused_before_writing(
    tmp_path: Path, call: Any, match: str
) -> None:
    """It raises ArgumentError (or InputValidationError for arrays) and writes nothing."""
    logger = TensorBoardLogger(tmp_path / "logs", hparams={"rate": 0.1})
    with pytest.raises(InputValidationError, match=match) as caught:
        call(logger)
    assert isinstance(caught.value, ArgumentError)
    assert not (tmp_path / "logs").exists()
