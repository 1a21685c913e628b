"""Fixtures of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A plain text file, where a command expects a folder or a model."""
    path = tmp_path / "plain.txt"
    path.write_text("not a folder", encoding="utf-8")
    return path
