"""A callback that writes TensorBoard logs: epoch metrics, learning rate, pictures, HParams.

The logger is here; what its arguments accept is in ``_checks``, and the writing of
records (scalars, errors as :class:`~fashionkit.exceptions.StorageError`, whole HParams
records for sweeps) in ``_tensorboard_writers``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from fashionkit import _drawing
from fashionkit._extras import require
from fashionkit._typing import PathLike
from fashionkit._validation import ArrayLike as ArrayLikeRule
from fashionkit._validation import params, shown
from fashionkit.callbacks import _hparams
from fashionkit.callbacks._checks import (
    CLASS_NAMES,
    FolderName,
    NonEmptyText,
    StorageErrorClass,
    check_metrics,
    check_split,
    counts,
    number,
)
from fashionkit.callbacks._context import TrainingContext
from fashionkit.callbacks._hparams import HParamValue, SessionStatus
from fashionkit.callbacks._tensorboard_writers import (
    EXTRA,
    HPARAMS,
    METRICS,
    STEP,
    TIME,
    guarded,
    write_scalars,
)
from fashionkit.exceptions import ArgumentError, InputValidationError, StorageError
from fashionkit.results import TrainResult

#: The sub-folder of the training metrics and the learning rate.
TRAIN = "train"
#: The sub-folder of the validation metrics (logged as ``val_*``) and the confusion matrix.
VALIDATION = "validation"
#: What scalar tags start with, as in Keras's own TensorBoard callback.
TAG_PREFIX = "epoch_"

_VAL = "val_"
_LEARNING_RATE = "learning_rate"
# The log folder itself (not a sub-folder): where the HParams session and final metrics go.
_ROOT = ""
# What TensorBoardLogger needs (the tensorboard extra): TensorBoard's summary and HParams API,
# and matplotlib, which scikit-learn's ConfusionMatrixDisplay draws with.
_LOGGER_NEEDS = ("tensorboard", "matplotlib")


def _learning_rate(model: Any) -> float | None:
    """The optimizer's current learning rate, or ``None`` when there is none to read.

    A schedule is evaluated at the optimizer's step count, as Keras's own TensorBoard callback
    does: at the end of an epoch that is the rate of the next epoch's first step. Under
    ``mixed_float16`` Keras wraps the optimizer in a ``LossScaleOptimizer``; its
    ``inner_optimizer`` holds the rate.
    """
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    if optimizer is None:
        return None
    try:
        rate = keras.ops.convert_to_numpy(optimizer.learning_rate)
    except (AttributeError, TypeError, ValueError):
        return None
    return number(rate)


def _split_logs(logs: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """The numeric entries of ``logs``: training ones, and validation ones without ``val_``."""
    train: dict[str, float] = {}
    validation: dict[str, float] = {}
    for name, value in logs.items():
        converted = number(value)
        if converted is None:
            continue
        if name.startswith(_VAL):
            validation[name.removeprefix(_VAL)] = converted
        else:
            train[name] = converted
    return train, validation


class TensorBoardLogger(keras.callbacks.Callback):  # type: ignore[misc]
    """Write TensorBoard logs: every epoch's metrics and learning rate, and pictures on request.

    At the end of each epoch, every entry of the epoch's logs that is one number becomes a
    scalar at step ``epoch`` (1-based, as fashionkit counts epochs everywhere), tagged
    ``epoch_NAME`` as Keras's own TensorBoard callback tags them: training metrics in the
    ``train`` sub-folder of ``log_dir``, ``val_*`` metrics in ``validation`` with the ``val_``
    removed, so that TensorBoard draws ``epoch_loss`` of both in one chart. The optimizer's
    learning rate goes to ``train`` as ``epoch_learning_rate`` (a schedule is evaluated at the
    optimizer's step count then: the rate of the next step), unless the logs already hold a
    ``learning_rate``, which is written instead. NaN and infinite values are written as they
    are (TensorBoard marks them with a triangle); entries that are not one number, such as
    ``val_per_class_accuracy`` (a list) or text, are left out.

    The records are written with TensorBoard's own API (``tf.summary.scalar``,
    ``tf.summary.image`` and the HParams plugin's), so the logger needs the ``tensorboard``
    extra (``pip install 'fashionkit[tensorboard]'``: TensorBoard, and matplotlib for the
    confusion matrix picture); creating one without it raises
    :class:`~fashionkit.exceptions.ConfigError`.

    :meth:`write_confusion_matrix` adds a confusion matrix as an image; it works before,
    during and after training. The writers are flushed after every epoch and closed when
    training ends (:meth:`close` closes them at any time, as often as called; the next write
    opens them again).

    Under :func:`fashionkit.train`, the run ends with ``on_result``: ``train`` calls it
    with the :class:`~fashionkit.TrainResult` once the final model is evaluated, and it writes
    the final validation confusion matrix and, with ``hparams``, ends the HParams session with
    the final scores. An epoch that a signal cut short is not written (resuming repeats it, as
    in the metrics log). Every ``fit`` and every reopening adds a new event file beside the
    earlier ones, so a resumed run continues the same curves; an epoch written twice (the
    process died after writing it and before its checkpoint) is shown with its latest value:
    TensorBoard's default loader drops a series' points from a step on when that step comes
    again.

    With ``hparams``, the log folder is also a session of TensorBoard's HParams dashboard:
    training's start writes the hyperparameters into ``log_dir`` itself, and
    :meth:`end_session` (which ``on_result`` calls) the final metrics (scalars in
    ``log_dir``) and how the session ended. Point ``tensorboard --logdir`` at a folder holding
    several such log folders and the HParams table and parallel coordinates compare them, one
    row per set of values, with the final metrics and the per-epoch ``train`` and
    ``validation`` scalars as columns.

    Args:
        log_dir: The folder for this run's logs; created when training begins. Give each run
            its own folder (TensorBoard shows the sub-folders of its ``--logdir`` as runs).
        error_type: The :class:`~fashionkit.exceptions.StorageError` class a failed write
            raises (a run directory's logs raise ``RunDirError``). Defaults to
            ``StorageError``.
        error_hint: A sentence appended to that error's message (what the user can do).
            Defaults to none.
        hparams: The session's hyperparameters: a mapping of names to booleans, numbers or
            strings (see :func:`~fashionkit.callbacks.config_hparams` for a config's).
            Defaults to none (no HParams records).

    Raises:
        ConfigError: The ``tensorboard`` extra is not installed.
        ArgumentError: An argument has the wrong type, or ``hparams`` is not a mapping of
            names to booleans, numbers or strings.
        StorageError: The logs cannot be written (the folder cannot be created, the disk is
            full, ...); raised by the hook or method that writes.

    Example:
        >>> from fashionkit.callbacks import TensorBoardLogger
        >>> logger = TensorBoardLogger("runs/a/tensorboard")
        >>> result = fashionkit.train(callbacks=[logger])  # doctest: +SKIP
        >>> logger.write_confusion_matrix(  # doctest: +SKIP
        ...     result.test.confusion_matrix, result.test.class_names, step=5, split="test"
        ... )
    """

    @params(hparams=HPARAMS, error_type=StorageErrorClass())
    def __init__(
        self,
        log_dir: PathLike,
        *,
        error_type: type[StorageError] = StorageError,
        error_hint: str = "",
        hparams: Mapping[str, HParamValue] | None = None,
    ) -> None:
        super().__init__()
        require(*_LOGGER_NEEDS, extra=EXTRA, purpose="TensorBoardLogger writes TensorBoard logs")
        self.log_dir = Path(log_dir)
        self.error_type = error_type
        self.error_hint = error_hint
        self.hparams = _hparams.check_hparams(hparams) if hparams is not None else None
        self._writers: dict[str, Any] = {}
        self._training = False
        self._context: TrainingContext | None = None

    @params()
    def set_context(self, context: TrainingContext) -> None:
        """Remember the run, to skip an epoch that a signal cut short."""
        self._context = context

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Create the log folder (so that an unwritable one fails before the first epoch)."""
        self._training = True
        with self._guard(self.log_dir):
            self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.hparams is not None:
            self.start_session()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Write the numeric logs and the learning rate of the 1-based epoch ``epoch + 1``."""
        step = epoch + 1
        if self._context is not None and self._context.discards(step):
            return  # cut short by a signal: resuming repeats the epoch
        entries = logs or {}
        train, validation = _split_logs(entries)
        if _LEARNING_RATE not in entries:
            rate = _learning_rate(self.model)
            if rate is not None:
                train[_LEARNING_RATE] = rate
        for split, values in ((TRAIN, train), (VALIDATION, validation)):
            if values:
                self._write(split, partial(write_scalars, values, step, TAG_PREFIX))

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Flush and close the writers."""
        self._training = False
        self.close()

    def on_result(self, result: TrainResult) -> None:
        """Write the final model's confusion matrix and, with ``hparams``, end the session.

        :func:`fashionkit.train` calls it once the final model is evaluated, before the run
        directory's results are written. The validation confusion matrix goes to
        ``validation`` at the step of the weights the final model holds (the best epoch when
        :attr:`~fashionkit.TrainResult.restored_best`, else the last one); with ``hparams``,
        :meth:`end_session` writes ``final_validation_accuracy``, ``final_validation_loss``,
        ``final_test_accuracy``, ``final_test_loss`` and ``epochs_trained`` (the completed
        epochs) at that step, with status ``"success"``. A result without epochs writes
        nothing.

        Args:
            result: The run's result.

        Raises:
            ArgumentError: ``result`` is not a :class:`~fashionkit.TrainResult`.
            StorageError: The records cannot be written.
        """
        if not isinstance(result, TrainResult):
            raise ArgumentError(f"on_result takes a TrainResult; got {shown(result)}.")
        if not result.history:
            return
        if result.restored_best and result.best_epoch is not None:
            step = result.best_epoch
        else:
            step = result.history[-1].epoch
        validation, test = result.validation, result.test
        self.write_confusion_matrix(validation.confusion_matrix, validation.class_names, step=step)
        if self.hparams is not None:
            # The HParams table's columns: the final model's scores (what the run reports).
            self.end_session(
                {
                    "final_validation_accuracy": validation.accuracy,
                    "final_validation_loss": validation.loss,
                    "final_test_accuracy": test.accuracy,
                    "final_test_loss": test.loss,
                    "epochs_trained": float(result.epochs_completed),
                },
                step=step,
                status="success",
            )

    @params(
        matrix=ArrayLikeRule("(n, n) counts"),
        class_names=CLASS_NAMES,
        step=STEP,
        split=FolderName(),
        tag=NonEmptyText(),
    )
    def write_confusion_matrix(
        self,
        matrix: ArrayLike,
        class_names: Sequence[str],
        step: int,
        *,
        split: str = VALIDATION,
        tag: str = "confusion_matrix",
        title: str | None = None,
    ) -> None:
        """Write a confusion matrix as an image at ``step`` into the ``split`` sub-folder.

        The picture is the one :func:`fashionkit.plots.plot_confusion_matrix` draws with
        scikit-learn's ``ConfusionMatrixDisplay``, 900 x 800 pixels: counts, class names, the
        accuracy in the title; the image's description in TensorBoard repeats the title and
        names the classes in order. It is written with ``tf.summary.image``, flushed, and,
        outside training, the writers are closed again, so it may be called after ``fit``
        has ended.

        Args:
            matrix: ``(n, n)`` counts, rows true classes and columns predicted ones, such as
                :attr:`fashionkit.EvaluationReport.confusion_matrix`.
            class_names: The ``n`` class names in label order.
            step: The step to show it at (an integer >= 0), usually the 1-based epoch it
                describes.
            split: The sub-folder (TensorBoard run). Defaults to ``"validation"``.
            tag: The image's tag. Defaults to ``"confusion_matrix"``.
            title: The picture's title; by default ``"{split} confusion matrix (accuracy
                A)"`` with the accuracy computed from the matrix.

        Raises:
            InputValidationError: The matrix is not ``n x n`` non-negative whole numbers for
                the ``n`` names.
            ArgumentError: ``class_names`` is not a non-empty list or tuple of strings,
                ``step`` is not an integer >= 0, ``split`` is not a plain folder name, ``tag``
                is not a non-empty string, or ``title`` is not a string.
            StorageError: The image cannot be written.
        """
        names = list(class_names)
        matrix_counts = counts(matrix, names)
        total = int(matrix_counts.sum())
        accuracy = float(np.trace(matrix_counts)) / total if total else float("nan")
        if title is None:
            title = f"{split} confusion matrix (accuracy {accuracy:.4f})"
        description = (
            f"{title}. Rows: true class; columns: predicted class; in order: {', '.join(names)}."
        )
        figure = _drawing.confusion_matrix_figure(matrix_counts, names, title=title)
        png = _drawing.figure_png(figure)

        def write() -> None:
            import tensorflow as tf

            pixels = tf.io.decode_png(png)[tf.newaxis]
            tf.summary.image(tag, pixels, step=step, description=description)

        self._write(split, write)

    @params(start_time=TIME)
    def start_session(self, *, start_time: float | None = None) -> None:
        """Write the HParams session start: the ``hparams`` into the log folder itself.

        Training's start calls it (a resumed run writes it again, with the same values). It
        is written with TensorBoard's ``hp.hparams``, in the group of sessions with the same
        values.

        Args:
            start_time: Seconds since the epoch; defaults to now.

        Raises:
            InputValidationError: The logger has no ``hparams``.
            ArgumentError: ``start_time`` is not a number >= 0.
            StorageError: The record cannot be written.
        """
        hparams = self._need_hparams("start_session")
        self._write(_ROOT, lambda: _hparams.write_session_start(hparams, start_time=start_time))

    @params(metrics=METRICS, step=STEP, end_time=TIME)
    def end_session(
        self,
        metrics: Mapping[str, float],
        step: int,
        *,
        status: SessionStatus = "success",
        end_time: float | None = None,
    ) -> None:
        """Write the final ``metrics`` (scalars in the log folder) and the HParams session end.

        Under :func:`fashionkit.train`, ``on_result`` calls it; call it yourself after
        ``model.fit``.

        Args:
            metrics: Names and values, such as ``{"validation_accuracy": 0.91}``; each is a
                scalar tagged with its name at ``step``, which the HParams table shows as a
                column.
            step: The step to write them at (an integer >= 0: the epoch whose weights they
                describe).
            status: ``"success"`` (default), ``"failure"``, ``"running"`` or ``"unknown"``.
            end_time: Seconds since the epoch; defaults to now.

        Raises:
            InputValidationError: The logger has no ``hparams``.
            ArgumentError: ``metrics`` is not a mapping of names to numbers, ``step`` is not
                an integer >= 0, or a bad ``status`` or ``end_time``.
            StorageError: The records cannot be written.
        """
        self._need_hparams("end_session")
        values = check_metrics(metrics)

        def write() -> None:
            write_scalars(values, step)
            _hparams.write_session_end(status, step=step, end_time=end_time)

        self._write(_ROOT, write)

    def _need_hparams(self, method: str) -> dict[str, HParamValue]:
        if self.hparams is None:
            raise InputValidationError(
                f"{method} writes an HParams session: create the logger with hparams={{...}}."
            )
        return self.hparams

    def close(self) -> None:
        """Flush and close the open writers; closing again does nothing."""
        writers, self._writers = self._writers, {}
        for split, writer in writers.items():
            with self._guard(self.log_dir / split if split else self.log_dir):
                writer.close()

    def _write(self, split: str, write: Callable[[], None]) -> None:
        """Call ``write`` with the writer of sub-folder ``split`` as the default, then flush.

        Outside training the writers are closed again afterwards.
        """
        import tensorflow as tf

        folder = self.log_dir if split == _ROOT else self.log_dir / check_split(split)
        with self._guard(folder):
            writer = self._writers.get(split)
            if writer is None:
                folder.mkdir(parents=True, exist_ok=True)
                writer = self._writers[split] = tf.summary.create_file_writer(str(folder))
            with writer.as_default():
                write()
            writer.flush()
        if not self._training:
            self.close()

    def _guard(self, path: Path) -> Any:
        """Raise an OS or TensorFlow error writing ``path`` as :attr:`error_type`."""
        return guarded(path, self.error_type, self.error_hint)
