"""The frozen patch-whitening first layer: its weights, its place in a CNN, saving and export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.exceptions import ArgumentError, ConfigError, InputValidationError
from fashionkit.models import CNNConfig, adapt_to_data, create_model
from fashionkit.models._whitening import (
    WHITENING_EPSILON,
    WHITENING_LAYER,
    _patches,
    patch_whitening,
)
from fashionkit.runs import load_model


def _correlated_images(n: int = 60, seed: int = 0) -> np.ndarray:
    """uint8 images whose neighbouring pixels are strongly correlated (smoothed noise)."""
    rng = np.random.default_rng(seed)
    noise = rng.random((n, 30, 30))
    smooth = (noise[:, :-2, :-2] + noise[:, 1:-1, 1:-1] + noise[:, 2:, 2:]) / 3
    return (smooth * 255).astype(np.uint8)


@pytest.mark.parametrize("size", [2, 3])
def test_the_kernel_decorrelates_the_patches_it_was_computed_from(size: int) -> None:
    """Applied to the patches, the first half of the filters gives uncorrelated components."""
    images = _correlated_images()
    kernel, bias = patch_whitening(images, size)
    assert kernel.shape == (size, size, 1, 2 * size * size)
    assert bias.shape == (2 * size * size,)
    patches = _patches(images.astype(np.float64) / 255, size)
    half = size * size
    components = patches @ kernel.reshape(half, 2 * half)[:, :half] + bias[:half]
    assert np.allclose(components.mean(axis=0), 0.0, atol=1e-4)  # the bias centres them
    covariance = np.cov(components, rowvar=False, bias=True)
    off_diagonal = covariance - np.diag(np.diag(covariance))
    assert np.abs(off_diagonal).max() < 1e-3
    # Unit variance, shrunk only where the eigenvalue is near the floor: lambda / (lambda + eps).
    assert np.all(np.diag(covariance) <= 1.0 + 1e-6)
    assert np.diag(covariance).max() > 0.9
    # The second half is the first's negative (a ReLU then keeps both signs).
    assert np.array_equal(kernel[..., half:], -kernel[..., :half])
    assert np.array_equal(bias[half:], -bias[:half])


def test_the_floor_keeps_flat_images_finite() -> None:
    """Images with no variance give a finite kernel (every eigenvalue is the floor)."""
    kernel, bias = patch_whitening(np.full((4, 28, 28), 7, np.uint8), 3)
    assert np.all(np.isfinite(kernel))
    assert np.all(np.isfinite(bias))
    assert np.abs(kernel).max() <= 1 / np.sqrt(WHITENING_EPSILON) + 1e-3


def test_uint8_and_scaled_images_give_the_same_layer() -> None:
    """The weights are computed on pixels in [0, 1] whichever form the images come in."""
    images = _correlated_images(10)
    for got, want in zip(
        patch_whitening(images, 2), patch_whitening(images / 255.0, 2), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((0, 28, 28), np.uint8), "at least one 28x28 image"),
        (np.zeros((3, 27, 27), np.uint8), "28x28"),
        (np.full((2, 28, 28), 2.0), r"\[0, 1\]"),
    ],
    ids=["empty", "wrong-size", "out-of-range"],
)
def test_images_it_cannot_use_are_refused(images: np.ndarray, message: str) -> None:
    """No layer is computed from an empty batch, other sizes, or floats outside [0, 1]."""
    with pytest.raises(InputValidationError, match=message):
        patch_whitening(images, 3)


@pytest.mark.parametrize("bad", [1, 4, True, "3", 2.0])
def test_the_patch_side_must_be_0_2_or_3(bad: Any) -> None:
    """CNNConfig.whiten accepts 0, 2 or 3, and says so."""
    with pytest.raises(ArgumentError, match=r"CNNConfig\.whiten must be one of 0, 2 or 3"):
        CNNConfig(whiten=bad)


def test_an_unfitted_layer_passes_the_image_on() -> None:
    """Before adapt_to_data, the centre filter of a 3x3 layer returns the pixel itself."""
    import keras

    model = create_model(CNNConfig(filters=(4,), whiten=3))
    layer = model.get_layer(WHITENING_LAYER)
    assert not layer.trainable
    probe = keras.Model(model.input, layer.output)
    image = np.random.default_rng(1).random((1, 28, 28, 1)).astype(np.float32)
    maps = np.asarray(probe(image))
    assert maps.shape == (1, 28, 28, 18)
    np.testing.assert_allclose(maps[..., 4], image[..., 0], atol=1e-6)
    np.testing.assert_allclose(maps[..., 13], -image[..., 0], atol=1e-6)


def test_adapt_to_data_sets_the_layer_and_says_whether_it_had_one() -> None:
    """It sets the kernel and bias from the images; a model without the layer is unchanged."""
    images = _correlated_images(20)
    model = create_model(CNNConfig(filters=(4,), whiten=2))
    assert adapt_to_data(model, images) is True
    kernel, bias = model.get_layer(WHITENING_LAYER).get_weights()
    want_kernel, want_bias = patch_whitening(images, 2)
    np.testing.assert_array_equal(kernel, want_kernel)
    np.testing.assert_array_equal(bias, want_bias)
    plain = create_model(CNNConfig(filters=(4,)))
    before = [w.copy() for w in plain.get_weights()]
    assert adapt_to_data(plain, images) is False
    assert all(np.array_equal(a, b) for a, b in zip(before, plain.get_weights(), strict=True))
    with pytest.raises(ArgumentError, match="model must be a Keras model"):
        adapt_to_data("model.keras", images)


def test_train_computes_the_layer_from_the_training_split_and_saves_it(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """The trained model's layer is the one of the training split; it stays frozen and reloads."""
    config = fashionkit.TrainConfig(
        model=CNNConfig(filters=(8,), dense_units=16, whiten=3),
        epochs=1,
        batch_size=32,
        verbose=0,
    )
    result = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "run")
    from fashionkit.training._setup import run_split

    split = run_split(config, tiny_dataset)
    kernel, bias = result.model.get_layer(WHITENING_LAYER).get_weights()
    want_kernel, want_bias = patch_whitening(np.asarray(split.train_images), 3)
    np.testing.assert_allclose(kernel, want_kernel, rtol=1e-6)
    np.testing.assert_allclose(bias, want_bias, rtol=1e-6, atol=1e-6)
    reloaded = load_model(tmp_path / "run" / "model.keras")
    assert not reloaded.get_layer(WHITENING_LAYER).trainable
    images = np.asarray(tiny_dataset.test.images[:8], np.float32)[..., None] / 255
    np.testing.assert_allclose(reloaded(images), result.model(images), atol=1e-6)


