"""TrainingContext: what fashionkit.train hands every callback with a ``set_context`` method."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit.callbacks import TrainingContext
from fashionkit.config import TrainConfig
from fashionkit.evaluation import Evaluator
from fashionkit.exceptions import ArgumentError
from tests.helpers import small_config

# --- TrainingContext -----------------------------------------------------------------------


class _Remember(keras.callbacks.Callback):  # type: ignore[misc]
    """A user callback that takes the context and notes what it sees at each epoch end."""

    def __init__(self) -> None:
        super().__init__()
        self.context: TrainingContext | None = None
        self.latest_losses: list[float] = []
        self.logged_losses: list[float] = []

    def set_context(self, context: TrainingContext) -> None:
        self.context = context

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        assert self.context is not None
        assert self.context.validation.latest is not None
        self.latest_losses.append(self.context.validation.latest.loss)
        self.logged_losses.append((logs or {})["val_loss"])


def test_a_user_callback_with_set_context_receives_the_run(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It hands the config, the validation evaluator and the epoch to start from before fit."""
    remember = _Remember()
    config = small_config(epochs=2)
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[remember])
    context = remember.context
    assert isinstance(context, TrainingContext)
    assert context.config is config
    assert isinstance(context.validation, Evaluator)
    assert len(context.validation) == result.validation.n_samples == 40
    assert context.initial_epoch == 0
    assert context.run_dir is None
    assert context.stop_reason is None
    # The context's latest report is the one behind the epoch's val_* logs.
    assert remember.latest_losses == remember.logged_losses
    assert remember.latest_losses[-1] == result.validation.loss


def test_a_callback_that_records_its_stop_names_the_reason(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It puts a callback's own reason, and a cut-short epoch, into the result."""

    class StopMidEpoch(keras.callbacks.Callback):  # type: ignore[misc]
        def set_context(self, context: TrainingContext) -> None:
            self.context = context

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if batch == 2:
                self.model.stop_training = True
                self.context.record_stop("enough batches", epoch=1, cut_short=True)

    config = small_config(epochs=5, steps_per_execution=1)
    result = fashionkit.train(config, dataset=tiny_dataset, callbacks=[StopMidEpoch()])
    assert result.stop_reason == "enough batches"
    assert [r.partial for r in result.history] == [True]
    assert result.epochs_completed == 0


def test_the_first_recorded_stop_reason_wins() -> None:
    """It keeps the first reason and its epoch when two callbacks report a stop."""
    context = TrainingContext(config=TrainConfig(), validation=_evaluator())
    context.record_stop("budget", epoch=3, cut_short=True)
    context.record_stop("early stopping", epoch=3)
    assert (context.stop_reason, context.partial_epoch) == ("budget", 3)
    whole = TrainingContext(config=TrainConfig(), validation=_evaluator())
    whole.record_stop("enough", epoch=2)
    assert (whole.stop_reason, whole.partial_epoch) == ("enough", None)


def _evaluator() -> Evaluator:
    """A validation evaluator of four blank images, for contexts built by hand."""
    return Evaluator(np.zeros((4, 28, 28), np.uint8), [0, 1, 2, 3])


def test_the_context_checks_its_fields_when_built_and_when_set() -> None:
    """It raises ArgumentError naming the field, at construction and at assignment."""
    with pytest.raises(ArgumentError, match=r"TrainingContext.validation must be an Evaluator"):
        TrainingContext(config=TrainConfig(), validation=None)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"TrainingContext.config must be a TrainConfig"):
        TrainingContext(config={"epochs": 1}, validation=_evaluator())  # type: ignore[arg-type]
    context = TrainingContext(config=TrainConfig(), validation=_evaluator())
    with pytest.raises(ArgumentError, match=r"TrainingContext.initial_epoch must be an integer"):
        context.initial_epoch = -1
    with pytest.raises(ArgumentError, match=r"TrainingContext.stop_reason must be a str or None"):
        context.stop_reason = 3  # type: ignore[assignment]
    with pytest.raises(ArgumentError, match=r"epoch must be an integer >= 1; got 0"):
        context.record_stop("why", epoch=0)
    assert context.stop_reason is None


def test_the_context_of_a_run_directory_names_it(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It gives the run directory to callbacks when train keeps one."""
    remember = _Remember()
    fashionkit.train(
        small_config(epochs=1), dataset=tiny_dataset, callbacks=[remember], run_dir=tmp_path / "run"
    )
    assert remember.context is not None
    assert remember.context.run_dir == tmp_path / "run"
