"""The pictures of a sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fashionkit
from fashionkit.sweep import open_study, sweep
from tests.helpers import sweep_space

optuna = pytest.importorskip("optuna")


def test_the_report_draws_the_sweep(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It writes the history, intermediate and importances plots of a sweep as PNG files."""
    pytest.importorskip("matplotlib")
    import fashionkit.plots
    from fashionkit.plots import write_sweep_report

    folder = tmp_path / "sweep"
    sweep(sweep_space(), folder, trials=3, dataset=tiny_dataset, pruner="none", seed=1)
    drawn: dict[str, tuple[str, str, str]] = {}
    save = fashionkit.plots._save

    def keep_labels(fig: Any, path: Path) -> Path:
        ax = fig.axes[0]
        drawn[Path(path).name] = (ax.get_title(), ax.get_xlabel(), ax.get_ylabel())
        return save(fig, path)

    monkeypatch.setattr(fashionkit.plots, "_save", keep_labels)
    paths = write_sweep_report(folder)
    assert [p.name for p in paths] == ["history.png", "intermediate.png", "importances.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert open_study(folder).study_name == "fashionkit"
    # In fashionkit's words, not Optuna's defaults ("Objective Value", "Trial").
    assert drawn["history.png"][1:] == ("trial", "best validation accuracy")
    assert drawn["intermediate.png"][1:] == ("epoch", "validation accuracy")
    assert drawn["importances.png"][2] == "parameter"
    assert all(title and "Objective" not in title for title, _, _ in drawn.values())
