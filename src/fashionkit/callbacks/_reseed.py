"""An internal callback that makes each epoch's random draws depend only on (seed, epoch)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from fashionkit._validation import Interval, params


def _seed_generators(layer: Any) -> Iterator[Any]:
    """Yield every ``keras.random.SeedGenerator`` held by ``layer`` or its sub-layers."""
    for value in vars(layer).values():
        if isinstance(value, keras.random.SeedGenerator):
            yield value
    for sub in getattr(layer, "layers", ()):
        yield from _seed_generators(sub)


class ReseedEachEpoch(keras.callbacks.Callback):  # type: ignore[misc]
    """Reset every layer's random generator (dropout masks) at the start of each epoch.

    The new state comes from ``numpy.random.default_rng([seed, epoch, i])``, so the random
    numbers of epoch ``e`` are the same whether the run started at epoch 0 or resumed from a
    checkpoint at ``e``; Keras does not save generator states in checkpoints.
    """

    @params(seed=Interval("int", ge=0))
    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Reseed the generators for ``epoch``."""
        for i, generator in enumerate(_seed_generators(self.model)):
            state = np.random.default_rng([self.seed, epoch, i]).integers(
                0, 2**31, size=tuple(generator.state.shape), dtype=np.int64
            )
            generator.state.assign(state.astype(generator.state.dtype))
