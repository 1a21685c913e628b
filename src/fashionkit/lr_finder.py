"""The learning-rate finder: a range test of rising rates, and the rate it suggests.

:func:`find_learning_rate` trains a fresh model of a config for a few hundred batches while the
learning rate rises exponentially from ``min_lr`` to ``max_lr``, one rate per batch, and
records the loss of every batch; :class:`RangeTestOptions` holds those settings, checked when
it is built (so that the command line refuses a bad one before it loads any data). The loss
first barely moves (the rate is too small), then falls, then rises again and diverges (the rate
is too large). A good rate for training lies where the loss falls fastest, well before its
minimum. The sweep returns a :class:`LearningRateRange`: the rates, the raw and smoothed
losses, the suggested rate (or ``None``) and a sentence saying how it was chosen or why there
is none.

The suggestion rule, applied to the smoothed loss (see :class:`LearningRateRange`; the settings
named are those of :class:`RangeTestOptions`):

1. the first ``skip_fraction`` of the planned steps are ignored (the start is noisy);
2. among the remaining steps up to the lowest smoothed loss, the suggestion is the rate at the
   centre of the window of a few steps over which the smoothed loss falls fastest against the
   logarithm of the rate;
3. there is no suggestion when fewer than :data:`MIN_USABLE_STEPS` steps remain after the
   skipped start (the loss diverged at once), when the loss was lowest inside the skipped start
   and had fallen there (the sweep starts too high), or when it never fell by
   :data:`MIN_DECREASE` below its value after the skipped start (the rates are too low, or the
   model does not learn).

Example:
    >>> import fashionkit
    >>> sweep = fashionkit.find_learning_rate(options=RangeTestOptions(steps=100))  # doctest: +SKIP
    >>> print(sweep.to_text())  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Final

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit import _schema
from fashionkit._messages import shown
from fashionkit._validation import (
    Constraint,
    InstanceOf,
    Interval,
    NoneOr,
    SequenceOf,
    annotated_fields,
    field_validator,
    params,
    refusal,
)
from fashionkit.config import TrainConfig
from fashionkit.datasets import FashionMNIST
from fashionkit.exceptions import ArgumentError, ConfigError
from fashionkit.training._setup import prepare

__all__ = [
    "MIN_DECREASE",
    "MIN_USABLE_STEPS",
    "LearningRateRange",
    "RangeTestOptions",
    "find_learning_rate",
]

#: The smoothed loss must fall at least this share below its value after the skipped start
#: for a suggestion (a smaller fall is noise).
MIN_DECREASE: Final = 0.05
#: Steps after the skipped start, before the loss diverged, that a suggestion needs at least.
MIN_USABLE_STEPS: Final = 5
#: Largest number of steps a sweep may take.
_MAX_STEPS: Final = 100_000
#: Largest rate a sweep may reach (OptimizerConfig.learning_rate's limit).
_MAX_RATE: Final = 10.0


def _setting(constraint: Constraint, hint: str) -> Any:
    """A field validator: ``constraint``, with ``hint`` (what the setting does) in the message."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not constraint.allows(value):
            name = f"{type(instance).__name__}.{attribute.name}"
            raise ArgumentError(refusal(name, constraint.describe(), value, hint))

    return check


