"""Probe lookahead on a preset, on the validation split only (not a config option).

Usage: ``python bench/lookahead_probe.py SEED EPOCHS PEAK`` prints one JSON line: the seed,
epochs, peak, fit seconds and the final validation accuracy (with the preset's test-time
augmentation).

Lookahead keeps slow weights beside the trained ones. After every compiled call of the step
(``steps_per_execution`` batches, 25 for ``fast``'s 375 batches of an epoch) the slow weights
move towards the trained ones, ``slow += (1 - decay) * (weights - slow)``, and the trained
weights are set back to them. ``decay`` grows from 0 as ``PEAK * (step / total_steps) ** 3``,
so early training is left alone and the end of the run is averaged most. ``PEAK = 0`` runs the
preset unchanged.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import keras

import fashionkit
from fashionkit.presets import get_preset


class Lookahead(keras.callbacks.Callback):  # type: ignore[misc]
    """Pull the trained weights back to slowly moving ones after every compiled call."""

    def __init__(self, total_steps: int, peak: float) -> None:
        super().__init__()
        self.total_steps = total_steps
        self.peak = peak
        self.slow: list[Any] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Start the slow weights at the initial ones."""
        self.slow = [v.numpy() for v in self.model.trainable_variables]

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Move the slow weights, then set the trained ones to them."""
        step = int(self.model.optimizer.iterations.numpy())
        decay = self.peak * (step / self.total_steps) ** 3
        for slow, variable in zip(self.slow, self.model.trainable_variables, strict=True):
            slow += (1 - decay) * (variable.numpy() - slow)
            variable.assign(slow)


def main() -> int:
    """Train once and print the line."""
    seed, epochs, peak = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    config = get_preset("fast").with_overrides(("epochs", epochs), ("seed", seed), ("verbose", 0))
    steps = -(-48_000 // config.batch_size) * epochs  # the training split's batches
    callbacks = [Lookahead(steps, peak)] if peak > 0 else []
    result = fashionkit.train(config, callbacks=callbacks)
    line = {"seed": seed, "epochs": epochs, "peak": peak, "fit_seconds": result.fit_seconds}
    print(json.dumps({**line, "final_validation": result.validation.accuracy}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
