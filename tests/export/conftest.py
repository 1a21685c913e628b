"""Models the export tests share (runs come from the top conftest's ``tiny_run``)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import fashionkit
from fashionkit.exceptions import FashionkitWarning
from tests.helpers import small_mlp


@pytest.fixture(scope="session")
def small_model() -> Any:
    """A small untrained MLP, for the checks that refuse before any work; do not modify."""
    return small_mlp()


@pytest.fixture(scope="session")
def mixed_model(tiny_dataset: fashionkit.FashionMNIST) -> Any:
    """A small CNN trained under mixed bfloat16; do not modify."""
    config = fashionkit.TrainConfig(
        model=fashionkit.CNNConfig(filters=(8, 16), dense_units=32),
        epochs=3,
        verbose=0,
        device=fashionkit.DeviceConfig(precision="mixed_bfloat16"),
    )
    with warnings.catch_warnings():  # bfloat16 is emulated (and says so) on AVX2-only CPUs
        warnings.filterwarnings("ignore", "DeviceConfig\\(precision=", FashionkitWarning)
        model = fashionkit.train(config, dataset=tiny_dataset).model
    assert model.layers[1].compute_dtype == "bfloat16"
    return model
