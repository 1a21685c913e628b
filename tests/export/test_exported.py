"""load_exported: exported files loaded back to predict, and what they refuse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fashionkit
from fashionkit.exceptions import (
    ArgumentError,
    ExportError,
    InputValidationError,
)
from fashionkit.export import (
    ExportOptions,
    export_model,
    export_run,
    load_exported,
)
from tests.helpers import export_options, small_mlp


def test_load_exported_errors(tmp_path: Path) -> None:
    """It refuses a missing path, an unknown suffix, a folder lacking saved_model.pb, bad ONNX."""
    with pytest.raises(InputValidationError, match="No exported model"):
        load_exported(tmp_path / "missing.onnx")
    (tmp_path / "m.bin").write_bytes(b"x")
    with pytest.raises(InputValidationError, match="cannot tell the format"):
        load_exported(tmp_path / "m.bin")
    with pytest.raises(InputValidationError, match=r"saved_model\.pb"):
        load_exported(tmp_path)
    (tmp_path / "m.onnx").write_bytes(b"not onnx")
    with pytest.raises(ExportError, match="could not be loaded"):
        load_exported(tmp_path / "m.onnx")
    with pytest.raises(ArgumentError, match="path must be a path"):
        load_exported("")


def test_exported_models_refuse_float_images(tmp_path: Path) -> None:
    """It refuses float images, and takes a single uint8 image or none."""
    export_model(small_mlp(), tmp_path / "m.onnx", export_options("onnx"))
    loaded = load_exported(tmp_path / "m.onnx")
    with pytest.raises(InputValidationError):
        loaded(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ArgumentError, match="images must be uint8 images"):
        loaded(None)
    assert loaded(np.zeros((28, 28), np.uint8)).shape == (1, 10)  # one image
    assert loaded(np.zeros((0, 28, 28), np.uint8)).shape == (0, 10)


def test_integer_output_is_dequantized_when_loaded(
    mlp_run: Path, tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """The file outputs int8; load_exported gives float32 probabilities back."""
    from ai_edge_litert.interpreter import Interpreter

    out = tmp_path / "int.tflite"
    options = ExportOptions(format="tflite", quantize="int8", integer_output=True)
    result = export_run(mlp_run, options, out=out, dataset=tiny_dataset)
    assert result.integer_output
    assert "int8 output" in result.to_text()
    assert Interpreter(model_path=str(out)).get_output_details()[0]["dtype"] == np.int8
    got = load_exported(out).predict(tiny_dataset.test.images)
    assert got.dtype == np.float32
    assert got.min() >= 0.0
    assert got.max() <= 1.0
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=0.05)
