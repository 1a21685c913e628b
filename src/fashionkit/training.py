"""``fashionkit.train``: load, preprocess, build, fit and evaluate in one typed call."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fashionkit import runs
from fashionkit._pipeline import epoch_batches, predict_in_batches
from fashionkit._typing import PathLike
from fashionkit.config import TrainConfig
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.devices import Placement, apply_device_config, configure_determinism
from fashionkit.evaluation import EvaluationReport, report_from_probabilities
from fashionkit.exceptions import ConfigError
from fashionkit.preprocessing import encode_labels, prepare_images, train_validation_split

__all__ = ["EpochRecord", "TrainResult", "train"]

logger = logging.getLogger("fashionkit")


@attrs.frozen(kw_only=True)
class EpochRecord:
    """Metrics of one epoch, as Keras logged them at its end.

    Attributes:
        epoch: 1-based epoch number.
        loss: Mean training loss over the epoch's batches.
        accuracy: Training accuracy over the epoch's batches.
        val_loss: Validation loss after the epoch.
        val_accuracy: Validation accuracy after the epoch.
        partial: The epoch was cut short by a time budget.
    """

    epoch: int
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    partial: bool = False


@attrs.frozen(kw_only=True, eq=False)
class TrainResult:
    """Everything a training run produced.

    Attributes:
        model: The trained, compiled ``keras.Model``.
        config: The resolved configuration the run used.
        history: One record per epoch, in order.
        validation: Evaluation of the final model on the held-out validation split.
        test: Evaluation of the final model on the test split.
        placement: Where the model trained.
        fit_seconds: Wall-clock seconds spent in ``model.fit``.
        total_seconds: Wall-clock seconds of the whole call, loading and evaluation included.
        stop_reason: Why training ended before ``config.epochs``, or ``None`` if it ran them all.
        run_dir: The run directory the results were written to, if any.
        resumed_from_epoch: The last epoch restored from a checkpoint (0 for a fresh run).
    """

    model: Any
    config: TrainConfig
    history: tuple[EpochRecord, ...]
    validation: EvaluationReport
    test: EvaluationReport
    placement: Placement
    fit_seconds: float
    total_seconds: float
    stop_reason: str | None = None
    run_dir: Path | None = None
    resumed_from_epoch: int = 0

    @property
    def epochs_completed(self) -> int:
        """Number of epochs that ran to their end."""
        return sum(1 for r in self.history if not r.partial)

    def summary(self) -> str:
        """A few lines with the final metrics and timings."""
        lines = [
            f"model {self.config.model.architecture}, loss {self.config.loss.keras_name}, "
            f"{self.epochs_completed}/{self.config.epochs} epochs on {self.placement.accelerator}",
            f"validation accuracy {self.validation.accuracy:.4f} (loss {self.validation.loss:.4f})",
            f"test accuracy       {self.test.accuracy:.4f} (loss {self.test.loss:.4f})",
            f"fit {self.fit_seconds:.1f} s, total {self.total_seconds:.1f} s",
        ]
        if self.stop_reason:
            lines.append(f"stopped early: {self.stop_reason}")
        return "\n".join(lines)


def train(
    config: TrainConfig | None = None,
    *,
    dataset: FashionMNIST | None = None,
    callbacks: Sequence[Any] = (),
    run_dir: PathLike | None = None,
) -> TrainResult:
    """Train a model on Fashion-MNIST as ``config`` describes, and evaluate it.

    Steps: apply the device config (before TensorFlow initialises) and create the distribution
    strategy; load the data unless ``dataset`` is given; hold out the validation split; scale to
    float32 and shape for the architecture; encode labels for the loss; seed Python, NumPy and
    Keras (and turn on op determinism unless ``config.deterministic`` is off); build and compile
    the model in the strategy's scope under the configured precision; fit with the validation
    split; evaluate on validation and test.

    With no arguments it reproduces the tutorial: the one-layer softmax model, sparse labels,
    RMSprop, 5 epochs of batches of 32, 20% validation with seed 42 (about 0.85 validation
    accuracy).

    ``config.batch_size`` is the global batch: with several replicas (``mirrored`` or
    ``multi_worker``) each replica computes ``batch_size / replicas`` examples per step, and an
    epoch has the same number of steps as on one device.

    Args:
        config: What to train; :class:`~fashionkit.config.TrainConfig()` when omitted.
        dataset: The data; loaded with :func:`~fashionkit.load_fashion_mnist` when omitted.
        callbacks: Keras callbacks passed to ``fit`` after fashionkit's own. A
            :class:`~fashionkit.callbacks.ValidationReport` without data receives the
            validation split.
        run_dir: Folder to keep the run in (layout in :mod:`fashionkit.runs`): the config, a
            checkpoint after every epoch, the metrics log, the final model, the reports and the
            environment. If the folder holds an interrupted run of the same config, training
            resumes after its last completed epoch and ends at ``config.epochs``; each epoch's
            data order depends only on the seed and the epoch, so a resumed deterministic run
            ends with the same metrics as an uninterrupted one.

    Returns:
        The trained model, per-epoch history, validation and test reports, and timings.

    Raises:
        DeviceError: The device config cannot be satisfied.
        RunDirError: ``run_dir`` holds a different config, a completed run, or damaged files.
        FashionkitError: Loading or validating the data failed (see
            :func:`~fashionkit.load_fashion_mnist`).

    Example:
        >>> import fashionkit
        >>> result = fashionkit.train()  # doctest: +SKIP
        >>> round(result.validation.accuracy, 2)  # doctest: +SKIP
        0.85
    """
    started = time.perf_counter()
    config = config if config is not None else TrainConfig()
    if run_dir is not None and config.device.strategy == "multi_worker":
        raise ConfigError(
            "run_dir is not supported with strategy='multi_worker' yet: every worker would "
            "write the same files. Save the model from the chief worker (task index 0) instead."
        )
    strategy, placement = apply_device_config(config.device)
    logger.info("device: %s", placement)
    # Checked before the data is loaded, so that a wrong directory fails at once.
    resume = runs.prepare(Path(run_dir), config) if run_dir is not None else None

    from fashionkit.callbacks import TimeBudget, ValidationReport

    data = dataset if dataset is not None else load_fashion_mnist()
    parts = train_validation_split(
        data.train.images,
        data.train.labels,
        fraction=config.data.validation_fraction,
        seed=config.data.split_seed,
        stratify=config.data.stratify,
    )
    layout = config.layout
    encoding = config.loss.encoding
    # Images stay uint8 until a batch is formed (see fashionkit._pipeline): no float copy of the
    # whole training set is ever made.
    train_images = np.asarray(parts.train_images, dtype=np.uint8)
    val_images = np.asarray(parts.validation_images, dtype=np.uint8)
    y_train = encode_labels(parts.train_labels, encoding=encoding, num_classes=data.num_classes)
    y_val = encode_labels(parts.validation_labels, encoding=encoding, num_classes=data.num_classes)

    steps_per_epoch = math.ceil(len(train_images) / config.batch_size)
    configure_determinism(config.seed, deterministic=config.deterministic)
    if resume is not None and resume.checkpoint is not None:
        with strategy.scope():
            model = runs.load_model(resume.checkpoint)
    else:
        # Keras's multi-step loop fails under MirroredStrategy on TF 2.21 ("Graph execution
        # error" in multi_step_on_iterator): mirrored runs execute one step per call.
        build_config = (
            attrs.evolve(config, steps_per_execution=1)
            if placement.strategy == "mirrored"
            else config
        )
        model = _build_in_scope(build_config, strategy, steps_per_epoch=steps_per_epoch)
    first_epoch = resume.epoch if resume is not None else 0

    from fashionkit.callbacks._eager_validation import EagerValidation
    from fashionkit.callbacks._reseed import ReseedEachEpoch

    all_callbacks: list[Any] = [ReseedEachEpoch(config.seed)]
    multi_worker = placement.strategy == "multi_worker"
    if not multi_worker:  # the multi-worker loop validates by itself
        all_callbacks.append(EagerValidation(val_images, y_val, layout=layout, loss=model.loss))
    if config.time_budget_seconds is not None:
        all_callbacks.append(TimeBudget(config.time_budget_seconds))
    for callback in callbacks:
        if isinstance(callback, ValidationReport) and callback.x is None:
            callback.set_data(prepare_images(val_images, layout=layout), parts.validation_labels)
        all_callbacks.append(callback)
    if run_dir is not None:
        from fashionkit.callbacks import EpochCheckpoint, JSONLinesLogger

        # The log comes after the user's callbacks, so that it records what they added to the
        # logs, and before the checkpoint, so that a checkpointed epoch always has its line.
        all_callbacks.append(JSONLinesLogger(Path(run_dir) / runs.METRICS, append=True))
        all_callbacks.append(EpochCheckpoint(Path(run_dir) / runs.CHECKPOINTS))

    fit_start = time.perf_counter()
    if multi_worker:
        from fashionkit._distributed import fit_multi_worker
        from fashionkit.models import make_loss

        history = fit_multi_worker(
            model,
            strategy,
            prepare_images(train_images, layout=layout),
            y_train,
            validation=(prepare_images(val_images, layout=layout), y_val),
            loss=make_loss(config.loss, reduction=None),
            epochs=config.epochs,
            batch_size=config.batch_size,
            seed=config.seed,
            callbacks=all_callbacks,
            verbose=config.verbose,
        )
    else:
        history = model.fit(
            epoch_batches(
                train_images,
                y_train,
                layout=layout,
                batch_size=config.batch_size,
                seed=config.seed,
                first_epoch=first_epoch,
                epochs=config.epochs,
            ),
            epochs=config.epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=steps_per_epoch,
            callbacks=all_callbacks,
            verbose=config.verbose,
            shuffle=False,  # epoch_batches shuffles, by seed and epoch
        )
    fit_seconds = time.perf_counter() - fit_start

    budgets = [c for c in all_callbacks if isinstance(c, TimeBudget) and c.stopped]
    stopped = budgets[0] if budgets else None
    earlier = resume.history if resume is not None else ()
    records = tuple(_record_from_log(line) for line in earlier) + _records(
        history.history,
        first_epoch=first_epoch,
        partial_epoch=stopped.stopped_epoch if stopped and stopped.epoch_cut_short else None,
    )
    stop_reason = stopped.reason if stopped else None
    if stop_reason is None and len(records) < config.epochs:
        stop_reason = f"a callback stopped training after epoch {len(records)}"

    validation = report_from_probabilities(
        predict_in_batches(model, val_images, layout=layout),
        parts.validation_labels,
        split="validation",
        class_names=data.class_names,
    )
    test = report_from_probabilities(
        predict_in_batches(model, np.asarray(data.test.images), layout=layout),
        data.test.labels,
        split="test",
        class_names=data.class_names,
    )
    result = TrainResult(
        model=model,
        config=config,
        history=records,
        validation=validation,
        test=test,
        placement=placement,
        fit_seconds=fit_seconds,
        total_seconds=time.perf_counter() - started,
        stop_reason=stop_reason,
        run_dir=Path(run_dir) if run_dir is not None else None,
        resumed_from_epoch=first_epoch,
    )
    if run_dir is not None:
        runs.finish(Path(run_dir), result)
    return result


def _build_in_scope(config: TrainConfig, strategy: Any, *, steps_per_epoch: int) -> Any:
    """Build and compile the model under the strategy's scope and the configured precision."""
    import keras

    from fashionkit.models import build_model

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.device.precision)
    try:
        with strategy.scope():
            return build_model(config, steps_per_epoch=steps_per_epoch)
    finally:
        # Layers keep the policy they were built with; do not leak ours into the caller's Keras.
        keras.config.set_dtype_policy(previous)


def _record_from_log(line: dict[str, Any]) -> EpochRecord:
    return EpochRecord(
        epoch=int(line["epoch"]),
        loss=float(line.get("loss", math.nan)),
        accuracy=float(line.get("accuracy", math.nan)),
        val_loss=float(line.get("val_loss", math.nan)),
        val_accuracy=float(line.get("val_accuracy", math.nan)),
    )


def _records(
    logs: dict[str, list[Any]], *, first_epoch: int = 0, partial_epoch: int | None
) -> tuple[EpochRecord, ...]:
    def column(name: str, i: int) -> float:
        values = logs.get(name, [])
        return float(values[i]) if i < len(values) else math.nan

    count = len(logs.get("loss", []))
    return tuple(
        EpochRecord(
            epoch=first_epoch + i + 1,
            loss=column("loss", i),
            accuracy=column("accuracy", i),
            val_loss=column("val_loss", i),
            val_accuracy=column("val_accuracy", i),
            partial=partial_epoch == first_epoch + i + 1,
        )
        for i in range(count)
    )
