"""ReseedEachEpoch: random generators fixed by (seed, epoch)."""

from __future__ import annotations

import keras
import numpy as np

import fashionkit
from fashionkit.callbacks._reseed import ReseedEachEpoch
from fashionkit.models import MLPConfig


def test_reseed_makes_dropout_depend_only_on_seed_and_epoch() -> None:
    """It sets every random generator to a state fixed by (seed, epoch), whatever came before."""
    model = fashionkit.create_model(MLPConfig(hidden_units=(8, 8), dropout=0.5))
    reseed = ReseedEachEpoch(seed=42)
    reseed.set_model(model)
    generators = [
        value
        for layer in model.layers
        for value in vars(layer).values()
        if isinstance(value, keras.random.SeedGenerator)
    ]
    assert len(generators) == 2  # one per dropout layer

    def states() -> list[list[int]]:
        return [np.asarray(g.state).tolist() for g in generators]

    reseed.on_epoch_begin(3)
    at_three = states()
    model(np.ones((4, 784), np.float32), training=True)  # dropout draws advance the generators
    assert states() != at_three
    reseed.on_epoch_begin(3)
    assert states() == at_three
    reseed.on_epoch_begin(4)
    assert states() != at_three
    assert at_three[0] != at_three[1]
