"""The setup step of training: everything the loop needs, in one object."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import Layout
from fashionkit._extras import require
from fashionkit._pipeline import epoch_batches
from fashionkit._typing import PathLike
from fashionkit.config import TrainConfig
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.devices import (
    Placement,
    apply_device_config,
    configure_determinism,
    is_chief_task,
)
from fashionkit.evaluation import Evaluator
from fashionkit.exceptions import ConfigError, RunDirError
from fashionkit.models import adapt_to_data
from fashionkit.preprocessing import TrainValidationSplit, encode_labels, train_validation_split
from fashionkit.runs import RunFollower, RunWriter
from fashionkit.training._compile import create_training_model


@attrs.frozen(kw_only=True, eq=False)
class TrainingSetup:
    """What :func:`prepare` produced: devices, data, model and run directory, ready to fit.

    Attributes:
        config: The run's config.
        placement: Where the model trains.
        strategy: The ``tf.distribute`` strategy.
        data: The dataset (its test split is evaluated at the end).
        layout: The model's input layout.
        train_images: uint8 training images (Keras's loop scales them batch by batch; the
            multi-worker loop scales the whole set once).
        train_targets: Their labels, encoded for the loss.
        validation: The evaluator of the validation split's final report.
        epoch_validation: The evaluator of the per-epoch validation: ``validation`` itself,
            or the same split without test-time augmentation unless ``tta_each_epoch``.
        test: The evaluator of the test split.
        model: The compiled model, new or restored from the run directory's checkpoint.
        steps_per_epoch: Batches per epoch.
        run: The run directory, or ``None``.
    """

    config: TrainConfig
    placement: Placement
    strategy: Any
    data: FashionMNIST
    layout: Layout
    train_images: NDArray[np.uint8]
    train_targets: NDArray[Any]
    validation: Evaluator
    epoch_validation: Evaluator
    test: Evaluator
    model: Any
    steps_per_epoch: int
    run: RunWriter | RunFollower | None

    @property
    def initial_epoch(self) -> int:
        """Epochs completed before this call (restored from the run directory)."""
        return self.run.resume_epoch if self.run is not None else 0

    def batches(self, *, first_epoch: int | None = None, epochs: int | None = None) -> Any:
        """The input pipeline of epochs ``first_epoch`` (default: the first to train) on."""
        config = self.config
        return epoch_batches(
            self.train_images,
            self.train_targets,
            layout=self.layout,
            batch_size=config.batch_size,
            seed=config.seed,
            first_epoch=self.initial_epoch if first_epoch is None else first_epoch,
            epochs=config.epochs if epochs is None else epochs,
            augment=config.augment,
        )


def prepare(
    config: TrainConfig, *, dataset: FashionMNIST | None, run_dir: PathLike | None
) -> TrainingSetup:
    """Apply devices, open the run directory, load and split the data, create the model.

    Devices come first (TensorFlow accepts device settings only before its runtime starts) and
    the run directory second, so that a wrong directory fails before the data is loaded.
    """
    if run_dir is None and config.tensorboard:
        raise ConfigError(
            "TrainConfig.tensorboard=True writes the logs into the run directory; pass "
            "run_dir=... (fashionkit train --run-dir DIR), or leave tensorboard off."
        )
    if config.tensorboard:  # before devices, data or the run directory are touched
        require(
            "tensorboard",
            "matplotlib",
            extra="tensorboard",
            purpose="TrainConfig.tensorboard=True writes TensorBoard logs",
        )
    strategy, placement = apply_device_config(config.device)
    if config.device.jit_compile == "on" and placement.strategy in ("mirrored", "multi_worker"):
        # The config refuses an explicit strategy; "auto" is resolved only here.
        raise ConfigError(
            f"DeviceConfig.jit_compile='on' compiles the step with XLA, but strategy='auto' "
            f"chose {placement.strategy!r} for {len(placement.devices)} devices, which "
            f"fashionkit runs without XLA. Use jit_compile='auto' or 'off', or "
            f"strategy='one_device'."
        )
    run: RunWriter | RunFollower | None = None
    if run_dir is not None:
        if placement.strategy == "multi_worker" and not is_chief_task(os.environ.get("TF_CONFIG")):
            run = RunFollower.follow(Path(run_dir), config)  # the chief writes it
        else:
            run = RunWriter.open(Path(run_dir), config)
        if placement.strategy == "multi_worker":
            _agree_on_the_checkpoint(strategy, run)
    try:
        return _prepare_in(run, config, dataset, strategy, placement)
    except BaseException:
        if run is not None:
            run.close()
        raise


def summed_over_replicas(strategy: Any) -> Any:
    """A compiled function: a tensor every replica holds, summed over all replicas (workers).

    Every worker must call it at the same point, as with any all-reduce.
    """
    import tensorflow as tf

    def exchange(value: Any) -> Any:
        asked = strategy.run(tf.identity, args=(value,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, asked, axis=None)

    return tf.function(exchange)


def _agree_on_the_checkpoint(strategy: Any, run: RunWriter | RunFollower) -> None:
    """Refuse to train when the workers found different checkpoints (a folder not shared).

    One all-reduce of each worker's resume epoch and its square: they agree exactly when the
    sum of squares times the number of replicas equals the square of the sum.
    """
    import tensorflow as tf

    epoch = float(run.resume_epoch)
    mine = tf.constant([epoch, epoch * epoch], dtype=tf.float64)
    total = summed_over_replicas(strategy)(mine).numpy()
    replicas = strategy.num_replicas_in_sync
    if abs(total[1] * replicas - total[0] ** 2) > 0.5:
        run.close()
        raise RunDirError(
            f"The workers found different checkpoints in {run.path} (this one resumes after "
            f"epoch {run.resume_epoch}; the mean is {total[0] / replicas:g}). Every worker must "
            f"see the same run directory: put it on a filesystem they all mount, and restart "
            f"every worker."
        )


def run_split(config: TrainConfig, data: FashionMNIST) -> TrainValidationSplit:
    """The train/validation split of ``data``'s training images that ``config`` trains on."""
    return train_validation_split(
        data.train.images,
        data.train.labels,
        fraction=config.data.validation_fraction,
        seed=config.data.split_seed,
        stratify=config.data.stratify,
    )


