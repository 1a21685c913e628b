"""End-to-end runs on the real Fashion-MNIST files (the shared offline copy).

These train real models for tens of seconds each; they are marked ``slow`` and run in CI.
Accuracy thresholds sit a point or more below what was measured (see the issue notes), so
that they catch a broken pipeline, not run-to-run noise.
"""

from __future__ import annotations

import pytest

import fashionkit
from fashionkit.config import CNNConfig, LossConfig, MLPConfig, OptimizerConfig, TrainConfig

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_baseline_matches_the_tutorial(real_data: fashionkit.FashionMNIST) -> None:
    """It cross-validates the SGD logistic regression to about the tutorial's 0.82."""
    result = fashionkit.baseline(real_data)
    assert len(result.fold_scores) == 5
    assert 0.79 <= result.mean <= 0.84
    assert result.n_samples == 60000


@pytest.fixture(scope="module")
def default_run(real_data: fashionkit.FashionMNIST) -> fashionkit.TrainResult:
    return fashionkit.train(TrainConfig(verbose=0), dataset=real_data)


def test_defaults_reproduce_the_tutorial(default_run: fashionkit.TrainResult) -> None:
    """It trains the tutorial's model with its split and schedule to about 0.85."""
    assert default_run.validation.n_samples == 12000
    assert len(default_run.history) == 5
    assert default_run.validation.accuracy >= 0.83
    assert default_run.history[0].accuracy < default_run.history[-1].accuracy


def test_one_hot_loss_reaches_the_same_accuracy(
    real_data: fashionkit.FashionMNIST, default_run: fashionkit.TrainResult
) -> None:
    """It reaches the sparse run's accuracy with one-hot labels and categorical cross-entropy."""
    one_hot = fashionkit.train(
        TrainConfig(verbose=0, loss=LossConfig(encoding="one_hot")), dataset=real_data
    )
    assert one_hot.validation.accuracy >= 0.83
    assert abs(one_hot.validation.accuracy - default_run.validation.accuracy) < 0.01


def test_mlp_short_run_beats_the_linear_model(real_data: fashionkit.FashionMNIST) -> None:
    """It trains a one-hidden-layer MLP to at least 0.87 test accuracy."""
    config = TrainConfig(
        model=MLPConfig(hidden_units=(256,)),
        optimizer=OptimizerConfig(name="adam"),
        epochs=6,
        batch_size=64,
        verbose=0,
    )
    result = fashionkit.train(config, dataset=real_data)
    assert result.test.accuracy >= 0.87


def test_cnn_short_run_reaches_089(real_data: fashionkit.FashionMNIST) -> None:
    """It trains the default CNN for three epochs to at least 0.89 test accuracy."""
    config = TrainConfig(
        model=CNNConfig(),
        optimizer=OptimizerConfig(name="adam"),
        epochs=3,
        batch_size=64,
        verbose=0,
    )
    result = fashionkit.train(config, dataset=real_data)
    assert result.test.accuracy >= 0.89