@attrs.frozen(kw_only=True)
class RangeTestOptions:
    """How :func:`find_learning_rate` sweeps: the rates, the steps and the suggestion's settings.

    Checked when built, each setting on its own and then ``min_lr`` below ``max_lr``: an
    :class:`~fashionkit.exceptions.ArgumentError` (also a ``ConfigError``) names the first
    bad one, what is allowed and what was received. Change one with ``attrs.evolve`` (checked
    again).

    Attributes:
        min_lr: The rate of the first step, > 0 and below ``max_lr``. Defaults to 1e-6.
        max_lr: The rate of the last step, at most 10 (``OptimizerConfig.learning_rate``'s
            limit). Defaults to 1.
        steps: Steps (batches) to sweep, 10 to 100,000; the data is passed over again as often
            as needed. Defaults to 200.
        smoothing: Weight of the running average of the loss, in [0, 1); 0 turns smoothing
            off. Defaults to 0.98.
        skip_fraction: Share of the steps at the start that the suggestion ignores, in
            [0, 0.5). Defaults to 0.1.
        divergence: Stop when the smoothed loss exceeds this many times its minimum, > 1.
            Defaults to 4.

    Example:
        >>> RangeTestOptions(min_lr=1e-5, steps=100).max_lr
        1.0
        >>> RangeTestOptions(min_lr=0.1, max_lr=0.01)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ArgumentError: RangeTestOptions: min_lr must be below max_lr; ...
    """

    min_lr: float = attrs.field(
        default=1e-6,
        validator=_setting(Interval("number", gt=0), "1e-6 or 1e-7 is a usual start."),
    )
    max_lr: float = attrs.field(
        default=1.0,
        validator=_setting(
            Interval("number", gt=0, le=_MAX_RATE), "OptimizerConfig.learning_rate's limit is 10."
        ),
    )
    steps: int = attrs.field(
        default=200,
        validator=_setting(Interval("int", ge=10, le=_MAX_STEPS), "100 to 300 steps are usual."),
    )
    smoothing: float = attrs.field(
        default=0.98,
        validator=_setting(
            Interval("number", ge=0, lt=1),
            "It weighs the running average of the loss; 0 turns smoothing off.",
        ),
    )
    skip_fraction: float = attrs.field(
        default=0.1,
        validator=_setting(
            Interval("number", ge=0, lt=0.5),
            "It is the share of the steps at the start that the suggestion ignores.",
        ),
    )
    divergence: float = attrs.field(
        default=4.0,
        validator=_setting(
            Interval("number", gt=1),
            "The sweep stops when the smoothed loss exceeds this many times its minimum; 4 is "
            "usual.",
        ),
    )

    def __attrs_post_init__(self) -> None:
        if not self.min_lr < self.max_lr:
            raise ArgumentError(
                f"RangeTestOptions: min_lr must be below max_lr; got min_lr={shown(self.min_lr)} "
                "and "
                f"max_lr={shown(self.max_lr)}. Swap them, or widen the range."
            )


#: The losses of a range test: any floats (NaN and infinities where training blew up).
_LOSSES = field_validator(
    SequenceOf(InstanceOf((float, int), "a number (NaN and infinities allowed)"))
)


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class LearningRateRange:
    """What :func:`find_learning_rate` measured, and the rate it suggests.

    The rates rise exponentially, one per step; the lists stop at the step where the smoothed
    loss diverged when the sweep stopped early (that step included).

    Attributes:
        rates: The learning rate of each step.
        losses: The training loss of each step's batch, as Keras computed it (NaN or infinite
            when training blew up).
        smoothed_losses: The exponential moving average of the losses with weight
            ``smoothing``, bias-corrected (divided by ``1 - smoothing ** (step + 1)``) so that
            the first values are not pulled towards zero.
        suggestion: The rate at which the smoothed loss fell fastest against the logarithm of
            the rate, between the skipped start and its minimum; ``None`` when no rate could be
            suggested soundly (:attr:`reason` says why).
        minimum_rate: The rate at the lowest smoothed loss after the skipped start; a tenth of
            it is the other usual choice. ``None`` when there is no suggestion.
        reason: A sentence saying how the suggestion was chosen, or why there is none and what
            to change.
        stopped_early: The smoothed loss diverged (rose above ``divergence`` times its minimum,
            or became NaN or infinite) and the sweep stopped at that step.
        config: The training config the sweep was run for (its own learning rate and schedule
            were replaced by the sweep's).
        seconds: Wall-clock seconds of the sweep's training steps, when measured; not compared
            by ``==``.
    """

    rates: tuple[float, ...]
    losses: tuple[float, ...] = attrs.field(validator=_LOSSES)
    smoothed_losses: tuple[float, ...] = attrs.field(validator=_LOSSES)
    suggestion: float | None
    minimum_rate: float | None
    reason: str
    stopped_early: bool
    config: TrainConfig
    seconds: float | None = attrs.field(  # wall time differs run to run
        default=None, eq=False, validator=field_validator(NoneOr(Interval("number", ge=0)))
    )

    @property
    def steps(self) -> int:
        """Number of steps recorded."""
        return len(self.rates)

    def to_dict(self) -> dict[str, Any]:
        """Return the sweep as plain data for JSON (NaN and infinities as strings).

        Non-finite losses become the strings ``"nan"``, ``"inf"`` and ``"-inf"``, which
        ``float()`` reads back, as everywhere in fashionkit's files.
        """
        data: dict[str, Any] = _schema.to_data(self)
        return data

    def to_text(self) -> str:
        """Return a few lines: what was swept, the suggestion and why."""
        config = self.config
        first, last = (self.rates[0], self.rates[-1]) if self.rates else (math.nan, math.nan)
        ended = ", where the smoothed loss diverged" if self.stopped_early else ""
        lines = [
            f"learning-rate sweep: model {config.model.architecture}, optimizer "
            f"{config.optimizer.name}, {self.steps} steps of {config.batch_size} from "
            f"{first:.3g} to {last:.3g}{ended}",
        ]
        if self.suggestion is not None and self.minimum_rate is not None:
            lines.append(f"suggested learning rate: {self.suggestion:.3g}")
            lines.append(
                f"lowest smoothed loss at {self.minimum_rate:.3g}; a tenth of it: "
                f"{self.minimum_rate / 10:.3g}"
            )
        else:
            lines.append("suggested learning rate: none")
        lines.append(self.reason)
        if self.seconds is not None:
            lines.append(f"sweep {self.seconds:.1f} s")
        return "\n".join(lines)


