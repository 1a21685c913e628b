"""Run directories: everything a training run produced, written crash-safely, and read back.

Layout of a run directory (every file is written to a temporary name, flushed and renamed, or
appended a synced line at a time; each object has one JSON or TOML layout, written by
fashionkit's one serialisation layer and shown in the documentation's "File formats" page):

==================== =====================================================================
``config.toml``      the resolved :class:`~fashionkit.config.TrainConfig`; written first
``metrics.jsonl``    one line per epoch, flushed as the epoch ends: ``epoch``, ``seconds``,
                     every metric in the epoch's logs, and ``partial: true`` for an epoch
                     cut short; :meth:`~fashionkit.EpochRecord.from_logs` reads a line
``checkpoint/``      the latest epoch's full model while training runs (removed at the end)
``model.keras``      the final model
``best.keras``       the model of the best epoch by ``early_stopping.monitor`` (while training,
                     ``checkpoint/best-NNNN.keras``, named by ``checkpoint/state.json``)
``validation.json``  :class:`~fashionkit.EvaluationReport` of the validation split
``test.json``        :class:`~fashionkit.EvaluationReport` of the test split
``calibration.json`` :class:`~fashionkit.calibration.Calibration`: the temperature fitted on the
                     validation split (only with ``calibrate = true``); predictions and
                     exports of the run apply it
``tensorboard/``     TensorBoard logs (only with ``tensorboard = true``)
``environment.json`` library versions, Python, platform, devices, the CPU and its
                     instruction sets, oneDNN, the precision and why, seed
``summary.json``     :meth:`~fashionkit.TrainResult.to_dict`; written last, it marks the run
                     complete
``.lock``            the lock a training process holds on the folder, while it trains (it
                     records the process id, host and start time; removed when training
                     ends or fails, left only by a killed process, for the next to reuse)
==================== =====================================================================
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

import attrs

from fashionkit import _html, _schema
from fashionkit._io import (
    DirectoryLock,
    atomic_save_model,
    atomic_write_text,
    check_parents,
    describe_holder,
    in_use_message,
    is_locked,
    os_errors_as,
    staged,
)
from fashionkit._typing import PathLike
from fashionkit.calibration import Calibration
from fashionkit.config import TrainConfig
from fashionkit.evaluation import EvaluationReport
from fashionkit.exceptions import (
    ConfigError,
    InputValidationError,
    RunDirError,
    StorageError,
    UnknownModelError,
)
from fashionkit.hardware import describe_machine, package_version
from fashionkit.results import CheckpointState, EpochRecord, TrainResult, history_html

__all__ = [
    "RunDirectory",
    "RunRecord",
    "check_model_path",
    "completed_run_config",
    "load_model",
    "load_run",
    "read_calibration",
    "run_temperature",
    "save_model",
]

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoint"
MODEL = "model.keras"
BEST = "best.keras"
VALIDATION = "validation.json"
TEST = "test.json"
CALIBRATION = "calibration.json"
TENSORBOARD = "tensorboard"
ENVIRONMENT = "environment.json"
SUMMARY = "summary.json"

# Fields that may differ when a run is resumed: they change what is printed, not what is trained.
_RESUME_MAY_CHANGE = frozenset({"verbose", "tensorboard"})
_RESUMABLE = "The run directory keeps every completed epoch: run the same command again to resume."


def _comparable(config: TrainConfig) -> dict[str, Any]:
    return {k: v for k, v in config.to_dict().items() if k not in _RESUME_MAY_CHANGE}


def same_training(old: TrainConfig, new: TrainConfig) -> bool:
    """Whether a run of ``old`` may go on as a run of ``new`` (the check of a resume).

    They may differ only in the fields that change what is printed, not what is trained
    (``verbose``, ``tensorboard``). Sweeps ask it too, to tell a trial's own run directory.
    """
    return _comparable(old) == _comparable(new)


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} in the directory, {b!r} now")
    return out


def _read_config(path: Path) -> TrainConfig:
    try:
        return TrainConfig.from_toml(path)
    except UnknownModelError as exc:
        raise RunDirError(
            f"{path} names an architecture this process does not know ({exc}). Register it "
            f"(import the module that calls register_architecture) before using this run."
        ) from exc
    except (ConfigError, UnicodeDecodeError, OSError) as exc:
        raise RunDirError(
            f"{path} cannot be read back ({exc}). The directory belongs to another run or was "
            f"damaged: choose a new run directory."
        ) from exc


class RunDirectory:
    """A run directory as :func:`fashionkit.train` uses it: resume state, callbacks, results.

    :meth:`open` locks the folder for this process, creates it (writing ``config.toml``) or
    checks that it holds an unfinished run of the same config, and finds the newest checkpoint;
    training then takes the model to resume from with :meth:`restore_model`, the callbacks that
    keep the folder up to date with :meth:`callbacks`, writes the results with
    :meth:`write_results` and releases the lock with :meth:`close`. The lock is the operating
    system's: a process that dies, even by ``SIGKILL``, releases it.

    Attributes:
        path: The folder.
        config: The config of the run.
        resume_epoch: Epochs already completed (0 for a new run).
        checkpoint: The checkpoint to resume from, or ``None``.
        history: The records of the completed epochs, from ``metrics.jsonl``.
        state: The checkpoint's saved state (the best epoch, and whether training had stopped
            there), or ``None`` for a new run.
    """

    def __init__(
        self,
        path: Path,
        config: TrainConfig,
        *,
        resume_epoch: int,
        checkpoint: Path | None,
        history: tuple[EpochRecord, ...],
        lock: DirectoryLock | None = None,
        state: CheckpointState | None = None,
        writes: bool = True,
    ) -> None:
        self.path = path
        self.config = config
        self.resume_epoch = resume_epoch
        self.checkpoint = checkpoint
        self.history = history
        self.state = state
        self.writes = writes
        self._lock = lock
        self._best_weights: list[Any] | None = None

    @property
    def stop_reason(self) -> str | None:
        """Why training stopped at the resumed checkpoint (nothing more to train), or ``None``."""
        return None if self.state is None else self.state.stop_reason

    @classmethod
    def open(cls, path: PathLike, config: TrainConfig) -> RunDirectory:
        """Create or check a run directory and find the epoch to resume from.

        Raises:
            RunDirError: Another process is training into the folder, the path is a file, or
                the folder holds another config, a completed run, damaged files, or cannot be
                written.
        """
        run_dir = Path(path)
        cls.check(run_dir, config)
        with os_errors_as(RunDirError, run_dir, action="create the run directory"):
            run_dir.mkdir(parents=True, exist_ok=True)
        lock = DirectoryLock(run_dir)
        with os_errors_as(RunDirError, run_dir / DirectoryLock.NAME, action="lock"):
            lock.acquire()
        try:
            return cls._check(run_dir, config, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def follow(cls, path: PathLike, config: TrainConfig) -> RunDirectory:
        """Read a run directory that another process writes: the chief of a multi-worker run.

        Every other worker of a ``multi_worker`` run follows the chief's folder: it resumes
        from the same checkpoint, and writes nothing and takes no lock (the chief holds it).
        The folder must be on a filesystem every worker sees. The best epoch's weights are read
        now, while the chief cannot yet move on (it waits for this worker in its first step).

        Raises:
            RunDirError: The path is a file, the folder holds a run of another config or a
                completed run, or the checkpoint state or the metrics log is damaged.
        """
        from fashionkit.callbacks import EpochCheckpoint

        run_dir = Path(path)
        if run_dir.exists() and not run_dir.is_dir():
            raise RunDirError(
                f"{run_dir} is a file, not a folder; choose a folder (new or holding an "
                f"unfinished run) as the run directory."
            )
        if (run_dir / CONFIG).is_file():
            # The chief refuses the same folders; refusing here too spares this worker the wait
            # for a chief that has given up.
            _check_contents(run_dir, config)
        state = EpochCheckpoint.read_state(run_dir / CHECKPOINTS)
        epoch = state.epoch if state is not None else 0
        metrics = run_dir / METRICS
        lines = _read_jsonl(metrics) if metrics.is_file() else []
        history = _records([line for line in lines if line["epoch"] <= epoch], metrics)
        run = cls(
            run_dir,
            config,
            resume_epoch=epoch,
            checkpoint=run_dir / CHECKPOINTS / state.checkpoint if state is not None else None,
            history=history,
            state=state,
            writes=False,
        )
        best = state.best if state is not None else None
        if config.early_stopping.restore_best and best is not None and best.checkpoint:
            run._best_weights = load_model(run_dir / CHECKPOINTS / best.checkpoint).get_weights()
        return run

    @staticmethod
    def check(path: PathLike, config: TrainConfig) -> None:
        """Refuse a folder that :meth:`open` would refuse, without creating or locking anything.

        For callers that want to fail before slow work (the command line checks before it
        loads the data).

        Raises:
            RunDirError: The path is a file, another process is training into the folder, or
                it holds a run of another config or a completed run.
        """
        run_dir = Path(path)
        if run_dir.exists() and not run_dir.is_dir():
            raise RunDirError(
                f"{run_dir} is a file, not a folder; choose a folder (new or holding an "
                f"unfinished run) as the run directory."
            )
        if is_locked(run_dir):
            raise RunDirError(in_use_message(run_dir))
        _check_contents(run_dir, config)

    @classmethod
    def _check(cls, run_dir: Path, config: TrainConfig, lock: DirectoryLock) -> RunDirectory:
        from fashionkit.callbacks import EpochCheckpoint

        config_path = run_dir / CONFIG
        _remove_staged_leftovers(run_dir)
        _check_contents(run_dir, config)  # again, now that this process holds the lock
        if not config_path.is_file() or _read_config(config_path) != config:
            with os_errors_as(RunDirError, config_path):
                atomic_write_text(config_path, config.to_toml())
        state = EpochCheckpoint.read_state(run_dir / CHECKPOINTS)
        epoch = state.epoch if state is not None else 0
        checkpoint = run_dir / CHECKPOINTS / state.checkpoint if state is not None else None
        with os_errors_as(RunDirError, run_dir / METRICS, action="rewrite"):
            history = _trim_metrics(run_dir / METRICS, keep_through=epoch)
        return cls(
            run_dir,
            config,
            resume_epoch=epoch,
            checkpoint=checkpoint,
            history=history,
            lock=lock,
            state=state,
        )

    def close(self) -> None:
        """Release the lock on the folder (training into it is over, or failed)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def restore_model(self) -> Any:
        """The model of the newest checkpoint, or ``None`` for a new run."""
        return None if self.checkpoint is None else load_model(self.checkpoint)

    @property
    def checkpoint_folder(self) -> Path:
        """The folder of the resume checkpoints and the best model while training runs."""
        return self.path / CHECKPOINTS

    def callbacks(self) -> list[Any]:
        """The metrics log, the TensorBoard logs, then the checkpoint (none for a follower).

        The checkpoint comes last, so that a checkpointed epoch always has its line (and its
        TensorBoard points, with ``config.tensorboard``).
        """
        from fashionkit.callbacks import (
            EpochCheckpoint,
            JSONLinesLogger,
            TensorBoardLogger,
            config_hparams,
        )

        if not self.writes:
            return []
        # A failed write of a run directory's file says that the run can be resumed.
        logs: list[Any] = [
            JSONLinesLogger(
                self.path / METRICS, append=True, error_type=RunDirError, error_hint=_RESUMABLE
            )
        ]
        if self.config.tensorboard:
            logs.append(
                TensorBoardLogger(
                    self.path / TENSORBOARD,
                    error_type=RunDirError,
                    error_hint=_RESUMABLE,
                    hparams=config_hparams(self.config),
                )
            )
        return [*logs, EpochCheckpoint(self.path / CHECKPOINTS)]

    def best_weights(self) -> list[Any] | None:
        """The weights of the best epoch that the newest checkpoint names, or ``None``.

        The writer reads the checkpoint now; a follower returns what it read when it opened
        the folder (by now the chief may have replaced or removed it).
        """
        if not self.writes:
            return self._best_weights
        path = self.current_best()
        return None if path is None else load_model(path).get_weights()

    def current_best(self) -> Path | None:
        """The best model the newest checkpoint names (read again: training may have moved on)."""
        from fashionkit.callbacks import EpochCheckpoint

        state = EpochCheckpoint.read_state(self.path / CHECKPOINTS)
        best = None if state is None else state.best
        if best is None or best.checkpoint is None:
            return None
        return self.path / CHECKPOINTS / best.checkpoint

    def write_results(self, result: TrainResult) -> None:
        """Write the model, reports and environment, then ``summary.json`` last.

        Until ``summary.json`` exists the run counts as unfinished, so a failure here (a full
        disk, say) leaves the folder resumable: training again finishes it.

        A follower (see :meth:`follow`) writes nothing: the chief writes the results.

        Raises:
            RunDirError: A file could not be written; the message names it.
        """
        if not self.writes:
            return
        files = [
            (VALIDATION, result.validation.to_json()),
            (TEST, result.test.to_json()),
            (
                ENVIRONMENT,
                _schema.to_json(environment(result.config, result.placement)),
            ),
            (SUMMARY, _schema.to_json(result)),
        ]
        if result.calibration is not None:
            files.insert(2, (CALIBRATION, _schema.to_json(result.calibration)))
        with os_errors_as(RunDirError, self.path / MODEL, hint=_RESUMABLE):
            atomic_save_model(result.model, self.path / MODEL)
        best = self.current_best()
        if best is not None:
            # A copy, not a move: until summary.json exists the checkpoint must stay whole.
            with (
                os_errors_as(RunDirError, self.path / BEST, hint=_RESUMABLE),
                staged(self.path / BEST) as tmp,
            ):
                shutil.copyfile(best, tmp)
        for name, text in files:
            with os_errors_as(RunDirError, self.path / name, hint=_RESUMABLE):
                atomic_write_text(self.path / name, text)
        shutil.rmtree(self.path / CHECKPOINTS, ignore_errors=True)


