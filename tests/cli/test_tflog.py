"""TensorFlow's start-up log: kept off the terminal, or filtered by the user's level."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from fashionkit import cli

#: The ``TF_CPP_MIN_LOG_LEVEL`` of each real ``fashionkit evaluate`` process the tests read:
#: none (fashionkit keeps the start-up log off the terminal), 0 (the user wants all of it) and 1
#: (the user's level, applied by fashionkit's filter).
_LEVELS = (None, "0", "1")


@pytest.fixture(scope="module")
def start_up_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str | None, list[str]]:
    """Standard error of ``fashionkit evaluate`` on a broken model, for each of :data:`_LEVELS`.

    The processes run at the same time, each paying TensorFlow's start-up once.
    """
    model = tmp_path_factory.mktemp("tflog") / "garbage.keras"
    model.write_bytes(b"not a zip archive")
    env = {
        k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "FASHIONKIT_DEBUG")
    }
    children = {
        level: subprocess.Popen(
            [sys.executable, "-m", "fashionkit.cli", "evaluate", str(model)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env if level is None else {**env, "TF_CPP_MIN_LOG_LEVEL": level},
        )
        for level in _LEVELS
    }
    logs = {}
    for level, child in children.items():
        _, err = child.communicate(timeout=300)
        assert child.returncode == 1, err
        logs[level] = err.strip().splitlines()
    return logs


def _filtered(lines: list[str], level: str) -> list[str]:
    """``lines`` passed through the filter fashionkit puts the start-up log through at ``level``."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", cli._tflog._TF_LOG_FILTER, level],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.splitlines()


@pytest.mark.slow
@pytest.mark.xdist_group("processes")
def test_tensorflow_start_up_log_stays_off_the_terminal(
    start_up_logs: dict[str | None, list[str]],
) -> None:
    """It keeps TensorFlow's start-up lines out of stderr, unless the user sets the log level."""
    quiet = start_up_logs[None]
    assert len(quiet) == 1, quiet
    assert quiet[0].startswith("fashionkit evaluate: error: ")
    assert "is corrupted or not a Keras model" in quiet[0]
    loud = start_up_logs["0"]
    assert len(loud) > 1  # the user asked for TensorFlow's log and gets it


#: What TensorFlow's libraries write while they load (as on a machine without a GPU), and two
#: lines that are not absl's.
_ABSL_NOTE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)
_START_UP = [
    _ABSL_NOTE,
    "I0000 00:00:1796177617.040095   20455 port.cc:153] oneDNN custom operations are on.",
    "W0000 00:00:1796177617.041000   20455 loader.cc:12] a warning",
    "E0000 00:00:1796177620.474380   20455 cuda_platform.cc:52] failed call to cuInit: 303",
    "F0000 00:00:1796177620.480000   20455 check.cc:9] Check failed: the end",
    "I0415 12:00:01.000000 20455 later.cc:7] an INFO line after initialisation",
    "Traceback (most recent call last):",
    "ValueError: a Python error",
]


@pytest.mark.parametrize(
    ("level", "dropped"),
    [
        (1, [0, 1, 5]),
        (2, [0, 1, 2, 5]),
        (3, [0, 1, 2, 3, 5]),
        (9, [0, 1, 2, 3, 5]),  # FATAL lines are never dropped
    ],
)
def test_the_log_filter_applies_the_level_to_absl_lines_only(
    level: int, dropped: list[int]
) -> None:
    """It drops absl lines below the level and absl's note, and passes every other line."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", cli._tflog._TF_LOG_FILTER, str(level)],
        input="\n".join(_START_UP) + "\npartial line, no newline",
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    kept = [line for i, line in enumerate(_START_UP) if i not in dropped]
    assert done.stdout.splitlines() == [*kept, "partial line, no newline"]


_FILTERED_THEN_CRASH = """
import os, resource
from fashionkit import cli
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
with cli._tflog._tf_log_filtered(2):
    for line in {lines!r}:
        os.write(2, line.encode() + b"\\n")
    os.abort()  # as a failed CHECK in TensorFlow does, right after its FATAL line
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_filtered_lines_still_reach_the_terminal_when_the_process_crashes() -> None:
    """It shows the ERROR and FATAL lines written just before an abort, and drops the rest."""
    code = _FILTERED_THEN_CRASH.format(lines=_START_UP[:5])
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == -signal.SIGABRT
    assert done.stderr.splitlines() == _START_UP[3:5]


@pytest.mark.slow
@pytest.mark.xdist_group("processes")
@pytest.mark.parametrize("level", ["1", "2", "3"])
def test_a_user_log_level_filters_tensorflows_start_up_lines(
    start_up_logs: dict[str | None, list[str]], level: str
) -> None:
    """It keeps absl's note and INFO lines of TensorFlow's start-up off stderr; errors show.

    Checked on TensorFlow's whole start-up log (level 0) put through the filter at each level,
    and end to end on a real process at level 1.
    """
    outputs = [_filtered(start_up_logs["0"], level)]
    if level in start_up_logs:
        outputs.append(start_up_logs[level])
    below = ("I", "IW", "IWE")[int(level) - 1]
    for lines in outputs:
        assert lines[-1].startswith("fashionkit evaluate: error: ")  # the real error still shows
        assert "is corrupted or not a Keras model" in lines[-1]
        assert _ABSL_NOTE not in lines
        assert not [line for line in lines if line[:1] in below and line[1:5].isdigit()], lines
