"""Configuration objects: frozen, validated on construction, round-trip to dicts and TOML.

Every config is an immutable :mod:`attrs` class with keyword-only fields. A wrong value fails
at construction with a :class:`~fashionkit.exceptions.ConfigError` that names the field, what is
allowed and what was received. Change a config with :func:`attrs.evolve` (validators run again)
and build one from other sources with :meth:`TrainConfig.from_dict` or
:meth:`TrainConfig.from_toml`.

Example:
    >>> from fashionkit.config import TrainConfig, LossConfig
    >>> config = TrainConfig(epochs=3, loss=LossConfig(encoding="one_hot"))
    >>> TrainConfig.from_dict(config.to_dict()) == config
    True
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

import attrs

from fashionkit import _fields, _schema
from fashionkit._constants import (
    ACCELERATORS,
    FLIP_MODES,
    LABEL_ENCODINGS,
    LAYOUT_CHOICES,
    MONITORS,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    STRATEGIES,
    Accelerator,
    FlipMode,
    LabelEncoding,
    Layout,
    LayoutChoice,
    Monitor,
    OptimizerName,
    Precision,
    ScheduleName,
    StrategyChoice,
)
from fashionkit._io import atomic_write_text, os_errors_as
from fashionkit._typing import PathLike
from fashionkit.exceptions import ConfigError, ConfigFileNotFoundError, StorageError
from fashionkit.models import (
    CNNConfig,
    LinearConfig,
    MLPConfig,
    ModelConfig,
    ResNetConfig,
    list_architectures,
)
from fashionkit.models._registry import get_architecture, model_config_from

__all__ = [
    "AugmentConfig",
    "CNNConfig",
    "DataConfig",
    "DeviceConfig",
    "EarlyStoppingConfig",
    "LinearConfig",
    "LossConfig",
    "MLPConfig",
    "ModelConfig",
    "OptimizerConfig",
    "ResNetConfig",
    "TrainConfig",
    "key_types",
    "set_keys",
    "settable_keys",
]

_number = _fields.number
_one_of = _fields.one_of
_is_bool = _fields.is_bool

# --- data, loss, optimizer, device ---------------------------------------------------------


@attrs.frozen(kw_only=True)
class DataConfig(_fields.ConfigBase):
    """How the training images are split and shaped.

    Attributes:
        validation_fraction: Share of the training split held out for validation, in (0, 1).
            Defaults to 0.2, the tutorial's ``test_size``.
        split_seed: ``random_state`` of the train/validation split. Defaults to 42, the
            tutorial's.
        stratify: Hold out the same share of every class (scikit-learn's
            ``train_test_split(..., stratify=labels)``). Defaults to ``False``: the tutorial's
            unstratified split, row for row (see
            :func:`~fashionkit.preprocessing.train_validation_split`).
        layout: Model input layout: ``"flat"`` ``(N, 784)``, ``"image"`` ``(N, 28, 28, 1)``, or
            ``"auto"``, the layout the architecture prefers. Defaults to ``"auto"``.
    """

    validation_fraction: float = attrs.field(default=0.2, validator=_number(gt=0.0, lt=1.0))
    split_seed: int = attrs.field(default=42, validator=_number(integer=True, ge=0, lt=2**32))
    stratify: bool = attrs.field(default=False, validator=_is_bool)
    layout: LayoutChoice = attrs.field(
        default="auto", converter=_fields.lower, validator=_one_of(LAYOUT_CHOICES)
    )


@attrs.frozen(kw_only=True)
class LossConfig(_fields.ConfigBase):
    """Which cross-entropy the model is trained with, and so how labels are encoded.

    Attributes:
        encoding: ``"sparse"`` feeds integer labels to ``sparse_categorical_crossentropy``;
            ``"one_hot"`` feeds one-hot rows to ``categorical_crossentropy``. Both compute the
            same loss. Defaults to ``"sparse"``.
        label_smoothing: Mix each one-hot target with the uniform distribution by this amount,
            in [0, 1). Keras supports it for one-hot targets only, so any value above 0 requires
            ``encoding="one_hot"``. Defaults to 0.

    Example:
        >>> LossConfig(encoding="sparse", label_smoothing=0.1)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: LossConfig.label_smoothing=0.1 needs ...
    """

    encoding: LabelEncoding = attrs.field(
        default="sparse", converter=_fields.snake, validator=_one_of(LABEL_ENCODINGS)
    )
    label_smoothing: float = attrs.field(default=0.0, validator=_number(ge=0.0, lt=1.0))

    def __attrs_post_init__(self) -> None:
        if self.label_smoothing > 0 and self.encoding != "one_hot":
            raise ConfigError(
                f"LossConfig.label_smoothing={self.label_smoothing} needs encoding='one_hot' "
                f"(Keras's sparse_categorical_crossentropy has no label smoothing); got "
                f"encoding={self.encoding!r}. Use encoding='one_hot' or label_smoothing=0."
            )

    @property
    def keras_name(self) -> str:
        """Name of the matching Keras loss, e.g. ``sparse_categorical_crossentropy``."""
        return (
            "sparse_categorical_crossentropy"
            if self.encoding == "sparse"
            else "categorical_crossentropy"
        )


@attrs.frozen(kw_only=True)
class OptimizerConfig(_fields.ConfigBase):
    """The optimizer, its learning rate and how the rate changes during training.

    The schedule counts optimizer steps over the whole run (batches per epoch times epochs),
    and the step counter is saved in every checkpoint, so a resumed run continues the schedule
    where it stopped.

    Attributes:
        name: One of ``rmsprop`` (Keras's default, used by the tutorial), ``adam``, ``adamw``,
            ``sgd``, ``nadam``, ``adagrad``. Defaults to ``"rmsprop"``.
        learning_rate: Positive step size; the peak of a schedule. Defaults to 0.001, Keras's
            default for RMSprop.
        schedule: ``"constant"``; ``"cosine"``, cosine decay from the peak to 0 over the run;
            or ``"one_cycle"``, a linear rise from ``learning_rate / 25`` to the peak during the
            warm-up and a linear fall to ``learning_rate / 2500`` by the last step. Defaults to
            ``"constant"``.
        warmup_fraction: Share of the run's steps spent rising linearly from
            ``learning_rate / 25`` to ``learning_rate``, in [0, 1); ``None`` for the schedule's
            default: 0.3 for ``one_cycle``, no warm-up otherwise. Defaults to ``None``.
        weight_decay: Decoupled weight decay (subtracted from the weights, not added to the
            loss), in [0, 1); ``None`` keeps Keras's default for the optimizer (0.004 for
            ``adamw``, none for the others). Defaults to ``None``.
        momentum: Momentum of ``sgd`` or ``rmsprop``, in [0, 1). Defaults to 0.
        nesterov: Nesterov momentum, for ``sgd`` with ``momentum`` above 0. Defaults to
            ``False``.
        ema_momentum: Keep an exponential moving average of the weights, updated after every
            step as ``average = m * average + (1 - m) * weights``, with this ``m`` in (0, 1)
            (0.99 to 0.9999 are usual); ``None`` for no averaging. The averaged weights are the
            ones evaluated after each epoch, kept as the best checkpoint, evaluated at the end
            and saved as the final model; the raw weights and the average both go into the
            resume checkpoints. Defaults to ``None``.

    Example:
        >>> OptimizerConfig(name="sgd", momentum=0.9, nesterov=True, schedule="one_cycle")
        OptimizerConfig(name='sgd', learning_rate=0.001, schedule='one_cycle', ...)
        >>> OptimizerConfig(name="adam", nesterov=True)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: OptimizerConfig.nesterov=True needs name='sgd' ...
    """

    name: OptimizerName = attrs.field(
        default="rmsprop", converter=_fields.lower, validator=_one_of(OPTIMIZERS)
    )
    learning_rate: float = attrs.field(default=1e-3, validator=_number(gt=0.0, le=10.0))
    schedule: ScheduleName = attrs.field(
        default="constant", converter=_fields.snake, validator=_one_of(SCHEDULES)
    )
    warmup_fraction: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(_number(ge=0.0, lt=1.0))
    )
    weight_decay: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(_number(ge=0.0, lt=1.0))
    )
    momentum: float = attrs.field(default=0.0, validator=_number(ge=0.0, lt=1.0))
    nesterov: bool = attrs.field(default=False, validator=_is_bool)
    ema_momentum: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(_number(gt=0.0, lt=1.0))
    )

    def __attrs_post_init__(self) -> None:
        if self.momentum > 0 and self.name not in ("sgd", "rmsprop"):
            raise ConfigError(
                f"OptimizerConfig.momentum={self.momentum} applies to 'sgd' and 'rmsprop'; got "
                f"name={self.name!r}. Use one of those, or momentum=0."
            )
        if self.nesterov and (self.name != "sgd" or self.momentum == 0):
            raise ConfigError(
                f"OptimizerConfig.nesterov=True needs name='sgd' and momentum above 0; got "
                f"name={self.name!r}, momentum={self.momentum}. Use name='sgd', momentum=0.9."
            )

    @property
    def resolved_warmup_fraction(self) -> float:
        """Return the warm-up share in use, :attr:`warmup_fraction` or the schedule's default."""
        if self.warmup_fraction is not None:
            return self.warmup_fraction
        return 0.3 if self.schedule == "one_cycle" else 0.0

    @property
    def needs_total_steps(self) -> bool:
        """Whether the learning rate changes with the step (so the run's length is needed)."""
        return self.schedule != "constant" or self.resolved_warmup_fraction > 0