def _has_progress(run_dir: Path) -> bool:
    """Whether a run directory holds a checkpoint or a logged epoch (work to resume)."""
    metrics = run_dir / METRICS
    return (run_dir / CHECKPOINTS).exists() or (metrics.is_file() and metrics.stat().st_size > 0)


def _check_contents(run_dir: Path, config: TrainConfig) -> None:
    """Refuse a folder that holds a run of another config, a completed run, or other files."""
    config_path = run_dir / CONFIG
    if not config_path.is_file():
        # Hidden names are the lock and the leftovers of interrupted writes.
        others = (
            sorted(p.name for p in run_dir.iterdir() if not p.name.startswith("."))
            if run_dir.is_dir()
            else []
        )
        if others:
            raise RunDirError(
                f"{run_dir} is not empty ({', '.join(others[:5])}"
                f"{', ...' if len(others) > 5 else ''}) and holds no run ({CONFIG} is missing). "
                f"Choose a new or empty folder as the run directory."
            )
        return
    stored = _read_config(config_path)
    diffs = _differences(_comparable(stored), _comparable(config))
    if diffs and not _has_progress(run_dir) and not (run_dir / SUMMARY).exists():
        return  # an earlier attempt failed before its first epoch: the new config replaces it
    if diffs:
        raise RunDirError(
            f"{run_dir} holds a run with a different config, so it cannot be resumed: "
            f"{'; '.join(diffs)}. Use the same config to resume, or a new run directory."
        )
    if (run_dir / SUMMARY).is_file():
        raise RunDirError(
            f"{run_dir} already holds a completed run. Read it with fashionkit.load_run, or "
            f"train into a new run directory."
        )


