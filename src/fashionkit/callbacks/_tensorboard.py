"""A callback that writes TensorBoard logs: epoch metrics, learning rate, pictures, HParams."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike, NDArray

from fashionkit import _drawing
from fashionkit._io import os_errors_as
from fashionkit._typing import PathLike
from fashionkit.callbacks import _hparams
from fashionkit.callbacks._context import TrainingContext
from fashionkit.callbacks._hparams import HParamValue, SessionStatus
from fashionkit.exceptions import InputValidationError, StorageError

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


def _check_split(split: str) -> str:
    if (
        not isinstance(split, str)
        or split in ("", ".", "..")
        or any(c in split for c in "/\\")
        or split != split.strip()
    ):
        raise InputValidationError(
            f"split must name a sub-folder (such as 'validation'); got {split!r}."
        )
    return split


def _counts(matrix: ArrayLike, class_names: Sequence[str]) -> NDArray[np.int64]:
    """``matrix`` as an ``(n, n)`` int64 count matrix for ``n`` class names.

    Raises:
        InputValidationError: The shape does not fit the names, or a count is not a
            non-negative whole number.
    """
    names = list(class_names)
    if not names or not all(isinstance(name, str) for name in names):
        raise InputValidationError("class_names must be a non-empty sequence of strings.")
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
    return array.astype(np.int64)


def _metadata(plugin: str, description: str = "", content: bytes = b"") -> Any:
    """The summary metadata that files a value under one of TensorBoard's plugins.

    ``tf.summary.scalar`` and ``tf.summary.image`` write exactly this (their plugin data is
    empty at version 0), but since TensorFlow 2.16 they need the ``tensorboard`` package;
    ``tf.summary.write`` with this metadata does not. The HParams plugin keeps its records in
    ``content``.
    """
    import tensorflow as tf

    return tf.compat.v1.SummaryMetadata(
        plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name=plugin, content=content),
        summary_description=description,
    )


def _check_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """``metrics`` as names and floats (NaN and infinities kept).

    Raises:
        InputValidationError: A name that is not a non-empty string, or a value that is not one
            real number.
    """
    values = {}
    for name, value in metrics.items():
        number = _number(value)
        if not isinstance(name, str) or not name or number is None:
            raise InputValidationError(
                f"metrics must map names to numbers; got {name!r}: {value!r}."
            )
        values[name] = number
    return values


def _group_name(hparams: Mapping[str, HParamValue]) -> str:
    """The HParams group of a session: a digest of its values, so equal ones group together.

    TensorBoard's dashboard shows one row per group (the mean of its sessions' metrics); an
    empty name would put every session into one row.
    """
    text = json.dumps(dict(hparams), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _hparams_summary(tag: str, content: bytes) -> tuple[str, Any, Any]:
    import tensorflow as tf

    return (tag, tf.zeros((0,), tf.float32), _metadata(_hparams.PLUGIN, content=content))


def _scalar_summaries(values: Mapping[str, float], prefix: str = "") -> list[tuple[str, Any, Any]]:
    import tensorflow as tf

    metadata = _metadata("scalars")
    return [
        (prefix + name, tf.constant(value, dtype=tf.float32), metadata)
        for name, value in values.items()
    ]


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

    :meth:`write_confusion_matrix` adds a confusion matrix as an image; it works before,
    during and after training. The writers are flushed after every epoch and closed when
    training ends (:meth:`close` closes them at any time, as often as called; the next write
    opens them again).

    Under :func:`fashionkit.train`, an epoch that a signal cut short is not written (resuming
    repeats it, as in the metrics log). Every ``fit`` and every reopening adds a new event file
    beside the earlier ones, so a resumed run continues the same curves; an epoch written twice
    (the process died after writing it and before its checkpoint) is shown with its latest
    value: TensorBoard's default loader drops a series' points from a step on when that step
    comes again. Writing needs no extra package; viewing needs ``tensorboard`` (``pip install
    tensorboard``; TensorFlow no longer installs it).

    With ``hparams``, the log folder is also a session of TensorBoard's HParams dashboard:
    training's start writes the hyperparameters into ``log_dir`` itself, and
    :meth:`end_session` the final metrics (scalars in ``log_dir``) and how the session ended.
    Point ``tensorboard --logdir`` at a folder holding several such log folders and the
    HParams table and parallel coordinates compare them, one row per set of values, with the
    final metrics and the per-epoch ``train`` and ``validation`` scalars as columns.

    Args:
        log_dir: The folder for this run's logs; created when training begins. Give each run
            its own folder (TensorBoard shows the sub-folders of its ``--logdir`` as runs).
        error_type: The :class:`~fashionkit.exceptions.StorageError` class a failed write
            raises (a run directory's logs raise ``RunDirError``). Defaults to
            ``StorageError``.
        error_hint: A sentence appended to that error's message (what the user can do).
            Defaults to none.
        hparams: The session's hyperparameters: names and booleans, numbers or strings (see
            :func:`~fashionkit.callbacks.config_hparams` for a config's). Defaults to none
            (no HParams records).

    Raises:
        StorageError: The logs cannot be written (the folder cannot be created, the disk is
            full, ...); raised by the hook or method that writes.

    Example:
        >>> from fashionkit.callbacks import TensorBoardLogger
        >>> logger = TensorBoardLogger("runs/a/tensorboard")
        >>> result = fashionkit.train(callbacks=[logger])  # doctest: +SKIP
        >>> logger.write_confusion_matrix(  # doctest: +SKIP
        ...     result.validation.confusion_matrix, result.validation.class_names, step=5
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
        self.log_dir = Path(log_dir)
        self.hparams = _hparams.check_hparams(hparams) if hparams is not None else None
        self._writers: dict[str, Any] = {}
        self._training = False
        self._context: TrainingContext | None = None
        self.error_type = error_type
        self.error_hint = error_hint

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
                self._write_scalars(values, step, split=split)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Flush and close the writers."""
        self._training = False
        self.close()

    def _write_scalars(self, values: Mapping[str, float], step: int, *, split: str) -> None:
        """Write ``values`` as scalars ``epoch_NAME`` at ``step`` into sub-folder ``split``."""
        self._write(split, step, _scalar_summaries(values, TAG_PREFIX))

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

        With matplotlib (the ``plot`` extra) the picture is the one
        :func:`fashionkit.plots.plot_confusion_matrix` draws, 900 x 800 pixels: counts, class
        names, accuracy in the title. Without it, a plain heat map: each row divided by its
        sum, one 32-pixel block per cell from white (0) to dark blue (1), no text (the image's
        description in TensorBoard names the classes in order). It is written, flushed, and,
        outside training, the writers are closed again, so it may be called after ``fit``
        has ended.

        Args:
            matrix: ``(n, n)`` counts, rows true classes and columns predicted ones, such as
                :attr:`fashionkit.EvaluationReport.confusion_matrix`.
            class_names: The ``n`` class names in label order.
            step: The step to show it at, usually the 1-based epoch it describes.
            split: The sub-folder (TensorBoard run). Defaults to ``"validation"``.
            tag: The image's tag. Defaults to ``"confusion_matrix"``.
            title: The picture's title; by default ``"{split} confusion matrix (accuracy
                A)"`` with the accuracy computed from the matrix.

        Raises:
            InputValidationError: The matrix is not ``n x n`` non-negative whole numbers for
                the ``n`` names, or ``split`` is not a plain folder name.
            StorageError: The image cannot be written.
        """
        import tensorflow as tf

        counts = _counts(matrix, class_names)
        split = _check_split(split)
        order = ", ".join(class_names)
        total = int(counts.sum())
        accuracy = float(np.trace(counts)) / total if total else float("nan")
        if title is None:
            title = f"{split} confusion matrix (accuracy {accuracy:.4f})"
        description = f"{title}. Rows: true class; columns: predicted class; in order: {order}."
        if _drawing.can_draw():
            figure = _drawing.confusion_matrix_figure(counts, class_names, title=title)
            png = _drawing.figure_png(figure)
        else:
            pixels = _drawing.confusion_matrix_heatmap(counts)
            png = bytes(tf.io.encode_png(pixels).numpy())
            description += " Drawn without matplotlib: the share of each row, white 0, dark blue 1."
        width, height = _drawing.png_size(png)
        tensor = tf.constant([str(width).encode(), str(height).encode(), png], dtype=tf.string)
        self._write(split, step, [(tag, tensor, _metadata("images", description))])

    def start_session(self, *, start_time: float | None = None) -> None:
        """Write the HParams session start: the ``hparams`` into the log folder itself.

        Training's start calls it (a resumed run writes it again, with the same values).

        Raises:
            InputValidationError: The logger has no ``hparams``.
            StorageError: The record cannot be written.
        """
        hparams = self._need_hparams("start_session")
        content = _hparams.session_start(
            hparams, group_name=_group_name(hparams), start_time=start_time
        )
        self._write(_ROOT, 0, [_hparams_summary(_hparams.SESSION_START_TAG, content)])

    def end_session(
        self,
        metrics: Mapping[str, float],
        step: int,
        *,
        status: SessionStatus = "success",
        end_time: float | None = None,
    ) -> None:
        """Write the final ``metrics`` (scalars in the log folder) and the HParams session end.

        Args:
            metrics: Names and values, such as ``{"validation_accuracy": 0.91}``; each is a
                scalar tagged with its name at ``step``, which the HParams table shows as a
                column.
            step: The step to write them at (the epoch whose weights they describe).
            status: ``"success"`` (default), ``"failure"``, ``"running"`` or ``"unknown"``.
            end_time: Seconds since the epoch; defaults to now.

        Raises:
            InputValidationError: The logger has no ``hparams``, or a bad status or metric.
            StorageError: The records cannot be written.
        """
        self._need_hparams("end_session")
        content = _hparams.session_end(status, end_time=end_time)
        values = _check_metrics(metrics)
        self._write(
            _ROOT,
            step,
            [*_scalar_summaries(values), _hparams_summary(_hparams.SESSION_END_TAG, content)],
        )

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

    def _write(self, split: str, step: int, summaries: list[tuple[str, Any, Any]]) -> None:
        """Write ``(tag, tensor, metadata)`` summaries at ``step`` into ``split``, and flush.

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
                for tag, tensor, metadata in summaries:
                    tf.summary.write(tag, tensor, step=step, metadata=metadata)
            writer.flush()
        if not self._training:
            self.close()

    def _guard(self, path: Path) -> Any:
        """Raise an OS or TensorFlow error writing ``path`` as :attr:`error_type`."""
        return _guarded(path, self.error_type, self.error_hint)


