"""A callback that writes TensorBoard logs: epoch metrics, learning rate, pictures, HParams."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike, NDArray

from fashionkit import _drawing
from fashionkit._extras import require
from fashionkit._io import os_errors_as
from fashionkit._typing import PathLike
from fashionkit._validation import check_scalar, shown
from fashionkit.callbacks import _hparams
from fashionkit.callbacks._context import TrainingContext
from fashionkit.callbacks._hparams import HParamDomain, HParamValue, SessionStatus
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
_EXTRA = "tensorboard"


def _number(value: Any) -> float | None:
    """``value`` as a float if it is one real number (NaN and infinities included), else None.

    Strings, booleans, ``None``, lists and arrays of several values (such as
    ``val_per_class_accuracy``) are not numbers; NumPy and tensor scalars are.
    """
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):
        return None
    if array.ndim != 0 or array.dtype.kind not in "iuf":
        return None
    return float(array)


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
    return _number(rate)


def _split_logs(logs: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """The numeric entries of ``logs``: training ones, and validation ones without ``val_``."""
    train: dict[str, float] = {}
    validation: dict[str, float] = {}
    for name, value in logs.items():
        number = _number(value)
        if number is None:
            continue
        if name.startswith(_VAL):
            validation[name.removeprefix(_VAL)] = number
        else:
            train[name] = number
    return train, validation


def _check_folder(path: object, name: str) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it is a non-empty string or an ``os.PathLike``.

    Raises:
        ArgumentError: It is neither.
    """
    if isinstance(path, os.PathLike) or (isinstance(path, str) and path.strip()):
        return Path(path)
    raise ArgumentError(
        f"{name} must be a folder path (a non-empty string or a pathlib.Path); got "
        f"{shown(path)} ({type(path).__name__})."
    )


def _check_split(split: object, name: str = "split") -> str:
    """``split`` if it names one sub-folder of the log folder.

    Raises:
        ArgumentError: It is not a string, or it is empty, ``.`` or ``..``, holds a slash, or
            starts or ends with spaces.
    """
    if (
        not isinstance(split, str)
        or split in ("", ".", "..")
        or any(c in split for c in "/\\")
        or split != split.strip()
    ):
        raise ArgumentError(
            f"{name} must name one sub-folder (such as 'validation'), without slashes; got "
            f"{shown(split)}."
        )
    return split


def _check_text(value: object, name: str, *, empty: bool = True) -> str:
    """``value`` if it is a string (a non-empty one unless ``empty``).

    Raises:
        ArgumentError: It is not.
    """
    if not isinstance(value, str) or (not empty and not value):
        wanted = "a string" if empty else "a non-empty string"
        raise ArgumentError(f"{name} must be {wanted}; got {shown(value)}.")
    return value


def _check_time(value: object, name: str) -> float | None:
    """``value`` (seconds since the epoch) if it is ``None`` or a finite number >= 0.

    Raises:
        ArgumentError: It is not.
    """
    if value is None:
        return None
    return check_scalar(value, name, kind="number", ge=0, hint="Give seconds since the epoch.")


def _check_step(step: object) -> int:
    """``step`` if it is an integer >= 0 (TensorBoard's steps are whole numbers).

    Raises:
        ArgumentError: It is not.
    """
    return check_scalar(step, "step", ge=0, hint="Give the 1-based epoch it describes.")


def _check_error_type(error_type: object) -> type[StorageError]:
    """``error_type`` if it is :class:`~fashionkit.exceptions.StorageError` or a subclass.

    Raises:
        ArgumentError: It is not.
    """
    if isinstance(error_type, type) and issubclass(error_type, StorageError):
        return error_type
    raise ArgumentError(
        f"error_type must be StorageError or a subclass of it (such as RunDirError); got "
        f"{shown(error_type)}."
    )


def _counts(matrix: ArrayLike, class_names: object) -> tuple[NDArray[np.int64], list[str]]:
    """``matrix`` as an ``(n, n)`` int64 count matrix, and the ``n`` class names as a list.

    Raises:
        InputValidationError: The names are not a sequence of strings, the shape does not fit
            them, or a count is not a non-negative whole number.
    """
    if isinstance(class_names, (str, bytes)) or not isinstance(class_names, Sequence):
        raise InputValidationError(
            f"class_names must be a non-empty sequence of strings, such as ['T-shirt/top', "
            f"'Trouser']; got {shown(class_names)}."
        )
    names = list(class_names)
    if not names or not all(isinstance(name, str) for name in names):
        raise InputValidationError(
            f"class_names must be a non-empty sequence of strings; got {shown(names)}."
        )
    try:
        array = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputValidationError(f"the confusion matrix is not numeric: {exc}") from exc
    n = len(names)
    if array.shape != (n, n):
        raise InputValidationError(
            f"the confusion matrix must be {n} x {n}, one row and column per class name; got "
            f"shape {array.shape}."
        )
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array != np.rint(array)):
        raise InputValidationError(
            "the confusion matrix must hold counts: non-negative whole numbers."
        )
    return array.astype(np.int64), names


