"""The learning-rate finder: the suggestion rule on synthetic curves, tiny sweeps, the CLI."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.config import OptimizerConfig, TrainConfig
from fashionkit.exceptions import ArgumentError, ConfigError
from fashionkit.lr_finder import (
    MIN_USABLE_STEPS,
    LearningRateRange,
    RangeTestOptions,
    _analyse_range,
    _range_rates,
    find_learning_rate,
)


def _analyse(
    losses: Sequence[float],
    *,
    steps: int | None = None,
    min_lr: float = 1e-6,
    max_lr: float = 1.0,
    **options: float,
) -> LearningRateRange:
    """The sweep made of ``losses`` by the pure analysis (``steps`` planned: all of them)."""
    rates = _range_rates(min_lr, max_lr, steps or len(losses))
    settings: dict[str, float] = {
        "smoothing": 0.98,
        "skip_fraction": 0.1,
        "divergence": 4.0,
        **options,
    }
    return _analyse_range(rates, list(losses), config=TrainConfig(), **settings)


def _curve(rates: Sequence[float], *, steepest: float = 1e-3, blow_up: float = 0.1) -> np.ndarray:
    """A loss that is flat at 2.3, falls fastest at ``steepest`` and explodes past ``blow_up``."""
    x = np.log10(np.asarray(rates))
    fall = 2.3 - 2.0 / (1 + np.exp(-3 * (x - math.log10(steepest))))
    rise = np.where(x > math.log10(blow_up), 5 * np.expm1(4 * (x - math.log10(blow_up))), 0.0)
    return fall + rise


# --- the analysis: smoothing, divergence, the suggestion rule ----------------------------------


def test_the_rates_rise_exponentially_from_min_lr_to_max_lr() -> None:
    """It sweeps exactly from min_lr to max_lr with a constant ratio between steps."""
    rates = np.asarray(_range_rates(1e-6, 1.0, 200))
    assert rates[0] == 1e-6
    assert rates[-1] == 1.0
    np.testing.assert_allclose(rates[1:] / rates[:-1], 10 ** (6 / 199))


def test_the_smoothed_loss_is_bias_corrected() -> None:
    """It divides the running average by 1 - smoothing**t, so early values are not pulled to 0."""
    sweep = _analyse([1.0, 3.0, 2.0], smoothing=0.5)
    # Uncorrected, the averages would be 0.5 and 1.75.
    assert sweep.smoothed_losses[:2] == pytest.approx((1.0, (0.25 + 1.5) / 0.75))
    constant = _analyse([2.0] * 50)
    assert constant.smoothed_losses == pytest.approx((2.0,) * 50)


def test_smoothing_zero_keeps_the_raw_losses() -> None:
    """It leaves the losses as they are with smoothing=0."""
    losses = [2.3, 2.0, 2.2, 1.5, 1.7] * 4
    assert _analyse(losses, smoothing=0.0).smoothed_losses == pytest.approx(tuple(losses))


def test_the_suggestion_is_where_the_loss_falls_fastest() -> None:
    """It suggests the rate where the loss falls fastest against log(rate), before the minimum."""
    rates = _range_rates(1e-6, 1.0, 200)
    sweep = _analyse(_curve(rates, steepest=1e-3), smoothing=0.0)
    assert sweep.suggestion is not None
    assert sweep.minimum_rate is not None
    assert abs(math.log10(sweep.suggestion) - (-3)) < 0.1
    assert sweep.suggestion < sweep.minimum_rate < 0.2
    assert "fell fastest" in sweep.reason
    assert f"{sweep.minimum_rate / 10:.3g}" in sweep.reason


def test_the_suggestion_lies_between_the_skipped_start_and_the_minimum() -> None:
    """It suggests, with default smoothing, a rate after the skipped start and below the minimum."""
    rates = _range_rates(1e-6, 1.0, 200)
    sweep = _analyse(_curve(rates))
    assert sweep.suggestion is not None
    assert sweep.minimum_rate is not None
    assert rates[20] <= sweep.suggestion < sweep.minimum_rate < sweep.rates[-1]


def test_one_noisy_step_does_not_decide_the_suggestion() -> None:
    """It measures the fall over a window of steps, so a single-batch dip is not the steepest."""
    rates = _range_rates(1e-6, 1.0, 200)
    losses = _curve(rates, steepest=1e-3)
    dip = 40  # a rate of about 1.6e-5, after the skipped start
    losses[dip] -= 0.15
    step = math.log(rates[1] / rates[0])
    # Step by step the dip would be far steeper than the real fall (0.65 per unit of ln rate).
    assert 0.15 / step > 2 * 0.65
    sweep = _analyse(losses, smoothing=0.0)
    assert sweep.suggestion is not None
    assert abs(math.log10(sweep.suggestion) - (-3)) < 0.1


def test_a_diverging_loss_stops_the_analysis_at_that_step() -> None:
    """It stops where the smoothed loss exceeds divergence times its minimum, that step included."""
    rates = _range_rates(1e-6, 1.0, 200)
    sweep = _analyse(_curve(rates))
    assert sweep.stopped_early
    n = len(sweep.rates)
    assert 100 < n < 200
    assert len(sweep.losses) == len(sweep.smoothed_losses) == n
    assert sweep.smoothed_losses[-1] > 4 * min(sweep.smoothed_losses[:-1])
    assert max(sweep.smoothed_losses[:-1]) <= 4 * min(sweep.smoothed_losses[:-1])
    assert sweep.rates == pytest.approx(rates[:n])


def test_a_non_finite_loss_stops_the_sweep_and_is_written_as_a_string() -> None:
    """It stops at a NaN loss and writes it as "nan" in plain data that strict JSON accepts."""
    rates = _range_rates(1e-6, 1.0, 100)
    losses = list(_curve(rates, blow_up=10.0))
    losses[70] = math.nan
    sweep = _analyse(losses)
    assert sweep.stopped_early
    assert len(sweep.losses) == 71
    assert math.isnan(sweep.losses[-1])
    assert sweep.suggestion is not None
    data = sweep.to_dict()
    assert data["losses"][-1] == "nan"
    assert data["smoothed_losses"][-1] == "nan"
    assert TrainConfig.from_dict(data["config"]) == TrainConfig()
    json.dumps(data, allow_nan=False)


def test_no_suggestion_when_the_loss_never_falls() -> None:
    """It gives no suggestion, and says why, when the loss stays within 5% of its start."""
    noise = 2.3 + 0.01 * np.random.default_rng(0).standard_normal(200)
    sweep = _analyse(noise)
    assert sweep.suggestion is None
    assert sweep.minimum_rate is None
    assert "never fell by 5%" in sweep.reason
    assert "raise max_lr" in sweep.reason


def test_no_suggestion_when_the_minimum_lies_in_the_skipped_start() -> None:
    """It gives no suggestion, asking for a lower min_lr, when the loss fell only at the start."""
    losses = np.concatenate([np.linspace(2.3, 1.0, 15), np.linspace(1.0, 1.5, 185)])
    sweep = _analyse(losses, smoothing=0.0)
    assert sweep.suggestion is None
    assert not sweep.stopped_early
    assert "inside the skipped first 20 steps" in sweep.reason
    assert "lower min_lr" in sweep.reason


def test_no_suggestion_when_the_loss_diverges_at_once() -> None:
    """It gives no suggestion when too few steps remain between the skipped start and divergence."""
    losses = [2.3] * 22 + [500.0] * 178
    sweep = _analyse(losses)
    assert sweep.stopped_early
    assert sweep.suggestion is None
    assert f"at least {MIN_USABLE_STEPS} are needed" in sweep.reason
    assert "diverged" in sweep.reason


def test_to_text_names_the_suggestion_or_says_there_is_none() -> None:
    """It prints the suggestion, a tenth of the minimum's rate and the reason."""
    rates = _range_rates(1e-6, 1.0, 200)
    found = _analyse(_curve(rates))
    assert found.suggestion is not None
    assert found.minimum_rate is not None
    text = found.to_text()
    assert f"suggested learning rate: {found.suggestion:.3g}" in text
    assert f"a tenth of it: {found.minimum_rate / 10:.3g}" in text
    assert f"to {found.rates[-1]:.3g}, where the smoothed loss diverged" in text
    assert found.reason in text
    missing = _analyse([2.3] * 200)
    assert "suggested learning rate: none" in missing.to_text()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"min_lr": 0.0}, "RangeTestOptions.min_lr must be a number > 0; got 0.0"),
        ({"min_lr": -1e-3}, "min_lr must be a number > 0; got -0.001. 1e-6 or 1e-7"),
        ({"max_lr": 20.0}, "max_lr must be a number > 0 and <= 10.0; got 20.0"),
        ({"min_lr": 0.1, "max_lr": 0.01}, "min_lr must be below max_lr; got min_lr=0.1"),
        ({"min_lr": "small"}, "min_lr must be a number > 0; got 'small'"),
        ({"max_lr": math.inf}, "max_lr must be a number > 0 and <= 10.0; got inf"),
        ({"steps": 5}, "steps must be an integer >= 10 and <= 100000; got 5"),
        ({"steps": 100.0}, "steps must be an integer >= 10 and <= 100000; got 100.0"),
        ({"steps": True}, r"steps must be an integer >= 10 and <= 100000; got True \(bool\)"),
        ({"smoothing": 1.0}, "smoothing must be a number >= 0 and < 1; got 1.0"),
        ({"skip_fraction": 0.5}, "skip_fraction must be a number >= 0 and < 0.5; got 0.5"),
        ({"divergence": 1.0}, "divergence must be a number > 1; got 1.0"),
    ],
)
def test_bad_options_raise_argument_error_naming_the_setting(
    arguments: dict[str, Any], expected: str
) -> None:
    """It refuses an out-of-range setting when the options are built, naming it and the value."""
    with pytest.raises(ArgumentError, match=expected):
        RangeTestOptions(**arguments)