def write_hparams_experiment(
    log_dir: PathLike,
    domains: Sequence[_hparams.HParamDomain],
    metrics: Sequence[tuple[str, str]],
    *,
    description: str = "",
    error_type: type[StorageError] = StorageError,
) -> None:
    """Write an HParams experiment (domains and metrics) into ``log_dir``, above its sessions.

    TensorBoard's dashboard then lists exactly these hyperparameters and metrics for the
    sessions in the sub-folders of ``log_dir``.
    """
    content = _hparams.experiment(domains, metrics, description=description)
    _write_once(
        Path(log_dir), [(0, [_hparams_summary(_hparams.EXPERIMENT_TAG, content)])], error_type
    )


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

    Everything is checked and encoded before anything is written. ``group_name`` names the
    dashboard row the session joins; by default sessions with the same values share one.
    """
    values = _hparams.check_hparams(hparams)
    numbers = _check_metrics(metrics)
    group = group_name if group_name is not None else _group_name(values)
    start = _hparams.session_start(values, group_name=group, start_time=start_time)
    end = _hparams.session_end(status, end_time=end_time if end_time is not None else time.time())
    _write_once(
        Path(log_dir),
        [
            (0, [_hparams_summary(_hparams.SESSION_START_TAG, start)]),
            (step, [*_scalar_summaries(numbers), _hparams_summary(_hparams.SESSION_END_TAG, end)]),
        ],
        error_type,
    )


def _write_once(
    folder: Path,
    batches: list[tuple[int, list[tuple[str, Any, Any]]]],
    error_type: type[StorageError],
) -> None:
    """Open one writer on ``folder``, write each ``(step, summaries)``, flush and close it."""
    import tensorflow as tf

    with _guarded(folder, error_type):
        folder.mkdir(parents=True, exist_ok=True)
        writer = tf.summary.create_file_writer(str(folder))
        try:
            with writer.as_default():
                for step, summaries in batches:
                    for tag, tensor, metadata in summaries:
                        tf.summary.write(tag, tensor, step=step, metadata=metadata)
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
