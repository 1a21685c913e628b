"""The ``info`` and ``baseline`` commands."""

from __future__ import annotations

import json

import pytest

from fashionkit.cli import main


def test_baseline_prints_the_cross_validation_scores(
    synthetic_data_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It cross-validates the baseline on the chosen data and prints the scores as JSON."""
    assert main(["baseline", *synthetic_data_args, "--folds", "2", "--jobs", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["fold_scores"]) == 2
    assert result["mean"] == pytest.approx(sum(result["fold_scores"]) / 2)
    assert result["n_samples"] == 50


def test_info_reports_source_shapes_and_counts(
    synthetic_data_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It prints where the data came from, the verification status and per-class counts."""
    assert main(["info", *synthetic_data_args, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["directory"] == synthetic_data_args[1]
    assert info["verified"] is False
    assert info["train"]["images"] == [50, 28, 28]
    assert info["train"]["class_counts"] == [5] * 10
    assert info["test"]["class_counts"] == [2] * 10


def test_info_text_lists_english_and_korean_names(
    synthetic_data_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It prints a table with both class-name languages."""
    assert main(["info", *synthetic_data_args]) == 0
    out = capsys.readouterr().out
    assert "NOT verified" in out
    assert "Ankle boot" in out
    assert "앵클 부츠" in out