@params()
def find_learning_rate(
    config: TrainConfig | None = None,
    options: RangeTestOptions | None = None,
    *,
    dataset: FashionMNIST | None = None,
) -> LearningRateRange:
    """Sweep the learning rate from ``min_lr`` to ``max_lr`` and suggest one for ``config``.

    Set up as :func:`~fashionkit.training.train` does: apply the device config, load the data
    unless ``dataset`` is given, hold out the config's validation split (the sweep trains on
    the rest, shuffled by the seed and augmented as configured, in batches of
    ``config.batch_size``: the batches training starts with), seed Python, NumPy and Keras,
    and create and compile a fresh model under the configured precision. The optimizer is the
    configured one with a constant, settable rate (one step per compiled call, no schedule or
    warm-up). Then train ``steps`` batches, step ``i`` at rate
    ``min_lr * (max_lr / min_lr) ** (i / (steps - 1))``, and record each batch's loss; stop
    when the smoothed loss exceeds ``divergence`` times its minimum or becomes NaN or infinite.
    Nothing is written to disk; the model is thrown away.

    The suggestion is the rate where the smoothed loss falls fastest (see
    :mod:`fashionkit.lr_finder` for the rule and when there is none). Use it as
    ``OptimizerConfig.learning_rate``; with a schedule, that is the schedule's peak.

    Args:
        config: The training config to find a rate for; :class:`~fashionkit.config.TrainConfig()`
            when omitted. Its optimizer, loss, model, batch size, split, seed and devices are
            used; its learning rate, schedule and epochs are not.
        options: The rates, steps and suggestion settings; :class:`RangeTestOptions()` (200
            steps from 1e-6 to 1) when omitted.
        dataset: The data; loaded with :func:`~fashionkit.load_fashion_mnist` when omitted.

    Returns:
        The rates, the losses, the suggestion and the reason for it.

    Raises:
        ArgumentError: ``config`` is not a TrainConfig or ``options`` not a RangeTestOptions.
        ConfigError: ``config`` uses ``strategy='multi_worker'``.
        DeviceError: The device config cannot be satisfied.
        FashionkitError: Loading or validating the data failed (see
            :func:`~fashionkit.load_fashion_mnist`).

    Example:
        >>> import fashionkit
        >>> from fashionkit.presets import get_preset
        >>> sweep = fashionkit.find_learning_rate(get_preset("fast"))  # doctest: +SKIP
        >>> round(sweep.suggestion, 4), round(sweep.minimum_rate / 10, 4)  # doctest: +SKIP
        (0.0017, 0.0047)
    """
    config = config if config is not None else TrainConfig()
    options = options if options is not None else RangeTestOptions()
    if config.device.strategy == "multi_worker":
        raise ConfigError(
            "find_learning_rate() runs on one machine; got DeviceConfig(strategy='multi_worker'). "
            "Sweep with strategy='auto' on one worker and use the rate on all of them."
        )
    rates = _range_rates(options.min_lr, options.max_lr, options.steps)
    smoothing, divergence = options.smoothing, options.divergence
    losses, seconds = _run_range(config, dataset, rates, smoothing=smoothing, divergence=divergence)
    sweep = _analyse_range(
        rates,
        losses,
        config=config,
        smoothing=smoothing,
        skip_fraction=options.skip_fraction,
        divergence=divergence,
    )
    return attrs.evolve(sweep, seconds=seconds)


