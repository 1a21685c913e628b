"""fashionkit.train and its parts: compiling, setup, the two loops, results; tiny data and real.

The callbacks train wires in are tested in test_callbacks.py, run directories in test_runs.py.
"""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from sklearn.model_selection import train_test_split

import fashionkit
from conftest import metrics_only
from fashionkit._constants import OPTIMIZERS
from fashionkit.callbacks import EpochCheckpoint
from fashionkit.config import LossConfig, OptimizerConfig, TrainConfig
from fashionkit.evaluation import report_from_probabilities
from fashionkit.exceptions import ConfigError, TrainingInterrupted
from fashionkit.models import CNNConfig, MLPConfig, list_architectures
from fashionkit.training import (
    aligned_steps_per_execution,
    compile_model,
    create_training_model,
    make_loss,
    make_optimizer,
)
from fashionkit.training._loops import KerasFitLoop, MultiWorkerLoop, loop_for
from fashionkit.training._setup import prepare
from fashionkit.training._train import _finish, _wire_callbacks

# The keys every epoch's logs hold under fashionkit.train, whichever loop runs it.
LOG_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy", "val_per_class_accuracy"}


def _config(**changes: Any) -> TrainConfig:
    base: dict[str, Any] = {"epochs": 3, "batch_size": 16, "verbose": 0}
    base.update(changes)
    return TrainConfig(**base)


class _LogKeys(keras.callbacks.Callback):  # type: ignore[misc]
    """Keep the logs each epoch ends with."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: list[dict[str, Any]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.logs.append(dict(logs or {}))


@pytest.fixture(scope="module")
def tiny_run(tiny_dataset: fashionkit.FashionMNIST) -> tuple[fashionkit.TrainResult, _LogKeys]:
    """One finished three-epoch run of the default model on the tiny dataset, with its logs."""
    logs = _LogKeys()
    return fashionkit.train(_config(), dataset=tiny_dataset, callbacks=[logs]), logs


# --- results -------------------------------------------------------------------------------


def test_train_returns_a_complete_typed_result(tiny_run: Any) -> None:
    """It returns the model, one record per epoch, both reports, placement and timings."""
    result, _ = tiny_run
    assert [r.epoch for r in result.history] == [1, 2, 3]
    assert result.epochs_completed == 3
    assert result.stop_reason is None
    assert result.resumed_from_epoch == 0
    assert result.run_dir is None
    assert result.validation.split == "validation"
    assert result.validation.n_samples == 40  # 20% of 200
    assert result.test.split == "test"
    assert result.test.n_samples == 50
    assert result.placement.accelerator == "cpu"
    assert 0 < result.fit_seconds <= result.total_seconds
    assert all(r.seconds is not None and r.seconds > 0 for r in result.history)
    # The synthetic classes are easy: the model must learn them.
    assert result.test.accuracy > 0.8
    assert "test accuracy" in result.summary()


def test_train_holds_out_the_tutorials_validation_rows(
    tiny_run: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It validates on the rows train_test_split(test_size=0.2, random_state=42) holds out."""
    result, _ = tiny_run
    labels = np.asarray(tiny_dataset.train.labels)
    _, held = train_test_split(np.arange(len(labels)), test_size=0.2, random_state=42)
    support = [m.support for m in result.validation.per_class]
    assert support == np.bincount(labels[held], minlength=10).tolist()


def test_every_epoch_logs_the_validation_metrics(tiny_run: Any) -> None:
    """It logs loss, accuracy and the three val_* metrics after every epoch."""
    result, logs = tiny_run
    assert [set(epoch) for epoch in logs.logs] == [LOG_KEYS] * 3
    for epoch, record in zip(logs.logs, result.history, strict=True):
        assert record.val_loss == epoch["val_loss"]
        assert len(record.val_per_class_accuracy) == 10
        assert record.extra == {}