@attrs.frozen(kw_only=True)
class AugmentConfig(_fields.ConfigBase):
    """Random changes to the training images, drawn afresh for every epoch.

    Applied to each uint8 batch inside the input pipeline (vectorised TensorFlow operations,
    no per-image Python), after the batch is gathered and before it is scaled. Every random
    number comes from the run's seed and the epoch, so an epoch sees the same images in any
    process, and a resumed run equals an uninterrupted one. Validation and test images are never
    augmented. Vertical flips are not offered: they do not keep clothing labels (an upside-down
    ankle boot is not an ankle boot).

    Attributes:
        translate: Shift each image by up to this many pixels in each direction (pad with the
            black background, then crop at a random offset), 0 to 8. Defaults to 0 (off).
        flip: Horizontal mirror: ``"none"``; ``"random"``, a fair coin per image and epoch;
            or ``"alternate"``, a coin per image for the first epoch, then mirrored and not
            mirrored in turn from epoch to epoch, so each image is seen both ways equally often.
            Defaults to ``"none"``.
        erase_probability: Chance in [0, 1] that an image gets one black rectangle (random
            erasing). Defaults to 0 (off).
        erase_max_size: Largest side of the rectangle in pixels, 1 to 28; each side is drawn
            between 1 and this, and every placement that overlaps the image is equally likely
            (the rectangle may stick out on any side). Defaults to 12.

    Example:
        >>> AugmentConfig(translate=2, flip="alternate").enabled
        True
        >>> AugmentConfig(flip="vertical")
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: AugmentConfig.flip must be one of 'none', ...
    """

    translate: int = attrs.field(default=0, validator=_number(integer=True, ge=0, le=8))
    flip: FlipMode = attrs.field(
        default="none", converter=_fields.lower, validator=_one_of(FLIP_MODES)
    )
    erase_probability: float = attrs.field(default=0.0, validator=_number(ge=0.0, le=1.0))
    erase_max_size: int = attrs.field(default=12, validator=_number(integer=True, ge=1, le=28))

    @property
    def enabled(self) -> bool:
        """Whether any augmentation is on."""
        return self.translate > 0 or self.flip != "none" or self.erase_probability > 0


