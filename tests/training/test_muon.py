"""Muon on convolution kernels, AdamW on the rest (OptimizerConfig(name="muon"))."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import fashionkit
from fashionkit._optimizers import ConvMuon
from fashionkit.config import LossConfig, OptimizerConfig
from fashionkit.models import CNNConfig, create_model
from fashionkit.runs import load_model
from fashionkit.training import compile_model, make_optimizer


def test_muon_is_conv_muon_with_the_configs_rate_and_decay() -> None:
    """The config's rate and weight decay reach both parts of the optimizer."""
    optimizer = make_optimizer(OptimizerConfig(name="muon", learning_rate=0.002, weight_decay=0.01))
    assert isinstance(optimizer, ConvMuon)
    assert float(optimizer.learning_rate) == np.float32(0.002)
    assert optimizer.weight_decay == 0.01
    assert optimizer.adam_weight_decay == 0.01


def test_convolution_kernels_take_muon_and_everything_else_adamw() -> None:
    """Only the 4-D kernels are orthogonalised; dense kernels, biases and norms are AdamW's."""
    model = create_model(CNNConfig(filters=(4, 8), dense_units=16, batch_norm=True))
    optimizer = make_optimizer(OptimizerConfig(name="muon"))
    for variable in model.trainable_variables:
        assert optimizer._should_use_adamw(variable) == (len(variable.shape) != 4)


def _first_step_spread(name: str) -> float:
    """Largest over smallest singular value of conv_1's first update under optimizer ``name``."""
    import keras

    keras.utils.set_random_seed(1)  # the same initial weights for every optimizer
    model = create_model(CNNConfig(filters=(8, 16), dense_units=16))
    compile_model(
        model, loss=LossConfig(), optimizer=OptimizerConfig(name=name, learning_rate=0.01)
    )
    kernel = model.get_layer("conv_1").kernel
    before = np.asarray(kernel).copy()
    rng = np.random.default_rng(0)
    images = rng.random((64, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 64)  # sparse: integer labels
    model.train_on_batch(images, labels)
    singular = np.linalg.svd((np.asarray(kernel) - before).reshape(-1, 16), compute_uv=False)
    # A filter whose units are all dead gets no gradient from any optimizer: leave those out.
    moved = singular[singular > 1e-6 * singular.max()]
    assert len(moved) >= 12
    return float(moved.max() / moved.min())


def test_one_step_moves_a_kernel_by_an_orthogonalised_update() -> None:
    """The first update of a conv kernel, as a matrix, has singular values close together.

    Newton-Schulz leaves them near one another; the plain gradient step of SGD on the same
    batch and weights spreads them several times wider.
    """
    muon, sgd = _first_step_spread("muon"), _first_step_spread("sgd")
    assert muon < 3.0
    assert sgd > 2 * muon


def test_a_muon_run_saves_and_reloads(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """Training with muon writes a run whose models and checkpoint load back."""
    config = fashionkit.TrainConfig(
        model=CNNConfig(filters=(8,), dense_units=16),
        optimizer={"name": "muon", "learning_rate": 0.003, "schedule": "one_cycle"},
        epochs=2,
        batch_size=32,
        verbose=0,
    )
    result = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "run")
    assert result.test.accuracy > 0.3  # ten bands: chance is 0.1
    reloaded = load_model(tmp_path / "run" / "model.keras")
    images = np.asarray(tiny_dataset.test.images[:8], np.float32)[..., None] / 255
    np.testing.assert_allclose(reloaded(images), result.model(images), atol=1e-6)
