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

import difflib
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, TypeVar, cast

import attrs
import tomli_w

from fashionkit._typing import PathLike
from fashionkit.exceptions import ConfigError

__all__ = [
    "CNNConfig",
    "DataConfig",
    "DeviceConfig",
    "LinearConfig",
    "LossConfig",
    "MLPConfig",
    "ModelConfig",
    "OptimizerConfig",
    "TrainConfig",
]

_T = TypeVar("_T")
_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


# --- small validator factories -------------------------------------------------------------


def _where(instance: object, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


def _one_of(allowed: Iterable[str]) -> _Validator:
    choices = tuple(allowed)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value in choices:
            return
        listed = ", ".join(repr(c) for c in choices)
        hint = ""
        if isinstance(value, str):
            close = difflib.get_close_matches(value, choices, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{_where(instance, attribute)} must be one of {listed}; got {value!r}.{hint}"
        )

    return check


def _number(
    *,
    integer: bool = False,
    ge: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> _Validator:
    bounds = []
    if ge is not None:
        bounds.append(f">= {ge}")
    if gt is not None:
        bounds.append(f"> {gt}")
    if le is not None:
        bounds.append(f"<= {le}")
    if lt is not None:
        bounds.append(f"< {lt}")
    kind = "an integer" if integer else "a number"
    wanted = f"{kind} {' and '.join(bounds)}".strip()

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type:
            raise ConfigError(
                f"{_where(instance, attribute)} must be {wanted}; got {value!r} "
                f"({type(value).__name__})."
            )
        assert isinstance(value, (int, float))  # narrowed above, for mypy  # noqa: S101
        # math.isfinite would overflow on huge ints, which are finite anyway.
        if (isinstance(value, float) and not math.isfinite(value)) or (
            (ge is not None and value < ge)
            or (gt is not None and value <= gt)
            or (le is not None and value > le)
            or (lt is not None and value >= lt)
        ):
            raise ConfigError(f"{_where(instance, attribute)} must be {wanted}; got {value!r}.")

    return check


def _is_bool(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(
            f"{_where(instance, attribute)} must be true or false; got {value!r} "
            f"({type(value).__name__})."
        )


def _positive_ints(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        not isinstance(value, tuple)
        or not value
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)
    ):
        shown = list(value) if isinstance(value, tuple) else value
        raise ConfigError(
            f"{_where(instance, attribute)} must be a non-empty list of positive integers, such "
            f"as [128, 64]; got {shown!r}."
        )


def _to_tuple(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _encoding_name(value: object) -> object:
    return value.strip().lower().replace("-", "_") if isinstance(value, str) else value


# --- the shared base -----------------------------------------------------------------------


class _Config:
    """Dict and TOML round-tripping shared by every config class."""

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain nested dicts, lists and scalars.

        Example:
            >>> from fashionkit.config import LossConfig
            >>> LossConfig().to_dict()
            {'encoding': 'sparse', 'label_smoothing': 0.0}
        """
        out: dict[str, Any] = {}
        for field in attrs.fields(type(self)):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if isinstance(value, _Config):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[field.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build the config from a mapping such as :meth:`to_dict` returns.

        Missing keys take their defaults; unknown keys raise
        :class:`~fashionkit.exceptions.ConfigError` naming the allowed ones.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{cls.__name__} must be built from a mapping (a TOML table); "
                f"got {type(data).__name__}."
            )
        names = [f.name for f in attrs.fields(cast("type[Any]", cls))]
        unknown = sorted(set(data) - set(names))
        if unknown:
            hints = []
            for key in unknown:
                close = difflib.get_close_matches(key, names, n=1)
                hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ConfigError(
                f"{cls.__name__} got unknown key(s) {', '.join(hints)}; allowed keys are "
                f"{', '.join(names)}."
            )
        return cls(**cls._convert_nested(dict(data)))

    @classmethod
    def _convert_nested(cls, data: dict[str, Any]) -> dict[str, Any]:
        return data


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    """Remove ``None`` values (TOML has no null); every optional field defaults to ``None``."""
    return {
        k: _drop_none(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None
    }


# --- data, loss, optimizer, device ---------------------------------------------------------


@attrs.frozen(kw_only=True)
class DataConfig(_Config):
    """How the training images are split and shaped.

    Attributes:
        validation_fraction: Share of the training split held out for validation, in (0, 1).
            Defaults to 0.2, the tutorial's ``test_size``.
        split_seed: Seed of the train/validation shuffle. Defaults to 42.
        stratify: Hold out the same share of every class. Defaults to ``True``.
        layout: Model input layout: ``"flat"`` ``(N, 784)``, ``"image"`` ``(N, 28, 28, 1)``, or
            ``"auto"``, the layout the architecture prefers. Defaults to ``"auto"``.
    """

    validation_fraction: float = attrs.field(default=0.2, validator=_number(gt=0.0, lt=1.0))
    split_seed: int = attrs.field(default=42, validator=_number(integer=True, ge=0))
    stratify: bool = attrs.field(default=True, validator=_is_bool)
    layout: Literal["auto", "flat", "image"] = attrs.field(
        default="auto", converter=_lower, validator=_one_of(("auto", "flat", "image"))
    )


@attrs.frozen(kw_only=True)
class LossConfig(_Config):
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

    encoding: Literal["sparse", "one_hot"] = attrs.field(
        default="sparse",
        converter=_encoding_name,
        validator=_one_of(("sparse", "one_hot")),
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


#: Optimizers that :class:`OptimizerConfig` accepts (Keras's names).
OPTIMIZERS: tuple[str, ...] = ("rmsprop", "adam", "adamw", "sgd", "nadam", "adagrad")


@attrs.frozen(kw_only=True)
class OptimizerConfig(_Config):
    """The optimizer and its learning rate.

    Attributes:
        name: One of ``rmsprop`` (Keras's default, used by the tutorial), ``adam``, ``adamw``,
            ``sgd``, ``nadam``, ``adagrad``. Defaults to ``"rmsprop"``.
        learning_rate: Positive step size. Defaults to 0.001, Keras's default for RMSprop.
    """

    name: Literal["rmsprop", "adam", "adamw", "sgd", "nadam", "adagrad"] = attrs.field(
        default="rmsprop", converter=_lower, validator=_one_of(OPTIMIZERS)
    )
    learning_rate: float = attrs.field(default=1e-3, validator=_number(gt=0.0, le=10.0))


def _optional_tuple(value: object) -> object:
    return None if value is None else _to_tuple(value)


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
            f"{_where(instance, attribute)} must be a non-empty list of distinct GPU indices "
            f"(integers >= 0, as TensorFlow numbers them), such as [0, 1], or unset for every "
            f"GPU; got {list(value) if isinstance(value, tuple) else value!r}."
        )


#: Strategies that :class:`DeviceConfig` accepts.
STRATEGIES: tuple[str, ...] = ("auto", "one_device", "mirrored", "multi_worker")
#: Precision policies that :class:`DeviceConfig` accepts (Keras's names).
PRECISIONS: tuple[str, ...] = ("float32", "mixed_float16", "mixed_bfloat16")


@attrs.frozen(kw_only=True)
class DeviceConfig(_Config):
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
        precision: ``"float32"``, or a Keras mixed-precision policy, ``"mixed_float16"`` (GPUs
            with compute capability 7.0 or more) or ``"mixed_bfloat16"`` (recent CPUs, TPUs,
            GPUs from compute capability 8.0); the output softmax stays float32 so the loss is
            stable. Defaults to ``"float32"``.
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

    accelerator: Literal["auto", "cpu", "gpu"] = attrs.field(
        default="auto", converter=_lower, validator=_one_of(("auto", "cpu", "gpu"))
    )
    gpus: tuple[int, ...] | None = attrs.field(
        default=None, converter=_optional_tuple, validator=_gpu_indices
    )
    memory_growth: bool = attrs.field(default=False, validator=_is_bool)
    memory_limit_mb: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_number(integer=True, ge=1))
    )
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16"] = attrs.field(
        default="float32", converter=_lower, validator=_one_of(PRECISIONS)
    )
    strategy: Literal["auto", "one_device", "mirrored", "multi_worker"] = attrs.field(
        default="auto", converter=_encoding_name, validator=_one_of(STRATEGIES)
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


# --- models --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ModelConfig(_Config):
    """Base class of architecture configs; each subclass names its architecture.

    Subclass it (as a frozen attrs class with an ``architecture`` class variable) and register
    a builder with :func:`fashionkit.models.register_architecture` to add an architecture.
    """

    architecture: ClassVar[str] = ""
    #: Input layout the architecture is designed for when ``DataConfig.layout`` is ``"auto"``.
    preferred_layout: ClassVar[Literal["flat", "image"]] = "flat"

    def to_dict(self) -> dict[str, Any]:
        """Return the fields plus the ``architecture`` name."""
        return {"architecture": self.architecture, **super().to_dict()}


_ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu", "elu", "selu", "swish")


@attrs.frozen(kw_only=True)
class LinearConfig(ModelConfig):
    """The tutorial's model: one ``Dense(10, softmax)`` layer on the 784 pixels.

    It has no parameters: it is softmax (multinomial logistic) regression.
    """

    architecture: ClassVar[str] = "linear"


@attrs.frozen(kw_only=True)
class MLPConfig(ModelConfig):
    """A multi-layer perceptron: hidden ``Dense`` layers, then ``Dense(10, softmax)``.

    Attributes:
        hidden_units: Width of each hidden layer, in order. Defaults to ``(100,)``.
        activation: Hidden activation, one of relu, sigmoid, tanh, gelu, elu, selu, swish.
            Defaults to ``"relu"``.
        dropout: Dropout rate after each hidden layer, in [0, 1). Defaults to 0.
    """

    architecture: ClassVar[str] = "mlp"

    hidden_units: tuple[int, ...] = attrs.field(
        default=(100,), converter=_to_tuple, validator=_positive_ints
    )
    activation: str = attrs.field(default="relu", converter=_lower, validator=_one_of(_ACTIVATIONS))
    dropout: float = attrs.field(default=0.0, validator=_number(ge=0.0, lt=1.0))


@attrs.frozen(kw_only=True)
class CNNConfig(ModelConfig):
    """A small convolutional network for ``(28, 28, 1)`` images.

    Each block is ``Conv2D(filters, kernel_size, relu, padding="same")`` then
    ``MaxPooling2D(2)``; then ``Flatten``, ``Dense(dense_units, relu)``, ``Dropout`` and
    ``Dense(10, softmax)``.

    Attributes:
        filters: Filters of each convolution block; its length is the number of blocks
            (at most 4, since each block halves the 28x28 image). Defaults to ``(32, 64)``.
        kernel_size: Side of the square convolution kernels, odd, 1 to 7. Defaults to 3.
        dense_units: Width of the dense layer after the blocks. Defaults to 100.
        dropout: Dropout rate before the output layer, in [0, 1). Defaults to 0.3.
    """

    architecture: ClassVar[str] = "cnn"
    preferred_layout: ClassVar[Literal["flat", "image"]] = "image"

    filters: tuple[int, ...] = attrs.field(
        default=(32, 64), converter=_to_tuple, validator=_positive_ints
    )
    kernel_size: int = attrs.field(default=3, validator=_number(integer=True, ge=1, le=7))
    dense_units: int = attrs.field(default=100, validator=_number(integer=True, ge=1))
    dropout: float = attrs.field(default=0.3, validator=_number(ge=0.0, lt=1.0))

    def __attrs_post_init__(self) -> None:
        if len(self.filters) > 4:
            raise ConfigError(
                f"CNNConfig.filters has {len(self.filters)} blocks; at most 4 fit a 28x28 image "
                f"(each block halves it). Got {list(self.filters)!r}."
            )
        if self.kernel_size % 2 == 0:
            raise ConfigError(
                f"CNNConfig.kernel_size must be odd so that 'same' padding stays centred; got "
                f"{self.kernel_size}. Use {self.kernel_size + 1} or {self.kernel_size - 1}."
            )


def _model_from(value: object) -> object:
    """Accept a ModelConfig, an architecture name, or a mapping with an ``architecture`` key."""
    if isinstance(value, ModelConfig):
        return value
    from fashionkit.models import get_architecture  # the registry; imports no TensorFlow

    if isinstance(value, str):
        return get_architecture(value).config()
    if isinstance(value, Mapping):
        fields = dict(value)
        name = fields.pop("architecture", None)
        if not isinstance(name, str):
            raise ConfigError(
                "TrainConfig.model needs an 'architecture' key naming a registered architecture "
                f"(such as 'linear', 'mlp' or 'cnn'); got {dict(value)!r}."
            )
        return get_architecture(name).config.from_dict(fields)
    return value


def _is_model(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, ModelConfig):
        raise ConfigError(
            f"{_where(instance, attribute)} must be a ModelConfig (such as LinearConfig()), an "
            f"architecture name or a mapping with an 'architecture' key; got {value!r}."
        )


def _nested(cls: type[_Config], value: object) -> object:
    return cls.from_dict(value) if isinstance(value, Mapping) else value


def _data_config(value: object) -> object:
    return _nested(DataConfig, value)


def _loss_config(value: object) -> object:
    return _nested(LossConfig, value)


def _optimizer_config(value: object) -> object:
    return _nested(OptimizerConfig, value)


def _device_config(value: object) -> object:
    return _nested(DeviceConfig, value)


def _instance_of(cls: type) -> _Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            raise ConfigError(
                f"{_where(instance, attribute)} must be a {cls.__name__} or a mapping of its "
                f"fields; got {value!r}."
            )

    return check


@attrs.frozen(kw_only=True)
class TrainConfig(_Config):
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

    Example:
        >>> TrainConfig(epochs=0)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: TrainConfig.epochs must be an integer >= 1; got 0.
    """

    data: DataConfig = attrs.field(
        factory=DataConfig, converter=_data_config, validator=_instance_of(DataConfig)
    )
    model: ModelConfig = attrs.field(
        factory=LinearConfig, converter=_model_from, validator=_is_model
    )
    loss: LossConfig = attrs.field(
        factory=LossConfig, converter=_loss_config, validator=_instance_of(LossConfig)
    )
    optimizer: OptimizerConfig = attrs.field(
        factory=OptimizerConfig,
        converter=_optimizer_config,
        validator=_instance_of(OptimizerConfig),
    )
    device: DeviceConfig = attrs.field(
        factory=DeviceConfig, converter=_device_config, validator=_instance_of(DeviceConfig)
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

    @property
    def layout(self) -> Literal["flat", "image"]:
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
        return tomli_w.dumps(_drop_none(self.to_dict()))

    @classmethod
    def from_toml(cls, source: PathLike) -> Self:
        """Read a config from a TOML file; missing keys take their defaults.

        Raises:
            ConfigError: The file is not valid TOML or holds an invalid value.
            FileNotFoundError: The file does not exist.
        """
        path = Path(source)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}.") from exc
        return cls.from_dict(data)

    def write_toml(self, path: PathLike) -> Path:
        """Write :meth:`to_toml` to ``path`` atomically and return the path."""
        from fashionkit._io import atomic_write_text

        return atomic_write_text(Path(path), self.to_toml())