def _prepare_in(
    run: RunWriter | RunFollower | None,
    config: TrainConfig,
    dataset: FashionMNIST | None,
    strategy: Any,
    placement: Placement,
) -> TrainingSetup:
    data = dataset if dataset is not None else load_fashion_mnist()
    parts = run_split(config, data)
    # Images stay uint8 until a batch is formed (see fashionkit._pipeline).
    train_images = np.asarray(parts.train_images, dtype=np.uint8)
    targets = encode_labels(
        parts.train_labels, encoding=config.loss.encoding, num_classes=data.num_classes
    )
    steps_per_epoch = math.ceil(len(train_images) / config.batch_size)
    configure_determinism(config.seed, deterministic=config.deterministic)
    with strategy.scope():
        model = run.restore_model() if run is not None else None
        if model is None:
            model = _create_in_scope(config, placement, steps_per_epoch=steps_per_epoch)
            # A frozen whitening layer is computed from the training split (a restored model
            # carries it, as the saved model does).
            adapt_to_data(model, train_images)
    validation = Evaluator(
        parts.validation_images,
        parts.validation_labels,
        split="validation",
        class_names=data.class_names,
        tta=config.tta,
    )
    return TrainingSetup(
        config=config,
        placement=placement,
        strategy=strategy,
        data=data,
        layout=config.layout,
        train_images=train_images,
        train_targets=targets,
        validation=validation,
        epoch_validation=validation.with_tta(config.tta and config.tta_each_epoch),
        test=Evaluator(
            data.test.images,
            data.test.labels,
            split="test",
            class_names=data.class_names,
            tta=config.tta,
        ),
        model=model,
        steps_per_epoch=steps_per_epoch,
        run=run,
    )


def _create_in_scope(config: TrainConfig, placement: Placement, *, steps_per_epoch: int) -> Any:
    """Create and compile the model under the configured precision (inside a strategy scope)."""
    import keras

    if placement.strategy == "mirrored":
        # Keras's multi-step loop fails under MirroredStrategy on TF 2.21 ("Graph execution
        # error" in multi_step_on_iterator): mirrored runs execute one step per call.
        config = attrs.evolve(config, steps_per_execution=1)
    if placement.accelerator == "cpu" and config.device.jit_compile == "auto":
        # accelerator="auto" that fell back to the CPU: as for accelerator="cpu"
        # (DeviceConfig.keras_jit_compile), "auto" never means XLA on a CPU.
        config = attrs.evolve(config, device=attrs.evolve(config.device, jit_compile="off"))
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(placement.precision)
    try:
        return create_training_model(config, steps_per_epoch=steps_per_epoch)
    finally:
        # Layers keep the policy they were built with; do not leak ours into the caller's Keras.
        keras.config.set_dtype_policy(previous)
