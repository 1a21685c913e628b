"""The sections of a training config: data, loss, optimizer, augmentation, stopping, devices."""

from __future__ import annotations

from typing import Any

import attrs

from fashionkit import _fields
from fashionkit._constants import (
    ACCELERATORS,
    FLIP_MODES,
    JIT_COMPILE_CHOICES,
    LABEL_ENCODINGS,
    LAYOUT_CHOICES,
    MONITORS,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    STRATEGIES,
    Accelerator,
    FlipMode,
    JitCompile,
    LabelEncoding,
    LayoutChoice,
    Monitor,
    OptimizerName,
    Precision,
    ScheduleName,
    StrategyChoice,
)
from fashionkit._messages import shown
from fashionkit.exceptions import ConfigError

__all__ = [
    "AugmentConfig",
    "DataConfig",
    "DeviceConfig",
    "EarlyStoppingConfig",
    "LossConfig",
    "OptimizerConfig",
]

_number = _fields.number
_one_of = _fields.one_of
_is_bool = _fields.is_bool


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
                f"encoding={shown(self.encoding)}. Use encoding='one_hot' or label_smoothing=0."
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
            ``sgd``, ``nadam``, ``adagrad``, or ``muon``: Muon (momentum 0.95, Nesterov,
            orthogonalised updates) on the convolution kernels and AdamW on every other weight.
            Defaults to ``"rmsprop"``.
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
    warmup_fraction: float | None = _fields.optional_number(
        ge=0.0, lt=1.0, unset="use the schedule's default"
    )
    weight_decay: float | None = _fields.optional_number(
        ge=0.0, lt=1.0, unset="keep Keras's default for the optimizer"
    )
    momentum: float = attrs.field(default=0.0, validator=_number(ge=0.0, lt=1.0))
    nesterov: bool = attrs.field(default=False, validator=_is_bool)
    ema_momentum: float | None = _fields.optional_number(
        gt=0.0, lt=1.0, unset="keep no average of the weights"
    )

    def __attrs_post_init__(self) -> None:
        if self.momentum > 0 and self.name not in ("sgd", "rmsprop"):
            raise ConfigError(
                f"OptimizerConfig.momentum={self.momentum} applies to 'sgd' and 'rmsprop'; got "
                f"name={shown(self.name)}. Use one of those, or momentum=0."
            )
        if self.nesterov and (self.name != "sgd" or self.momentum == 0):
            raise ConfigError(
                f"OptimizerConfig.nesterov=True needs name='sgd' and momentum above 0; got "
                f"name={shown(self.name)}, momentum={self.momentum}. Use name='sgd', momentum=0.9."
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
    patience: int | None = _fields.optional_number(integer=True, ge=1, unset="never stop early")
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
            f"indices (integers >= 0, as TensorFlow numbers them), such as [0, 1], or unset "
            f"(None; none in TOML and --set) for every GPU; got "
            f"{shown(list(value) if isinstance(value, tuple) else value)}."
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
        jit_compile: Compile the training step with XLA. ``"auto"`` follows Keras: XLA on a
            GPU when :attr:`TrainConfig.deterministic` is off and no distribution strategy is
            used, never on a CPU (on two cores of an AMD EPYC with AVX2 and FMA only, in
            float32, XLA made the ``fast`` preset's epochs about 2.7 times slower). ``"on"``
            compiles it wherever training runs; it needs ``TrainConfig.deterministic = false``
            (Keras compiles no XLA step while op determinism is on), so on a GPU it trades
            reproducibility for speed. ``"off"`` never compiles with XLA. ``"on"`` is refused
            with the ``mirrored`` and ``multi_worker`` strategies, also where
            ``strategy = "auto"`` mirrors over several devices: fashionkit runs those without
            XLA. Defaults to ``"auto"``.

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
    memory_limit_mb: int | None = _fields.optional_number(
        integer=True, ge=1, unset="leave the GPUs' memory uncapped"
    )
    precision: Precision = attrs.field(
        default="float32", converter=_fields.lower, validator=_one_of(PRECISIONS)
    )
    strategy: StrategyChoice = attrs.field(
        default="auto", converter=_fields.snake, validator=_one_of(STRATEGIES)
    )
    virtual_cpus: int = attrs.field(default=1, validator=_number(integer=True, ge=1, le=64))
    jit_compile: JitCompile = attrs.field(
        default="auto", converter=_fields.lower, validator=_one_of(JIT_COMPILE_CHOICES)
    )

    @property
    def keras_jit_compile(self) -> bool | str:
        """The value for ``keras.Model.compile(jit_compile=...)``.

        ``"auto"`` on ``accelerator="cpu"`` is ``False``: Keras's own ``"auto"`` asks
        TensorFlow for the physical devices, which still lists a GPU the config hid, and would
        compile the step with XLA on the CPU.

        Example:
            >>> DeviceConfig(jit_compile="on").keras_jit_compile
            True
            >>> DeviceConfig(accelerator="cpu").keras_jit_compile
            False
        """
        if self.jit_compile == "auto":
            return False if self.accelerator == "cpu" else "auto"
        return self.jit_compile == "on"

    def __attrs_post_init__(self) -> None:
        if self.jit_compile == "on" and self.strategy in ("mirrored", "multi_worker"):
            raise ConfigError(
                f"DeviceConfig.jit_compile='on' compiles the step with XLA, which fashionkit "
                f"does not do under strategy={self.strategy!r}. Use jit_compile='auto' or "
                f"'off', or strategy='one_device'."
            )
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
