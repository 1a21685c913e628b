"""Writing TensorBoard records: scalars, errors as StorageError, and whole HParams records.

:class:`~fashionkit.callbacks.TensorBoardLogger` writes through :func:`write_scalars` and
:func:`guarded`; a sweep writes its HParams experiment and one session per trial with
:func:`write_hparams_experiment` and :func:`write_hparams_session`, each in one event file
opened, written, flushed and closed at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from fashionkit._extras import require
from fashionkit._io import os_errors_as
from fashionkit._typing import PathLike
from fashionkit._validation import CheckedBy, Interval, NoneOr, params
from fashionkit.callbacks import _hparams
from fashionkit.callbacks._checks import (
    METRIC_NAMES,
    NonEmptyText,
    StorageErrorClass,
    check_metrics,
)
from fashionkit.callbacks._hparams import HParamDomain, HParamValue, SessionStatus
from fashionkit.exceptions import StorageError

#: The extra that brings TensorBoard (and matplotlib, for the confusion matrix).
EXTRA = "tensorboard"
#: How the HParams writers declare their shared parameters.
STEP = Interval("int", ge=0)
TIME = NoneOr(Interval("number", ge=0))
HPARAMS = CheckedBy("check_hparams: a mapping of names to booleans, numbers or strings")
METRICS = CheckedBy("check_metrics: a mapping of names to numbers, NaN included")


def write_scalars(values: Mapping[str, float], step: int, prefix: str = "") -> None:
    """Write ``values`` with ``tf.summary.scalar`` into the default writer."""
    import tensorflow as tf

    for name, value in values.items():
        tf.summary.scalar(prefix + name, value, step=step)


@contextmanager
def guarded(path: Path, error_type: type[StorageError], hint: str = "") -> Iterator[None]:
    """Raise an OS or TensorFlow error writing ``path`` as ``error_type``, with ``hint``."""
    import tensorflow as tf

    with os_errors_as(error_type, path, hint=hint):
        try:
            yield
        except tf.errors.OpError as exc:
            message = f"Cannot write TensorBoard logs to {path}: {exc.message}"
            raise error_type(f"{message} {hint}".strip()) from exc


@params(metrics=METRIC_NAMES, error_type=StorageErrorClass())
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
    _require_hparams()

    def write() -> None:
        _hparams.write_experiment(list(domains), list(metrics), description=description)

    _write_once(Path(log_dir), write, error_type)


@params(
    hparams=HPARAMS,
    metrics=METRICS,
    step=STEP,
    start_time=TIME,
    end_time=TIME,
    group_name=NoneOr(NonEmptyText()),
    error_type=StorageErrorClass(),
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
    values = _hparams.check_hparams(hparams)
    numbers = check_metrics(metrics)
    _require_hparams()

    def write() -> None:
        _hparams.write_session_start(values, group_name=group_name, start_time=start_time)
        write_scalars(numbers, step)
        _hparams.write_session_end(status, step=step, end_time=end_time)

    _write_once(Path(log_dir), write, error_type)


def _require_hparams() -> None:
    require("tensorboard", extra=EXTRA, purpose="Writing TensorBoard's HParams records")


def _write_once(folder: Path, write: Callable[[], None], error_type: type[StorageError]) -> None:
    """Open one writer on ``folder``, call ``write`` with it as the default, flush, close it."""
    import tensorflow as tf

    with guarded(folder, error_type):
        folder.mkdir(parents=True, exist_ok=True)
        writer = tf.summary.create_file_writer(str(folder))
        try:
            with writer.as_default():
                write()
            writer.flush()
        finally:
            writer.close()