def test_the_options_are_frozen_and_checked_again_when_changed() -> None:
    """It keeps the defaults, refuses assignment, and checks a changed copy again."""
    import attrs

    options = RangeTestOptions()
    assert (options.min_lr, options.max_lr, options.steps) == (1e-6, 1.0, 200)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.steps = 10  # type: ignore[misc]
    assert attrs.evolve(options, steps=50).steps == 50
    with pytest.raises(ArgumentError, match="min_lr must be below max_lr"):
        attrs.evolve(options, max_lr=1e-7)
    with pytest.raises(TypeError):
        RangeTestOptions(1e-5)  # type: ignore[misc]  # keyword-only


def test_the_options_decide_the_rates_swept(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It sweeps exactly the options' steps from min_lr to max_lr."""
    options = RangeTestOptions(min_lr=1e-4, max_lr=1e-2, steps=10)
    sweep = find_learning_rate(TrainConfig(batch_size=16), options, dataset=tiny_dataset)
    assert sweep.rates == pytest.approx(_range_rates(1e-4, 1e-2, 10)[: sweep.steps])
    assert sweep.rates[0] == 1e-4


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"config": {"epochs": 1}}, r"config must be a TrainConfig or None; got \{'epochs': 1\}"),
        ({"options": {"steps": 10}}, "options must be a RangeTestOptions or None; got"),
        ({"dataset": "fashion"}, "dataset must be a FashionMNIST or None; got 'fashion'"),
    ],
)
def test_arguments_of_the_wrong_kind_are_refused(arguments: dict[str, Any], expected: str) -> None:
    """It raises ArgumentError naming the argument and the class it takes, before loading."""
    with pytest.raises(ArgumentError, match=expected):
        find_learning_rate(**arguments)