def test_last_val_loss_is_the_final_validation_reports_loss(tiny_run: Any) -> None:
    """It logs, after the last complete epoch, exactly the loss and metrics of the final report."""
    result, _ = tiny_run
    last = result.history[-1]
    assert not last.partial
    assert last.val_loss == result.validation.loss
    assert last.val_accuracy == result.validation.accuracy
    assert last.val_per_class_accuracy == result.validation.per_class_recall


def test_seeded_runs_repeat_exactly(tiny_run: Any, tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It gives identical metrics for two runs of the same seeded config on CPU."""
    first, _ = tiny_run
    second = fashionkit.train(_config(), dataset=tiny_dataset)
    assert metrics_only(second.history) == metrics_only(first.history)
    assert second.test.to_dict() == first.test.to_dict()
    other = fashionkit.train(_config(seed=7), dataset=tiny_dataset)
    assert metrics_only(other.history) != metrics_only(first.history)


def test_sparse_and_one_hot_losses_train_the_same_model(
    tiny_run: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It trains with either label encoding, compiling the matching Keras loss."""
    sparse, _ = tiny_run
    one_hot = fashionkit.train(_config(loss=LossConfig(encoding="one_hot")), dataset=tiny_dataset)
    assert type(sparse.model.loss).__name__ == "SparseCategoricalCrossentropy"
    assert type(one_hot.model.loss).__name__ == "CategoricalCrossentropy"
    # Same seed, same data, mathematically the same loss: the same trajectory up to round-off.
    np.testing.assert_allclose(
        [r.loss for r in sparse.history], [r.loss for r in one_hot.history], rtol=1e-4
    )
    np.testing.assert_allclose(
        [r.val_loss for r in sparse.history], [r.val_loss for r in one_hot.history], rtol=1e-4
    )


def test_val_loss_is_unsmoothed_with_label_smoothing(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It trains with smoothed targets but logs val_loss as the plain cross-entropy."""
    config = _config(epochs=2, loss=LossConfig(encoding="one_hot", label_smoothing=0.2))
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert result.model.loss.get_config()["label_smoothing"] == pytest.approx(0.2)
    parts = fashionkit.train_validation_split(tiny_dataset.train.images, tiny_dataset.train.labels)
    probabilities = np.asarray(
        result.model(fashionkit.prepare_images(parts.validation_images), training=False),
        dtype=np.float64,
    )
    true_class = probabilities[np.arange(40), parts.validation_labels]
    plain = float(-np.log(np.clip(true_class, 1e-7, 1 - 1e-7)).mean())
    assert result.history[-1].val_loss == pytest.approx(plain, rel=1e-6)
    assert result.validation.loss == result.history[-1].val_loss
    targets = fashionkit.encode_labels(parts.validation_labels, encoding="one_hot")
    smoothed = float(make_loss(config.loss)(targets, probabilities))
    assert smoothed > plain + 0.05  # what val_loss would be if it kept the smoothing


@pytest.mark.parametrize("name", list_architectures())
def test_every_architecture_trains_end_to_end(
    name: str, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It trains every registered architecture with the layout it prefers."""
    config = _config(model=name, epochs=1)
    result = fashionkit.train(config, dataset=tiny_dataset)
    expected = (784,) if config.layout == "flat" else (28, 28, 1)
    assert tuple(result.model.inputs[0].shape[1:]) == expected
    assert len(result.history) == 1
    assert math.isfinite(result.history[0].loss)


def test_user_callbacks_pass_through(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It hands user callbacks to Keras, after its own, and reports a stop they cause."""
    epochs_seen: list[int] = []

    class StopAfterTwo(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            epochs_seen.append(epoch)
            assert logs is not None
            assert "val_loss" in logs  # fashionkit's own evaluation ran first
            if epoch == 1:
                self.model.stop_training = True

    result = fashionkit.train(_config(epochs=5), dataset=tiny_dataset, callbacks=[StopAfterTwo()])
    assert epochs_seen == [0, 1]
    assert result.epochs_completed == 2
    assert result.stop_reason == "a callback stopped training after epoch 2"
    assert "stopped early: a callback stopped training" in result.summary()


def test_extra_metrics_logged_by_a_callback_are_kept(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It keeps a metric a user callback adds to the logs in the record's extra."""

    class AddMetric(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            assert logs is not None
            logs["val_gap"] = logs["val_loss"] - logs["loss"]

    result = fashionkit.train(_config(epochs=2), dataset=tiny_dataset, callbacks=[AddMetric()])
    for record in result.history:
        assert record.extra == {"val_gap": pytest.approx(record.val_loss - record.loss)}


# --- the two loops -------------------------------------------------------------------------


def _run_loop(loop: Any, config: TrainConfig, dataset: fashionkit.FashionMNIST) -> Any:
    """Set up, run ``loop`` in this process under the default strategy, finish."""
    setup = prepare(config, dataset=dataset, run_dir=None)
    logs = _LogKeys()
    wiring = _wire_callbacks(setup, [logs])
    seconds = loop.run(setup, wiring.callbacks)
    return _finish(setup, wiring, fit_seconds=seconds, started=0.0), logs


def test_both_loops_log_the_same_keys_and_the_reports_metrics(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It logs the same keys from fit and the multi-worker loop, val_* from the one evaluator."""
    config = _config(epochs=2)
    for loop in (KerasFitLoop(), MultiWorkerLoop()):
        result, logs = _run_loop(loop, config, tiny_dataset)
        assert [set(epoch) for epoch in logs.logs] == [LOG_KEYS] * 2, type(loop).__name__
        assert result.history[-1].val_loss == result.validation.loss
        assert result.history[-1].val_per_class_accuracy == result.validation.per_class_recall
        assert result.test.accuracy > 0.5


def test_multi_worker_loop_keeps_the_global_batch_and_drops_the_remainder(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It runs len(train) // batch_size steps per epoch, like every replica in lockstep."""
    batches: list[int] = []

    class Count(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            batches.append(0)

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            batches[-1] += 1

    setup = prepare(_config(epochs=2, batch_size=48), dataset=tiny_dataset, run_dir=None)
    wiring = _wire_callbacks(setup, [Count()])
    MultiWorkerLoop().run(setup, wiring.callbacks)
    assert batches == [160 // 48] * 2  # 3 full batches; the last 16 images are dropped


def test_loop_for_picks_the_multi_worker_loop_only_for_that_strategy(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It uses Keras's fit unless the placement's strategy is multi_worker."""
    setup = prepare(_config(), dataset=tiny_dataset, run_dir=None)
    assert isinstance(loop_for(setup), KerasFitLoop)


# --- signals -----------------------------------------------------------------------------


def test_sigterm_stops_at_a_batch_and_keeps_only_completed_epochs(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It raises TrainingInterrupted at the next batch, keeps epoch 1, and resumes to the end."""

    class SignalInEpochTwo(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if self.epoch == 1 and batch == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    config = _config(steps_per_execution=1)
    run_dir = tmp_path / "run"
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted) as info:
        fashionkit.train(
            config, dataset=tiny_dataset, run_dir=run_dir, callbacks=[SignalInEpochTwo()]
        )
    assert (info.value.signal_number, info.value.completed_epochs) == (signal.SIGTERM, 1)
    assert info.value.exit_status == 143
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    # The epoch in flight is neither logged nor checkpointed: resuming repeats it whole.
    assert (run_dir / "metrics.jsonl").read_text().count("\n") == 1
    assert EpochCheckpoint.latest(run_dir / "checkpoint") == (
        1,
        run_dir / "checkpoint" / "epoch-0001.keras",
    )
    resumed = fashionkit.train(config, dataset=tiny_dataset, run_dir=run_dir)
    whole = fashionkit.train(config, dataset=tiny_dataset)
    assert resumed.resumed_from_epoch == 1
    assert metrics_only(resumed.history) == metrics_only(whole.history)


# --- compiling -----------------------------------------------------------------------------


def test_compile_model_defaults_to_the_tutorials_loss_and_optimizer() -> None:
    """It compiles with sparse categorical cross-entropy, RMSprop at 0.001 and accuracy."""
    model = compile_model(fashionkit.create_model("linear"))
    assert type(model.loss).__name__ == "SparseCategoricalCrossentropy"
    assert type(model.optimizer).__name__ == "RMSprop"
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    assert model.steps_per_execution == 1


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_make_optimizer_builds_every_listed_optimizer(name: str) -> None:
    """It returns the Keras optimizer of every allowed name with the configured learning rate."""
    optimizer = make_optimizer(OptimizerConfig(name=name, learning_rate=0.02))
    assert type(optimizer).__name__.lower() == name
    assert float(optimizer.learning_rate) == pytest.approx(0.02)


def test_make_loss_without_reduction_gives_per_sample_losses() -> None:
    """It returns one loss per sample with reduction=None and their mean by default."""
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], np.float32)
    labels = np.array([0, 0, 1])
    per_sample = np.asarray(make_loss(LossConfig(), reduction=None)(labels, probabilities))
    np.testing.assert_allclose(per_sample, -np.log([0.9, 0.2, 0.5]), rtol=1e-5)
    mean = float(make_loss(LossConfig())(labels, probabilities))
    assert mean == pytest.approx(per_sample.mean(), rel=1e-5)


@pytest.mark.parametrize(
    ("wanted", "steps", "expected"),
    [(64, 1500, 60), (64, 1499, 1), (64, 375, 25), (10, 10, 10), (100, 10, 10), (1, 50, 1)],
)
def test_aligned_steps_per_execution_is_the_largest_divisor_not_above_wanted(
    wanted: int, steps: int, expected: int
) -> None:
    """It picks the largest divisor of the epoch's steps that does not exceed the wish."""
    assert aligned_steps_per_execution(wanted, steps) == expected


def test_create_training_model_aligns_steps_per_execution_with_the_epoch() -> None:
    """It compiles the configured value, or its largest divisor of the epoch's batch count."""
    config = TrainConfig(steps_per_execution=64)
    assert create_training_model(config).steps_per_execution == 64
    assert create_training_model(config, steps_per_epoch=375).steps_per_execution == 25


def test_report_from_a_trained_model_matches_the_result(
    tiny_run: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It reports the test metrics an independent prediction of the test split gives."""
    result, _ = tiny_run
    probabilities = result.model(fashionkit.prepare_images(tiny_dataset.test.images))
    report = report_from_probabilities(
        np.asarray(probabilities), tiny_dataset.test.labels, split="test"
    )
    assert report.confusion_matrix == result.test.confusion_matrix
    assert report.loss == pytest.approx(result.test.loss, rel=1e-6)


# --- the tutorial on the real data (slow) --------------------------------------------------


@pytest.mark.integration
@pytest.mark.slow
def test_defaults_reproduce_the_tutorial(
    tutorial_run: fashionkit.TrainResult, real_data: fashionkit.FashionMNIST
) -> None:
    """It trains the tutorial's model with its split and schedule to about 0.85."""
    assert tutorial_run.validation.n_samples == 12000
    assert len(tutorial_run.history) == 5
    assert tutorial_run.validation.accuracy >= 0.83
    assert tutorial_run.history[0].accuracy < tutorial_run.history[-1].accuracy
    assert tutorial_run.history[-1].val_loss == tutorial_run.validation.loss
    # The validation rows are those of the tutorial's train_test_split(..., random_state=42).
    labels = np.asarray(real_data.train.labels)
    _, held = train_test_split(np.arange(60000), test_size=0.2, random_state=42)
    support = [m.support for m in tutorial_run.validation.per_class]
    assert support == np.bincount(labels[held], minlength=10).tolist()


@pytest.mark.integration
@pytest.mark.slow
def test_one_hot_loss_reaches_the_same_accuracy(
    real_data: fashionkit.FashionMNIST, tutorial_run: fashionkit.TrainResult
) -> None:
    """It reaches the sparse run's accuracy with one-hot labels and categorical cross-entropy."""
    one_hot = fashionkit.train(
        TrainConfig(verbose=0, loss=LossConfig(encoding="one_hot")), dataset=real_data
    )
    assert one_hot.validation.accuracy >= 0.83
    assert abs(one_hot.validation.accuracy - tutorial_run.validation.accuracy) < 0.01


@pytest.mark.integration
@pytest.mark.slow
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


@pytest.mark.integration
@pytest.mark.slow
def test_cnn_short_run_reaches_089(real_data: fashionkit.FashionMNIST) -> None:
    """It trains a small CNN (16 and 32 filters) for three epochs to at least 0.89 test accuracy."""
    config = TrainConfig(
        model=CNNConfig(filters=(16, 32)),
        optimizer=OptimizerConfig(name="adam"),
        epochs=3,
        batch_size=64,
        verbose=0,
    )
    result = fashionkit.train(config, dataset=real_data)
    assert result.test.accuracy >= 0.89


def test_train_refuses_a_mapping_for_a_config(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It raises ConfigError, not AttributeError, when given a dict instead of a TrainConfig."""
    with pytest.raises(ConfigError, match=r"TrainConfig\.from_dict"):
        fashionkit.train({"epochs": 3}, dataset=tiny_dataset)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("callbacks", "message"),
    [
        (keras.callbacks.EarlyStopping, "callbacks must be a list or tuple of Keras callbacks"),
        ([keras.callbacks.EarlyStopping], "callbacks must be a list or tuple of Keras callbacks"),
        ([print], "callbacks must be a list or tuple of Keras callbacks"),
        ("EarlyStopping", "callbacks must be a list or tuple of Keras callbacks"),
        ({"live": True}, "callbacks must be a list or tuple of Keras callbacks"),
    ],
    ids=["one-instance-class", "a-class", "a-function", "a-name", "a-mapping"],
)
def test_train_refuses_callbacks_that_keras_could_not_call(
    tiny_dataset: fashionkit.FashionMNIST, callbacks: object, message: str
) -> None:
    """It raises ArgumentError before anything starts, not an AttributeError inside fit."""
    with pytest.raises(fashionkit.ArgumentError, match=f"^{message}"):
        fashionkit.train(TrainConfig(verbose=0), dataset=tiny_dataset, callbacks=callbacks)  # type: ignore[arg-type]


def test_train_refuses_a_live_that_is_not_a_bool(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It raises ArgumentError naming live, a ConfigError as before."""
    with pytest.raises(ConfigError, match=r"^live must be True or False; got 'yes'\."):
        fashionkit.train(TrainConfig(verbose=0), dataset=tiny_dataset, live="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(("wanted", "steps"), [(0, 10), (4, 0), (4.0, 10), (4, "10")])
def test_aligned_steps_refuses_counts_below_one(wanted: object, steps: object) -> None:
    """It raises ArgumentError naming the count, not a ValueError from max() of nothing."""
    with pytest.raises(fashionkit.ArgumentError, match=r"must be an integer >= 1"):
        aligned_steps_per_execution(wanted, steps)  # type: ignore[arg-type]


def test_make_loss_refuses_an_unknown_reduction() -> None:
    """It raises ArgumentError listing Keras's reductions, with the close one as a hint."""
    with pytest.raises(
        fashionkit.ArgumentError, match=r"^reduction must be one of .*Did you mean 'sum'"
    ):
        make_loss(LossConfig(), reduction="summ")


def test_multi_worker_loop_refuses_a_batch_larger_than_the_data(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It raises ConfigError instead of silently training nothing when no batch is complete."""
    setup = prepare(_config(epochs=1, batch_size=1000), dataset=tiny_dataset, run_dir=None)
    wiring = _wire_callbacks(setup, [])
    with pytest.raises(ConfigError, match="larger than the 160 training images"):
        MultiWorkerLoop().run(setup, wiring.callbacks)
