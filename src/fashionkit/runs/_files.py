"""Reading a run directory's files back; any damage is a RunDirError that names the file."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from fashionkit._io import os_errors_as
from fashionkit._jsonl import read_records
from fashionkit._validation import shown
from fashionkit.calibration import Calibration
from fashionkit.config import TrainConfig
from fashionkit.evaluation import EvaluationReport
from fashionkit.exceptions import ConfigError, RunDirError, UnknownModelError
from fashionkit.results import EpochRecord

__all__ = [
    "check_archive",
    "read_calibration",
    "read_config",
    "read_epoch_lines",
    "read_object",
    "read_report",
    "records",
]


def read_config(path: Path) -> TrainConfig:
    """The run's ``config.toml``.

    Raises:
        RunDirError: The file is missing, unreadable, not a valid config, or names an
            architecture this process does not know.
    """
    if not path.is_file():
        raise RunDirError(f"{path} is missing: {path.parent} is not a run directory.")
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


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise RunDirError(f"{path} is missing: the run directory is incomplete.")
    try:
        with os_errors_as(RunDirError, path, action="read"):
            return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path} is corrupted: it is not valid JSON ({exc}).") from exc


def read_object(path: Path) -> dict[str, Any]:
    """A JSON file holding one object.

    Raises:
        RunDirError: The file is missing, unreadable, or not one JSON object.
    """
    data = _read_json(path)
    if not isinstance(data, dict):
        raise RunDirError(f"{path} is corrupted: it holds {type(data).__name__}, not an object.")
    return data


def read_report(path: Path) -> EvaluationReport:
    """An evaluation report (``validation.json``, ``test.json``).

    Raises:
        RunDirError: The file is missing or not an evaluation report.
    """
    try:
        return EvaluationReport.from_dict(read_object(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunDirError(f"{path} is not an evaluation report ({shown(exc)}).") from exc


def read_calibration(path: Path) -> Calibration | None:
    """``calibration.json``, or ``None`` when there is none.

    Raises:
        RunDirError: The file exists but is unreadable or malformed.
    """
    if not path.exists():
        return None
    try:
        return Calibration.from_dict(read_object(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunDirError(f"{path} is not a calibration record ({shown(exc)}).") from exc


def read_epoch_lines(path: Path, *, through: int | None = None) -> list[dict[str, Any]]:
    """The metrics log's epoch lines (up to epoch ``through``); none when there is no log.

    A last line that a crash cut short (no newline, not JSON) belongs to an epoch that never
    completed and is left out; a damaged line anywhere else is refused.

    Raises:
        RunDirError: The log is unreadable, not UTF-8, or holds a line that is not an epoch
            record.
    """
    lines = []
    for number, parsed in enumerate(read_records(path, error=RunDirError), start=1):
        if not isinstance(parsed, dict) or not isinstance(parsed.get("epoch"), int):
            raise RunDirError(f"{path} record {number} is not an epoch record: {shown(parsed)}.")
        if through is None or parsed["epoch"] <= through:
            lines.append(parsed)
    return lines


def records(lines: list[dict[str, Any]], path: Path) -> tuple[EpochRecord, ...]:
    """The epoch records of the metrics log's lines.

    Raises:
        RunDirError: A line is not a valid epoch record.
    """
    try:
        return tuple(EpochRecord.from_logs(line["epoch"], line) for line in lines)
    except (TypeError, ValueError) as exc:
        raise RunDirError(f"{path} holds a damaged epoch record ({exc}).") from exc


def check_archive(path: Path) -> None:
    """Check that a ``.keras`` file is a whole archive (every member's checksum), cheaply.

    A truncated or overwritten model file fails here, when the run is read, rather than in
    Keras with a long message, after the data was loaded.

    Raises:
        RunDirError: The file is missing or damaged.
    """
    if not path.is_file():
        raise RunDirError(f"{path} is missing: the run directory is incomplete.")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise RunDirError(
            f"{path} is corrupted: it is not a whole Keras model file ({exc})."
        ) from exc
    if bad is not None:
        raise RunDirError(f"{path} is corrupted: its member {bad} fails its checksum.")
