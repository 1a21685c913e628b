"""The fashionkit command itself: help, version, and every failure in a line or two."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fashionkit
from fashionkit import _io, cli
from fashionkit.cli import main
from tests.helpers import run_cli

# --- the command itself --------------------------------------------------------------------


def test_help_answers_fast_without_tensorflow() -> None:
    """It prints help in a fresh interpreter without importing TensorFlow or scikit-learn."""
    code = (
        "import sys\n"
        "from fashionkit.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "usage: fashionkit" in done.stdout
    assert "HEAVY []" in done.stdout


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """It prints the installed version and exits with status 0."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"fashionkit {fashionkit.__version__}\n"


def test_errors_exit_1_with_the_library_message(
    synthetic_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It turns a library error into a one-line message and exit status 1, not a traceback."""
    monkeypatch.delenv("FASHIONKIT_VERIFY", raising=False)
    assert main(["info", "--data-dir", str(synthetic_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fashionkit info: error:")
    assert "canonical SHA-256" in err
    assert "Traceback" not in err


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
    status, err = run_cli(filled, capsys)
    assert status == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 2, err
    assert lines[-1].startswith(f"fashionkit {filled[0]}: error: ")
    assert words in err


def test_a_full_disk_is_reported_with_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It reports ENOSPC while saving the config as one line naming the file."""

    def full(tmp: Path, path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io, "publish", full)
    target = tmp_path / "run.toml"
    status, err = run_cli(["train", "--save-config", str(target), "--dry-run"], capsys)
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
    status, err = run_cli(["info"], capsys)
    assert status == 1
    assert "unexpected error: RuntimeError: something odd" in err
    assert "--debug" in err
    assert "Traceback" not in err
    for argv in (["--debug", "info"], ["info", "--debug"]):
        status, err = run_cli(argv, capsys)
        assert status == 1
        assert "Traceback" in err
    monkeypatch.setenv("FASHIONKIT_DEBUG", "1")
    status, err = run_cli(["info"], capsys)
    assert "Traceback" in err


def test_a_plain_os_error_is_explained(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It words an OSError from a library in plain terms, with the file when known."""

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/data/x.gz")

    monkeypatch.setattr(cli._options, "load_fashion_mnist", denied)
    status, err = run_cli(["info"], capsys)
    assert status == 1
    assert "Cannot use /data/x.gz: permission denied" in err
    assert "Traceback" not in err
