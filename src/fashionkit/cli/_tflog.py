"""TensorFlow's start-up log: kept off the terminal, or filtered by the user's level."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator

from fashionkit.cli._options import debug_wanted

# The filter the user's TF_CPP_MIN_LOG_LEVEL puts TensorFlow's start-up log through (see
# start_tensorflow). It runs as a process of its own, so that what TensorFlow writes before a
# crash (a FATAL line, then abort) still gets through: it copies its standard input to its
# standard output line by line and leaves out only absl's log lines ("E0000 00:00:1745.123456
# 4321 cuda_dnn.cc:8310] ...") below the level in argv[1] (0 INFO, 1 WARNING, 2 ERROR; FATAL
# lines always pass) and absl's note that logging is not yet initialised, which absl writes at
# INFO. Every other line (Python's warnings and tracebacks, anything unrecognised) passes.
_TF_LOG_FILTER = r"""
import re, sys
minimum = int(sys.argv[1])
record = re.compile(rb"([IWEF])\d{4} [\d:.]+ +\d+ [^ \]]+:\d+\] ")
note = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
rank = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    found = record.match(line)
    if found and found.group(1) != b"F" and rank[found.group(1)] < minimum:
        continue
    if minimum >= 1 and line.rstrip(b"\r\n") == note:
        continue
    out.write(line)
    out.flush()
"""


def _tf_log_level(value: str | None) -> int:
    """``TF_CPP_MIN_LOG_LEVEL`` as TensorFlow reads it: an integer, anything else 0."""
    try:
        return int((value or "").strip())
    except ValueError:
        return 0


@contextlib.contextmanager
def _tf_log_filtered(level: int) -> Iterator[None]:
    """Within the block, standard error goes through :data:`_TF_LOG_FILTER` at ``level``.

    Nothing is filtered if the filter process cannot be started.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to filter
        yield
        return
    try:
        # A session of its own: Ctrl-C at the terminal stops the command, not the filter, which
        # ends when the command closes the pipe (or dies) and it has copied everything.
        child = subprocess.Popen(  # noqa: S603 - this interpreter and the script above
            [sys.executable, "-I", "-S", "-c", _TF_LOG_FILTER, str(level)],
            stdin=subprocess.PIPE,
            stdout=saved,
            start_new_session=True,
        )
    except OSError:
        os.close(saved)
        yield
        return
    if child.stdin is None:  # stdin=PIPE guarantees it; narrowed for mypy
        raise AssertionError
    os.dup2(child.stdin.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a copy of the pipe kept open somewhere
            child.kill()
            child.wait()


def start_tensorflow(args: argparse.Namespace) -> None:
    """Import TensorFlow and list the devices with its start-up log kept off the terminal.

    TensorFlow's C++ and absl start-up lines (CUDA probing on a machine without a GPU, CPU
    feature notes) are written to the process's standard error before any Python setting can
    silence them, so standard error is captured while they are produced and shown only if the
    import fails. With ``--debug`` they are shown as usual, and so they are when the user set
    ``TF_CPP_MIN_LOG_LEVEL`` to 0 (or to something that is not a number), TensorFlow's "show
    everything".

    When the user set it to 1 or more, TensorFlow filters its own log by that level, but not
    the absl lines its libraries write while they load, before absl's logging is initialised
    (``I0000 00:00:... port.cc:153] oneDNN custom operations are on``, absl's note
    ``WARNING: All log messages before absl::InitializeLog() is called are written to
    STDERR``). So TensorFlow is imported with standard error going through a filter that
    applies the level to those lines as TensorFlow documents it: 1 leaves out INFO (and the
    note, which absl writes at INFO), 2 WARNING too, 3 ERROR too. FATAL lines and everything
    that is not an absl log line (Python's warnings and tracebacks) always pass, as they are
    written. The devices are not listed here then, as before: TensorFlow lists them when the
    command needs them, and its own level applies to what it writes then.
    """
    if debug_wanted(args) or "tensorflow" in sys.modules:
        return
    user_level = getattr(args, "user_tf_log_level", None)
    if user_level is not None:
        level = _tf_log_level(user_level)
        if level >= 1:
            with _tf_log_filtered(level):
                import tensorflow  # noqa: F401 - imported for its start-up log, filtered
        return
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", errors="replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
