"""Compiling models: the optimizer, the loss, and the model a TrainConfig describes."""

from __future__ import annotations

from typing import Any

from fashionkit._messages import shown
from fashionkit._validation import Interval, KerasModel, NoneOr, Options, params
from fashionkit.config import LossConfig, OptimizerConfig, TrainConfig
from fashionkit.exceptions import ConfigError
from fashionkit.models import create_model

#: A number of steps or batches: at least one.
_STEPS = Interval("int", ge=1)
#: How Keras reduces per-sample losses (``keras.losses.Loss``'s ``reduction``).
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")


@params(total_steps=NoneOr(_STEPS))
def make_optimizer(config: OptimizerConfig, *, total_steps: int | None = None) -> Any:
    """Return the Keras optimizer ``config`` describes: rate or schedule, decay, momentum, EMA.

    Args:
        config: The optimizer config.
        total_steps: Optimizer steps of the whole run, at least 1; needed when the learning
            rate follows a schedule or a warm-up.

    Raises:
        ConfigError: A schedule is configured but ``total_steps`` is not given.
        ArgumentError: ``total_steps`` below 1, or an argument of the wrong type.
    """
    import keras

    from fashionkit._optimizers import ConvMuon

    rate: Any = float(config.learning_rate)  # Keras refuses an integer rate (lr = 1)
    if config.needs_total_steps:
        if total_steps is None:
            raise ConfigError(
                f"OptimizerConfig(schedule={shown(config.schedule)}) needs the run's number of "
                "steps: "
                f"compile with total_steps=..., or through create_training_model with "
                f"steps_per_epoch=..."
            )
        from fashionkit._schedules import WarmupSchedule

        rate = WarmupSchedule(
            peak=config.learning_rate,
            total_steps=total_steps,
            warmup_steps=round(config.resolved_warmup_fraction * total_steps),
            shape=config.schedule,
        )
    options: dict[str, Any] = {"learning_rate": rate}
    if config.weight_decay is not None:
        options["weight_decay"] = config.weight_decay
        if config.name == "muon":
            options["adam_weight_decay"] = config.weight_decay
    if config.name in ("sgd", "rmsprop"):
        options["momentum"] = config.momentum
    if config.name == "sgd":
        options["nesterov"] = config.nesterov
    if config.ema_momentum is not None:
        options.update(use_ema=True, ema_momentum=config.ema_momentum)
    classes = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "nadam": keras.optimizers.Nadam,
        "adagrad": keras.optimizers.Adagrad,
        "muon": ConvMuon,
    }
    return classes[config.name](**options)


@params(reduction=NoneOr(Options(_REDUCTIONS)))
def make_loss(config: LossConfig, *, reduction: str | None = "sum_over_batch_size") -> Any:
    """Return the Keras loss object for ``config`` (``reduction=None`` gives per-sample losses).

    ``reduction`` is Keras's: ``"sum_over_batch_size"`` (the default), ``"sum"``, ``"mean"``,
    ``"mean_with_sample_weight"``, ``"none"`` or ``None``.
    """
    import keras

    if config.encoding == "sparse":
        return keras.losses.SparseCategoricalCrossentropy(reduction=reduction)
    return keras.losses.CategoricalCrossentropy(
        label_smoothing=config.label_smoothing, reduction=reduction
    )


@params(
    model=KerasModel(),
    steps_per_execution=_STEPS,
    total_steps=NoneOr(_STEPS),
    jit_compile=Options((True, False, "auto")),
)
def compile_model(
    model: Any,
    *,
    loss: LossConfig | None = None,
    optimizer: OptimizerConfig | None = None,
    steps_per_execution: int = 1,
    total_steps: int | None = None,
    jit_compile: bool | str = "auto",
) -> Any:
    """Compile ``model`` with the configured loss, optimizer and the accuracy metric.

    Args:
        model: An uncompiled ``keras.Model`` with a softmax output, such as
            :func:`~fashionkit.models.create_model` returns.
        loss: The loss; sparse categorical cross-entropy when omitted.
        optimizer: The optimizer; RMSprop at 0.001 when omitted.
        steps_per_execution: Batches Keras runs per compiled call, at least 1. Defaults to 1.
        total_steps: Optimizer steps of the whole run, for a learning-rate schedule.
        jit_compile: Keras's ``jit_compile``: ``True``, ``False`` or ``"auto"`` (see
            :attr:`fashionkit.config.DeviceConfig.jit_compile`). Defaults to ``"auto"``.

    Returns:
        The same model, compiled.

    Raises:
        ConfigError: The optimizer follows a schedule and ``total_steps`` is not given.
        ArgumentError: ``model`` is no Keras model, or a step count is below 1.

    Example:
        >>> from fashionkit.models import create_model
        >>> model = compile_model(create_model("linear"), optimizer=OptimizerConfig(name="adam"))
        >>> model.optimizer.name
        'adam'
    """
    model.compile(
        optimizer=make_optimizer(optimizer or OptimizerConfig(), total_steps=total_steps),
        loss=make_loss(loss or LossConfig()),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model


@params(wanted=_STEPS, steps_per_epoch=_STEPS)
def aligned_steps_per_execution(wanted: int, steps_per_epoch: int) -> int:
    """The largest divisor of ``steps_per_epoch`` that is at most ``wanted`` (both at least 1).

    Example:
        >>> aligned_steps_per_execution(64, 1500)
        60
        >>> aligned_steps_per_execution(64, 1499)
        1
    """
    return max(d for d in range(1, min(wanted, steps_per_epoch) + 1) if steps_per_epoch % d == 0)


@params(steps_per_epoch=NoneOr(_STEPS))
def create_training_model(
    config: TrainConfig | None = None, *, steps_per_epoch: int | None = None
) -> Any:
    """Create and compile the model that a training config describes.

    Args:
        config: The training config; :class:`~fashionkit.config.TrainConfig()` when omitted.
        steps_per_epoch: Batches per epoch (at least 1), when known. Keras runs whole groups of
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
    total_steps = None
    if steps_per_epoch is not None:
        steps = aligned_steps_per_execution(steps, steps_per_epoch)
        total_steps = steps_per_epoch * config.epochs
    return compile_model(
        model,
        loss=config.loss,
        optimizer=config.optimizer,
        steps_per_execution=steps,
        total_steps=total_steps,
        jit_compile=config.device.keras_jit_compile,
    )
