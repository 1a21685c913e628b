"""Fixtures of the evaluation tests."""

from __future__ import annotations

from typing import Any

import pytest

import fashionkit


@pytest.fixture(scope="session")
def linear_model() -> Any:
    """An untrained, uncompiled linear Keras model (imports TensorFlow); do not modify."""
    pytest.importorskip("tensorflow")
    return fashionkit.create_model("linear")
