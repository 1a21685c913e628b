"""Quantized TFLite exports: each mode on a tiny model, the accuracy guard."""

from __future__ import annotations

import collections
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.exceptions import ArgumentError, ExportError, InputValidationError
from fashionkit.export import (
    DEFAULT_MAX_ACCURACY_LOSS,
    QUANTIZATIONS,
    ExportOptions,
    ExportResult,
    _formats,
    export_model,
    export_run,
    load_exported,
    serving_model,
)
from fashionkit.runs import load_model
from tests.helpers import fragile_model


def _tensor_types(path: Path) -> collections.Counter[str]:
    """How many tensors of each dtype the TFLite file holds (weights and activations)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    return collections.Counter(np.dtype(d["dtype"]).name for d in interpreter.get_tensor_details())


@pytest.fixture(scope="module")
def float_export(mlp_run: Path, tiny_dataset: fashionkit.FashionMNIST) -> ExportResult:
    """The float32 TFLite export of the run, with its accuracy checked too."""
    options = ExportOptions(format="tflite", check_accuracy=True)
    return export_run(mlp_run, options, dataset=tiny_dataset)


# What each mode leaves in the file: float16 weights; int8 weights beside float activations;
# int8 weights and activations (only the uint8 input, its cast and the output stay float).
_SIGNS = {
    "float16": lambda types: types["float16"] >= 2 and types["int8"] == 0,
    "dynamic": lambda types: types["int8"] >= 1 and types["float32"] > types["int8"],
    "int8": lambda types: types["int8"] > types["float32"],
}


@pytest.mark.parametrize("mode", QUANTIZATIONS)
def test_each_quantization_writes_a_smaller_checked_model(
    mode: Any,
    mlp_run: Path,
    tiny_dataset: fashionkit.FashionMNIST,
    float_export: ExportResult,
) -> None:
    """It quantizes the file as asked, shrinks it, and reports accuracies, size and latency."""
    result = export_run(
        mlp_run, ExportOptions(format="tflite", quantize=mode), dataset=tiny_dataset
    )
    assert result.path == (mlp_run / "export" / f"model-{mode}.tflite").resolve()
    assert result.path.is_file()
    assert result.size_bytes == result.path.stat().st_size
    assert _SIGNS[mode](_tensor_types(result.path)), _tensor_types(result.path)
    assert _tensor_types(float_export.path)["float32"] > 0
    assert not {"float16", "int8"} & set(_tensor_types(float_export.path))
    limit = 0.6 if mode == "float16" else 0.4
    assert result.size_bytes < limit * float_export.size_bytes
    assert result.quantize == mode
    assert result.tolerance is None
    assert result.check_images == len(tiny_dataset.test.images)
    assert result.representative_images == (160 if mode == "int8" else None)  # all of them
    assert result.latency_ms is not None
    assert result.latency_ms > 0
    # The reference is the float32 model, measured the same way as the float export's.
    assert result.reference_accuracy == float_export.accuracy
    assert result.accuracy is not None
    assert result.accuracy_loss is not None
    assert result.accuracy_loss <= DEFAULT_MAX_ACCURACY_LOSS
    assert result.max_accuracy_loss == DEFAULT_MAX_ACCURACY_LOSS
    text = result.to_text()
    assert f"tflite ({mode})" in text
    assert "accuracy" in text
    assert "ms per image" in text
    data = result.to_dict()
    assert data["accuracy_loss"] == result.accuracy_loss
    assert data["quantize"] == mode
    assert data["accuracy"] == result.accuracy
    # The file computes what the Keras model does, to the rounding of its quantization.
    images = tiny_dataset.test.images
    keras_model = load_model(mlp_run / "model.keras")
    expected = np.asarray(serving_model(keras_model)(images))
    got = load_exported(result.path).predict(images)
    atol = 1e-2 if mode == "float16" else 0.1
    np.testing.assert_allclose(got, expected, atol=atol, rtol=0)
    assert np.mean(got.argmax(1) == expected.argmax(1)) >= 0.9


def test_a_float_export_can_check_its_accuracy_too(
    float_export: ExportResult, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """check_accuracy=True adds the test accuracies to the rounding check, which stays."""
    assert float_export.quantize is None
    assert float_export.tolerance is not None
    assert float_export.max_difference <= float_export.tolerance
    assert float_export.accuracy == float_export.reference_accuracy
    assert float_export.check_images == len(tiny_dataset.test.images)
    assert float_export.latency_ms is not None
    assert float_export.latency_ms > 0


def test_the_calibration_sample_comes_from_the_training_part(
    mlp_run: Path, tiny_dataset: fashionkit.FashionMNIST, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An int8 model is calibrated on representative_size images of the run's training part."""
    seen: list[Any] = []
    real = _formats.write

    def spy(serving: Any, tmp: Any, options: Any, representative: Any) -> None:
        seen.append(representative)
        real(serving, tmp, options, representative)

    monkeypatch.setattr(_formats, "write", spy)
    int8 = ExportOptions(format="tflite", quantize="int8", representative_size=30)
    result = export_run(mlp_run, int8, dataset=tiny_dataset)
    assert result.representative_images == 30
    parts = fashionkit.train_validation_split(
        tiny_dataset.train.images, tiny_dataset.train.labels, fraction=0.2, seed=42
    )
    sample = seen[0]
    assert sample.shape == (30, 28, 28)
    assert sample.dtype == np.uint8
    training = {image.tobytes() for image in np.asarray(parts.train_images)}
    held_out = {image.tobytes() for image in np.asarray(parts.validation_images)}
    assert all(image.tobytes() in training for image in sample)
    assert not any(image.tobytes() in held_out for image in sample)
    again = export_run(mlp_run, int8, dataset=tiny_dataset)  # the run's seed: the same sample
    np.testing.assert_array_equal(seen[1], sample)
    assert again.path == result.path
    too_many = ExportOptions(format="tflite", quantize="int8", representative_size=161)
    with pytest.raises(ArgumentError, match="more than the run's 160 training images"):
        export_run(mlp_run, too_many, dataset=tiny_dataset)


