"""Append-only JSON-lines files that survive a torn tail: the metrics logs and the sweep journal.

A process killed while it appends a record leaves the file's last line unterminated. The
readers here never take such a line for a record, and :func:`repair` (run by the next writer,
under the file's lock) cuts it off, logging how many bytes it dropped and how many records it
kept, so that the next append starts on a fresh line instead of gluing a new record onto the
torn one. A malformed record anywhere else is damage, not a torn tail: it is refused with a
message naming the file and the line, and the file is left as it is.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from fashionkit.exceptions import StorageError

__all__ = ["append_record", "read_records", "repair"]

logger = logging.getLogger("fashionkit")


def _parses(text: bytes) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _lines(data: bytes) -> tuple[list[bytes], bytes]:
    """The terminated lines of ``data`` and what follows the last newline (the tail)."""
    end = data.rfind(b"\n") + 1
    body, tail = data[:end], data[end:]
    return body.splitlines(), tail


def read_records(
    path: Path, *, error: type[StorageError] = StorageError, parse: bool = True
) -> list[Any]:
    """The records of a JSON-lines file: every terminated, non-blank line, parsed.

    An unterminated last line is a record only if it parses (a writer killed after the
    record, before its newline); otherwise it is a torn tail and left out.

    Args:
        path: The file; a missing file has no records.
        error: The exception class of a damaged file. Defaults to ``StorageError``.
        parse: Return the parsed records; ``False`` only checks them and returns the raw
            lines (as bytes).

    Raises:
        StorageError: (``error``) The file cannot be read, or a line other than a torn tail
            is not JSON; the message names the file and the line.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise error(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    lines, tail = _lines(data)
    if tail.strip() and _parses(tail):
        lines.append(tail)
    records: list[Any] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise error(
                f"{path} line {number} is not a JSON record ({exc}); the file is damaged there "
                f"(not only at its end, which a killed writer may leave), so it was left as it "
                f"is. Move it away, or repair that line."
            ) from None
        records.append(value if parse else line)
    return records


def repair(path: Path, *, error: type[StorageError] = StorageError) -> int:
    """Check ``path`` and make it end on a fresh line, for the next append; under its lock.

    Every record is checked first, and a damaged one before the last line is refused, leaving
    the file as it is. Then a torn last line (unterminated, not JSON) is cut off, and the bytes
    dropped and the records kept are logged as a warning; an unterminated last line that
    parses gets its newline.

    Returns:
        The number of bytes cut off (0 when nothing was torn).

    Raises:
        StorageError: (``error``) The file cannot be read or written, or holds a damaged
            record before its last line.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise error(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    kept = len(read_records(path, error=error, parse=False))  # refuses damage before the tail
    _, tail = _lines(data)
    if not tail:
        return 0
    try:
        with path.open("r+b") as out:
            if _parses(tail):
                out.seek(len(data))
                out.write(b"\n")
                dropped = 0
            else:
                out.truncate(len(data) - len(tail))
                dropped = len(tail)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise error(f"Cannot repair {path}: {exc.strerror or exc}.") from exc
    if dropped:
        logger.warning(
            "fashionkit: %s ended in a torn record (a writer was killed while appending it): "
            "dropped its %d byte(s), kept %d record(s)",
            path,
            dropped,
            kept,
        )
    return dropped


def append_record(path: Path, line: str) -> None:
    """Append one record's line, starting on a fresh line; flushed and synced before returning.

    If the file does not end with a newline (a writer was killed mid-append since it was last
    repaired), it is repaired first (:func:`repair`). The caller holds the file's lock. The file
    is opened for this line only, so no handle stays open if the process dies.

    Raises:
        OSError: The file cannot be written (callers word it for their file).
        StorageError: The file holds a damaged record before its last line.
    """
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as existing:
            existing.seek(-1, os.SEEK_END)
            fresh = existing.read(1) == b"\n"
        if not fresh:
            repair(path)
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())
