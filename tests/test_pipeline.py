"""The input pipeline: uint8 images scaled batch by batch, epoch order, layouts, prediction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fashionkit
from conftest import balanced_labels, synthetic_images
from fashionkit._pipeline import PIXEL_TABLE, epoch_batches, model_layout, predict_in_batches
from fashionkit.exceptions import InputValidationError


def test_pixel_table_holds_exactly_the_scaled_values() -> None:
    """It maps every uint8 value to the float32 that scale gives it, bit for bit."""
    values = np.arange(256, dtype=np.uint8)
    assert PIXEL_TABLE.dtype == np.float32
    np.testing.assert_array_equal(PIXEL_TABLE, fashionkit.scale(values))


def _batches(dataset: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(x), np.asarray(y)) for x, y in dataset]


@pytest.mark.parametrize("layout", ["flat", "image"])
def test_epoch_batches_scale_and_order_each_epoch_by_seed_and_epoch(layout: str) -> None:
    """It yields each epoch's rows in the order default_rng([seed, epoch]) permutes them."""
    images, labels = synthetic_images(10), balanced_labels(10)
    batches = _batches(
        epoch_batches(images, labels, layout=layout, batch_size=4, seed=3, first_epoch=0, epochs=2)
    )
    assert [len(y) for _, y in batches] == [4, 4, 2, 4, 4, 2]  # the last batch is smaller
    for epoch in range(2):
        order = np.random.default_rng([3, epoch]).permutation(10)
        x = np.concatenate([b[0] for b in batches[3 * epoch : 3 * epoch + 3]])
        y = np.concatenate([b[1] for b in batches[3 * epoch : 3 * epoch + 3]])
        assert x.dtype == np.float32
        np.testing.assert_array_equal(
            x,
            fashionkit.prepare_images(images[order], layout=layout),  # type: ignore[arg-type]
        )
        np.testing.assert_array_equal(y, labels[order])


def test_epoch_batches_of_a_resumed_run_equal_the_uninterrupted_ones() -> None:
    """It gives epoch 2 the same batches whether the pipeline starts at epoch 0 or at 2."""
    images = synthetic_images(9)
    targets = fashionkit.encode_labels(balanced_labels(9), encoding="one_hot")
    common: dict[str, Any] = {"layout": "flat", "batch_size": 3, "seed": 42, "epochs": 3}
    whole = _batches(epoch_batches(images, targets, first_epoch=0, **common))
    resumed = _batches(epoch_batches(images, targets, first_epoch=2, **common))
    assert len(resumed) == 3
    for (x1, y1), (x2, y2) in zip(whole[6:], resumed, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(whole[0][0], resumed[0][0])


def test_epoch_batches_for_no_remaining_epoch_are_empty() -> None:
    """It yields nothing when the run has no epoch left."""
    images, labels = synthetic_images(4), balanced_labels(4)
    dataset = epoch_batches(
        images, labels, layout="flat", batch_size=2, seed=0, first_epoch=3, epochs=3
    )
    assert _batches(dataset) == []


@pytest.mark.parametrize(("name", "layout"), [("linear", "flat"), ("cnn", "image")])
def test_model_layout_reads_the_models_input_shape(name: str, layout: str) -> None:
    """It finds the layout a model takes from its input shape."""
    assert model_layout(fashionkit.create_model(name)) == layout
    other = "image" if layout == "flat" else "flat"
    assert model_layout(fashionkit.create_model(name, layout=other)) == other


def test_model_layout_rejects_other_inputs() -> None:
    """It raises InputValidationError for a non-model and for inputs fashionkit cannot feed."""
    import keras

    with pytest.raises(InputValidationError, match=r"Expected a built keras\.Model"):
        model_layout(object())
    inputs = keras.Input(shape=(10,))
    odd = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    with pytest.raises(InputValidationError, match=r"inputs of shape \(10,\)"):
        model_layout(odd)


@pytest.mark.parametrize("batch_size", [1, 7, 1024])
def test_predict_in_batches_equals_one_call_on_the_whole_array(batch_size: int) -> None:
    """It gives the outputs of one model call on all images, whatever the batch size."""
    model = fashionkit.create_model("mlp", hidden_units=(8,))
    images = synthetic_images(20)
    whole = np.asarray(model(fashionkit.prepare_images(images), training=False))
    out = predict_in_batches(model, images, layout="flat", batch_size=batch_size)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, whole, rtol=1e-6, atol=1e-7)
    ready = predict_in_batches(
        model, fashionkit.prepare_images(images), layout=None, batch_size=batch_size
    )
    np.testing.assert_allclose(ready, whole, rtol=1e-6, atol=1e-7)


def test_predict_in_batches_of_no_image_is_empty() -> None:
    """It returns (0, classes) without calling the model when there is nothing to predict."""

    class NeverCalled:
        outputs = fashionkit.create_model("linear").outputs

        def __call__(self, *args: object, **kwargs: object) -> None:
            pytest.fail("the model was called")

    out = predict_in_batches(NeverCalled(), np.zeros((0, 28, 28), np.uint8), layout="flat")
    assert out.shape == (0, 10)


def test_epoch_batches_for_many_epochs_make_one_order_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It gives the same batches when the orders are made one epoch at a time (huge epochs)."""
    from fashionkit import _pipeline

    images, labels = synthetic_images(30), balanced_labels(30)

    def batches() -> list[list[int]]:
        stream = epoch_batches(
            images, labels, layout="flat", batch_size=8, seed=5, first_epoch=1, epochs=4
        )
        return [np.asarray(y).tolist() for _, y in stream]

    upfront = batches()
    monkeypatch.setattr(_pipeline, "_PRECOMPUTED_ENTRIES", 0)
    assert batches() == upfront
    assert len(upfront) == 3 * 4  # three epochs of ceil(30 / 8) batches
