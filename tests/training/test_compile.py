"""Compiling: losses, optimizers, steps per execution."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit._constants import OPTIMIZERS
from fashionkit.config import LossConfig, OptimizerConfig, TrainConfig
from fashionkit.devices import configure_determinism
from fashionkit.exceptions import ConfigError
from fashionkit.training import (
    aligned_steps_per_execution,
    compile_model,
    create_training_model,
    make_loss,
    make_optimizer,
)

# --- compiling -----------------------------------------------------------------------------


def test_compile_model_defaults_to_the_tutorials_loss_and_optimizer() -> None:
    """It compiles with sparse categorical cross-entropy, RMSprop at 0.001 and accuracy."""
    model = compile_model(fashionkit.create_model("linear"))
    assert type(model.loss).__name__ == "SparseCategoricalCrossentropy"
    assert type(model.optimizer).__name__ == "RMSprop"
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    assert model.steps_per_execution == 1


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_make_optimizer_builds_every_listed_optimizer(name: str) -> None:
    """It returns the Keras optimizer of every allowed name with the configured learning rate."""
    optimizer = make_optimizer(OptimizerConfig(name=name, learning_rate=0.02))
    # muon is fashionkit's ConvMuon (Keras's Muon, extended to convolution kernels).
    assert type(optimizer).__name__.lower() == {"muon": "convmuon"}.get(name, name)
    assert float(optimizer.learning_rate) == pytest.approx(0.02)


def test_make_loss_without_reduction_gives_per_sample_losses() -> None:
    """It returns one loss per sample with reduction=None and their mean by default."""
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], np.float32)
    labels = np.array([0, 0, 1])
    per_sample = np.asarray(make_loss(LossConfig(), reduction=None)(labels, probabilities))
    np.testing.assert_allclose(per_sample, -np.log([0.9, 0.2, 0.5]), rtol=1e-5)
    mean = float(make_loss(LossConfig())(labels, probabilities))
    assert mean == pytest.approx(per_sample.mean(), rel=1e-5)


@pytest.mark.parametrize(
    ("wanted", "steps", "expected"),
    [(64, 1500, 60), (64, 1499, 1), (64, 375, 25), (10, 10, 10), (100, 10, 10), (1, 50, 1)],
)
def test_aligned_steps_per_execution_is_the_largest_divisor_not_above_wanted(
    wanted: int, steps: int, expected: int
) -> None:
    """It picks the largest divisor of the epoch's steps that does not exceed the wish."""
    assert aligned_steps_per_execution(wanted, steps) == expected


def test_create_training_model_aligns_steps_per_execution_with_the_epoch() -> None:
    """It compiles the configured value, or its largest divisor of the epoch's batch count."""
    config = TrainConfig(steps_per_execution=64)
    assert create_training_model(config).steps_per_execution == 64
    assert create_training_model(config, steps_per_epoch=375).steps_per_execution == 25


@pytest.mark.parametrize(("wanted", "steps"), [(0, 10), (4, 0), (4.0, 10), (4, "10")])
def test_aligned_steps_refuses_counts_below_one(wanted: object, steps: object) -> None:
    """It raises ArgumentError naming the count, not a ValueError from max() of nothing."""
    with pytest.raises(fashionkit.ArgumentError, match=r"must be an integer >= 1"):
        aligned_steps_per_execution(wanted, steps)  # type: ignore[arg-type]


def test_make_loss_refuses_an_unknown_reduction() -> None:
    """It raises ArgumentError listing Keras's reductions, with the close one as a hint."""
    with pytest.raises(
        fashionkit.ArgumentError, match=r"^reduction must be one of .*Did you mean 'sum'"
    ):
        make_loss(LossConfig(), reduction="summ")


def test_make_optimizer_passes_decay_momentum_and_nesterov() -> None:
    """It builds the Keras optimizer with the configured decay, momentum and Nesterov flag."""
    sgd = make_optimizer(
        OptimizerConfig(name="sgd", momentum=0.9, nesterov=True, weight_decay=5e-4)
    )
    assert isinstance(sgd, keras.optimizers.SGD)
    assert (sgd.momentum, sgd.nesterov, sgd.weight_decay) == (0.9, True, 5e-4)
    assert make_optimizer(OptimizerConfig(name="adamw")).weight_decay == pytest.approx(0.004)


