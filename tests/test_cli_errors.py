"""The command line reports every failure a user can cause in a line or two, never a traceback."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fashionkit import _io, cli


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = cli.main(argv)
    return status, capsys.readouterr().err


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "plain.txt"
    path.write_text("not a folder", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--config", "{tmp}/missing.toml", "--dry-run"], "does not exist"),
        (["train", "--set", "epochs", "--dry-run"], "--set expects KEY=VALUE"),
        (["train", "--set", "epochs.x=3", "--dry-run"], "is a value, not a section"),
        (["train", "--set", "optimizer.name=adamm", "--dry-run"], "Did you mean 'adam'?"),
        (["info", "--data-dir", "{file}"], "is a file"),
        (["baseline", "--data-dir", "{file}"], "is a file"),
        (["evaluate", "{tmp}/nothing.keras"], "No model file or run directory"),
        (["evaluate", "{file}"], "not a .keras model file"),
        (["report", "{tmp}"], "is not a run directory"),
        (["predict", "{tmp}", "{tmp}/missing.png"], "does not exist"),
    ],
)
def test_user_errors_are_one_or_two_lines_without_traceback(
    argv: list[str],
    words: str,
    tmp_path: Path,
    a_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It exits with status 1 and a short message naming the problem, for each bad input."""
    filled = [arg.format(tmp=tmp_path, file=a_file) for arg in argv]
    status, err = _run(filled, capsys)
    assert status == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 2, err
    assert lines[-1].startswith(f"fashionkit {filled[0]}: error: ")
    assert words in err


def test_a_run_dir_that_is_a_file_is_refused(
    a_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It refuses a regular file as run directory before any data is loaded."""
    monkeypatch.setattr(cli._options, "load_data", lambda args: pytest.fail("data loaded"))
    status, err = _run(["train", "--run-dir", str(a_file), "--quiet"], capsys)
    assert status == 1
    assert "is a file, not a folder" in err
    assert "Traceback" not in err


def test_a_full_disk_is_reported_with_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It reports ENOSPC while saving the config as one line naming the file."""

    def full(tmp: Path, path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io, "publish", full)
    target = tmp_path / "run.toml"
    status, err = _run(["train", "--save-config", str(target), "--dry-run"], capsys)
    assert status == 1
    assert f"Cannot write {target}: the disk is full" in err
    assert not list(tmp_path.iterdir())


def test_an_unexpected_error_has_a_hint_and_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It hides the traceback of an unexpected error unless --debug or FASHIONKIT_DEBUG is set."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something odd")

    monkeypatch.setattr(cli._options, "load_fashion_mnist", broken)
    status, err = _run(["info"], capsys)
    assert status == 1
    assert "unexpected error: RuntimeError: something odd" in err
    assert "--debug" in err
    assert "Traceback" not in err
    for argv in (["--debug", "info"], ["info", "--debug"]):
        status, err = _run(argv, capsys)
        assert status == 1
        assert "Traceback" in err
    monkeypatch.setenv("FASHIONKIT_DEBUG", "1")
    status, err = _run(["info"], capsys)
    assert "Traceback" in err


def test_a_plain_os_error_is_explained(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It words an OSError from a library in plain terms, with the file when known."""

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/data/x.gz")

    monkeypatch.setattr(cli._options, "load_fashion_mnist", denied)
    status, err = _run(["info"], capsys)
    assert status == 1
    assert "Cannot use /data/x.gz: permission denied" in err
    assert "Traceback" not in err


def _evaluate_garbage(tmp_path: Path, env: dict[str, str]) -> list[str]:
    model = tmp_path / "garbage.keras"
    model.write_bytes(b"not a zip archive")
    done = subprocess.run(
        [sys.executable, "-m", "fashionkit.cli", "evaluate", str(model)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    return done.stderr.strip().splitlines()


@pytest.mark.slow
def test_tensorflow_start_up_log_stays_off_the_terminal(tmp_path: Path) -> None:
    """It keeps TensorFlow's start-up lines out of stderr, unless the user sets the log level."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "FASHIONKIT_DEBUG")
    }
    quiet = _evaluate_garbage(tmp_path, env)
    assert len(quiet) == 1, quiet
    assert quiet[0].startswith("fashionkit evaluate: error: ")
    assert "is corrupted or not a Keras model" in quiet[0]
    loud = _evaluate_garbage(tmp_path, {**env, "TF_CPP_MIN_LOG_LEVEL": "0"})
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
@pytest.mark.parametrize("level", ["1", "2", "3"])
def test_a_user_log_level_filters_tensorflows_start_up_lines(tmp_path: Path, level: str) -> None:
    """It keeps absl's note and INFO lines of TensorFlow's start-up off stderr; errors show."""
    env = {k: v for k, v in os.environ.items() if k != "FASHIONKIT_DEBUG"}
    lines = _evaluate_garbage(tmp_path, {**env, "TF_CPP_MIN_LOG_LEVEL": level})
    assert lines[-1].startswith("fashionkit evaluate: error: ")  # the real error still shows
    assert "is corrupted or not a Keras model" in lines[-1]
    assert _ABSL_NOTE not in lines
    below = ("I", "IW", "IWE")[int(level) - 1]
    assert not [line for line in lines if line[:1] in below and line[1:5].isdigit()], lines


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--save-model", "{tmp}/model.h5", "--quiet"], "ending in .keras"),
        (["train", "--save-model", "{file}/model.keras", "--quiet"], "is a file, not a folder"),
    ],
)
def test_bad_arguments_fail_before_any_work(
    argv: list[str],
    words: str,
    tmp_path: Path,
    a_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It refuses a model path that would fail after training, before training."""
    monkeypatch.setattr(cli._train, "train", lambda *a, **k: pytest.fail("trained"))
    status, err = _run([arg.format(tmp=tmp_path, file=a_file) for arg in argv], capsys)
    assert status == 1
    assert words in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["predict", "run", "x.png", "--top", "0"], "expected a positive integer"),
        (["predict", "run", "x.png", "--top", "x"], "expected a positive integer"),
        (["baseline", "--folds", "-1"], "expected a positive integer"),
        (["baseline", "--jobs", "0"], "expected a non-zero integer"),
    ],
)
def test_bad_counts_are_usage_errors(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """It rejects counts that cannot work as usage errors (status 2), before doing anything."""
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2
    assert words in capsys.readouterr().err


def _gray_png(path: Path, *, depth: int = 8) -> Path:
    """A 28x28 grayscale PNG of black pixels with ``depth`` bits per pixel, written by hand."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", 28, 28, depth, 0, 0, 0, 0)
    pixels = zlib.compress(bytes(1 + 28 * depth // 8) * 28)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def _damaged_png(path: Path) -> Path:
    """An 8-bit grayscale PNG header followed by bytes that are not PNG chunks."""
    path.write_bytes(_gray_png(path).read_bytes()[:33] + b"junk")
    return path


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda p: _gray_png(p, depth=16),
            "is a 16-bit grayscale PNG (1 channel, colour type 0); fashionkit reads",
        ),
        (_damaged_png, "is not a readable PNG image (its header is valid but its image data"),
    ],
    ids=["16-bit", "damaged"],
)
def test_predict_names_an_image_file_it_cannot_use(
    make: object, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It exits with status 1 and one line naming the PNG file and what is accepted."""
    image = make(tmp_path / "photo.png")  # type: ignore[operator]
    status, err = _run(["predict", str(tmp_path), str(image)], capsys)
    assert status == 1
    assert err.startswith(f"fashionkit predict: error: {image} {words}")
    assert len(err.strip().splitlines()) == 1
    assert "function_node" not in err