@attrs.frozen(kw_only=True)
class EarlyStoppingConfig(_fields.ConfigBase):
    """Which validation metric picks the best epoch, and whether training stops on a plateau.

    After every epoch the monitored metric of the validation split (the evaluated weights: the
    average when :attr:`OptimizerConfig.ema_momentum` is set) is compared with the best so far.
    In a run directory the best epoch's model is kept as ``best.keras``: it is written before the
    epoch's checkpoint names it, and an older best is deleted only after that, so it is never
    lost, also not to ``SIGKILL``. The best value, its epoch, the epochs since and a stop are
    part of every checkpoint, so a resumed run continues the count (and a stopped run stays
    stopped).

    Attributes:
        monitor: ``"val_accuracy"`` (higher is better) or ``"val_loss"`` (lower is better).
            Defaults to ``"val_accuracy"``.
        patience: Stop after this many epochs in a row without an improvement of more than
            ``min_delta``; ``None`` never stops early. An epoch whose metric is not a finite
            number is never the best, and the count starts at the first finite value.
            Defaults to ``None``.
        min_delta: Smallest change that counts as an improvement, >= 0. Defaults to 0.
        restore_best: End with the best epoch's weights instead of the last epoch's (they are
            then the ones evaluated, reported and saved as the final model). Defaults to
            ``False``.

    Example:
        >>> EarlyStoppingConfig(patience=3, restore_best=True).monitor
        'val_accuracy'
    """

    monitor: Monitor = attrs.field(
        default="val_accuracy", converter=_fields.lower, validator=_one_of(MONITORS)
    )
    patience: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_number(integer=True, ge=1))
    )
    min_delta: float = attrs.field(default=0.0, validator=_number(ge=0.0))
    restore_best: bool = attrs.field(default=False, validator=_is_bool)

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger value of :attr:`monitor` is an improvement."""
        return self.monitor != "val_loss"


def _gpu_indices(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if (
        not isinstance(value, tuple)
        or not value
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value)
        or len(set(value)) != len(value)
    ):
        raise ConfigError(
            f"{_fields.where(instance, attribute)} must be a non-empty list of distinct GPU "
            f"indices (integers >= 0, as TensorFlow numbers them), such as [0, 1], or unset for "
            f"every GPU; got {list(value) if isinstance(value, tuple) else value!r}."
        )


@attrs.frozen(kw_only=True)
class DeviceConfig(_fields.ConfigBase):
    """Which devices train the model, how their memory is managed, and how work is distributed.

    TensorFlow accepts device visibility and memory settings only before its runtime starts;
    :func:`fashionkit.train` applies them first thing (see
    :func:`fashionkit.devices.apply_device_config`).

    Attributes:
        accelerator: ``"auto"`` uses the GPUs when TensorFlow sees any and otherwise the CPU
            (and says so in the result); ``"cpu"`` hides every GPU; ``"gpu"`` requires one and
            fails, listing the devices found, when there is none. Defaults to ``"auto"``.
        gpus: Indices of the GPUs to use, as TensorFlow lists them; ``None`` uses all.
            Defaults to ``None``.
        memory_growth: Let TensorFlow allocate GPU memory as needed instead of reserving it all
            at start. Excludes ``memory_limit_mb``. Defaults to ``False``.
        memory_limit_mb: Cap each used GPU at this many MiB (a logical device of that size).
            Excludes ``memory_growth``. Defaults to ``None`` (no cap).
        precision: ``"float32"``, a Keras mixed-precision policy, ``"mixed_float16"`` (GPUs
            with compute capability 7.0 or more) or ``"mixed_bfloat16"`` (CPUs with AVX512_BF16
            or AMX, GPUs from compute capability 8.0), or ``"auto"``: ``mixed_bfloat16`` where
            the device computes bfloat16 natively, ``mixed_float16`` on GPUs of compute
            capability 7.x, float32 otherwise (see :func:`fashionkit.hardware.choose_precision`;
            the presets use it). The output softmax stays float32 so the loss is stable. A
            mixed policy that the device only emulates (bfloat16 on a CPU without bfloat16
            instructions: tens of times slower) trains, with a warning. Defaults to
            ``"float32"``.
        strategy: ``"auto"`` mirrors across the devices when more than one is used and otherwise
            uses TensorFlow's default strategy; ``"one_device"`` pins training to the first
            device; ``"mirrored"`` runs ``tf.distribute.MirroredStrategy`` over the devices of
            this machine; ``"multi_worker"`` runs ``tf.distribute.MultiWorkerMirroredStrategy``
            over the machines named in the ``TF_CONFIG`` environment variable. Defaults to
            ``"auto"``.
        virtual_cpus: Split the CPU into this many logical devices (1 to 64), so that
            ``mirrored`` can be tried without GPUs. Defaults to 1.

    Example:
        >>> DeviceConfig(memory_growth=True, memory_limit_mb=2048)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: DeviceConfig.memory_growth and ...
    """

    accelerator: Accelerator = attrs.field(
        default="auto", converter=_fields.lower, validator=_one_of(ACCELERATORS)
    )
    gpus: tuple[int, ...] | None = attrs.field(
        default=None, converter=_fields.optional_tuple, validator=_gpu_indices
    )
    memory_growth: bool = attrs.field(default=False, validator=_is_bool)
    memory_limit_mb: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_number(integer=True, ge=1))
    )
    precision: Precision = attrs.field(
        default="float32", converter=_fields.lower, validator=_one_of(PRECISIONS)
    )
    strategy: StrategyChoice = attrs.field(
        default="auto", converter=_fields.snake, validator=_one_of(STRATEGIES)
    )
    virtual_cpus: int = attrs.field(default=1, validator=_number(integer=True, ge=1, le=64))

    def __attrs_post_init__(self) -> None:
        if self.memory_growth and self.memory_limit_mb is not None:
            raise ConfigError(
                f"DeviceConfig.memory_growth and DeviceConfig.memory_limit_mb exclude each other "
                f"(TensorFlow cannot grow a device whose size is fixed); got memory_growth=True "
                f"and memory_limit_mb={self.memory_limit_mb}. Keep one of them."
            )
        gpu_only = {
            "gpus": self.gpus is not None,
            "memory_growth": self.memory_growth,
            "memory_limit_mb": self.memory_limit_mb is not None,
        }
        used = [name for name, is_set in gpu_only.items() if is_set]
        if self.accelerator == "cpu" and used:
            raise ConfigError(
                f"DeviceConfig.{used[0]} applies to GPUs, but accelerator='cpu' hides them. Use "
                f"accelerator='gpu' or 'auto', or leave {', '.join(used)} unset."
            )
        if self.accelerator == "gpu" and self.virtual_cpus != 1:
            raise ConfigError(
                f"DeviceConfig.virtual_cpus={self.virtual_cpus} splits the CPU, but "
                f"accelerator='gpu' trains on GPUs. Use accelerator='cpu' or virtual_cpus=1."
            )


def _data_config(value: object) -> object:
    return _fields.nested(DataConfig, value)


def _loss_config(value: object) -> object:
    return _fields.nested(LossConfig, value)


def _optimizer_config(value: object) -> object:
    return _fields.nested(OptimizerConfig, value)


def _device_config(value: object) -> object:
    return _fields.nested(DeviceConfig, value)


def _augment_config(value: object) -> object:
    return _fields.nested(AugmentConfig, value)


def _early_stopping_config(value: object) -> object:
    return _fields.nested(EarlyStoppingConfig, value)


def _is_model(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, ModelConfig):
        raise ConfigError(
            f"{_fields.where(instance, attribute)} must be a ModelConfig (such as LinearConfig()), "
            f"an architecture name or a mapping with an 'architecture' key; got {value!r}."
        )


@attrs.frozen(kw_only=True)
class TrainConfig(_fields.ConfigBase):
    """Everything :func:`fashionkit.train` needs; the defaults reproduce the tutorial.

    The defaults are the tutorial's: the linear model, sparse labels, RMSprop, 5 epochs of
    batches of 32, and 20% of the training images held out for validation with seed 42.

    Attributes:
        data: Split and input layout. Defaults to :class:`DataConfig()`.
        model: Architecture and its parameters; a name (``"mlp"``) or a mapping with an
            ``architecture`` key is converted. Defaults to :class:`LinearConfig()`.
        loss: Label encoding and label smoothing. Defaults to :class:`LossConfig()`.
        optimizer: Optimizer and learning rate. Defaults to :class:`OptimizerConfig()`.
        device: Compute device. Defaults to :class:`DeviceConfig()`.
        augment: Random changes to the training images. Defaults to :class:`AugmentConfig()`
            (none).
        early_stopping: The metric that picks the best epoch, and a patience. Defaults to
            :class:`EarlyStoppingConfig()` (best by validation accuracy, never stops early).
        epochs: Passes over the training data, at least 1. Defaults to 5.
        batch_size: Images per gradient step, at least 1. Defaults to 32.
        seed: Seed of Python's, NumPy's and Keras's random generators (weight
            initialisation, shuffling, dropout). Defaults to 42.
        verbose: Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.
            Defaults to 1.
        time_budget_seconds: Stop training cleanly at the end of the batch during which this
            many seconds of ``fit`` have passed (see :class:`fashionkit.callbacks.TimeBudget`);
            ``None`` for no budget. Defaults to ``None``.
        deterministic: Also turn on TensorFlow's op determinism, so that two runs of the same
            config give identical metrics on the same machine and software, at some cost in
            speed (see the how-to on reproducibility). Defaults to ``True``.
        steps_per_execution: Batches Keras runs inside one compiled call. It does not change
            the math, only the overhead: on the tutorial's one-layer model, where Python and
            dispatch cost more than the arithmetic, 64 makes ``fit`` about twice as fast as 1.
            Batch-level callbacks (``on_train_batch_end``, the time budget) then run once per
            call. So that no call spans two epochs, training uses the largest divisor of the
            epoch's batch count not above this value (60 for the tutorial's 1,500 batches), and 1
            under the ``mirrored`` strategy, where Keras's multi-step loop fails. Defaults to 64.
        tta: Test-time augmentation: the final validation and test reports (and a calibrated
            run's temperature) use the mean of the probabilities of each image and its mirror
            image. About twice the evaluation time; the reports say it was used. Defaults to
            ``False``.
        tta_each_epoch: With ``tta``, also evaluate the per-epoch validation (the ``val_*``
            logs, early stopping and the best checkpoint) with test-time augmentation, at
            twice the cost of that evaluation. Off, the per-epoch validation scores the model
            as it is, which picks the same epochs in practice and keeps the per-epoch cost to
            one pass. Needs ``tta``. Defaults to ``False``.
        calibrate: After training, fit a temperature on the validation split's probabilities
            (temperature scaling, see :mod:`fashionkit.calibration`); the final reports, the
            run directory's predictions and the exported models then use the calibrated
            probabilities. The accuracy does not change. Defaults to ``False``.
        tensorboard: Write TensorBoard logs (per-epoch metrics, the learning rate, the final
            confusion matrix) into the run directory's ``tensorboard/`` folder; needs a run
            directory. Defaults to ``False``.

    Example:
        >>> TrainConfig(epochs=0)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: TrainConfig.epochs must be an integer >= 1; got 0.
    """

    data: DataConfig = attrs.field(
        factory=DataConfig,
        converter=_data_config,
        validator=_fields.instance_of(DataConfig),
    )
    model: ModelConfig = attrs.field(
        factory=LinearConfig, converter=model_config_from, validator=_is_model
    )
    loss: LossConfig = attrs.field(
        factory=LossConfig,
        converter=_loss_config,
        validator=_fields.instance_of(LossConfig),
    )
    optimizer: OptimizerConfig = attrs.field(
        factory=OptimizerConfig,
        converter=_optimizer_config,
        validator=_fields.instance_of(OptimizerConfig),
    )
    device: DeviceConfig = attrs.field(
        factory=DeviceConfig,
        converter=_device_config,
        validator=_fields.instance_of(DeviceConfig),
    )
    epochs: int = attrs.field(default=5, validator=_number(integer=True, ge=1))
    batch_size: int = attrs.field(default=32, validator=_number(integer=True, ge=1))
    seed: int = attrs.field(default=42, validator=_number(integer=True, ge=0, lt=2**32))
    verbose: int = attrs.field(default=1, validator=_number(integer=True, ge=0, le=2))
    time_budget_seconds: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(_number(gt=0.0))
    )
    deterministic: bool = attrs.field(default=True, validator=_is_bool)
    steps_per_execution: int = attrs.field(
        default=64, validator=_number(integer=True, ge=1, le=100_000)
    )
    augment: AugmentConfig = attrs.field(
        factory=AugmentConfig,
        converter=_augment_config,
        validator=_fields.instance_of(AugmentConfig),
    )
    early_stopping: EarlyStoppingConfig = attrs.field(
        factory=EarlyStoppingConfig,
        converter=_early_stopping_config,
        validator=_fields.instance_of(EarlyStoppingConfig),
    )
    tta: bool = attrs.field(default=False, validator=_is_bool)
    tta_each_epoch: bool = attrs.field(default=False, validator=_is_bool)
    calibrate: bool = attrs.field(default=False, validator=_is_bool)
    tensorboard: bool = attrs.field(default=False, validator=_is_bool)

    def __attrs_post_init__(self) -> None:
        if self.tta_each_epoch and not self.tta:
            raise ConfigError(
                "TrainConfig.tta_each_epoch=True needs tta=True: it extends test-time "
                "augmentation to the per-epoch validation. Set tta=True as well, or leave "
                "tta_each_epoch unset."
            )

    @property
    def layout(self) -> Layout:
        """The resolved input layout (``data.layout``, or the model's preference for ``auto``)."""
        if self.data.layout == "auto":
            return self.model.preferred_layout
        return self.data.layout

    def to_toml(self) -> str:
        """Return the config as a TOML document.

        Example:
            >>> print(TrainConfig(epochs=2).to_toml().splitlines()[0])
            epochs = 2
        """
        return _schema.to_toml(self)

    @classmethod
    def from_toml(cls, source: PathLike) -> Self:
        """Read a config from a TOML file; missing keys take their defaults.

        Raises:
            ConfigError: The file is not valid TOML or holds an invalid value.
            ConfigFileNotFoundError: The file does not exist (a FileNotFoundError too).
            StorageError: The file cannot be read.
        """
        path = Path(source)
        if not path.exists():
            raise ConfigFileNotFoundError(
                f"Config file {path} does not exist. Check the path, or write one with "
                f"TrainConfig().write_toml({str(path)!r}) (fashionkit train --save-config)."
            )
        try:
            with os_errors_as(StorageError, path, action="read"):
                text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path} is not a UTF-8 text file, so not a TOML config.") from exc
        return cls.from_dict(_schema.parse_toml(text, source=str(path)))

    def write_toml(self, path: PathLike) -> Path:
        """Write :meth:`to_toml` to ``path`` atomically and return the path.

        Raises:
            StorageError: The file cannot be written (nothing is left under its name).
        """
        with os_errors_as(StorageError, Path(path)):
            return atomic_write_text(Path(path), self.to_toml())


def _describe(kind: Any) -> str:
    """A short description of what a field accepts, from its annotation."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin is typing.Literal:
        return " | ".join(map(str, args))
    if kind is bool:
        return "true | false"
    if kind in (int, float, str):
        return str(kind.__name__)
    if origin is tuple:
        return f"list of {_describe(args[0])}"
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return f"{_describe(rest[0])} (optional)"
    return str(getattr(kind, "__name__", kind))


def _keys(cls: type[Any], prefix: str) -> Iterator[tuple[str, str]]:
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        kind = hints[field.name]
        if isinstance(kind, type) and issubclass(kind, ModelConfig):
            yield f"{prefix}{field.name}.architecture", " | ".join(list_architectures())
            for name in list_architectures():
                config = get_architecture(name).config
                for key, text in _keys(config, f"{prefix}{field.name}."):
                    yield key, f"{text} ({name})"
        elif isinstance(kind, type) and issubclass(kind, _fields.ConfigBase):
            yield from _keys(kind, f"{prefix}{field.name}.")
        else:
            yield f"{prefix}{field.name}", _describe(kind)


def _scalar_types(kind: Any) -> frozenset[type]:
    """The Python types a field's annotation admits (``tuple`` for lists), ``None`` left out."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin is typing.Literal:
        return frozenset(type(a) for a in args)
    if origin is tuple:
        return frozenset({tuple})
    if args:  # a union such as float | None
        return frozenset().union(*(_scalar_types(a) for a in args if a is not type(None)))
    return frozenset({kind}) if isinstance(kind, type) else frozenset()


def _leaf_types(cls: type[Any], prefix: str) -> Iterator[tuple[str, frozenset[type]]]:
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        kind = hints[field.name]
        if isinstance(kind, type) and issubclass(kind, ModelConfig):
            yield f"{prefix}{field.name}.architecture", frozenset({str})
            for name in list_architectures():
                yield from _leaf_types(get_architecture(name).config, f"{prefix}{field.name}.")
        elif isinstance(kind, type) and issubclass(kind, _fields.ConfigBase):
            yield from _leaf_types(kind, f"{prefix}{field.name}.")
        else:
            yield f"{prefix}{field.name}", _scalar_types(kind)


def key_types() -> dict[str, frozenset[type]]:
    """Every key :func:`settable_keys` lists, with the Python types its field's annotation admits.

    Read from the attrs fields themselves (``tuple`` for a list, ``None`` left out); a model
    key that several architectures share (``model.dropout``) gets the union of their types.

    Example:
        >>> types = key_types()
        >>> types["optimizer.learning_rate"] == {float}, types["epochs"] == {int}
        (True, True)
        >>> types["model.filters"] == {tuple}, types["time_budget_seconds"] == {float}
        (True, True)
    """
    types: dict[str, frozenset[type]] = {}
    for key, kinds in _leaf_types(TrainConfig, ""):
        types[key] = types.get(key, frozenset()) | kinds
    return types


def settable_keys() -> list[tuple[str, str]]:
    """Every key of :class:`TrainConfig`, dotted, with what it accepts (for ``--set``).

    Model keys are listed for every registered architecture, each marked with its name.

    Example:
        >>> dict(settable_keys())["optimizer.name"]
        'rmsprop | adam | adamw | sgd | nadam | adagrad'
    """
    return list(_keys(TrainConfig, ""))


def set_keys(
    data: dict[str, Any],
    changes: Iterable[tuple[Sequence[str], Any]],
    *,
    sep: str = ".",
    context: str = "",
) -> None:
    """Write keys into ``data``, a config's plain data (:meth:`TrainConfig.to_dict`'s layout).

    The one writer of the keys :func:`settable_keys` lists: ``fashionkit train --set``, the
    parameters of a sweep and the scikit-learn estimator's
    ``set_params(optimizer__learning_rate=...)`` all go through it. Each change is a path of
    keys, such as ``("optimizer", "learning_rate")``, and a value; the changes are applied in
    order (the last change of a key wins) and missing sections are created. A change of
    ``model.architecture`` to another architecture than ``data``'s is applied first: it
    replaces the model section by the architecture's name alone, so the new architecture starts
    from its own defaults and the other model keys apply on top of them, in any order.

    Neither the keys nor the values are checked here: build the config from ``data``
    (:meth:`TrainConfig.from_dict`, or a section's class) to check them, with the message that
    names an unknown key, its closest match and the allowed keys.

    Args:
        data: The plain data, changed in place; it may hold only some sections.
        changes: Pairs of a path of keys and the value to write there.
        sep: What joins the keys of a path in messages. Defaults to ``"."``.
        context: What messages put before the key, such as ``"--set "``. Defaults to ``""``.

    Raises:
        ConfigError: A path goes below a value (``epochs.x``: ``epochs`` is a number).

    Example:
        >>> data = TrainConfig(model="mlp").to_dict()
        >>> set_keys(data, [(("model", "filters"), [16]), (("model", "architecture"), "cnn")])
        >>> TrainConfig.from_dict(data).model.filters
        (16,)
        >>> set_keys(data, [(("epochs", "x"), 1)])
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: epochs.x: epochs is a value, not a section, so it ...
    """
    steps = [(tuple(path), value) for path, value in changes]
    architectures = [value for path, value in steps if path == ("model", "architecture")]
    if architectures:
        model = data.get("model")
        current = model.get("architecture") if isinstance(model, dict) else None
        if architectures[-1] != current:
            data["model"] = {"architecture": architectures[-1]}
    for path, value in steps:
        section = data
        for depth, key in enumerate(path[:-1]):
            child = section.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(
                    f"{context}{sep.join(path)}: {sep.join(path[: depth + 1])} is a value, not "
                    f"a section, so it has no key {path[depth + 1]!r}."
                )
            section = child
        section[path[-1]] = value