@pytest.fixture
def without_op_determinism() -> Iterator[None]:
    """Turn TensorFlow's op determinism off for a test, and back on after it if it was on."""
    from tensorflow.python.framework import config as tf_framework_config

    was_on = tf_framework_config.is_op_determinism_enabled()
    configure_determinism(0, deterministic=False)
    yield
    if was_on:
        configure_determinism(0, deterministic=True)


@pytest.mark.usefixtures("without_op_determinism")
@pytest.mark.parametrize(("choice", "keras_value"), [("on", True), ("off", False), ("auto", None)])
def test_the_device_config_decides_whether_the_step_is_compiled_with_xla(
    choice: str, keras_value: bool | None
) -> None:
    """``on`` and ``off`` are passed to Keras; ``auto`` on the CPU is no XLA, GPU or not."""
    config = TrainConfig(device={"accelerator": "cpu", "jit_compile": choice}, deterministic=False)
    model = create_training_model(config, steps_per_epoch=10)
    assert model.jit_compile is (False if keras_value is None else keras_value)


@pytest.mark.usefixtures("without_op_determinism")
def test_a_run_compiled_with_xla_trains_to_the_same_metrics_as_without() -> None:
    """XLA changes how the step runs, not what it computes (up to float rounding)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 64).astype(np.uint8)
    losses = {}
    for choice in ("on", "off"):
        config = TrainConfig(
            device={"accelerator": "cpu", "jit_compile": choice}, seed=3, deterministic=False
        )
        keras.utils.set_random_seed(3)
        model = create_training_model(config, steps_per_epoch=4)
        assert model.jit_compile is (choice == "on")  # Keras kept the choice
        history = model.fit(x.reshape(64, -1) / 255.0, y, batch_size=16, epochs=2, verbose=0)
        losses[choice] = history.history["loss"]
    np.testing.assert_allclose(losses["on"], losses["off"], rtol=1e-4)


def test_xla_is_refused_under_a_distribution_strategy_and_with_op_determinism() -> None:
    """Keras would quietly train without XLA in both cases: the config says so instead."""
    with pytest.raises(ConfigError, match=r"jit_compile='on' .* strategy='mirrored'"):
        TrainConfig(device={"jit_compile": "on", "strategy": "mirrored"}, deterministic=False)
    with pytest.raises(ConfigError, match=r"jit_compile='on' needs TrainConfig.deterministic"):
        TrainConfig(device={"jit_compile": "on"})


@pytest.mark.usefixtures("without_op_determinism")
def test_auto_never_compiles_with_xla_on_the_cpu_even_beside_a_hidden_gpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a GPU machine told to train on the CPU, TensorFlow still lists the hidden GPU.

    Keras's own ``"auto"`` would then compile the step with XLA on the CPU; training's model
    creation turns ``auto`` into no XLA wherever the placement is the CPU.
    """
    import tensorflow as tf

    from fashionkit.devices import Placement
    from fashionkit.training._setup import _create_in_scope

    listed = tf.config.list_physical_devices
    fake = tf.config.PhysicalDevice(name="/physical_device:GPU:0", device_type="GPU")

    def with_a_gpu(kind: str | None = None) -> list[Any]:
        return [*listed(kind), *([fake] if kind in (None, "GPU") else [])]

    monkeypatch.setattr(tf.config, "list_physical_devices", with_a_gpu)
    # Keras's own rule, which accelerator="auto" leaves to Keras, picks XLA here.
    anywhere = TrainConfig(deterministic=False)
    assert create_training_model(anywhere, steps_per_epoch=10).jit_compile is True
    # Told to train on the CPU, the config says no XLA, with or without a placement.
    config = TrainConfig(device={"accelerator": "cpu"}, deterministic=False)
    assert create_training_model(config, steps_per_epoch=10).jit_compile is False
    cpu = Placement(accelerator="cpu", devices=("/device:CPU:0",), requested="cpu")
    assert _create_in_scope(config, cpu, steps_per_epoch=10).jit_compile is False
    # accelerator="auto" that fell back to the CPU: the placement decides the same.
    fell_back = Placement(accelerator="cpu", devices=("/device:CPU:0",), requested="auto")
    assert _create_in_scope(anywhere, fell_back, steps_per_epoch=10).jit_compile is False
    wanted = TrainConfig(device={"accelerator": "cpu", "jit_compile": "on"}, deterministic=False)
    assert _create_in_scope(wanted, cpu, steps_per_epoch=10).jit_compile is True
