"""The process that trains into a run directory: it locks it, keeps it current, writes results."""

from __future__ import annotations

import json
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

from fashionkit import _schema
from fashionkit._io import (
    DirectoryLock,
    atomic_save_model,
    atomic_write_text,
    in_use_message,
    is_locked,
    os_errors_as,
    staged,
)
from fashionkit._jsonl import repair
from fashionkit._typing import PathLike
from fashionkit._validation import params
from fashionkit.config import TrainConfig
from fashionkit.exceptions import RunDirError
from fashionkit.hardware import describe_machine, package_version
from fashionkit.results import CheckpointState, EpochRecord, TrainResult
from fashionkit.runs._files import read_config, read_epoch_lines, records
from fashionkit.runs._layout import RunLayout
from fashionkit.runs._models import load_model
from fashionkit.runs._resume import ResumeState, check_contents, read_checkpoint_state, refuse_file

__all__ = ["RunWriter", "environment"]

_RESUMABLE = "The run directory keeps every completed epoch: run the same command again to resume."


class RunWriter(ResumeState):
    """A run directory as :func:`fashionkit.train` writes it: locked, resumable, then complete.

    :meth:`open` locks the folder for this process, creates it (writing ``config.toml``) or
    checks that it holds an unfinished run of the same config, and reads the newest
    checkpoint; training then takes the model to resume from with ``restore_model()``, the
    callbacks that keep the folder up to date with :meth:`callbacks`, writes the results with
    :meth:`write_results` and releases the lock with :meth:`close`. The lock is the operating
    system's: a process that dies, even by ``SIGKILL``, releases it.
    """

    @params()
    def __init__(
        self,
        layout: RunLayout,
        config: TrainConfig,
        *,
        state: CheckpointState | None,
        history: tuple[EpochRecord, ...],
        lock: DirectoryLock,
    ) -> None:
        super().__init__(layout, config, state=state, history=history)
        self._lock: DirectoryLock | None = lock

    @classmethod
    @params()
    def open(cls, path: PathLike, config: TrainConfig) -> RunWriter:
        """Create or check a run directory, lock it, and find the epoch to resume from.

        Raises:
            RunDirError: Another process is training into the folder, the path is a file, or
                the folder holds another config, a completed run, damaged files, or cannot be
                written.
        """
        layout = RunLayout(Path(path))
        cls.check(layout.root, config)
        with os_errors_as(RunDirError, layout.root, action="create the run directory"):
            layout.root.mkdir(parents=True, exist_ok=True)
        lock = DirectoryLock(layout.root)
        with os_errors_as(RunDirError, layout.lock, action="lock"):
            lock.acquire()
        try:
            return cls._locked(layout, config, lock)
        except BaseException:
            lock.release()
            raise

    @staticmethod
    @params()
    def check(path: PathLike, config: TrainConfig) -> None:
        """Refuse a folder that :meth:`open` would refuse, without creating or locking anything.

        For callers that want to fail before slow work (the command line checks before it
        loads the data).

        Raises:
            RunDirError: The path is a file, another process is training into the folder, or
                it holds a run of another config or a completed run.
        """
        layout = RunLayout(Path(path))
        refuse_file(layout.root)
        if is_locked(layout.root):
            raise RunDirError(in_use_message(layout.root))
        check_contents(layout, config)

    @classmethod
    def _locked(cls, layout: RunLayout, config: TrainConfig, lock: DirectoryLock) -> RunWriter:
        _remove_staged_leftovers(layout)
        check_contents(layout, config)  # again, now that this process holds the lock
        if not layout.config.is_file() or read_config(layout.config) != config:
            with os_errors_as(RunDirError, layout.config):
                atomic_write_text(layout.config, config.to_toml())
        state = read_checkpoint_state(layout)
        with os_errors_as(RunDirError, layout.metrics, action="rewrite"):
            history = _trim_metrics(layout.metrics, keep_through=state.epoch if state else 0)
        return cls(layout, config, state=state, history=history, lock=lock)

    def close(self) -> None:
        """Release the lock on the folder (training into it is over, or failed)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @property
    def checkpoint_folder(self) -> Path:
        """The folder of the resume checkpoints and the best model while training runs."""
        return self.layout.checkpoints

    def callbacks(self) -> list[Any]:
        """The metrics log, the TensorBoard logs, then the checkpoint.

        The checkpoint comes last, so that a checkpointed epoch always has its line (and its
        TensorBoard points, with ``config.tensorboard``).
        """
        from fashionkit.callbacks import (
            EpochCheckpoint,
            JSONLinesLogger,
            TensorBoardLogger,
            config_hparams,
        )

        # A failed write of a run directory's file says that the run can be resumed.
        logs: list[Any] = [
            JSONLinesLogger(
                self.layout.metrics, append=True, error_type=RunDirError, error_hint=_RESUMABLE
            )
        ]
        if self.config.tensorboard:
            logs.append(
                TensorBoardLogger(
                    self.layout.tensorboard,
                    error_type=RunDirError,
                    error_hint=_RESUMABLE,
                    hparams=config_hparams(self.config),
                )
            )
        return [*logs, EpochCheckpoint(self.layout.checkpoints)]

    def best_weights(self) -> list[Any] | None:
        """The weights of the best epoch that the newest checkpoint names, or ``None``."""
        path = self._current_best()
        return None if path is None else load_model(path).get_weights()

    def _current_best(self) -> Path | None:
        """The best model the newest checkpoint names (read again: training may have moved on)."""
        state = read_checkpoint_state(self.layout)
        best = None if state is None else state.best
        if best is None or best.checkpoint is None:
            return None
        return self.layout.checkpoints / best.checkpoint

    @params()
    def write_results(self, result: TrainResult) -> None:
        """Write the model, reports and environment, then ``summary.json`` last.

        Until ``summary.json`` exists the run counts as unfinished, so a failure here (a full
        disk, say) leaves the folder resumable: training again finishes it.

        Raises:
            RunDirError: A file could not be written; the message names it.
        """
        layout = self.layout
        files = [
            (layout.validation, result.validation.to_json()),
            (layout.test, result.test.to_json()),
            (layout.environment, _schema.to_json(environment(result.config, result.placement))),
            (layout.summary, _schema.to_json(result)),
        ]
        if result.calibration is not None:
            files.insert(2, (layout.calibration, _schema.to_json(result.calibration)))
        with os_errors_as(RunDirError, layout.model, hint=_RESUMABLE):
            atomic_save_model(result.model, layout.model)
        best = self._current_best()
        if best is not None:
            # A copy, not a move: until summary.json exists the checkpoint must stay whole.
            with (
                os_errors_as(RunDirError, layout.best, hint=_RESUMABLE),
                staged(layout.best) as tmp,
            ):
                shutil.copyfile(best, tmp)
        for path, text in files:
            with os_errors_as(RunDirError, path, hint=_RESUMABLE):
                atomic_write_text(path, text)
        shutil.rmtree(layout.checkpoints, ignore_errors=True)


def _remove_staged_leftovers(layout: RunLayout) -> None:
    """Delete temporary files of writes that a killed process never finished (``.NAME.*``).

    Only the lock holder calls this, so no other process is writing them.
    """
    for folder in (layout.root, layout.checkpoints):
        if folder.is_dir():
            for path in folder.glob(".*.*"):
                if path.name != layout.lock.name and path.is_file():
                    path.unlink(missing_ok=True)


def _trim_metrics(path: Path, *, keep_through: int) -> tuple[EpochRecord, ...]:
    """Keep the lines of epochs up to ``keep_through``: later ones belong to lost work.

    A torn last line (the process was killed while appending it) is cut off first, with a
    warning (see ``fashionkit._jsonl.repair``).
    """
    if not path.is_file():
        return ()
    repair(path, error=RunDirError)
    lines = read_epoch_lines(path, through=keep_through)
    atomic_write_text(path, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return records(lines, path)


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
