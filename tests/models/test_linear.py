"""The tutorial's linear model."""

from __future__ import annotations

from fashionkit.models import create_model


def test_linear_model_is_the_tutorials_single_dense_layer() -> None:
    """It builds the tutorial's Dense(10, softmax) on 784 inputs: 7850 parameters."""
    model = create_model("linear")
    assert model.count_params() == 784 * 10 + 10
    assert model.layers[-1].get_config()["activation"] == "softmax"
