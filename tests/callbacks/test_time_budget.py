"""TimeBudget: training stopped once its seconds are spent, and the reason in the result."""

from __future__ import annotations

from typing import Any

import pytest

import fashionkit
from fashionkit.callbacks import TimeBudget
from fashionkit.exceptions import (
    ArgumentError,
    ConfigError,
)
from tests.helpers import plain_fit, small_config

# --- TimeBudget ----------------------------------------------------------------------------


def test_time_budget_stops_at_a_batch_and_says_so(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It stops training once the budget is spent and reports it in the result."""
    config = small_config(epochs=50, batch_size=4, time_budget_seconds=1e-6, steps_per_execution=1)
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert len(result.history) == 1
    assert result.history[0].partial
    assert result.epochs_completed == 0
    assert result.stop_reason == (
        "time budget of 1e-06 s spent during epoch 1; training stopped at the end of a batch"
    )
    assert "stopped early" in result.summary()


def test_time_budget_spent_on_an_epochs_last_batch_keeps_the_epoch_whole(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It counts the epoch as complete when the budget stops training on its last batch."""
    # 160 training images in batches of 4 are 40 steps, all run in one compiled call.
    config = small_config(epochs=50, batch_size=4, time_budget_seconds=1e-6, steps_per_execution=40)
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert len(result.history) == 1
    assert not result.history[0].partial
    assert result.epochs_completed == 1
    assert result.stop_reason is not None
    assert "time budget" in result.stop_reason


def test_a_user_time_budgets_reason_reaches_the_result(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It reports its own reason through the context into TrainResult.stop_reason."""
    budget = TimeBudget(1e-9)
    config = small_config(epochs=20, batch_size=4, steps_per_execution=1)
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[budget])
    assert budget.stopped
    assert budget.stopped_epoch == 1
    assert budget.epoch_cut_short
    assert budget.reason is not None
    assert result.stop_reason == budget.reason
    assert result.history[-1].partial


def test_time_budget_callback_resets_between_fits(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It resets its state in on_train_begin, so one instance serves several fits."""
    budget = TimeBudget(1e-9)
    plain_fit(tiny_dataset, [budget], epochs=3)
    assert budget.stopped
    budget.seconds = 3600.0
    result = fashionkit.train(small_config(epochs=2), dataset=tiny_dataset, callbacks=[budget])
    assert not budget.stopped
    assert budget.stopped_epoch is None
    assert budget.reason is None
    assert result.stop_reason is None


def test_time_budget_works_with_plain_fit(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It stops model.fit without a context and keeps its reason for the caller."""
    budget = TimeBudget(1e-9)
    plain_fit(tiny_dataset, [budget], epochs=5)
    assert budget.stopped
    assert budget.stopped_epoch == 1
    assert budget.reason is not None
    assert "epoch 1" in budget.reason


@pytest.mark.parametrize("bad", [0, -1, float("nan"), True, "10"])
def test_time_budget_rejects_non_positive_seconds(bad: Any) -> None:
    """It raises ArgumentError (a ConfigError) for a budget that is not a positive number."""
    with pytest.raises(ArgumentError, match=r"^seconds must be a number > 0; got ") as info:
        TimeBudget(bad)
    assert isinstance(info.value, ConfigError)
    assert repr(bad) in str(info.value)
