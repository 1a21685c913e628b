"""Run directories: everything a training run produced, written crash-safely, and read back.

Layout of a run directory (every file is written to a temporary name, flushed and renamed):

==================== =====================================================================
``config.toml``      the resolved :class:`~fashionkit.config.TrainConfig`; written first
``metrics.jsonl``    one JSON line per completed epoch, flushed as soon as the epoch ends
``checkpoint/``      the latest epoch's full model while training runs (removed at the end)
``model.keras``      the final model
``validation.json``  :class:`~fashionkit.EvaluationReport` of the validation split
``test.json``        :class:`~fashionkit.EvaluationReport` of the test split
``environment.json`` library versions, Python, platform, devices, seed
``summary.json``     history, timings, stop reason; written last, it marks the run complete
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

from fashionkit._io import atomic_save_model, atomic_write_text
from fashionkit._typing import PathLike
from fashionkit.config import TrainConfig
from fashionkit.evaluation import EvaluationReport
from fashionkit.exceptions import ConfigError, RunDirError

__all__ = ["RunRecord", "load_run"]

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoint"
MODEL = "model.keras"
VALIDATION = "validation.json"
TEST = "test.json"
ENVIRONMENT = "environment.json"
SUMMARY = "summary.json"

# Fields that may differ when a run is resumed: they change what is printed, not what is trained.
_RESUME_MAY_CHANGE = frozenset({"verbose"})


def _comparable(config: TrainConfig) -> dict[str, Any]:
    return {k: v for k, v in config.to_dict().items() if k not in _RESUME_MAY_CHANGE}


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} in the directory, {b!r} now")
    return out


@attrs.frozen(kw_only=True)
class ResumePoint:
    """Where a run directory stands before training (internal to :func:`fashionkit.train`)."""

    epoch: int
    checkpoint: Path | None
    history: tuple[dict[str, Any], ...]


def prepare(run_dir: Path, config: TrainConfig) -> ResumePoint:
    """Create or check a run directory and find the epoch to resume from."""
    from fashionkit.callbacks import EpochCheckpoint

    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = run_dir / CONFIG
    if config_path.is_file():
        try:
            stored = TrainConfig.from_toml(config_path)
        except ConfigError as exc:
            raise RunDirError(
                f"{config_path} cannot be read back ({exc}). The directory belongs to another "
                f"run or was damaged: choose a new run directory."
            ) from exc
        diffs = _differences(_comparable(stored), _comparable(config))
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
    else:
        config.write_toml(config_path)
    latest = EpochCheckpoint.latest(run_dir / CHECKPOINTS)
    epoch, checkpoint = latest if latest is not None else (0, None)
    history = _trim_metrics(run_dir / METRICS, keep_through=epoch)
    return ResumePoint(epoch=epoch, checkpoint=checkpoint, history=history)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    lines = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except ValueError as exc:
            raise RunDirError(f"{path} line {number} is not JSON ({exc}).") from exc
    return lines


def _trim_metrics(path: Path, *, keep_through: int) -> tuple[dict[str, Any], ...]:
    """Keep the lines of epochs up to ``keep_through``: later ones belong to lost work."""
    if not path.is_file():
        return ()
    lines = [line for line in _read_jsonl(path) if int(line.get("epoch", 0)) <= keep_through]
    atomic_write_text(path, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return tuple(lines)


def environment(config: TrainConfig, placement: Any) -> dict[str, Any]:
    """Versions and machine facts worth keeping beside a run."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "fashionkit": ver("fashionkit"),
        "tensorflow": ver("tensorflow"),
        "keras": ver("keras"),
        "numpy": ver("numpy"),
        "scikit-learn": ver("scikit-learn"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "placement": attrs.asdict(placement),
        "seed": config.seed,
        "deterministic": config.deterministic,
    }


def save_model(model: Any, path: Path) -> None:
    """Save a Keras model atomically (see :func:`fashionkit._io.atomic_save_model`)."""
    atomic_save_model(model, path)


def finish(run_dir: Path, result: Any) -> None:
    """Write the final model, reports and environment, then ``summary.json`` last."""
    save_model(result.model, run_dir / MODEL)
    atomic_write_text(run_dir / VALIDATION, result.validation.to_json())
    atomic_write_text(run_dir / TEST, result.test.to_json())
    atomic_write_text(
        run_dir / ENVIRONMENT,
        json.dumps(environment(result.config, result.placement), indent=2, ensure_ascii=False),
    )
    summary = {
        "history": [attrs.asdict(r) for r in result.history],
        "fit_seconds": result.fit_seconds,
        "total_seconds": result.total_seconds,
        "stop_reason": result.stop_reason,
        "resumed_from_epoch": result.resumed_from_epoch,
        "validation_accuracy": result.validation.accuracy,
        "test_accuracy": result.test.accuracy,
    }
    atomic_write_text(run_dir / SUMMARY, json.dumps(summary, indent=2))
    shutil.rmtree(run_dir / CHECKPOINTS, ignore_errors=True)


@attrs.frozen(kw_only=True, eq=False)
class RunRecord:
    """A completed run read back from its directory by :func:`load_run`.

    Attributes:
        directory: The run directory.
        config: The config the run trained with.
        model: The final ``keras.Model``, loaded with Keras's safe mode on.
        validation: The validation report.
        test: The test report.
        history: One dict per epoch, as the metrics log holds them.
        environment: Versions and devices recorded at the end of the run.
        summary: Timings, stop reason and final accuracies.
    """

    directory: Path
    config: TrainConfig
    model: Any
    validation: EvaluationReport
    test: EvaluationReport
    history: tuple[dict[str, Any], ...]
    environment: dict[str, Any]
    summary: dict[str, Any]


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise RunDirError(f"{path} is missing: the run directory is incomplete.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path} is corrupted: it is not valid JSON ({exc}).") from exc


def _read_report(path: Path) -> EvaluationReport:
    try:
        return EvaluationReport.from_dict(_read_json(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunDirError(f"{path} is not an evaluation report ({exc!r}).") from exc


def load_model(path: Path) -> Any:
    """Load a ``.keras`` file with safe mode on; any failure names the file.

    Raises:
        RunDirError: The file is missing, or is not a loadable Keras model.
    """
    if not path.is_file():
        raise RunDirError(f"{path} is missing: the run directory holds no final model.")
    import keras

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
    if not directory.is_dir():
        raise RunDirError(f"{directory} is not a directory.")
    config_path = directory / CONFIG
    if not config_path.is_file():
        raise RunDirError(f"{config_path} is missing: {directory} is not a run directory.")
    try:
        config = TrainConfig.from_toml(config_path)
    except ConfigError as exc:
        raise RunDirError(f"{config_path} is corrupted: {exc}") from exc
    summary = _read_json(directory / SUMMARY)
    metrics = directory / METRICS
    history = tuple(_read_jsonl(metrics)) if metrics.is_file() else ()
    return RunRecord(
        directory=directory,
        config=config,
        model=load_model(directory / MODEL),
        validation=_read_report(directory / VALIDATION),
        test=_read_report(directory / TEST),
        history=history,
        environment=_read_json(directory / ENVIRONMENT),
        summary=summary,
    )