def _check_metrics(metrics: object) -> dict[str, float]:
    """``metrics`` as names and floats (NaN and infinities kept).

    Raises:
        ArgumentError: ``metrics`` is not a mapping, a name is not a non-empty string, or a
            value is not one real number.
    """
    if not isinstance(metrics, Mapping):
        raise ArgumentError(
            f"metrics must be a mapping of names to numbers, such as "
            f"{{'final_validation_accuracy': 0.91}}; got {shown(metrics)}."
        )
    values = {}
    for name, value in metrics.items():
        number = _number(value)
        if not isinstance(name, str) or not name or number is None:
            raise ArgumentError(
                f"metrics must map names to numbers; got {shown(name)}: {shown(value)}."
            )
        values[name] = number
    return values


def _write_scalars(values: Mapping[str, float], step: int, prefix: str = "") -> None:
    """Write ``values`` with ``tf.summary.scalar`` into the default writer."""
    import tensorflow as tf

    for name, value in values.items():
        tf.summary.scalar(prefix + name, value, step=step)


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

    def __init__(
        self,
        log_dir: PathLike,
        *,
        error_type: type[StorageError] = StorageError,
        error_hint: str = "",
        hparams: Mapping[str, HParamValue] | None = None,
    ) -> None:
        super().__init__()
        require(*_LOGGER_NEEDS, extra=_EXTRA, purpose="TensorBoardLogger writes TensorBoard logs")
        self.log_dir = _check_folder(log_dir, "log_dir")
        self.error_type = _check_error_type(error_type)
        self.error_hint = _check_text(error_hint, "error_hint")
        self.hparams = _hparams.check_hparams(hparams) if hparams is not None else None
        self._writers: dict[str, Any] = {}
        self._training = False
        self._context: TrainingContext | None = None

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
                self._write(split, partial(_write_scalars, values, step, TAG_PREFIX))

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
            ArgumentError: ``step`` is not an integer >= 0, ``split`` is not a plain folder
                name, ``tag`` is not a non-empty string, or ``title`` is not a string.
            StorageError: The image cannot be written.
        """
        counts, names = _counts(matrix, class_names)
        step = _check_step(step)
        split = _check_split(split)
        tag = _check_text(tag, "tag", empty=False)
        total = int(counts.sum())
        accuracy = float(np.trace(counts)) / total if total else float("nan")
        if title is None:
            title = f"{split} confusion matrix (accuracy {accuracy:.4f})"
        title = _check_text(title, "title")
        description = (
            f"{title}. Rows: true class; columns: predicted class; in order: {', '.join(names)}."
        )
        png = _drawing.figure_png(_drawing.confusion_matrix_figure(counts, names, title=title))

        def write() -> None:
            import tensorflow as tf

            pixels = tf.io.decode_png(png)[tf.newaxis]
            tf.summary.image(tag, pixels, step=step, description=description)

        self._write(split, write)

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
        start = _check_time(start_time, "start_time")
        self._write(_ROOT, lambda: _hparams.write_session_start(hparams, start_time=start))

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
        values = _check_metrics(metrics)
        step = _check_step(step)
        checked = _hparams.check_status(status)
        end = _check_time(end_time, "end_time")

        def write() -> None:
            _write_scalars(values, step)
            _hparams.write_session_end(checked, step=step, end_time=end)

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

        folder = self.log_dir if split == _ROOT else self.log_dir / _check_split(split)
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
        return _guarded(path, self.error_type, self.error_hint)


def _check_domains(domains: object) -> list[HParamDomain]:
    if isinstance(domains, (str, bytes)) or not isinstance(domains, Sequence):
        raise ArgumentError(f"domains must be a sequence of HParamDomain; got {shown(domains)}.")
    bad = [d for d in domains if not isinstance(d, HParamDomain)]
    if bad:
        raise ArgumentError(
            f"domains must be a sequence of HParamDomain; got an item {shown(bad[0])}."
        )
    return list(domains)


def _check_metric_names(metrics: object) -> list[tuple[str, str]]:
    def good(pair: object) -> bool:
        if not isinstance(pair, tuple) or len(pair) != 2:
            return False
        group, tag = pair
        if not isinstance(tag, str) or not tag or not isinstance(group, str):
            return False
        try:
            return group == "" or _check_split(group) == group
        except ArgumentError:
            return False

    if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Sequence):
        raise ArgumentError(
            f"metrics must be a sequence of (group, tag) pairs, such as [('', "
            f"'val_accuracy'), ('validation', 'epoch_loss')]; got {shown(metrics)}."
        )
    for pair in metrics:
        if not good(pair):
            raise ArgumentError(
                f"metrics must be (group, tag) pairs: the group '' or a sub-folder name, the "
                f"tag a non-empty string; got {shown(pair)}."
            )
    return list(metrics)


def write_hparams_experiment(
    log_dir: PathLike,
    domains: Sequence[HParamDomain],
    metrics: Sequence[tuple[str, str]],
    *,
    description: str = "",
    error_type: type[StorageError] = StorageError,
) -> None:
    """Write an HParams experiment (domains and metrics) into ``log_dir``, above its sessions.

    TensorBoard's dashboard then lists exactly these hyperparameters and metrics for the
    sessions in the sub-folders of ``log_dir``. Needs the ``tensorboard`` package.

    Args:
        log_dir: The folder above the sessions' folders.
        domains: One domain per hyperparameter.
        metrics: ``(group, tag)`` pairs: the sub-folder of a session the scalar is in (``""``
            for the session's own folder) and its tag.
        description: The experiment's description. Defaults to none.
        error_type: The :class:`~fashionkit.exceptions.StorageError` class a failed write
            raises. Defaults to ``StorageError``.

    Raises:
        ConfigError: The ``tensorboard`` package is not installed.
        ArgumentError: An argument has the wrong type or value.
        StorageError: The record cannot be written (as ``error_type``).
    """
    folder = _check_folder(log_dir, "log_dir")
    checked_domains = _check_domains(domains)
    names = _check_metric_names(metrics)
    text = _check_text(description, "description")
    error = _check_error_type(error_type)
    _require_hparams()

    def write() -> None:
        _hparams.write_experiment(checked_domains, names, description=text)

    _write_once(folder, write, error)


def write_hparams_session(
    log_dir: PathLike,
    hparams: Mapping[str, HParamValue],
    metrics: Mapping[str, float],
    step: int,
    *,
    status: SessionStatus = "success",
    start_time: float | None = None,
    end_time: float | None = None,
    group_name: str | None = None,
    error_type: type[StorageError] = StorageError,
) -> None:
    """Write a whole HParams session into ``log_dir``: start, final metrics and end, in one file.

    Everything is checked before anything is written. Needs the ``tensorboard`` package.

    Args:
        log_dir: The session's folder.
        hparams: Names and booleans, numbers or strings.
        metrics: The final metrics: names and numbers, written as scalars at ``step``.
        step: The step of the metrics and the session end (an integer >= 0).
        status: How the session ended. Defaults to ``"success"``.
        start_time: Seconds since the epoch; defaults to now.
        end_time: Seconds since the epoch; defaults to now.
        group_name: The dashboard row the session joins; by default sessions with the same
            values share one.
        error_type: The :class:`~fashionkit.exceptions.StorageError` class a failed write
            raises. Defaults to ``StorageError``.

    Raises:
        ConfigError: The ``tensorboard`` package is not installed.
        ArgumentError: An argument has the wrong type or value.
        StorageError: The records cannot be written (as ``error_type``).
    """
    folder = _check_folder(log_dir, "log_dir")
    values = _hparams.check_hparams(hparams)
    numbers = _check_metrics(metrics)
    step = _check_step(step)
    checked = _hparams.check_status(status)
    start = _check_time(start_time, "start_time")
    end = _check_time(end_time, "end_time")
    group = _check_text(group_name, "group_name", empty=False) if group_name is not None else None
    error = _check_error_type(error_type)
    _require_hparams()

    def write() -> None:
        _hparams.write_session_start(values, group_name=group, start_time=start)
        _write_scalars(numbers, step)
        _hparams.write_session_end(checked, step=step, end_time=end)

    _write_once(folder, write, error)


def _require_hparams() -> None:
    require("tensorboard", extra=_EXTRA, purpose="Writing TensorBoard's HParams records")


def _write_once(folder: Path, write: Callable[[], None], error_type: type[StorageError]) -> None:
    """Open one writer on ``folder``, call ``write`` with it as the default, flush, close it."""
    import tensorflow as tf

    with _guarded(folder, error_type):
        folder.mkdir(parents=True, exist_ok=True)
        writer = tf.summary.create_file_writer(str(folder))
        try:
            with writer.as_default():
                write()
            writer.flush()
        finally:
            writer.close()


@contextmanager
def _guarded(path: Path, error_type: type[StorageError], hint: str = "") -> Iterator[None]:
    """Raise an OS or TensorFlow error writing ``path`` as ``error_type``, with ``hint``."""
    import tensorflow as tf

    with os_errors_as(error_type, path, hint=hint):
        try:
            yield
        except tf.errors.OpError as exc:
            message = f"Cannot write TensorBoard logs to {path}: {exc.message}"
            raise error_type(f"{message} {hint}".strip()) from exc
