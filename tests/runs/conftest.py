"""The run directory tests' two runs: one finished and one crashed, of the same config."""

from __future__ import annotations

from pathlib import Path

import pytest

import fashionkit
from tests.helpers import DROPOUT_MLP, TinyRunFactory


@pytest.fixture
def finished(tiny_run: TinyRunFactory) -> fashionkit.TrainResult:
    """A completed four-epoch run (an MLP with dropout) in a run directory; do not modify."""
    result = tiny_run(DROPOUT_MLP).result
    assert result is not None
    return result


@pytest.fixture
def crashed(tiny_run: TinyRunFactory) -> Path:
    """A run directory of the same config that died at the end of epoch 3; do not modify."""
    path = tiny_run(DROPOUT_MLP, crash_after=3).path
    assert path is not None
    return path