def test_the_guard_refuses_a_model_that_loses_too_much(tmp_path: Path) -> None:
    """It writes nothing (and keeps the previous file) beyond max_accuracy_loss; it says so."""
    model = fragile_model()
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8)
    labels = np.asarray(serving_model(model)(images)).argmax(axis=1)  # float accuracy: 1.0
    out = tmp_path / "m.tflite"
    out.write_bytes(b"the previous export")
    common: dict[str, Any] = {
        "check_images": images,
        "check_labels": labels,
        "representative_images": images[:100],
    }

    def int8(loss: float) -> ExportOptions:
        return ExportOptions(format="tflite", quantize="int8", max_accuracy_loss=loss)

    allowed = export_model(model, tmp_path / "allowed.tflite", int8(1.0), **common)
    assert allowed.reference_accuracy == 1.0
    assert allowed.accuracy_loss is not None
    assert allowed.accuracy_loss > 0.05
    with pytest.raises(ExportError, match=r"below the float32 Keras model's 1\.0000 on 300"):
        export_model(model, out, int8(0.05), **common)
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["allowed.tflite", "m.tflite"]
    # A loss of exactly the allowed share passes.
    exact = export_model(model, tmp_path / "exact.tflite", int8(allowed.accuracy_loss), **common)
    assert exact.accuracy == allowed.accuracy


_LOSS = "ExportOptions.max_accuracy_loss must be a number >= 0.0 and <= 1.0"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"format": "onnx", "quantize": "int8"}, "applies to the tflite format only"),
        ({"quantize": "int4"}, "quantize must be one of 'float16', 'dynamic' or 'int8'"),
        ({"integer_output": True}, "integer_output applies to quantize='int8' only"),
        ({"integer_output": 1}, "integer_output must be True or False"),
        ({"max_accuracy_loss": 2.0}, _LOSS),
        ({"max_accuracy_loss": -0.1}, _LOSS),
        ({"max_accuracy_loss": "1%"}, _LOSS),
        ({"max_accuracy_loss": True}, _LOSS),
    ],
)
def test_bad_quantization_options_are_refused_before_any_work(
    settings: dict[str, Any], message: str
) -> None:
    """Each bad value or contradiction of the options is refused when they are built."""
    with pytest.raises(ArgumentError, match=re.escape(message)):
        ExportOptions(**{"format": "tflite", **settings})


