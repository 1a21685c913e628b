"""The HParams writers TensorBoardLogger uses: their arguments are checked before writing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fashionkit.callbacks._hparams import HParamDomain
from fashionkit.callbacks._tensorboard_writers import (
    write_hparams_experiment,
    write_hparams_session,
)
from fashionkit.exceptions import ArgumentError

DOMAINS = [HParamDomain(name="rate", low=0.0, high=1.0)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"log_dir": None}, "log_dir must be a path"),
        (
            {"domains": "rate"},
            "domains must be a list or tuple whose items are each a HParamDomain",
        ),
        ({"domains": [{"name": "rate"}]}, "domains must be a list or tuple whose items are each"),
        ({"metrics": "val_accuracy"}, r"metrics must be a list or tuple of \(group, tag\) pairs"),
        ({"metrics": [("val_accuracy",)]}, r"metrics must be a list or tuple of \(group, tag\)"),
        ({"metrics": [("../up", "loss")]}, r"metrics must be a list or tuple of \(group, tag\)"),
        ({"metrics": [("", "")]}, r"metrics must be a list or tuple of \(group, tag\) pairs"),
        ({"description": None}, "description must be a str"),
        ({"error_type": OSError}, "error_type must be StorageError"),
    ],
)
def test_bad_experiment_arguments_are_refused(
    tmp_path: Path, kwargs: dict[str, Any], match: str
) -> None:
    """It raises ArgumentError for a bad argument of write_hparams_experiment, writing nothing."""
    arguments = {
        "log_dir": tmp_path / "board", "domains": DOMAINS, "metrics": [("", "accuracy")], **kwargs
    }  # fmt: skip
    with pytest.raises(ArgumentError, match=match):
        write_hparams_experiment(**arguments)
    assert not (tmp_path / "board").exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"log_dir": 1.5}, "log_dir must be a path"),
        ({"hparams": [("rate", 0.1)]}, "hparams must be a mapping"),
        ({"hparams": {"rate": None}}, "must be a boolean, a number or a string"),
        ({"metrics": {"accuracy": "high"}}, "metrics must map names to numbers"),
        ({"metrics": 0.5}, "metrics must be a mapping"),
        ({"step": 1.5}, "step must be an integer >= 0"),
        (
            {"status": "pruned"},
            "status must be one of 'success', 'failure', 'running' or 'unknown'",
        ),
        ({"start_time": -1}, "start_time must be a number >= 0"),
        ({"end_time": "later"}, "end_time must be a number >= 0"),
        ({"group_name": ""}, "group_name must be a non-empty str or None"),
        ({"error_type": RuntimeError}, "error_type must be StorageError"),
    ],
)
def test_bad_session_arguments_are_refused(
    tmp_path: Path, kwargs: dict[str, Any], match: str
) -> None:
    """It raises ArgumentError for each bad argument of write_hparams_session, writing nothing."""
    arguments = {
        "log_dir": tmp_path / "trial", "hparams": {"rate": 0.1}, "metrics": {"accuracy": 0.5},
        "step": 1, **kwargs,
    }  # fmt: skip
    with pytest.raises(ArgumentError, match=match):
        write_hparams_session(**arguments)
    assert not (tmp_path / "trial").exists()
