"""EpochCheckpoint: the newest complete epoch kept on disk, and its state file."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit.callbacks import EpochCheckpoint
from fashionkit.exceptions import (
    ArgumentError,
    RunDirError,
)
from tests.helpers import plain_fit

# --- EpochCheckpoint -----------------------------------------------------------------------


def test_checkpoint_keeps_only_the_newest_complete_epoch(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It saves a loadable model after every epoch, names it in state.json, deletes the older."""
    folder = tmp_path / "checkpoint"
    assert EpochCheckpoint.latest(folder) is None
    model = plain_fit(tiny_dataset, [EpochCheckpoint(folder)], epochs=3)
    assert EpochCheckpoint.latest(folder) == (3, folder / "epoch-0003.keras")
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0003.keras", "state.json"]
    assert json.loads((folder / "state.json").read_text()) == {
        "epoch": 3,
        "checkpoint": "epoch-0003.keras",
        "best": None,  # used with plain fit: no context, so no best epoch and no stop
        "stop_reason": None,
        "partial": False,
    }
    restored = keras.saving.load_model(folder / "epoch-0003.keras")
    x = fashionkit.prepare_images(tiny_dataset.test.images)
    np.testing.assert_array_equal(np.asarray(restored(x)), np.asarray(model(x)))
    assert (folder / "epoch-0003.keras").stat().st_mode & 0o044, "readable like other files"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("garbage", r"state\.json is corrupted"),
        ('{"epoch": 0, "checkpoint": "epoch-0000.keras"}', r"state\.json is corrupted"),
        ('{"epoch": 1, "checkpoint": "../elsewhere.keras"}', r"state\.json is corrupted"),
        ('{"epoch": 1}', r"state\.json is corrupted"),
        ('{"epoch": 1, "checkpoint": "epoch-0001.keras"}', r"epoch-0001\.keras, which is missing"),
    ],
    ids=["not-json", "epoch-0", "outside-folder", "no-checkpoint", "missing-file"],
)
def test_checkpoint_reports_a_damaged_state(tmp_path: Path, state: str, message: str) -> None:
    """It raises RunDirError for an unreadable state.json or one naming a missing file."""
    (tmp_path / "state.json").write_text(state)
    with pytest.raises(RunDirError, match=message):
        EpochCheckpoint.latest(tmp_path)


def test_checkpoint_refuses_a_folder_that_is_not_a_path() -> None:
    """It raises ArgumentError for a directory that is not a path, and for latest()'s too."""
    with pytest.raises(ArgumentError, match="directory must be a path"):
        EpochCheckpoint(None)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="directory must be a path"):
        EpochCheckpoint.latest("")
