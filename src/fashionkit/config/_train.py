"""The training config: every section together, with the run-level settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import attrs

from fashionkit import _fields, _schema
from fashionkit._constants import Layout
from fashionkit._io import atomic_write_text, os_errors_as
from fashionkit._messages import shown
from fashionkit._typing import PathLike
from fashionkit._validation import params
from fashionkit.config._overrides import parse_override, set_keys
from fashionkit.config._sections import (
    AugmentConfig,
    DataConfig,
    DeviceConfig,
    EarlyStoppingConfig,
    LossConfig,
    OptimizerConfig,
)
from fashionkit.exceptions import ConfigError, ConfigFileNotFoundError, StorageError
from fashionkit.models import LinearConfig, ModelConfig
from fashionkit.models._registry import model_config_from

__all__ = ["TrainConfig"]

_number = _fields.number
_is_bool = _fields.is_bool


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
            f"an architecture name or a mapping with an 'architecture' key; got {shown(value)}."
        )


@attrs.frozen(kw_only=True)
class TrainConfig(_fields.ConfigBase):
    """Everything :func:`fashionkit.train` needs; the defaults reproduce the tutorial.

    The defaults are the tutorial's: the linear model, sparse labels, RMSprop, 5 epochs of
    batches of 32, and 20% of the training images held out for validation with seed 42.

    Attributes:
        data: Split and input layout. Defaults to :class:`DataConfig()`.
        model: Architecture and its parameters; a name (``"mlp"``) or a mapping with an
            ``architecture`` key is converted. Defaults to ``LinearConfig()``
            (:class:`~fashionkit.models.LinearConfig`).
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
        validate_last_epochs: Evaluate the per-epoch validation after only the last this many
            epochs of the schedule (at least 1), counted from ``epochs``, not from where a
            time budget or an interruption stops the run; the epochs before log no ``val_*``
            metrics (NaN in the history, absent from ``metrics.jsonl``), are never the best
            epoch and do not count towards the early-stopping patience, which can then stop
            the run early only if it is at most ``validate_last_epochs - 2``
            (:func:`~fashionkit.train` warns otherwise; see :attr:`idle_patience`). A
            run stopped before its first validated epoch has no best epoch and writes no
            ``best.keras``. On a fixed schedule whose last epoch is its best, as the presets'
            one-cycle schedules are, 1 saves one pass over the validation split per epoch
            (about a tenth of ``fast``'s epoch on two AVX2 cores of an AMD EPYC, float32) and
            changes nothing else; the final validation and test reports are made as always.
            ``None`` (``none`` in TOML and ``--set``) validates after every epoch. Defaults to
            ``None``.
        calibrate: After training, fit a temperature on the validation split's probabilities
            (temperature scaling, see :mod:`fashionkit.calibration`); the final reports, the
            run directory's predictions and the exported models then use the calibrated
            probabilities. The accuracy does not change. Defaults to ``False``.
        tensorboard: Write TensorBoard logs (per-epoch metrics, the learning rate, the final
            confusion matrix and an HParams session) into the run directory's
            ``tensorboard/`` folder; needs a run directory and the ``tensorboard`` extra
            (``pip install "fashionkit[tensorboard]"``; training without them is refused
            before anything is loaded). A config that says so can be read anywhere: the run
            it describes is still evaluated, predicted and exported where TensorBoard is not
            installed. Defaults to ``False``.

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
    time_budget_seconds: float | None = _fields.optional_number(
        gt=0.0, unset="train without a time budget"
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
    validate_last_epochs: int | None = _fields.optional_number(
        integer=True, ge=1, unset="validate after every epoch (as any value >= epochs does)"
    )
    calibrate: bool = attrs.field(default=False, validator=_is_bool)
    tensorboard: bool = attrs.field(default=False, validator=_is_bool)

    #: The fields that change what is printed or logged and not what is trained. A run may
    #: be resumed with other values of them, and they are no hyperparameters.
    REPORTING_FIELDS: ClassVar[frozenset[str]] = frozenset({"verbose", "tensorboard"})

    def __attrs_post_init__(self) -> None:
        if self.device.jit_compile == "on" and self.deterministic:
            raise ConfigError(
                "DeviceConfig.jit_compile='on' needs TrainConfig.deterministic=False: Keras "
                "does not compile a step with XLA while TensorFlow's op determinism is on. Set "
                "deterministic=false to trade reproducibility for XLA, or leave jit_compile at "
                "'auto'."
            )
        if self.tta_each_epoch and not self.tta:
            raise ConfigError(
                "TrainConfig.tta_each_epoch=True needs tta=True: it extends test-time "
                "augmentation to the per-epoch validation. Set tta=True as well, or leave "
                "tta_each_epoch unset."
            )

    @property
    def first_validated_epoch(self) -> int:
        """The 1-based first epoch after which the per-epoch validation runs.

        Example:
            >>> TrainConfig(epochs=7, validate_last_epochs=1).first_validated_epoch
            7
            >>> TrainConfig(epochs=3, validate_last_epochs=5).first_validated_epoch
            1
        """
        if self.validate_last_epochs is None:
            return 1
        return max(1, self.epochs - self.validate_last_epochs + 1)

    @property
    def idle_patience(self) -> str | None:
        """Why ``early_stopping.patience`` can never stop this run early, or ``None``.

        The patience counts validated epochs only, and the first validated epoch is always the
        best so far: with ``validate_last_epochs = V`` below ``epochs``, a stop before the last
        epoch needs a patience of at most ``V - 2``. A larger one trains to the end exactly as
        no patience does; :func:`fashionkit.train` warns about it (a config read back from a
        run directory is not refused for it).

        Example:
            >>> stops = {"patience": 2}
            >>> TrainConfig(epochs=6, validate_last_epochs=4, early_stopping=stops).idle_patience
            >>> idle = TrainConfig(epochs=6, validate_last_epochs=3, early_stopping=stops)
            >>> idle.idle_patience.split(":")[0]
            'early_stopping.patience=2 can never stop this run early'
        """
        validated = self.validate_last_epochs
        patience = self.early_stopping.patience
        if validated is None or patience is None or validated >= self.epochs:
            return None
        if patience <= validated - 2:
            return None
        lower = f"at most {validated - 2}" if validated > 2 else "none"
        return (
            f"early_stopping.patience={patience} can never stop this run early: with "
            f"validate_last_epochs={validated}, only the last {validated} of {self.epochs} "
            f"epochs are validated, the first of them is the best so far, and a stop needs "
            f"{patience} more without improvement, so the run trains to the end as without a "
            f"patience. Set patience to {lower}, or validate_last_epochs to {patience + 2} or "
            f"more (or unset it, to validate every epoch)."
        )

    @property
    def layout(self) -> Layout:
        """The resolved input layout (``data.layout``, or the model's preference for ``auto``)."""
        if self.data.layout == "auto":
            return self.model.preferred_layout
        return self.data.layout

    @params()
    def with_overrides(self, *settings: str | tuple[str, Any], context: str = "") -> TrainConfig:
        """A copy with settings applied by their dotted keys, validated as a whole.

        Each setting is ``KEY=VALUE`` text, the value in TOML (``"model.filters=[16, 32]"``,
        ``"optimizer.name=adam"``: a bare word is a string; see
        :func:`~fashionkit.config.parse_override`), or a pair of a dotted key and a Python value
        (``("epochs", 3)``). They are applied in order,
        so a later setting of a key wins; setting ``model.architecture`` starts the model
        section from that architecture's defaults (see :func:`set_keys`). ``fashionkit train
        --set`` and the benchmarks build their configs this way.

        Args:
            settings: ``KEY=VALUE`` texts or ``(key, value)`` pairs.
            context: What names the settings in messages, such as ``"--set"``. Defaults to
                none.

        Raises:
            ConfigError: A setting is malformed, names an unknown key (the message names the
                closest ones) or gives a value the field refuses.

        Example:
            >>> config = TrainConfig().with_overrides("model.architecture=cnn", ("epochs", 3))
            >>> config.model.architecture, config.epochs
            ('cnn', 3)
            >>> TrainConfig().with_overrides("optimizer.learnig_rate=0.1")
            Traceback (most recent call last):
            ...
            fashionkit.exceptions.ConfigError: OptimizerConfig got unknown key(s) 'learnig_rate'
            (did you mean 'learning_rate'?); allowed keys are name, learning_rate, schedule,
            warmup_fraction, weight_decay, momentum, nesterov, ema_momentum.
        """
        changes = [
            (tuple(setting[0].split(".")), setting[1])
            if isinstance(setting, tuple) and len(setting) == 2 and isinstance(setting[0], str)
            else parse_override(setting, context=context)  # a non-text is refused there
            for setting in settings
        ]
        data = self.to_dict()
        set_keys(data, changes, context=f"{context} " if context else "")
        return TrainConfig.from_dict(data)

    def to_toml(self) -> str:
        """Return the config as a TOML document.

        Example:
            >>> print(TrainConfig(epochs=2).to_toml().splitlines()[0])
            epochs = 2
        """
        return _schema.to_toml(self)

    @classmethod
    @params()
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
                f"TrainConfig().write_toml({shown(str(path))}) (fashionkit train --save-config)."
            )
        try:
            with os_errors_as(StorageError, path, action="read"):
                text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path} is not a UTF-8 text file, so not a TOML config.") from exc
        return cls.from_dict(_schema.parse_toml(text, source=str(path)))

    @params()
    def write_toml(self, path: PathLike) -> Path:
        """Write :meth:`to_toml` to ``path`` atomically and return the path.

        Raises:
            StorageError: The file cannot be written (nothing is left under its name).
        """
        with os_errors_as(StorageError, Path(path)):
            return atomic_write_text(Path(path), self.to_toml())