@pytest.mark.parametrize(
    ("settings", "arrays", "message"),
    [
        ({"quantize": "float16"}, "", "A quantized export is checked by its accuracy: give"),
        (
            {"check_accuracy": True},
            "",
            "An export with check_accuracy=True is checked by its accuracy: give",
        ),
        ({"check_accuracy": False}, "labels", "the options say check_accuracy=False"),
        ({"quantize": "int8"}, "labels", "needs representative_images"),
        ({"quantize": "float16"}, "labels rep", "with quantize='int8' only"),
        ({}, "rep", "with quantize='int8' only (got quantize=None)"),
        (
            {"quantize": "int8", "representative_size": 5},
            "labels rep",
            "representative_size is how many of a run's training images export_run draws",
        ),
        ({}, "short", "must be 8 integer labels, one per check image"),
        ({}, "range", "must lie in 0 .. 9"),
        ({}, "no images", "check_labels needs the check_images"),
        ({"quantize": "int8"}, "labels empty rep", "representative_images must be a non-empty"),
    ],
)
def test_arrays_that_contradict_the_options_are_refused_before_any_work(
    settings: dict[str, Any], arrays: str, message: str, tmp_path: Path
) -> None:
    """Each contradiction between the arrays and the options names itself; nothing is written."""
    images = np.zeros((8, 28, 28), np.uint8)
    given: dict[str, Any] = {}
    if "labels" in arrays:
        given.update(check_images=images, check_labels=np.zeros(8, np.int64))
    if arrays == "short":
        given.update(check_images=images, check_labels=np.zeros(7, np.int64))
    if arrays == "range":
        given.update(check_images=images, check_labels=np.full(8, 10))
    if arrays == "no images":
        given.update(check_labels=np.zeros(8, np.int64))
    if "rep" in arrays:
        given["representative_images"] = images[:0] if "empty" in arrays else images
    options = ExportOptions(**{"format": "tflite", **settings})
    with pytest.raises(InputValidationError, match=re.escape(message)):
        export_model(fragile_model(), tmp_path / "m.tflite", options, **given)
    assert list(tmp_path.iterdir()) == []


def test_export_run_refuses_contradicting_arguments(
    mlp_run: Path, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """Quantizing another format, no accuracy check, a bad sample size, a stray dataset."""
    before = sorted(p.name for p in mlp_run.iterdir())
    with pytest.raises(ArgumentError, match="tflite format only"):
        export_run(mlp_run, ExportOptions(format="onnx", quantize="float16"))
    with pytest.raises(ArgumentError, match="always checked by its accuracy"):
        ExportOptions(format="tflite", quantize="float16", check_accuracy=False)
    for size in (0, 2.5, True):
        with pytest.raises(ArgumentError, match="representative_size must be"):
            ExportOptions(format="tflite", quantize="int8", representative_size=size)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="with quantize='int8' only"):
        ExportOptions(format="tflite", quantize="float16", representative_size=10)
    with pytest.raises(ArgumentError, match="integer_output applies to quantize='int8'"):
        ExportOptions(format="tflite", quantize="dynamic", integer_output=True)
    with pytest.raises(ArgumentError, match="check_accuracy must be"):
        ExportOptions(format="tflite", check_accuracy="yes")  # type: ignore[arg-type]
    tflite = ExportOptions(format="tflite")
    with pytest.raises(ArgumentError, match="give it with options that check the accuracy"):
        export_run(mlp_run, tflite, dataset=tiny_dataset)
    with pytest.raises(ArgumentError, match="dataset must be a FashionMNIST or None"):
        export_run(mlp_run, tflite, dataset=fashionkit.load_fashion_mnist)  # type: ignore[arg-type]
    assert sorted(p.name for p in mlp_run.iterdir()) == before
