"""save_model and load_model: atomic .keras files, read back safely."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit.exceptions import RunDirError
from fashionkit.runs import load_model, save_model

# --- models --------------------------------------------------------------------------------


def test_save_model_writes_atomically_and_load_model_reads_it_back(tmp_path: Path) -> None:
    """It saves a .keras file with no temporary file left and loads an equal model."""
    model = fashionkit.create_model("mlp", hidden_units=(4,))
    path = save_model(model, tmp_path / "out" / "model.keras")
    assert path == tmp_path / "out" / "model.keras"
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.keras"]
    x = fashionkit.prepare_images(np.zeros((2, 28, 28), np.uint8))
    np.testing.assert_array_equal(np.asarray(load_model(path)(x)), np.asarray(model(x)))


def test_load_model_never_runs_code_stored_in_the_file(tmp_path: Path) -> None:
    """It refuses a model holding a Python lambda (Keras's safe mode), naming the file."""
    inputs = keras.Input((784,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = save_model(model, tmp_path / "lambda.keras")
    with pytest.raises(RunDirError, match=r"lambda\.keras is corrupted or not a Keras model"):
        load_model(path)


def test_load_model_of_a_missing_file_names_it(tmp_path: Path) -> None:
    """It raises RunDirError saying there is no model file."""
    with pytest.raises(RunDirError, match="there is no model file"):
        load_model(tmp_path / "nothing.keras")


def test_load_model_accepts_only_keras_files(tmp_path: Path) -> None:
    """It refuses a file without the .keras suffix before handing it to Keras."""
    (tmp_path / "model.h5").write_bytes(b"HDF")
    with pytest.raises(RunDirError, match=r"model\.h5 is not a \.keras model file"):
        load_model(tmp_path / "model.h5")


@pytest.mark.parametrize("name", ["model.h5", "model", "folder.keras/"])
def test_save_model_wants_a_keras_file_name(tmp_path: Path, name: str) -> None:
    """It refuses, before saving anything, a model path that is not a .keras file."""
    (tmp_path / "folder.keras").mkdir()
    model = fashionkit.create_model(fashionkit.LinearConfig())
    with pytest.raises(fashionkit.InputValidationError, match=r"ending in \.keras"):
        save_model(model, tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.keras"]


def test_save_model_under_a_file_is_a_storage_error(tmp_path: Path) -> None:
    """It names the file that stands where a folder of the path should be."""
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    model = fashionkit.create_model(fashionkit.LinearConfig())
    with pytest.raises(fashionkit.StorageError, match="is a file, not a folder"):
        save_model(model, tmp_path / "plain" / "sub" / "model.keras")


def test_save_model_refuses_what_is_not_a_keras_model(tmp_path: Path) -> None:
    """It raises ArgumentError naming the model parameter for an object that is no model."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^model must be a Keras model"):
        save_model(object(), tmp_path / "model.keras")
    assert not list(tmp_path.iterdir())
