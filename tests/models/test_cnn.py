"""The CNN's config (the rules that fit its blocks to a 28x28 image) and its initialisation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.exceptions import ConfigError
from fashionkit.models import CNNConfig, create_model
from fashionkit.runs import load_model


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


def _conv_probe(model: Any, name: str = "conv_0") -> Any:
    import keras

    return keras.Model(model.input, model.get_layer(name).output)


def test_identity_init_passes_each_whitened_channel_through() -> None:
    """At initialisation the first filters copy their own input channel; the others are random."""
    import keras

    model = create_model(CNNConfig(filters=(16,), whiten=2, whiten_stride=2, identity_init=True))
    kernel = model.get_layer("conv_0").kernel.numpy()
    assert kernel.shape == (3, 3, 8, 16)
    inputs = keras.Model(model.input, model.get_layer("whiten_relu").output)
    image = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(_conv_probe(model)(image))[..., :8], np.asarray(inputs(image)), atol=1e-6
    )
    assert np.abs(kernel[..., 8:]).std() > 0.01  # the rest keep Keras's random start
    plain = create_model(CNNConfig(filters=(16,), whiten=2, whiten_stride=2))
    assert not np.allclose(plain.get_layer("conv_0").kernel.numpy()[..., :8], kernel[..., :8])


@pytest.mark.parametrize("batch_norm", [False, True])
def test_identity_init_fits_each_block_shape(batch_norm: bool) -> None:
    """Where a block has fewer filters than input channels, each filter picks its own channel."""
    model = create_model(CNNConfig(filters=(8, 4), batch_norm=batch_norm, identity_init=True))
    first = model.get_layer("conv_0").kernel.numpy()
    assert first.shape == (3, 3, 1, 8)
    assert first[1, 1, 0, 0] == 1.0
    assert np.count_nonzero(first[..., 0]) == 1
    second = model.get_layer("conv_1").kernel.numpy()
    assert second.shape == (3, 3, 8, 4)
    want = np.zeros((3, 3, 8, 4), np.float32)
    want[1, 1, np.arange(4), np.arange(4)] = 1.0
    np.testing.assert_array_equal(second, want)


def test_identity_init_is_refused_when_not_a_bool() -> None:
    """The field is a bool, like the other switches."""
    with pytest.raises(ConfigError, match="identity_init"):
        CNNConfig(identity_init="yes")  # type: ignore[arg-type]


def test_identity_init_trains_saves_reloads_and_exports(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """A trained model reloads equal (its trained kernel, not the identity) and exports alike."""
    from fashionkit.export import ExportOptions, export_model

    config = fashionkit.TrainConfig(
        model=CNNConfig(filters=(8,), dense_units=16, whiten=2, identity_init=True),
        epochs=1,
        batch_size=32,
        verbose=0,
    )
    path = tmp_path / "c.toml"
    config.write_toml(path)
    assert fashionkit.TrainConfig.from_toml(path) == config
    result = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "run")
    trained = result.model.get_layer("conv_0").kernel.numpy()
    assert trained[1, 1, 0, 0] != 1.0  # training moved it off the identity
    reloaded = load_model(tmp_path / "run" / "model.keras")
    np.testing.assert_array_equal(reloaded.get_layer("conv_0").kernel.numpy(), trained)
    images = np.asarray(tiny_dataset.test.images[:8], np.float32)[..., None] / 255
    np.testing.assert_allclose(reloaded(images), result.model(images), atol=1e-6)
    exported = export_model(
        reloaded,
        tmp_path / "m.tflite",
        ExportOptions(format="tflite"),
        check_images=np.asarray(tiny_dataset.test.images[:8]),
    )
    assert exported.tolerance is not None
    assert exported.max_difference <= exported.tolerance
