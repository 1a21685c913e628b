"""The tutorial's scikit-learn baseline, on synthetic data and on the real data (slow)."""

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


def test_baseline_std_is_the_population_standard_deviation() -> None:
    """It reports the mean and the population standard deviation of the fold scores."""
    result = fashionkit.BaselineResult(
        fold_scores=(0.8, 0.9), fit_times=(1.0, 1.0), seconds=2.0, n_samples=10, folds=2
    )
    assert result.mean == pytest.approx(0.85)
    assert result.std == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"folds": 1}, "folds"),
        ({"folds": 2.5}, "folds"),
        ({"folds": 21}, "rarest class"),
        ({"max_iter": 0}, "max_iter"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"seed": -1}, "seed"),
    ],
)
def test_baseline_rejects_bad_arguments(
    tiny_dataset: fashionkit.FashionMNIST, kwargs: dict[str, int], match: str
) -> None:
    """It raises ConfigError for bad folds, iterations, jobs or seed, before scikit-learn runs."""
    with pytest.raises(fashionkit.ConfigError, match=match):
        fashionkit.baseline(tiny_dataset, **kwargs)


@pytest.mark.integration
@pytest.mark.slow
def test_baseline_matches_the_tutorial(real_data: fashionkit.FashionMNIST) -> None:
    """It cross-validates the SGD logistic regression to about the tutorial's 0.82."""
    result = fashionkit.baseline(real_data)
    assert len(result.fold_scores) == 5
    assert 0.79 <= result.mean <= 0.84
    assert result.n_samples == 60000
