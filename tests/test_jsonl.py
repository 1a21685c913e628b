"""Append-only JSON-lines files: a torn tail is cut, damage elsewhere refused, appends fresh."""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fashionkit._jsonl import append_record, read_records, repair
from fashionkit.exceptions import RunDirError, StorageError

RECORDS = [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.4}]


def _write(path: Path, records: list[dict[str, object]], tail: bytes = b"") -> bytes:
    body = "".join(json.dumps(r) + "\n" for r in records).encode() + tail
    path.write_bytes(body)
    return body


def test_a_torn_last_line_is_no_record(tmp_path: Path) -> None:
    """It reads the complete records and leaves out an unterminated line that does not parse."""
    path = tmp_path / "log.jsonl"
    _write(path, RECORDS, b'{"epoch": 3, "lo')
    assert read_records(path) == RECORDS


def test_an_unterminated_last_record_that_parses_is_kept(tmp_path: Path) -> None:
    """It keeps a last record whose writer died before its newline, and repair ends the line."""
    path = tmp_path / "log.jsonl"
    _write(path, RECORDS, b'{"epoch": 3}')
    assert read_records(path) == [*RECORDS, {"epoch": 3}]
    assert repair(path) == 0
    assert path.read_bytes().endswith(b'{"epoch": 3}\n')


def test_repair_cuts_a_torn_tail_and_says_what_it_dropped_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """It truncates the torn bytes and logs a warning with the bytes dropped and records kept."""
    path = tmp_path / "log.jsonl"
    body = _write(path, RECORDS)
    path.write_bytes(body + b'{"epoch": 3, "lo')
    with caplog.at_level(logging.WARNING, logger="fashionkit"):
        assert repair(path) == len(b'{"epoch": 3, "lo')
    assert path.read_bytes() == body
    assert "dropped its 16 byte(s), kept 2 record(s)" in caplog.text


def test_damage_before_the_last_line_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    """It names the file and the line of a damaged record, and changes nothing."""
    path = tmp_path / "log.jsonl"
    damaged = b'{"epoch": 1}\n{broken\n{"epoch": 3}\n{"epoch": 4, "lo'
    path.write_bytes(damaged)
    for call in (read_records, repair):
        with pytest.raises(RunDirError, match=rf"{path.name} line 2 is not a JSON record"):
            call(path, error=RunDirError)
    assert path.read_bytes() == damaged


def test_an_append_after_a_torn_tail_starts_on_a_fresh_line(tmp_path: Path) -> None:
    """It repairs a torn tail before appending, so the new record is whole and readable."""
    path = tmp_path / "log.jsonl"
    _write(path, RECORDS, b'{"epoch": 3, "lo')
    append_record(path, json.dumps({"epoch": 3, "loss": 0.3}))
    assert read_records(path) == [*RECORDS, {"epoch": 3, "loss": 0.3}]
    assert path.read_text().count("\n") == 3


def test_a_missing_file_has_no_records_and_an_unreadable_one_is_a_storage_error(
    tmp_path: Path,
) -> None:
    """It returns no records for a missing file and raises StorageError for a folder."""
    assert read_records(tmp_path / "none.jsonl") == []
    assert repair(tmp_path / "none.jsonl") == 0
    with pytest.raises(StorageError, match="Cannot read"):
        read_records(tmp_path)


# A real process killed while it appends: it writes half a record, flushes it, then blocks.
_TORN_WRITER = textwrap.dedent(
    """
    import os, sys
    line = '{"epoch": 3, "loss": 0.25, "accuracy": 0.875}'
    with open(sys.argv[1], "a", encoding="utf-8") as out:
        out.write(line[: len(line) // 2])
        out.flush()
        os.fsync(out.fileno())
        print("torn", flush=True)
        sys.stdin.read()
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_writer_killed_mid_append_loses_no_complete_record(tmp_path: Path) -> None:
    """It keeps every record a killed writer completed, and the next append is readable."""
    path = tmp_path / "log.jsonl"
    _write(path, RECORDS)
    child = subprocess.Popen(
        [sys.executable, "-c", _TORN_WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready
        assert child.stdout.readline().strip() == "torn"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    assert not path.read_bytes().endswith(b"\n")
    assert read_records(path) == RECORDS
    append_record(path, json.dumps({"epoch": 3}))
    assert read_records(path) == [*RECORDS, {"epoch": 3}]
