"""``fashionkit.train``: load, preprocess, build, fit and evaluate in one typed call."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import attrs

from fashionkit.config import TrainConfig
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.devices import Placement, apply_device_config, configure_determinism
from fashionkit.evaluation import EvaluationReport, report_from_probabilities
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

    Returns:
        The trained model, per-epoch history, validation and test reports, and timings.

    Raises:
        DeviceError: The device config cannot be satisfied.
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
    strategy, placement = apply_device_config(config.device)
    logger.info("device: %s", placement)

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
    x_train = prepare_images(parts.train_images, layout=layout)
    y_train = encode_labels(parts.train_labels, encoding=encoding, num_classes=data.num_classes)
    x_val = prepare_images(parts.validation_images, layout=layout)
    y_val = encode_labels(parts.validation_labels, encoding=encoding, num_classes=data.num_classes)

    configure_determinism(config.seed, deterministic=config.deterministic)
    model = _build_in_scope(config, strategy)

    all_callbacks: list[Any] = []
    if config.time_budget_seconds is not None:
        all_callbacks.append(TimeBudget(config.time_budget_seconds))
    for callback in callbacks:
        if isinstance(callback, ValidationReport) and callback.x is None:
            callback.set_data(x_val, parts.validation_labels)
        all_callbacks.append(callback)

    fit_start = time.perf_counter()
    if placement.strategy == "multi_worker":
        from fashionkit._distributed import fit_multi_worker
        from fashionkit.models import make_loss

        history = fit_multi_worker(
            model,
            strategy,
            x_train,
            y_train,
            validation=(x_val, y_val),
            loss=make_loss(config.loss, reduction=None),
            epochs=config.epochs,
            batch_size=config.batch_size,
            seed=config.seed,
            callbacks=all_callbacks,
            verbose=config.verbose,
        )
    else:
        history = model.fit(
            x_train,
            y_train,
            epochs=config.epochs,
            batch_size=config.batch_size,
            validation_data=(x_val, y_val),
            callbacks=all_callbacks,
            verbose=config.verbose,
            shuffle=True,
        )
    fit_seconds = time.perf_counter() - fit_start

    budgets = [c for c in all_callbacks if isinstance(c, TimeBudget) and c.stopped]
    stopped = budgets[0] if budgets else None
    records = _records(history.history, partial_epoch=stopped.stopped_epoch if stopped else None)
    stop_reason = stopped.reason if stopped else None
    if stop_reason is None and len(records) < config.epochs:
        stop_reason = f"a callback stopped training after epoch {len(records)}"

    from fashionkit._distributed import predict_in_batches

    x_test = prepare_images(data.test.images, layout=layout)
    validation = report_from_probabilities(
        predict_in_batches(model, x_val),
        parts.validation_labels,
        split="validation",
        class_names=data.class_names,
    )
    test = report_from_probabilities(
        predict_in_batches(model, x_test),
        data.test.labels,
        split="test",
        class_names=data.class_names,
    )
    return TrainResult(
        model=model,
        config=config,
        history=records,
        validation=validation,
        test=test,
        placement=placement,
        fit_seconds=fit_seconds,
        total_seconds=time.perf_counter() - started,
        stop_reason=stop_reason,
    )


def _build_in_scope(config: TrainConfig, strategy: Any) -> Any:
    """Build and compile the model under the strategy's scope and the configured precision."""
    import keras

    from fashionkit.models import build_model

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.device.precision)
    try:
        with strategy.scope():
            return build_model(config)
    finally:
        # Layers keep the policy they were built with; do not leak ours into the caller's Keras.
        keras.config.set_dtype_policy(previous)


def _records(logs: dict[str, list[Any]], *, partial_epoch: int | None) -> tuple[EpochRecord, ...]:
    def column(name: str, i: int) -> float:
        values = logs.get(name, [])
        return float(values[i]) if i < len(values) else math.nan

    count = len(logs.get("loss", []))
    return tuple(
        EpochRecord(
            epoch=i + 1,
            loss=column("loss", i),
            accuracy=column("accuracy", i),
            val_loss=column("val_loss", i),
            val_accuracy=column("val_accuracy", i),
            partial=partial_epoch == i + 1,
        )
        for i in range(count)
    )
