"""Tests of fashionkit._schedules and the optimizer options built from OptimizerConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit._schedules import START_FACTOR, WarmupSchedule
from fashionkit.config import OptimizerConfig, TrainConfig
from fashionkit.exceptions import ConfigError
from fashionkit.training import make_optimizer
from tests.helpers import metrics_only


def _rates(schedule: WarmupSchedule, steps: list[int]) -> list[float]:
    return [float(schedule(step)) for step in steps]


@pytest.mark.parametrize(
    ("shape", "middle", "last"),
    [
        ("constant", 0.1, 0.1),
        ("cosine", 0.05, 0.0),
        ("one_cycle", (0.1 + 0.1 * START_FACTOR / 100) / 2, 0.1 * START_FACTOR / 100),
    ],
)
def test_every_shape_warms_up_then_follows_its_curve(
    shape: str, middle: float, last: float
) -> None:
    """It rises linearly from peak/25 to the peak, then stays, decays by cosine or falls."""
    schedule = WarmupSchedule(peak=0.1, total_steps=100, warmup_steps=30, shape=shape)
    start, halfway_up, peak, halfway_down, end = _rates(schedule, [0, 15, 30, 65, 100])
    assert start == pytest.approx(0.1 * START_FACTOR)
    assert halfway_up == pytest.approx((0.1 * START_FACTOR + 0.1) / 2)
    assert peak == pytest.approx(0.1)
    assert halfway_down == pytest.approx(middle, abs=1e-6)
    assert end == pytest.approx(last, abs=1e-7)


def test_a_schedule_without_warm_up_starts_at_the_peak() -> None:
    """It starts at the peak when there are no warm-up steps."""
    schedule = WarmupSchedule(peak=0.01, total_steps=10, warmup_steps=0, shape="cosine")
    assert _rates(schedule, [0])[0] == pytest.approx(0.01)


def test_a_schedule_round_trips_through_keras_serialisation() -> None:
    """It is rebuilt from its saved config as the same schedule (checkpoints hold it)."""
    schedule = WarmupSchedule(peak=0.02, total_steps=50, warmup_steps=5, shape="one_cycle")
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(again, WarmupSchedule)
    steps = [0, 3, 5, 20, 50]
    assert _rates(again, steps) == _rates(schedule, steps)


def test_one_cycle_defaults_to_a_thirty_percent_warm_up() -> None:
    """It uses 30% of the steps for the warm-up of one_cycle unless told otherwise."""
    assert OptimizerConfig(schedule="one_cycle").resolved_warmup_fraction == 0.3
    assert OptimizerConfig(schedule="cosine").resolved_warmup_fraction == 0.0
    assert OptimizerConfig(schedule="cosine", warmup_fraction=0.1).needs_total_steps
    assert not OptimizerConfig().needs_total_steps


def test_a_schedule_needs_the_number_of_steps() -> None:
    """It raises ConfigError when a schedule is asked for without the run's length."""
    with pytest.raises(ConfigError, match="needs the run's number of steps"):
        make_optimizer(OptimizerConfig(schedule="cosine"))
    optimizer = make_optimizer(OptimizerConfig(schedule="cosine"), total_steps=10)
    assert isinstance(optimizer._learning_rate, WarmupSchedule)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"name": "adam", "momentum": 0.9}, "applies to 'sgd' and 'rmsprop'"),
        ({"name": "sgd", "nesterov": True}, "needs name='sgd' and momentum above 0"),
        ({"name": "rmsprop", "momentum": 0.9, "nesterov": True}, "needs name='sgd'"),
    ],
)
def test_momentum_options_must_fit_the_optimizer(options: dict[str, Any], words: str) -> None:
    """It refuses momentum or Nesterov for optimizers that do not use them."""
    with pytest.raises(ConfigError, match=words):
        OptimizerConfig(**options)


class _Crash(keras.callbacks.Callback):  # type: ignore[misc]
    """Die at the end of epoch 2, before it is checkpointed (epoch 1 is)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch == 1:
            raise KeyboardInterrupt


def test_a_resumed_scheduled_run_equals_an_uninterrupted_one(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It continues schedule and momentum from the checkpoint, ending as an unbroken run."""
    config = TrainConfig(
        model={"architecture": "cnn", "filters": [4], "dense_units": 8, "batch_norm": True},
        optimizer=OptimizerConfig(
            name="sgd", learning_rate=0.05, momentum=0.9, nesterov=True, schedule="one_cycle"
        ),
        epochs=3,
        batch_size=32,
        verbose=0,
    )
    straight = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "r", callbacks=[_Crash()])
    resumed = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "r")
    assert resumed.resumed_from_epoch == 1
    assert metrics_only(resumed.history) == metrics_only(straight.history)
    weights = zip(resumed.model.get_weights(), straight.model.get_weights(), strict=True)
    assert all(np.array_equal(a, b) for a, b in weights)
