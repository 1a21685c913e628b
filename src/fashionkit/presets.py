"""Named training configs: the tutorial's, a fast one and an accurate one.

Example:
    >>> from fashionkit.presets import get_preset, list_presets
    >>> list_presets()
    ['accurate', 'fast', 'tutorial']
    >>> get_preset("fast").model.architecture
    'cnn'
"""

from __future__ import annotations

import difflib

import attrs

from fashionkit._messages import shown
from fashionkit._validation import annotated_fields, params
from fashionkit.config import (
    AugmentConfig,
    DeviceConfig,
    LossConfig,
    OptimizerConfig,
    TrainConfig,
)
from fashionkit.exceptions import ConfigError
from fashionkit.models import CNNConfig

__all__ = ["Preset", "describe_presets", "get_preset", "list_presets"]


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class Preset:
    """A named config and what it is for.

    Attributes:
        name: The preset's name.
        summary: One sentence: the model, the schedule and what it reaches.
        config: The training config.
    """

    name: str
    summary: str
    config: TrainConfig


#: The presets' optimizer: AdamW, peak rate 0.003 reached after 30% of the run, decoupled
#: weight decay 0.05 (scaled by the rate, as Keras applies it).
_ONE_CYCLE = OptimizerConfig(
    name="adamw", learning_rate=3e-3, schedule="one_cycle", weight_decay=0.05
)

#: The same schedule with Muon on the convolution kernels (AdamW on the rest).
_ONE_CYCLE_MUON = OptimizerConfig(
    name="muon", learning_rate=3e-3, schedule="one_cycle", weight_decay=0.05
)
#: ``fast``'s: the same at a peak rate of 0.005 (its six epochs reach a higher validation
#: accuracy at 0.005 than at 0.003 at each of three seeds; bench/measured/screen-fast6-avx2).
_ONE_CYCLE_MUON_FAST = attrs.evolve(_ONE_CYCLE_MUON, learning_rate=5e-3)

#: The presets compute in the precision the device runs fastest (see
#: :func:`fashionkit.hardware.choose_precision`): bfloat16 on CPUs with AVX512_BF16 or AMX and
#: on GPUs from compute capability 8.0, float16 on GPUs of 7.x, float32 elsewhere (bfloat16 is
#: emulated there, tens of times slower).
_AUTO = DeviceConfig(precision="auto")

_PRESETS = {
    preset.name: preset
    for preset in (
        Preset(
            name="tutorial",
            summary="The tutorial: one Dense softmax layer, RMSprop, 5 epochs of 32 (about 0.85).",
            config=TrainConfig(),
        ),
        Preset(
            name="fast",
            summary="A one-block CNN (64 filters) on whitened 2x2 patches, Muon on the "
            "convolution and AdamW on the rest with a one-cycle schedule, label smoothing, "
            "alternating flips and flip test-time augmentation, 6 epochs of 128 validated "
            "after the last, calibrated: about 0.92 test accuracy in under a minute of fit on "
            "two AVX2 cores in float32 (in bfloat16 where the CPU has AVX512_BF16 or AMX).",
            config=TrainConfig(
                # A frozen whitening of non-overlapping 2x2 patches halves the image before
                # the only convolution: 57% of the old preset's work per epoch, and a higher
                # accuracy per epoch (screened on validation; bench/measured). Six epochs at
                # the higher peak rate, validated after the last only (the one-cycle schedule
                # ends at its best epoch): a tenth less work per epoch than validating each.
                model=CNNConfig(
                    filters=(64,), dense_units=128, dropout=0.3, whiten=2, whiten_stride=2
                ),
                loss=LossConfig(encoding="one_hot", label_smoothing=0.1),
                optimizer=_ONE_CYCLE_MUON_FAST,
                augment=AugmentConfig(flip="alternate"),
                device=_AUTO,
                tta=True,
                calibrate=True,  # label smoothing and TTA leave it under-confident
                epochs=6,
                batch_size=128,
                validate_last_epochs=1,
            ),
        ),
        Preset(
            name="accurate",
            summary="A batch-normalised CNN (16, 64 and 128 filters) after a frozen 2x2 "
            "patch-whitening layer, Muon on the convolutions and AdamW on the rest with a "
            "one-cycle schedule, shifts, alternating flips and flip test-time augmentation, "
            "20 epochs of 128 validated after the last, calibrated: about 0.94 accuracy in "
            "about 10 minutes of fit on "
            "two AVX2 cores in float32 (in bfloat16 where the CPU has AVX512_BF16 or AMX).",
            config=TrainConfig(
                # A frozen 2x2 patch whitening first and Muon on the convolutions: 20 epochs
                # reach the validation accuracy 30 took before (screened on validation).
                model=CNNConfig(
                    filters=(16, 64, 128),
                    dense_units=256,
                    dropout=0.4,
                    batch_norm=True,
                    whiten=2,
                ),
                optimizer=_ONE_CYCLE_MUON,
                augment=AugmentConfig(translate=2, flip="alternate"),
                device=_AUTO,
                tta=True,
                calibrate=True,
                epochs=20,
                batch_size=128,
                validate_last_epochs=1,
            ),
        ),
    )
}


def list_presets() -> list[str]:
    """Return the preset names, sorted."""
    return sorted(_PRESETS)


@params()
def get_preset(name: str) -> TrainConfig:
    """Return the config of preset ``name``; change it with :func:`attrs.evolve`.

    Raises:
        ConfigError: No preset has that name; the message lists them.
    """
    try:
        return _PRESETS[name].config
    except KeyError:
        close = difflib.get_close_matches(name, list(_PRESETS), n=1)
        hint = f" Did you mean {shown(close[0])}?" if close else ""
        raise ConfigError(
            f"No preset named {shown(name)}.{hint} Presets: {', '.join(list_presets())}."
        ) from None


def describe_presets() -> list[Preset]:
    """Return every preset with its summary, sorted by name."""
    return [_PRESETS[name] for name in list_presets()]
