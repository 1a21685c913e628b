"""The learning-rate schedule fashionkit's optimizers use (a Keras object: import it lazily).

One serialisable class covers the three shapes of
:attr:`~fashionkit.config.OptimizerConfig.schedule`, so that a checkpoint (which stores the
optimizer with its step counter) resumes the schedule exactly where it was.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

#: A warm-up starts at this share of the peak rate; one cycle also ends at START / 100.
START_FACTOR = 1 / 25


@keras.saving.register_keras_serializable(package="fashionkit")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):  # type: ignore[misc]
    """Linear warm-up to ``peak``, then constant, cosine decay to 0, or a linear fall.

    Args:
        peak: The highest learning rate (``OptimizerConfig.learning_rate``).
        total_steps: Optimizer steps of the whole run (batches per epoch x epochs).
        warmup_steps: Steps of the linear rise from ``peak * START_FACTOR`` to ``peak``.
        shape: ``"constant"``, ``"cosine"`` or ``"one_cycle"`` (after the warm-up: stay at
            the peak; cosine decay to 0; fall linearly to ``peak * START_FACTOR / 100``).
    """

    def __init__(self, peak: float, total_steps: int, warmup_steps: int, shape: str) -> None:
        super().__init__()
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.shape = shape

    def __call__(self, step: Any) -> Any:
        """The learning rate at optimizer step ``step`` (0-based)."""
        s = ops.cast(step, "float32")
        start = self.peak * START_FACTOR
        rise = start + (self.peak - start) * s / max(self.warmup_steps, 1)
        span = max(self.total_steps - self.warmup_steps, 1)
        done = ops.clip((s - self.warmup_steps) / span, 0.0, 1.0)
        if self.shape == "cosine":
            after = self.peak * 0.5 * (1.0 + ops.cos(math.pi * done))
        elif self.shape == "one_cycle":
            end = start / 100
            after = self.peak + (end - self.peak) * done
        else:
            after = ops.full_like(s, self.peak)
        return ops.where(s < self.warmup_steps, rise, after)

    def get_config(self) -> dict[str, Any]:
        """The arguments, for saving with the model."""
        return {
            "peak": self.peak,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "shape": self.shape,
        }