def _range_rates(min_lr: float, max_lr: float, steps: int) -> tuple[float, ...]:
    """The rates of a sweep: ``steps`` rates rising exponentially from ``min_lr`` to ``max_lr``.

    Example:
        >>> [f"{rate:g}" for rate in _range_rates(1e-4, 1.0, 5)]
        ['0.0001', '0.001', '0.01', '0.1', '1']
    """
    exponents = np.arange(steps, dtype=np.float64) / (steps - 1)
    rates = min_lr * (max_lr / min_lr) ** exponents
    rates[0], rates[-1] = min_lr, max_lr  # exactly, not up to rounding
    return tuple(float(rate) for rate in rates)


def _range_config(config: TrainConfig, first_rate: float) -> TrainConfig:
    """``config`` with a constant, settable learning rate and one step per compiled call."""
    optimizer = attrs.evolve(
        config.optimizer, learning_rate=first_rate, schedule="constant", warmup_fraction=None
    )
    return attrs.evolve(config, optimizer=optimizer, steps_per_execution=1, verbose=0)


def _run_range(
    config: TrainConfig,
    dataset: FashionMNIST | None,
    rates: Sequence[float],
    *,
    smoothing: float,
    divergence: float,
) -> tuple[list[float], float]:
    """Train one batch per rate until the smoothed loss diverges; return the losses and time."""
    setup = prepare(_range_config(config, rates[0]), dataset=dataset, run_dir=None)
    epochs = math.ceil(len(rates) / setup.steps_per_epoch)
    batches = setup.batches(epochs=epochs)
    model = setup.model
    tracker = _SmoothedLoss(smoothing=smoothing, divergence=divergence)
    losses: list[float] = []
    start = time.perf_counter()
    for rate, (x, y) in zip(rates, batches, strict=False):
        model.optimizer.learning_rate = rate
        logs = model.train_on_batch(x, y, return_dict=True)
        losses.append(float(logs["loss"]))
        if tracker.add(losses[-1]):
            break
    return losses, time.perf_counter() - start


class _SmoothedLoss:
    """The bias-corrected running average of the loss, and the divergence test."""

    def __init__(self, *, smoothing: float, divergence: float) -> None:
        self.smoothing = smoothing
        self.divergence = divergence
        self.average = 0.0
        self.count = 0
        self.lowest = math.inf

    def add(self, loss: float) -> bool:
        """Take the next loss; return whether the smoothed loss has now diverged."""
        self.count += 1
        self.average = self.smoothing * self.average + (1 - self.smoothing) * loss
        value = self.value
        if not math.isfinite(value) or value > self.divergence * self.lowest:
            return True
        self.lowest = min(self.lowest, value)
        return False

    @property
    def value(self) -> float:
        """The smoothed loss after the losses taken so far."""
        return self.average / (1 - self.smoothing**self.count)


@attrs.frozen(kw_only=True)
class _Choice:
    suggestion: float | None
    minimum_rate: float | None
    reason: str


def _analyse_range(
    rates: Sequence[float],
    losses: Sequence[float],
    *,
    config: TrainConfig,
    smoothing: float,
    skip_fraction: float,
    divergence: float,
) -> LearningRateRange:
    """Smooth ``losses``, stop them where they diverge, and choose the suggestion.

    Pure NumPy: ``rates`` are the rates of every planned step, ``losses`` those of the steps
    that ran (as many, or fewer when the sweep stopped early). Losses after the step at which
    the smoothed loss diverged are dropped, so the result does not depend on whether the loop
    that measured them stopped there.
    """
    tracker = _SmoothedLoss(smoothing=smoothing, divergence=divergence)
    smoothed: list[float] = []
    stopped_early = False
    for loss in losses[: len(rates)]:
        stopped_early = tracker.add(float(loss))
        smoothed.append(tracker.value)
        if stopped_early:
            break
    kept = len(smoothed)
    skip = round(skip_fraction * len(rates))
    choice = _choose(
        np.asarray(rates[:kept], dtype=np.float64),
        np.asarray(smoothed, dtype=np.float64),
        skip=skip,
        window=_window(len(rates)),
        stopped_early=stopped_early,
    )
    return LearningRateRange(
        rates=tuple(float(r) for r in rates[:kept]),
        losses=tuple(float(v) for v in losses[:kept]),
        smoothed_losses=tuple(smoothed),
        suggestion=choice.suggestion,
        minimum_rate=choice.minimum_rate,
        reason=choice.reason,
        stopped_early=stopped_early,
        config=config,
    )


