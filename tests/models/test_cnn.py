"""The CNN's config: the rules that fit its blocks to a 28x28 image."""

from __future__ import annotations

import pytest

from fashionkit.exceptions import ConfigError
from fashionkit.models import CNNConfig


def test_cnn_with_five_filter_blocks_is_rejected() -> None:
    """It rejects five convolution blocks, since at most four fit a 28x28 image."""
    with pytest.raises(ConfigError, match="at most 4"):
        CNNConfig(filters=[8, 8, 8, 8, 8])


def test_cnn_with_four_filter_blocks_is_accepted() -> None:
    """It accepts exactly four convolution blocks."""
    assert CNNConfig(filters=[8, 8, 8, 8]).filters == (8, 8, 8, 8)


@pytest.mark.parametrize("kernel_size", [2, 4, 6])
def test_cnn_even_kernel_size_is_rejected(kernel_size: int) -> None:
    """It rejects an even kernel size and suggests the odd neighbours."""
    with pytest.raises(ConfigError, match="odd") as info:
        CNNConfig(kernel_size=kernel_size)
    assert str(kernel_size + 1) in str(info.value)
