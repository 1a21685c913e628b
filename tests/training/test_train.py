"""fashionkit.train: results, callbacks and recipes (averaging, augmentation, TTA)."""

from __future__ import annotations

import math
import os
import signal
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from sklearn.model_selection import train_test_split

import fashionkit
from fashionkit._averaging import moving_averages
from fashionkit.callbacks import EpochCheckpoint
from fashionkit.config import LossConfig, OptimizerConfig, TrainConfig
from fashionkit.evaluation import report_from_probabilities
from fashionkit.exceptions import (
    ConfigError,
    TrainingInterrupted,
)
from fashionkit.models import CNNConfig, MLPConfig, list_architectures
from fashionkit.preprocessing import train_validation_split
from fashionkit.runs import RunWriter
from fashionkit.training import make_loss
from tests.helpers import (
    LOG_KEYS,
    SMALL,
    TinyRunFactory,
    crash_after,
    metrics_only,
    recipe_config,
    small_config,
)


class RecordResult(keras.callbacks.Callback):
    """Keeps what train() hands to on_result, and what the run directory held then."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[Any] = []
        self.run_dir_files: list[str] = []

    def on_result(self, result: Any) -> None:
        """Note the result."""
        self.results.append(result)
        if result.run_dir is not None:
            self.run_dir_files = sorted(p.name for p in Path(result.run_dir).iterdir())


def test_train_hands_its_result_to_every_callback_with_on_result(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It calls on_result once with the result train() returns, before the results are written."""
    recorder = RecordResult()
    run = tmp_path / "run"
    result = fashionkit.train(
        fashionkit.TrainConfig(epochs=1, verbose=0), dataset=tiny_dataset, callbacks=[recorder],
        run_dir=run,
    )  # fmt: skip
    assert recorder.results == [result]
    assert "summary.json" not in recorder.run_dir_files  # the results come after the hook
    assert (run / "summary.json").is_file()


# --- results -------------------------------------------------------------------------------


def test_train_returns_a_complete_typed_result(tiny_run: TinyRunFactory) -> None:
    """It returns the model, one record per epoch, both reports, placement and timings."""
    result = tiny_run(SMALL, run_dir=False).result
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


def test_every_epoch_logs_the_validation_metrics(tiny_run: TinyRunFactory) -> None:
    """It logs loss, accuracy and the three val_* metrics after every epoch."""
    run = tiny_run(SMALL, run_dir=False)
    result = run.result
    assert [set(epoch) for epoch in run.logs] == [LOG_KEYS] * 3
    for epoch, record in zip(run.logs, result.history, strict=True):
        assert record.val_loss == epoch["val_loss"]
        assert len(record.val_per_class_accuracy) == 10
        assert record.extra == {}


def test_last_val_loss_is_the_final_validation_reports_loss(tiny_run: TinyRunFactory) -> None:
    """It logs, after the last complete epoch, exactly the loss and metrics of the final report."""
    result = tiny_run(SMALL, run_dir=False).result
    last = result.history[-1]
    assert not last.partial
    assert last.val_loss == result.validation.loss
    assert last.val_accuracy == result.validation.accuracy
    assert last.val_per_class_accuracy == result.validation.per_class_recall