def test_multi_worker_is_refused() -> None:
    """It raises ConfigError for the multi-worker strategy, before starting TensorFlow."""
    config = TrainConfig(device={"strategy": "multi_worker"})
    with pytest.raises(ConfigError, match="runs on one machine"):
        find_learning_rate(config)


# --- sweeps on tiny data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def learnable_sweep(tiny_dataset: fashionkit.FashionMNIST) -> LearningRateRange:
    """A sweep of an MLP with Adam up to a rate of 10 on the tiny, learnable dataset."""
    config = TrainConfig(model="mlp", optimizer=OptimizerConfig(name="adam"), batch_size=16)
    options = RangeTestOptions(steps=60, max_lr=10.0)
    return find_learning_rate(config, options, dataset=tiny_dataset)


def test_a_learnable_problem_gets_a_suggestion_below_the_divergence(
    learnable_sweep: LearningRateRange,
) -> None:
    """It suggests a rate inside the swept range, below the minimum and the diverging rate."""
    sweep = learnable_sweep
    assert sweep.suggestion is not None
    assert sweep.minimum_rate is not None
    assert sweep.stopped_early
    assert 1e-6 < sweep.suggestion < sweep.minimum_rate < sweep.rates[-1] < 10.0
    assert sweep.rates == pytest.approx(_range_rates(1e-6, 10.0, 60)[: sweep.steps])
    assert sweep.seconds is not None
    assert sweep.seconds > 0


