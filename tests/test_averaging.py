"""Weight averaging: the optimizer's moving averages swapped into the model."""

from __future__ import annotations

import numpy as np

import fashionkit
from fashionkit._averaging import averaged_weights, finalize_average, moving_averages
from tests.helpers import recipe_config

# --- weight averaging ----------------------------------------------------------------------


def test_averaged_weights_swap_in_and_back(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It puts the optimizer's averages into the model for the block and restores the raw ones."""
    result = fashionkit.train(
        recipe_config(epochs=1, optimizer={"name": "adam", "ema_momentum": 0.99}),
        dataset=tiny_dataset,
    )
    model = result.model
    averages = moving_averages(model)
    assert averages is not None
    raw = [w + 1.0 for w in (v.numpy() for v in model.trainable_variables)]
    for variable, value in zip(model.trainable_variables, raw, strict=True):
        variable.assign(value)
    with averaged_weights(model) as swapped:
        assert swapped
        for variable, average in zip(model.trainable_variables, averages, strict=True):
            np.testing.assert_array_equal(variable.numpy(), average.numpy())
    for variable, value in zip(model.trainable_variables, raw, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_a_model_without_averaging_is_left_alone() -> None:
    """It yields False and changes nothing for a model whose optimizer keeps no average."""
    model = fashionkit.create_model("linear")
    before = [w.copy() for w in model.get_weights()]
    with averaged_weights(model) as swapped:
        assert not swapped
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    assert moving_averages(model) is None
    assert finalize_average(model) is False