def _remove_staged_leftovers(run_dir: Path) -> None:
    """Delete temporary files of writes that a killed process never finished (``.NAME.*``).

    Only the lock holder calls this, so no other process is writing them.
    """
    for folder in (run_dir, run_dir / CHECKPOINTS):
        if folder.is_dir():
            for path in folder.glob(".*.*"):
                if path.name != DirectoryLock.NAME and path.is_file():
                    path.unlink(missing_ok=True)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    lines = []
    try:
        with os_errors_as(RunDirError, path, action="read"):
            text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunDirError(f"{path} is not UTF-8 text ({exc}).") from exc
    rows = text.splitlines()
    for number, line in enumerate(rows, start=1):
        if not line.strip():
            continue
        try:
            parsed = json.loads(line)
        except ValueError as exc:
            if number == len(rows) and not text.endswith("\n"):
                break  # a last line cut short by a crash: its epoch was never completed
            raise RunDirError(f"{path} line {number} is not JSON ({exc}).") from exc
        if not isinstance(parsed, dict) or not isinstance(parsed.get("epoch"), int):
            raise RunDirError(f"{path} line {number} is not an epoch record: {line[:80]!r}.")
        lines.append(parsed)
    return lines


def _records(lines: list[dict[str, Any]], path: Path) -> tuple[EpochRecord, ...]:
    try:
        return tuple(EpochRecord.from_logs(line["epoch"], line) for line in lines)
    except (TypeError, ValueError) as exc:
        raise RunDirError(f"{path} holds a damaged epoch record ({exc}).") from exc