def test_seeded_runs_repeat_exactly(
    tiny_run: TinyRunFactory, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It gives identical metrics for two runs of the same seeded config on CPU."""
    first = tiny_run(SMALL, run_dir=False).result
    second = fashionkit.train(small_config(), dataset=tiny_dataset)
    assert metrics_only(second.history) == metrics_only(first.history)
    assert second.test.to_dict() == first.test.to_dict()
    other = fashionkit.train(small_config(seed=7), dataset=tiny_dataset)
    assert metrics_only(other.history) != metrics_only(first.history)


def test_sparse_and_one_hot_losses_train_the_same_model(
    tiny_run: TinyRunFactory, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It trains with either label encoding, compiling the matching Keras loss."""
    sparse = tiny_run(SMALL, run_dir=False).result
    one_hot = fashionkit.train(
        small_config(loss=LossConfig(encoding="one_hot")), dataset=tiny_dataset
    )
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
    config = small_config(epochs=2, loss=LossConfig(encoding="one_hot", label_smoothing=0.2))
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
    config = small_config(model=name, epochs=1)
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

    result = fashionkit.train(
        small_config(epochs=5), dataset=tiny_dataset, callbacks=[StopAfterTwo()]
    )
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

    result = fashionkit.train(small_config(epochs=2), dataset=tiny_dataset, callbacks=[AddMetric()])
    for record in result.history:
        assert record.extra == {"val_gap": pytest.approx(record.val_loss - record.loss)}


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

    config = small_config(steps_per_execution=1)
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


def test_report_from_a_trained_model_matches_the_result(
    tiny_run: TinyRunFactory, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It reports the test metrics an independent prediction of the test split gives."""
    result = tiny_run(SMALL, run_dir=False).result
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


RECIPE = {
    "model": {"architecture": "cnn", "filters": [4, 8], "dense_units": 16, "batch_norm": True},
    "optimizer": {
        "name": "adamw",
        "learning_rate": 0.003,
        "schedule": "one_cycle",
        "ema_momentum": 0.9,
    },
    "augment": {"translate": 2, "flip": "alternate", "erase_probability": 0.5},
    "tta": True,
}


def test_with_averaging_the_average_is_evaluated_and_kept(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It ends with the averaged weights, the ones each epoch's validation evaluated."""
    config = recipe_config(optimizer={"name": "adam", "learning_rate": 0.01, "ema_momentum": 0.9})
    result = fashionkit.train(config, dataset=tiny_dataset)
    averages = moving_averages(result.model)
    assert averages is not None
    for variable, average in zip(result.model.trainable_variables, averages, strict=True):
        np.testing.assert_array_equal(variable.numpy(), average.numpy())
    assert result.history[-1].val_accuracy == result.validation.accuracy
    assert result.history[-1].val_loss == result.validation.loss
    plain = fashionkit.train(
        recipe_config(optimizer={"name": "adam", "learning_rate": 0.01}), dataset=tiny_dataset
    )
    assert plain.validation.loss != result.validation.loss


# --- resume: augmentation, averaging and a schedule together ------------------------------


def test_a_resumed_recipe_run_is_bit_identical_to_an_uninterrupted_one(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It resumes an augmented, averaged, scheduled, TTA run to exactly the same metrics."""
    config = recipe_config(**RECIPE)
    whole = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "whole")
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        fashionkit.train(config, dataset=tiny_dataset, run_dir=cut, callbacks=[crash_after(3)])
    resumed = fashionkit.train(config, dataset=tiny_dataset, run_dir=cut)
    assert resumed.resumed_from_epoch == 2
    assert metrics_only(resumed.history) == metrics_only(whole.history)
    assert resumed.validation.to_dict() == whole.validation.to_dict()
    assert resumed.test.to_dict() == whole.test.to_dict()
    assert resumed.test.tta
    assert resumed.validation.tta
    for a, b in zip(resumed.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_augmentation_changes_training(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It trains on changed images: the same run without augmentation ends elsewhere."""
    with_aug = fashionkit.train(recipe_config(augment={"translate": 2}), dataset=tiny_dataset)
    without = fashionkit.train(recipe_config(), dataset=tiny_dataset)
    assert metrics_only(with_aug.history) != metrics_only(without.history)


# --- test-time augmentation: per epoch or at the end ---------------------------------------


def test_per_epoch_validation_skips_tta_unless_asked(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """With ``tta`` alone the epochs score the plain model; ``tta_each_epoch`` scores TTA too."""
    plain_epochs = fashionkit.train(recipe_config(epochs=2, tta=True), dataset=tiny_dataset)
    model = plain_epochs.model
    split = train_validation_split(
        tiny_dataset.train.images, tiny_dataset.train.labels, fraction=0.2, seed=42
    )
    plain = fashionkit.evaluate(model, split.validation_images, split.validation_labels)
    flipped = fashionkit.evaluate(model, split.validation_images, split.validation_labels, tta=True)
    assert plain.loss != flipped.loss  # the two scores differ, so the test can tell them apart
    assert plain_epochs.history[-1].val_loss == pytest.approx(plain.loss, rel=1e-6)
    assert plain_epochs.validation.tta
    assert plain_epochs.validation.loss == pytest.approx(flipped.loss, rel=1e-6)

    tta_epochs = fashionkit.train(
        recipe_config(epochs=2, tta=True, tta_each_epoch=True), dataset=tiny_dataset
    )
    assert tta_epochs.history[-1].val_loss == pytest.approx(tta_epochs.validation.loss, rel=1e-6)


def test_validating_the_last_epochs_only_changes_nothing_but_the_early_val_logs(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """The early epochs log no validation; training, the best epoch and the reports are the same."""
    every = fashionkit.train(recipe_config(epochs=4), dataset=tiny_dataset)
    config = recipe_config(epochs=4, validate_last_epochs=2, early_stopping={"patience": 1})
    # Recorded, not pytest.warns: that re-emits TensorFlow's own warnings as errors here.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        last = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "last")
    # A patience of 1 over two validated epochs could only stop after the last: said so.
    (idle,) = [w for w in caught if issubclass(w.category, fashionkit.FashionkitWarning)]
    assert str(idle.message) == config.idle_patience
    assert idle.filename == __file__  # it points at the caller of train()
    assert [math.isnan(r.val_accuracy) for r in last.history] == [True, True, False, False]
    assert [math.isnan(r.val_loss) for r in last.history] == [True, True, False, False]
    assert last.history[0].val_per_class_accuracy == ()
    for skipped, validated in zip(last.history, every.history, strict=True):
        assert (skipped.loss, skipped.accuracy) == (validated.loss, validated.accuracy)
    assert metrics_only(last.history[2:]) == metrics_only(every.history[2:])
    assert last.best_epoch in (3, 4)
    assert len(last.history) == 4  # the unvalidated epochs did not use up the patience
    assert last.validation.to_dict() == every.validation.to_dict()
    assert last.test.to_dict() == every.test.to_dict()
    # The run directory's metrics log holds the same records, read back as NaN.
    reread = fashionkit.load_run(tmp_path / "last").history
    assert [math.isnan(r.val_accuracy) for r in reread] == [True, True, False, False]


def test_a_run_validating_its_last_epochs_resumes_to_the_same_result(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """Cut before validation begins, the resumed run validates the same epochs."""
    config = recipe_config(epochs=4, validate_last_epochs=1)
    whole = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        fashionkit.train(
            config, dataset=tiny_dataset, run_dir=tmp_path / "cut", callbacks=[crash_after(3)]
        )
    resumed = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "cut")
    assert resumed.resumed_from_epoch == 2
    assert [math.isnan(r.val_accuracy) for r in resumed.history] == [True, True, True, False]
    assert resumed.best_epoch == whole.best_epoch == 4
    assert resumed.test.to_dict() == whole.test.to_dict()


def test_a_stopped_run_killed_before_its_results_finishes_without_training_on(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It keeps the stop in the checkpoint: resuming writes the results and trains no more."""
    config = recipe_config(
        epochs=10,
        optimizer={"name": "sgd", "learning_rate": 1e-9},
        early_stopping={"patience": 1, "restore_best": True},
    )
    uninterrupted = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "whole")

    def die(self: RunWriter, result: Any) -> None:
        raise KeyboardInterrupt  # the process ends after the last checkpoint, before results

    run_dir = tmp_path / "cut"
    with monkeypatch.context() as patch:
        patch.setattr(RunWriter, "write_results", die)
        with pytest.raises(KeyboardInterrupt):
            fashionkit.train(config, dataset=tiny_dataset, run_dir=run_dir)
    state = EpochCheckpoint.read_state(run_dir / "checkpoint")
    assert state is not None
    assert state.epoch == 2
    assert state.stop_reason is not None
    assert "early stopping" in state.stop_reason
    assert state.best is not None
    assert state.best.epoch == 1
    finished = fashionkit.train(config, dataset=tiny_dataset, run_dir=run_dir)
    assert finished.fit_seconds == 0.0
    assert finished.epochs_completed == 2 == uninterrupted.epochs_completed
    assert finished.stop_reason == uninterrupted.stop_reason
    assert finished.best_epoch == uninterrupted.best_epoch == 1
    assert finished.restored_best
    assert finished.validation.to_dict() == uninterrupted.validation.to_dict()
    assert (run_dir / "best.keras").is_file()
    assert (run_dir / "summary.json").is_file()


def test_a_stopped_averaged_run_finishes_with_the_average(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It ends a resumed, already stopped run with the averaged weights, as fit would have."""
    config = recipe_config(
        epochs=10,
        optimizer={"name": "adam", "learning_rate": 0.01, "ema_momentum": 0.5},
        early_stopping={"patience": 1, "min_delta": 10.0},  # no epoch after the first improves
    )
    uninterrupted = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "whole")

    def die(self: RunWriter, result: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(RunWriter, "write_results", die)
        with pytest.raises(KeyboardInterrupt):
            fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "cut")
    finished = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "cut")
    assert finished.fit_seconds == 0.0
    assert finished.epochs_completed == 2
    averages = moving_averages(finished.model)
    assert averages is not None
    for variable, average in zip(finished.model.trainable_variables, averages, strict=True):
        np.testing.assert_array_equal(variable.numpy(), average.numpy())
    for a, b in zip(finished.model.get_weights(), uninterrupted.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_signal_on_an_epochs_last_batch_leaves_the_run_resumable(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It does not record a signal as a stop: resuming trains the remaining epochs."""
    import os
    import signal

    class SignalOnLastBatchOfEpochTwo(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            if self.epoch == 1 and batch == 9:  # 160 images in batches of 16: the last one
                os.kill(os.getpid(), signal.SIGINT)

    config = recipe_config(steps_per_execution=1)
    with pytest.raises(fashionkit.TrainingInterrupted):
        fashionkit.train(
            config,
            dataset=tiny_dataset,
            run_dir=tmp_path,
            callbacks=[SignalOnLastBatchOfEpochTwo()],
        )
    state = EpochCheckpoint.read_state(tmp_path / "checkpoint")
    assert state is not None
    assert state.stop_reason is None
    resumed = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path)
    assert resumed.resumed_from_epoch == state.epoch
    assert resumed.epochs_completed == 4
    assert resumed.stop_reason is None


# float16 on a CPU is emulated, and fashionkit says so; the test is about loss scaling.
@pytest.mark.filterwarnings(
    "ignore:DeviceConfig\\(precision=:fashionkit.exceptions.FashionkitWarning"
)
def test_averaging_works_through_mixed_float16_loss_scaling(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It finds the average inside Keras's loss-scale optimizer and evaluates it each epoch."""
    config = recipe_config(
        epochs=2,
        optimizer={"name": "adam", "learning_rate": 0.01, "ema_momentum": 0.9},
        device={"precision": "mixed_float16"},
    )
    result = fashionkit.train(config, dataset=tiny_dataset)
    averages = moving_averages(result.model)
    assert averages is not None
    for variable, average in zip(result.model.trainable_variables, averages, strict=True):
        np.testing.assert_array_equal(variable.numpy(), average.numpy())
    assert result.history[-1].val_loss == result.validation.loss
