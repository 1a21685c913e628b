"""The ``sweep`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SPACE_TOML

optuna = pytest.importorskip("optuna")


def test_the_command_line_sweeps_and_reports(
    synthetic_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The sweep command runs the trials, prints progress and a table, and writes best.toml."""
    from fashionkit.cli import main

    data_dir = synthetic_dir
    space = tmp_path / "lr.toml"
    space.write_text(SPACE_TOML.replace("epochs = 3", "epochs = 1"))
    out = tmp_path / "out"
    argv = ["sweep", str(space), "--trials", "2", "--out", str(out), "--data-dir", str(data_dir)]
    assert main([*argv, "--no-verify", "--pruner", "none"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("finished, best") == 2  # one progress line per trial
    assert "| trial | state |" in printed
    assert (out / "best.toml").is_file()
    assert main(["train", "--config", str(out / "best.toml"), "--dry-run"]) == 0
    assert main(["sweep", str(tmp_path / "missing.toml"), "--trials", "1"]) == 1
