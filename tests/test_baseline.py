"""The scikit-learn baseline on synthetic data (the real-data run is in test_integration)."""

from __future__ import annotations

import pytest

import fashionkit


def test_baseline_returns_one_score_per_fold(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It cross-validates with the requested folds and learns the easy synthetic classes."""
    result = fashionkit.baseline(tiny_dataset, folds=4, n_jobs=1)
    assert len(result.fold_scores) == 4
    assert len(result.fit_times) == 4
    assert result.mean == pytest.approx(sum(result.fold_scores) / 4)
    assert result.mean > 0.8
    assert result.n_samples == 200
    assert result.seconds > 0
    assert "4-fold" in str(result)


def test_baseline_is_deterministic(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It gives the same scores for the same seed."""
    first = fashionkit.baseline(tiny_dataset, folds=3, n_jobs=1)
    second = fashionkit.baseline(tiny_dataset, folds=3, n_jobs=1)
    assert first.fold_scores == second.fold_scores


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"folds": 1}, "folds"), ({"max_iter": 0}, "max_iter")]
)
def test_baseline_rejects_bad_arguments(
    tiny_dataset: fashionkit.FashionMNIST, kwargs: dict[str, int], match: str
) -> None:
    """It raises ConfigError for fewer than two folds or no iterations."""
    with pytest.raises(fashionkit.ConfigError, match=match):
        fashionkit.baseline(tiny_dataset, **kwargs)