def _window(steps: int) -> int:
    """Steps over which the fall of the loss is measured: a fortieth of the sweep, at least 2."""
    return max(2, round(steps / 40))


def _choose(
    rates: NDArray[np.float64],
    smoothed: NDArray[np.float64],
    *,
    skip: int,
    window: int,
    stopped_early: bool,
) -> _Choice:
    """The suggestion rule (see the module's docstring), on the smoothed losses of a sweep."""
    # The divergence test let every step before the last one through; the last one diverged
    # (perhaps to NaN or infinity) when the sweep stopped early, and is not part of the curve.
    usable_end = len(smoothed) - 1 if stopped_early else len(smoothed)
    usable = usable_end - skip
    if usable < MIN_USABLE_STEPS:
        where = (
            f"the smoothed loss diverged at step {len(smoothed)} (rate {rates[-1]:.3g})"
            if stopped_early
            else f"only {len(smoothed)} steps ran"
        )
        return _none(
            f"No suggestion: {where}, leaving {max(usable, 0)} usable steps after the skipped "
            f"first {skip}; at least {MIN_USABLE_STEPS} are needed. Sweep again with a lower "
            f"min_lr and max_lr (the rates diverge quickly for this config)."
        )
    curve, lows = smoothed[:usable_end], rates[:usable_end]
    lowest = int(np.argmin(curve))
    if lowest < skip and curve[lowest] <= (1 - MIN_DECREASE) * curve[0]:
        return _none(
            f"No suggestion: the smoothed loss was lowest ({curve[lowest]:.4g}) at rate "
            f"{lows[lowest]:.3g}, inside the skipped first {skip} steps, and had already fallen "
            f"there: the sweep starts too high. Sweep again with a lower min_lr (below "
            f"{lows[0]:.3g})."
        )
    bottom = skip + int(np.argmin(curve[skip:]))
    start = curve[skip]
    if not curve[bottom] <= (1 - MIN_DECREASE) * start:
        fix = (
            f"then diverged at rate {rates[-1]:.3g}: the model does not learn from this data at "
            f"the rates swept, or the rates that train lie below them (lower min_lr)"
            if stopped_early
            else "the rates swept are too low to train (raise max_lr), or the model does not "
            "learn from this data"
        )
        return _none(
            f"No suggestion: after the skipped first {skip} steps the smoothed loss never fell "
            f"by {MIN_DECREASE:.0%} below its value there ({start:.4g}; lowest {curve[bottom]:.4g} "
            f"at rate {lows[bottom]:.3g}), and {fix}."
        )
    span = min(window, bottom - skip)
    logs = np.log(lows)
    ends = np.arange(skip, bottom - span + 1)
    slopes = (curve[ends + span] - curve[ends]) / (logs[ends + span] - logs[ends])
    steepest = int(np.argmin(slopes))
    first = int(ends[steepest])
    suggestion = float(np.exp((logs[first] + logs[first + span]) / 2))
    minimum_rate = float(lows[bottom])
    per_decade = -float(slopes[steepest]) * math.log(10)
    still_falling = (
        " The loss was still falling at the last rate, so that minimum is only where the sweep "
        "ended (sweep to a higher max_lr to see the real one)."
        if bottom == usable_end - 1 and not stopped_early
        else ""
    )
    return _Choice(
        suggestion=suggestion,
        minimum_rate=minimum_rate,
        reason=(
            f"Suggested {suggestion:.3g}: there the smoothed loss fell fastest ({per_decade:.3g} "
            f"per tenfold rise of the rate, measured over {span} steps), between the skipped "
            f"first {skip} steps and its minimum {curve[bottom]:.4g} at rate "
            f"{minimum_rate:.3g}; {minimum_rate / 10:.3g}, a tenth of the minimum's rate, is "
            f"the other usual choice.{still_falling}"
        ),
    )


def _none(reason: str) -> _Choice:
    return _Choice(suggestion=None, minimum_rate=None, reason=reason)
