"""Export targets: names and paths that fit the format, and folders never replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fashionkit.exceptions import (
    ArgumentError,
    InputValidationError,
    StorageError,
)
from fashionkit.export import (
    _targets,
    export_model,
)
from tests.helpers import export_options, small_mlp


def test_a_saved_model_replaces_only_a_saved_model(tmp_path: Path) -> None:
    """It replaces an earlier SavedModel in place but refuses a folder that holds other files."""
    model = small_mlp()
    out = tmp_path / "saved"
    export_model(model, out)
    export_model(model, out, tta=True)  # replaced in place
    assert (out / "saved_model.pb").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(StorageError, match="holds other files"):
        export_model(model, folder)
    assert (folder / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("fmt", "name", "error", "match"),
    [
        ("onnx", "model.tflite", InputValidationError, r"ending in \.onnx"),
        ("tflite", "model", InputValidationError, r"ending in \.tflite"),
        ("pickle", "model.pkl", ArgumentError, "ExportOptions.format must be one of"),
        ("saved_model", "file.txt/saved", StorageError, "is a file"),
    ],
)
def test_bad_targets_are_refused_before_any_work(
    small_model: Any, tmp_path: Path, fmt: str, name: str, error: type, match: str
) -> None:
    """It refuses a wrong suffix, an unknown format or a path under a file before any work."""
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(error, match=match):
        export_model(small_model, tmp_path / name, export_options(fmt))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


@pytest.mark.parametrize(
    ("fmt", "name", "words"),
    [
        ("tflite", "model.onnx", "ends in .onnx, the suffix of an ONNX model. Format tflite"),
        ("tflite", "model.keras", "ends in .keras, the suffix of a Keras model file."),
        ("tflite", "model.TFLITE", "ends in .TFLITE, not exactly .tflite."),
        ("onnx", "model.tflite", "ends in .tflite, the suffix of a TFLite model."),
        ("onnx", "model.h5", "ends in .h5, the suffix of a Keras HDF5 model file."),
        ("onnx", "model", "its name has no suffix."),
        ("saved_model", "model.tflite", "ends in .tflite, the suffix of a TFLite model, but a"),
        ("saved_model", "model.onnx", "ends in .onnx, the suffix of an ONNX model, but a"),
        ("saved_model", "Model.ONNX", "ends in .ONNX, the suffix of an ONNX model, but a"),
        ("saved_model", "model.keras", "ends in .keras, the suffix of a Keras model file, but"),
        ("saved_model", "saved_model.pb", "ends in .pb, the suffix of a protocol buffer file"),
    ],
)
def test_a_path_that_contradicts_the_format_is_refused_before_any_work(
    small_model: Any, tmp_path: Path, fmt: str, name: str, words: str
) -> None:
    """It names the format, the path and its suffix, and the form expected; nothing is written."""
    target = tmp_path / "out" / name
    with pytest.raises(InputValidationError) as info:
        export_model(small_model, target, export_options(fmt))
    message = str(info.value)
    assert message.startswith(f"Cannot export format {fmt} to {target}: its name ")
    assert words in message
    if fmt == "saved_model":
        assert "a SavedModel is a folder" in message
    else:
        assert f"give a file name ending in .{fmt}" in message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("fmt", "name", "hint"),
    [
        ("tflite", "m.onnx", "give a file name ending in .tflite, or use format onnx."),
        ("onnx", "m.tflite", "give a file name ending in .onnx, or use format tflite."),
        ("saved_model", "m.onnx", "Give a folder name, or use format onnx."),
        ("saved_model", "m.keras", "(by default export/saved_model). Give a folder name."),
    ],
)
def test_a_contradicting_name_says_which_format_it_asks_for(
    small_model: Any, tmp_path: Path, fmt: str, name: str, hint: str
) -> None:
    """It suggests the export format the file name belongs to, when there is one."""
    with pytest.raises(InputValidationError) as info:
        export_model(small_model, tmp_path / name, export_options(fmt))
    assert str(info.value).endswith(hint)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("saved_model", "saved"),
        ("saved_model", "model.v2"),
        ("tflite", "m.tflite"),
        ("onnx", "m.onnx"),
    ],
)
def test_names_that_fit_the_format_pass_the_name_check(fmt: str, name: str) -> None:
    """It lets a SavedModel folder hold dots in its name, and files end in their own suffix."""
    _targets.check_name(Path(name), fmt)  # type: ignore[arg-type]


def test_a_saved_model_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """It raises StorageError when the SavedModel path is an existing file."""
    (tmp_path / "saved").write_text("x")
    with pytest.raises(StorageError, match="is a file"):
        export_model(small_mlp(), tmp_path / "saved")


def test_a_saved_model_folder_with_other_files_is_not_replaced(tmp_path: Path) -> None:
    """It refuses to replace a SavedModel folder that holds a user's file, and keeps the file."""
    model = small_mlp()
    out = tmp_path / "saved"
    export_model(model, out)
    (out / "README.txt").write_text("mine")
    with pytest.raises(StorageError, match=r"README\.txt"):
        export_model(model, out)
    assert (out / "README.txt").read_text() == "mine"


def test_a_symbolic_link_is_not_replaced(tmp_path: Path) -> None:
    """It refuses to replace a symbolic link and leaves the link and its target as they were."""
    model = small_mlp()
    export_model(model, tmp_path / "v1")
    (tmp_path / "current").symlink_to(tmp_path / "v1")
    with pytest.raises(StorageError, match="symbolic link"):
        export_model(model, tmp_path / "current")
    assert (tmp_path / "current").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "v1"]


def test_a_folder_named_like_a_saved_model_with_user_files_is_not_replaced(
    tmp_path: Path,
) -> None:
    """It refuses a folder with assets/ and variables/ holding user files, and keeps them."""
    target = tmp_path / "proj"
    (target / "assets").mkdir(parents=True)
    (target / "variables").mkdir()
    (target / "assets" / "logo.png").write_text("logo")
    (target / "variables" / "notes.txt").write_text("keep")
    with pytest.raises(StorageError, match="other files"):
        export_model(small_mlp(), target)
    assert (target / "assets" / "logo.png").read_text() == "logo"
    assert (target / "variables" / "notes.txt").read_text() == "keep"
