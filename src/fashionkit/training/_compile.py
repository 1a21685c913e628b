"""Compiling models: the optimizer, the loss, and the model a TrainConfig describes."""

from __future__ import annotations

import warnings
from typing import Any

from fashionkit.config import LossConfig, OptimizerConfig, TrainConfig
from fashionkit.exceptions import FashionkitDeprecationWarning
from fashionkit.models import create_model


def make_optimizer(config: OptimizerConfig) -> Any:
    """Return the Keras optimizer ``config`` names, with its learning rate."""
    import keras

    classes = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "nadam": keras.optimizers.Nadam,
        "adagrad": keras.optimizers.Adagrad,
    }
    return classes[config.name](learning_rate=config.learning_rate)


def make_loss(config: LossConfig, *, reduction: str | None = "sum_over_batch_size") -> Any:
    """Return the Keras loss object for ``config`` (``reduction=None`` gives per-sample losses)."""
    import keras

    if config.encoding == "sparse":
        return keras.losses.SparseCategoricalCrossentropy(reduction=reduction)
    return keras.losses.CategoricalCrossentropy(
        label_smoothing=config.label_smoothing, reduction=reduction
    )


def compile_model(
    model: Any,
    *,
    loss: LossConfig | None = None,
    optimizer: OptimizerConfig | None = None,
    steps_per_execution: int = 1,
) -> Any:
    """Compile ``model`` with the configured loss, optimizer and the accuracy metric.

    Args:
        model: An uncompiled ``keras.Model`` with a softmax output, such as
            :func:`~fashionkit.models.create_model` returns.
        loss: The loss; sparse categorical cross-entropy when omitted.
        optimizer: The optimizer; RMSprop at 0.001 when omitted.
        steps_per_execution: Batches Keras runs per compiled call. Defaults to 1.

    Returns:
        The same model, compiled.

    Example:
        >>> from fashionkit.models import create_model
        >>> model = compile_model(create_model("linear"), optimizer=OptimizerConfig(name="adam"))
        >>> model.optimizer.name
        'adam'
    """
    model.compile(
        optimizer=make_optimizer(optimizer or OptimizerConfig()),
        loss=make_loss(loss or LossConfig()),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def aligned_steps_per_execution(wanted: int, steps_per_epoch: int) -> int:
    """The largest divisor of ``steps_per_epoch`` that is at most ``wanted``.

    Example:
        >>> aligned_steps_per_execution(64, 1500)
        60
        >>> aligned_steps_per_execution(64, 1499)
        1
    """
    return max(d for d in range(1, min(wanted, steps_per_epoch) + 1) if steps_per_epoch % d == 0)


def create_training_model(
    config: TrainConfig | None = None, *, steps_per_epoch: int | None = None
) -> Any:
    """Create and compile the model that a training config describes.

    Args:
        config: The training config; :class:`~fashionkit.config.TrainConfig()` when omitted.
        steps_per_epoch: Batches per epoch, when known. Keras runs whole groups of
            ``steps_per_execution`` batches, so a group would spill into the next epoch when
            that number does not divide the epoch; given the epoch length, the largest divisor
            not above ``config.steps_per_execution`` is used instead.

    Returns:
        A compiled ``keras.Model``.

    Example:
        >>> create_training_model().count_params()
        7850
    """
    config = config or TrainConfig()
    model = create_model(config.model, layout=config.layout)
    steps = config.steps_per_execution
    if steps_per_epoch is not None:
        steps = aligned_steps_per_execution(steps, steps_per_epoch)
    return compile_model(
        model, loss=config.loss, optimizer=config.optimizer, steps_per_execution=steps
    )


def build_model(config: TrainConfig | None = None, *, steps_per_epoch: int | None = None) -> Any:
    """Deprecated name of :func:`create_training_model`; it will be removed in 0.3.

    "Build" means creating a layer's weights in Keras; this function creates and compiles.
    """
    warnings.warn(
        "fashionkit.build_model is deprecated; use fashionkit.create_training_model.",
        FashionkitDeprecationWarning,
        stacklevel=2,
    )
    return create_training_model(config, steps_per_epoch=steps_per_epoch)