def test_an_export_carries_the_layer(tmp_path: Path) -> None:
    """A TFLite export of a whitened CNN gives the Keras model's probabilities."""
    from fashionkit.export import ExportOptions, export_model

    model = create_model(CNNConfig(filters=(4,), dense_units=8, whiten=3))
    adapt_to_data(model, _correlated_images(10))
    images = _correlated_images(16, seed=3)
    result = export_model(
        model, tmp_path / "m.tflite", ExportOptions(format="tflite"), check_images=images
    )
    assert result.max_difference <= result.tolerance


def test_norm_after_pool_orders_the_block_and_needs_batch_norm() -> None:
    """Convolution, pooling, batch normalisation, ReLU; refused without batch_norm."""
    model = create_model(CNNConfig(filters=(4, 8), batch_norm=True, norm_after_pool=True))
    names = [layer.name for layer in model.layers]
    assert names.index("conv_0") < names.index("pool_0") < names.index("norm_0")
    assert names.index("norm_0") < names.index("relu_0") < names.index("conv_1")
    assert model.get_layer("norm_0").output.shape[1:] == (14, 14, 4)
    usual = [layer.name for layer in create_model(CNNConfig(filters=(4,), batch_norm=True)).layers]
    assert usual.index("norm_0") < usual.index("pool_0")
    with pytest.raises(ConfigError, match=r"norm_after_pool=True .* needs batch_norm=True"):
        CNNConfig(norm_after_pool=True)


def test_the_new_fields_round_trip_through_toml(tmp_path: Path) -> None:
    """A config with the new model fields writes and reads back equal."""
    config = fashionkit.TrainConfig(
        model=CNNConfig(filters=(16, 64), batch_norm=True, norm_after_pool=True, whiten=2),
        optimizer={"name": "muon", "learning_rate": 0.002, "weight_decay": 0.01},
    )
    path = tmp_path / "c.toml"
    config.write_toml(path)
    assert fashionkit.TrainConfig.from_toml(path) == config


def test_a_stride_of_2_whitens_every_other_patch_and_halves_the_image() -> None:
    """The layer's maps are 14x14, and the unfitted layer picks the patches' pixels."""
    import keras

    model = create_model(CNNConfig(filters=(8,), whiten=2, whiten_stride=2))
    layer = model.get_layer(WHITENING_LAYER)
    assert layer.strides == (2, 2)
    probe = keras.Model(model.input, layer.output)
    image = np.random.default_rng(2).random((1, 28, 28, 1)).astype(np.float32)
    maps = np.asarray(probe(image))
    assert maps.shape == (1, 14, 14, 8)
    np.testing.assert_allclose(maps[0, ..., 0], image[0, ::2, ::2, 0], atol=1e-6)
    np.testing.assert_allclose(maps[0, ..., 3], image[0, 1::2, 1::2, 0], atol=1e-6)
    assert model.get_layer("pool_0").output.shape[1:] == (7, 7, 8)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"whiten_stride": 2}, "needs whiten=2 or 3"),
        ({"whiten_stride": 3, "whiten": 2}, r"whiten_stride must be one of 1 or 2"),
        ({"whiten_stride": 2, "whiten": 3, "filters": (8, 8, 8, 8)}, "at most 3 fit"),
    ],
)
def test_a_stride_needs_whitening_and_room_for_the_blocks(
    fields: dict[str, Any], message: str
) -> None:
    """The stride is 1 or 2, only with a whitening layer, and leaves room for the blocks."""
    with pytest.raises(ConfigError, match=message):
        CNNConfig(**fields)