def test_the_sweep_stops_early_when_the_loss_diverges(learnable_sweep: LearningRateRange) -> None:
    """It stops training at the first step whose smoothed loss exceeds four times its minimum."""
    sweep = learnable_sweep
    assert sweep.steps < 60
    last = sweep.smoothed_losses[-1]
    assert not math.isfinite(last) or last > 4 * min(sweep.smoothed_losses[:-1])
    # The recorded losses are exactly what the pure analysis makes of them.
    again = _analyse_range(
        _range_rates(1e-6, 10.0, 60),
        list(sweep.losses),
        config=sweep.config,
        smoothing=0.98,
        skip_fraction=0.1,
        divergence=4.0,
    )
    assert again.to_dict() == {**sweep.to_dict(), "seconds": None}


def test_rates_too_low_to_train_give_no_suggestion(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It gives no suggestion, with the reason, when the rates swept barely move the loss."""
    options = RangeTestOptions(steps=40, max_lr=1e-5)
    sweep = find_learning_rate(TrainConfig(batch_size=16), options, dataset=tiny_dataset)
    assert sweep.suggestion is None
    assert sweep.minimum_rate is None
    assert not sweep.stopped_early
    assert sweep.steps == 40
    assert "never fell by 5%" in sweep.reason


def test_the_sweep_is_seeded_and_ignores_the_configured_schedule(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It sweeps a config with a schedule, keeps the config as given, and repeats exactly."""
    config = TrainConfig(
        optimizer=OptimizerConfig(name="sgd", schedule="one_cycle", learning_rate=0.05),
        batch_size=16,
        steps_per_execution=8,
    )
    options = RangeTestOptions(steps=12)
    first = find_learning_rate(config, options, dataset=tiny_dataset)
    second = find_learning_rate(config, options, dataset=tiny_dataset)
    assert first.config == config
    assert first.losses == second.losses
    assert first.steps == 12


def test_the_sweep_feeds_the_configured_augmentation(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It trains on the batches training would see: augmented ones when augmentation is on."""
    plain = TrainConfig(batch_size=16)
    flipped = TrainConfig(batch_size=16, augment={"flip": "random", "translate": 2})
    options = RangeTestOptions(steps=10)
    first = find_learning_rate(plain, options, dataset=tiny_dataset)
    second = find_learning_rate(flipped, options, dataset=tiny_dataset)
    again = find_learning_rate(flipped, options, dataset=tiny_dataset)
    assert second.losses == again.losses
    assert first.losses != second.losses


# --- the picture -------------------------------------------------------------------------------


def test_the_plot_marks_the_suggestion_and_writes_a_png(tmp_path: Path) -> None:
    """It draws the raw and smoothed losses on a log axis, marks the rates, and writes a PNG."""
    pytest.importorskip("matplotlib")
    from fashionkit.plots import plot_learning_rate_sweep

    rates = _range_rates(1e-6, 1.0, 200)
    sweep = _analyse(_curve(rates))
    assert sweep.suggestion is not None
    assert sweep.minimum_rate is not None
    path = tmp_path / "pictures" / "lr.png"
    fig = plot_learning_rate_sweep(sweep, path)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    raw, smoothed, suggestion, tenth = ax.get_lines()
    assert list(raw.get_ydata()) == pytest.approx(sweep.losses)
    assert list(smoothed.get_ydata()) == pytest.approx(sweep.smoothed_losses)
    assert suggestion.get_xdata()[0] == pytest.approx(sweep.suggestion)
    assert tenth.get_xdata()[0] == pytest.approx(sweep.minimum_rate / 10)
    assert f"{sweep.suggestion:.3g}" in ax.get_title()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["lr.png"], "written atomically"


def test_the_plot_title_says_when_there_is_no_suggestion() -> None:
    """It draws no marker and says "no suggestion" in the title."""
    pytest.importorskip("matplotlib")
    from fashionkit.plots import plot_learning_rate_sweep

    fig = plot_learning_rate_sweep(_analyse([2.3] * 100))
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2
    assert "no suggestion" in ax.get_title()


def test_the_old_names_of_the_range_test_are_gone() -> None:
    """It no longer has LearningRateSweep, check_sweep_arguments or check_range_arguments."""
    from fashionkit import lr_finder

    for name in ("LearningRateSweep", "check_sweep_arguments", "check_range_arguments"):
        assert not hasattr(lr_finder, name), name
    assert "RangeTestOptions" in lr_finder.__all__