def _lines_through(path: Path, epoch: int) -> list[dict[str, Any]]:
    """The metrics log's lines of epochs up to ``epoch`` (none when there is no log)."""
    return [line for line in _read_jsonl(path) if line["epoch"] <= epoch] if path.is_file() else []


def _trim_metrics(path: Path, *, keep_through: int) -> tuple[EpochRecord, ...]:
    """Keep the lines of epochs up to ``keep_through``: later ones belong to lost work."""
    if not path.is_file():
        return ()
    lines = _lines_through(path, keep_through)
    atomic_write_text(path, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return _records(lines, path)


def environment(config: TrainConfig, placement: Any) -> dict[str, Any]:
    """Versions and machine facts worth keeping beside a run."""
    return {
        "fashionkit": package_version("fashionkit"),
        "tensorflow": package_version("tensorflow"),
        "keras": package_version("keras"),
        "numpy": package_version("numpy"),
        "scikit-learn": package_version("scikit-learn"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "placement": _schema.to_data(placement),
        "hardware": describe_machine(getattr(placement, "precision", None)),
        "seed": config.seed,
        "deterministic": config.deterministic,
    }


def check_model_path(path: PathLike) -> Path:
    """Check that a model can be saved at ``path``: a ``.keras`` name, not in a file.

    Missing folders are created when the model is saved.

    Raises:
        InputValidationError: The name does not end in ``.keras`` (Keras's format) or names a
            folder.
        StorageError: A parent of the path is a file.
    """
    target = Path(path)
    if target.suffix != ".keras" or target.is_dir():
        raise InputValidationError(
            f"{target}: a model is saved as a .keras file; give a file name ending in .keras."
        )
    check_parents(target)
    return target


def save_model(model: Any, path: PathLike) -> Path:
    """Save a Keras model atomically to a ``.keras`` file and return its path.

    Raises:
        InputValidationError: The name does not end in ``.keras``.
        StorageError: The file could not be written (nothing is left under its name).
    """
    target = check_model_path(path)
    with os_errors_as(StorageError, target):
        return atomic_save_model(model, target)


@attrs.frozen(kw_only=True, eq=False)
class RunRecord:
    """A completed run read back from its directory by :func:`load_run`.

    Attributes:
        directory: The run directory.
        config: The config the run trained with.
        model: The final ``keras.Model``, loaded with Keras's safe mode on.
        validation: The validation report.
        test: The test report.
        history: One record per epoch, from the metrics log.
        environment: Versions and devices recorded at the end of the run.
        summary: The run's ``summary.json`` (the layout of :meth:`~fashionkit.TrainResult.to_dict`).
        calibration: The fitted temperature (``calibration.json``), or ``None`` for a run
            trained without ``calibrate``.
    """

    directory: Path
    config: TrainConfig
    model: Any
    validation: EvaluationReport
    test: EvaluationReport
    history: tuple[EpochRecord, ...]
    environment: dict[str, Any]
    summary: dict[str, Any]
    calibration: Calibration | None = None

    @property
    def temperature(self) -> float:
        """The temperature to apply to the model's probabilities (1.0 when uncalibrated)."""
        return self.calibration.temperature if self.calibration is not None else 1.0

    def _repr_html_(self) -> str:
        """The folder, the final reports' summary lines and one row per epoch, as HTML."""
        lines = [
            f"run {self.directory} ({self.config.model.architecture})",
            self.validation.to_text().splitlines()[0],
            self.test.to_text().splitlines()[0],
        ]
        return "".join(_html.caption(line) for line in lines) + history_html(self.history)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise RunDirError(f"{path} is missing: the run directory is incomplete.")
    try:
        with os_errors_as(RunDirError, path, action="read"):
            return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path} is corrupted: it is not valid JSON ({exc}).") from exc


def _read_object(path: Path) -> dict[str, Any]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise RunDirError(f"{path} is corrupted: it holds {type(data).__name__}, not an object.")
    return data


def _read_report(path: Path) -> EvaluationReport:
    try:
        return EvaluationReport.from_dict(_read_object(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunDirError(f"{path} is not an evaluation report ({exc!r}).") from exc


def completed_run_config(run_dir: PathLike) -> TrainConfig:
    """The config of a completed run directory: not still training, ``summary.json`` written.

    Raises:
        RunDirError: Not a directory, no ``config.toml``, still training, or interrupted (the
            message says how to resume it).
    """
    directory = Path(run_dir)
    if not directory.is_dir():
        raise RunDirError(f"{directory} is not a directory.")
    if is_locked(directory):
        raise RunDirError(
            f"The run in {directory} is still in progress: {describe_holder(directory)} is "
            f"training into it. Use it once training has finished."
        )
    config_path = directory / CONFIG
    if not config_path.is_file():
        raise RunDirError(f"{config_path} is missing: {directory} is not a run directory.")
    config = _read_config(config_path)
    if not (directory / SUMMARY).is_file():
        raise RunDirError(
            f"{directory / SUMMARY} is missing: the run in {directory} did not complete. Resume "
            f"it by training again with the same config and run directory."
        )
    return config


def run_temperature(run_dir: PathLike, config: TrainConfig) -> float:
    """The temperature a run's predictions use: its ``calibration.json``'s, 1.0 if uncalibrated.

    Raises:
        RunDirError: The run was trained with ``calibrate`` but has no ``calibration.json`` (its
            probabilities would silently lose the temperature), or the file is damaged.
    """
    calibration = read_calibration(run_dir)
    if calibration is None and config.calibrate:
        raise RunDirError(
            f"{Path(run_dir) / CALIBRATION} is missing although the run was trained with "
            f"calibrate = true; without it the run's probabilities would lose their temperature."
        )
    return calibration.temperature if calibration is not None else 1.0


def read_calibration(run_dir: PathLike) -> Calibration | None:
    """The run's ``calibration.json``, or ``None`` when the run was not calibrated.

    Raises:
        RunDirError: The file exists but is unreadable or malformed.
    """
    path = Path(run_dir) / CALIBRATION
    if not path.exists():
        return None
    try:
        return Calibration.from_dict(_read_object(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunDirError(f"{path} is not a calibration record ({exc!r}).") from exc


def load_model(path: PathLike) -> Any:
    """Load a ``.keras`` file with Keras's safe mode on; any failure names the file.

    Raises:
        RunDirError: The file is missing, or is not a loadable Keras model.
    """
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path} is missing: there is no model file there.")
    import keras

    import fashionkit._schedules  # noqa: F401 - registers the schedule a checkpoint may hold

    if path.suffix != ".keras":
        raise RunDirError(f"{path} is not a .keras model file (its suffix is {path.suffix!r}).")
    try:
        # Safe mode refuses to deserialise code (lambdas) from the file.
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise RunDirError(
            f"{path} is corrupted or not a Keras model ({type(exc).__name__}: {exc})."
        ) from exc


def load_run(path: PathLike) -> RunRecord:
    """Read a completed run directory: the model, its config, reports and history.

    Keras's safe mode stays on, so loading never runs code stored in the file.

    Args:
        path: A run directory written by ``fashionkit.train(..., run_dir=path)``.

    Returns:
        The run's record.

    Raises:
        RunDirError: The folder is not a run directory, the run did not complete, or a file is
            missing or corrupted; the message names the file.

    Example:
        >>> record = load_run("runs/tutorial")  # doctest: +SKIP
        >>> record.test.accuracy  # doctest: +SKIP
        0.8504
    """
    directory = Path(path)
    config = completed_run_config(directory)
    summary = _read_object(directory / SUMMARY)
    metrics = directory / METRICS
    history = _records(_read_jsonl(metrics), metrics) if metrics.is_file() else ()
    return RunRecord(
        directory=directory,
        config=config,
        model=load_model(directory / MODEL),
        validation=_read_report(directory / VALIDATION),
        test=_read_report(directory / TEST),
        history=history,
        environment=_read_object(directory / ENVIRONMENT),
        summary=summary,
        calibration=read_calibration(directory),
    )
