"""Exports for serving: parity with the Keras model per format, atomic writes, the CLI."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

import fashionkit
from fashionkit.cli import main
from fashionkit.exceptions import (
    ArgumentError,
    ExportError,
    FashionkitWarning,
    InputValidationError,
    RunDirError,
    StorageError,
)
from fashionkit.export import (
    DEFAULT_MAX_ACCURACY_LOSS,
    TOLERANCES,
    ExportOptions,
    _exported,
    _formats,
    _targets,
    export_model,
    export_run,
    load_exported,
)
from fashionkit.models import CNNConfig

FORMATS = ("saved_model", "tflite", "onnx")
_NAMES = {"saved_model": "saved", "tflite": "m.tflite", "onnx": "m.onnx"}

# Tolerances of the parity tests, on the largest absolute difference of any probability:
# a float32 model matches its exports to rounding (each format's TOLERANCES); a model trained in
# mixed bfloat16 is exported with float32 computation, so its exports differ from the
# bfloat16 Keras model by that model's own rounding (bfloat16 keeps 8 bits of mantissa).
MIXED_TOLERANCE = 1e-2


def _as(fmt: str) -> ExportOptions:
    return ExportOptions(format=fmt)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def calibrated_run(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A small CNN run with flip TTA and a fitted temperature."""
    run = tmp_path_factory.mktemp("export") / "run"
    config = fashionkit.TrainConfig(
        model=CNNConfig(filters=(8, 16), dense_units=32),
        epochs=3,
        batch_size=32,
        verbose=0,
        tta=True,
        calibrate=True,
    )
    fashionkit.train(config, dataset=tiny_dataset, run_dir=run)
    return run


@pytest.fixture(scope="module")
def mixed_model(tiny_dataset: fashionkit.FashionMNIST) -> Any:
    """A small CNN trained under mixed bfloat16."""
    config = fashionkit.TrainConfig(
        model=CNNConfig(filters=(8, 16), dense_units=32),
        epochs=3,
        verbose=0,
        device=fashionkit.DeviceConfig(precision="mixed_bfloat16"),
    )
    with warnings.catch_warnings():  # bfloat16 is emulated (and says so) on AVX2-only CPUs
        warnings.filterwarnings("ignore", "DeviceConfig\\(precision=", FashionkitWarning)
        model = fashionkit.train(config, dataset=tiny_dataset).model
    assert model.layers[1].compute_dtype == "bfloat16"
    return model


@pytest.mark.integration
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_run_exports_with_its_tta_and_temperature(
    fmt: str, calibrated_run: Path, real_data: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It exports a run with its TTA and temperature, matching Keras within the tolerance."""
    images = real_data.test.images[:300]
    record = fashionkit.load_run(calibrated_run)
    assert record.temperature != 1.0
    expected = fashionkit.predict(
        record.model, images, tta=True, temperature=record.temperature
    ).probabilities
    out = tmp_path / _NAMES[fmt]
    result = export_run(record, _as(fmt), out=out)
    assert result.path == out.resolve()
    assert result.tta
    assert result.temperature == record.temperature
    assert result.max_difference <= TOLERANCES[fmt]
    assert result.size_bytes > 10_000
    got = load_exported(out).predict(images)
    assert got.shape == (300, 10)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=TOLERANCES[fmt], rtol=0)


@pytest.mark.integration
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_mixed_precision_model_exports_in_float32(
    fmt: str, mixed_model: Any, real_data: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It exports a bfloat16 model in float32, close to Keras, and leaves the model in bfloat16."""
    images = real_data.test.images[:300]
    keras_probs = fashionkit.predict(mixed_model, images).probabilities
    out = tmp_path / _NAMES[fmt]
    result = export_model(mixed_model, out, _as(fmt))
    got = load_exported(out)(images)
    np.testing.assert_allclose(got, keras_probs, atol=MIXED_TOLERANCE, rtol=0)
    assert (got.argmax(axis=1) == keras_probs.argmax(axis=1)).mean() >= 0.98
    assert result.max_difference <= TOLERANCES[fmt]
    # The model itself is untouched: it still computes in bfloat16.
    assert mixed_model.layers[1].compute_dtype == "bfloat16"


def _small_model() -> Any:
    return fashionkit.create_model(fashionkit.MLPConfig(hidden_units=(16,)))


@pytest.fixture(scope="module")
def small_model() -> Any:
    """A small untrained MLP, for the checks that refuse before any work."""
    return _small_model()


# ExportOptions: every field checked, and the rules between fields, in one place.


def test_the_default_options_export_a_float32_saved_model() -> None:
    """It defaults to a float32 SavedModel without an accuracy check."""
    options = ExportOptions()
    assert options.format == "saved_model"
    assert options.quantize is None
    assert options.check_accuracy is None
    assert options.representative_size is None
    assert options.max_accuracy_loss == DEFAULT_MAX_ACCURACY_LOSS
    assert options.integer_output is False
    assert not options.checks_accuracy


@pytest.mark.parametrize(
    ("changes", "checks"),
    [
        ({}, False),
        ({"check_accuracy": False}, False),
        ({"check_accuracy": True}, True),
        ({"format": "tflite", "quantize": "float16"}, True),
        ({"format": "tflite", "quantize": "dynamic", "check_accuracy": True}, True),
        ({"format": "tflite", "quantize": "int8", "representative_size": 5}, True),
    ],
)
def test_checks_accuracy_says_whether_the_accuracy_is_checked(
    changes: dict[str, Any], checks: bool
) -> None:
    """It is true for a quantized export and for check_accuracy=True, false otherwise."""
    assert ExportOptions(**changes).checks_accuracy is checks


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("format", "pickle", "one of 'saved_model', 'tflite' or 'onnx'"),
        ("format", None, "one of 'saved_model', 'tflite' or 'onnx'"),
        ("quantize", "int4", "one of 'float16', 'dynamic' or 'int8' or None"),
        ("check_accuracy", "yes", "True or False or None"),
        ("check_accuracy", 1, "True or False or None"),
        ("representative_size", 0, "an integer >= 1 or None"),
        ("representative_size", 2.5, "an integer >= 1 or None"),
        ("representative_size", True, "an integer >= 1 or None"),
        ("max_accuracy_loss", 2.0, "a number >= 0.0 and <= 1.0"),
        ("max_accuracy_loss", -0.1, "a number >= 0.0 and <= 1.0"),
        ("max_accuracy_loss", "1%", "a number >= 0.0 and <= 1.0"),
        ("max_accuracy_loss", True, "a number >= 0.0 and <= 1.0"),
        ("max_accuracy_loss", float("nan"), "a number >= 0.0 and <= 1.0"),
        ("integer_output", 1, "True or False"),
        ("integer_output", None, "True or False"),
    ],
)
def test_each_bad_option_value_is_refused_naming_the_field(
    field: str, value: Any, allowed: str
) -> None:
    """It raises ArgumentError saying the field, what it allows and what it got."""
    with pytest.raises(ArgumentError) as info:
        ExportOptions(**{field: value})
    assert str(info.value).startswith(f"ExportOptions.{field} must be {allowed}; got ")


@pytest.mark.parametrize(
    ("settings", "fields", "words"),
    [
        ({"format": "onnx", "quantize": "int8"}, ("quantize", "format"), "tflite format only"),
        (
            {"format": "saved_model", "quantize": "float16"},
            ("quantize", "format"),
            "tflite format only",
        ),
        (
            {"format": "tflite", "quantize": "float16", "check_accuracy": False},
            ("check_accuracy", "quantize"),
            "always checked by its accuracy",
        ),
        (
            {"format": "tflite", "quantize": "float16", "representative_size": 10},
            ("representative_size", "quantize"),
            "with quantize='int8' only",
        ),
        ({"representative_size": 10}, ("representative_size", "quantize"), "int8"),
        ({"integer_output": True}, ("integer_output", "quantize"), "quantize='int8' only"),
        (
            {"format": "tflite", "quantize": "dynamic", "integer_output": True},
            ("integer_output", "quantize"),
            "quantize='int8' only",
        ),
    ],
)
def test_contradicting_options_are_refused_naming_both_fields(
    settings: dict[str, Any], fields: tuple[str, str], words: str
) -> None:
    """It raises ArgumentError naming the two fields that contradict each other."""
    with pytest.raises(ArgumentError) as info:
        ExportOptions(**settings)
    message = str(info.value)
    assert message.startswith(f"ExportOptions.{fields[0]}")
    assert fields[1] in message
    assert words in message


def test_evolved_options_are_checked_again() -> None:
    """attrs.evolve runs the checks again: a contradiction added later is refused."""
    int8 = ExportOptions(format="tflite", quantize="int8", integer_output=True)
    with pytest.raises(ArgumentError, match="integer_output applies to quantize='int8'"):
        attrs.evolve(int8, quantize="dynamic")
    with pytest.raises(ArgumentError, match=r"ExportOptions\.max_accuracy_loss must be"):
        attrs.evolve(int8, max_accuracy_loss=1.5)


# Writing: where, and never half-written.


def test_the_default_path_is_inside_the_run(calibrated_run: Path) -> None:
    """It writes the export to export/model.tflite inside the run by default."""
    result = export_run(calibrated_run, _as("tflite"))
    assert result.path == (calibrated_run / "export" / "model.tflite").resolve()
    assert result.path.is_file()


def test_the_result_names_the_resolved_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative path is reported as the absolute path written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    result = export_model(_small_model(), Path("out") / "m.tflite", _as("tflite"))
    assert result.path == (tmp_path / "out" / "m.tflite").resolve()
    assert result.path.is_absolute()
    assert result.path.is_file()


def test_a_run_whose_export_folder_is_a_link_exports_where_it_points(
    plain_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It writes through a linked export/ folder and names the real path, in Python and the CLI."""
    copy = _copy_run(plain_run, tmp_path)
    elsewhere = tmp_path / "other-disk" / "exports"
    elsewhere.mkdir(parents=True)
    (copy / "export").symlink_to(elsewhere, target_is_directory=True)
    result = export_run(copy, _as("onnx"))
    assert result.path == elsewhere.resolve() / "model.onnx"
    assert result.path.is_file()
    assert (copy / "export").is_symlink()
    assert main(["export", str(copy), "--format", "tflite"]) == 0
    written = elsewhere.resolve() / "model.tflite"
    assert f"exported tflite to {written} (" in capsys.readouterr().out
    assert sorted(p.name for p in elsewhere.iterdir()) == ["model.onnx", "model.tflite"]


def test_a_failed_export_writes_nothing_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It leaves no partial files and keeps the old export when a SavedModel or ONNX write fails."""
    model = _small_model()
    for fmt in ("saved_model", "onnx"):
        out = tmp_path / _NAMES[fmt]
        export_model(model, out, _as(fmt))
        before = sorted(p.name for p in tmp_path.iterdir())

        def broken(serving: Any, tmp: Path, options: Any, representative: Any) -> None:
            (tmp / "partial" if tmp.is_dir() else tmp).write_bytes(b"half")
            raise ExportError("converter crashed half-way")

        monkeypatch.setattr(_formats, "write", broken)
        with pytest.raises(ExportError, match="half-way"):
            export_model(model, out, _as(fmt))
        monkeypatch.undo()
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # no leftovers
        assert load_exported(out).predict(np.zeros((2, 28, 28), np.uint8)).shape == (2, 10)


# A process that stages its export and then blocks until it is killed.
_KILLED_EXPORT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import fashionkit
    from fashionkit.export import ExportOptions, _formats, export_model

    def stuck(serving, tmp, options, representative):
        (tmp / "partial" if tmp.is_dir() else tmp).write_bytes(b"half")
        print("staged", flush=True)
        sys.stdin.read()  # blocks until the test kills this process

    _formats.write = stuck
    model = fashionkit.create_model(fashionkit.MLPConfig(hidden_units=(16,)))
    export_model(model, Path(sys.argv[1]), ExportOptions(format=sys.argv[2]))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and POSIX file locks")
@pytest.mark.parametrize("fmt", ["saved_model", "tflite"])
def test_what_a_killed_export_left_is_removed_by_the_next_one(fmt: str, tmp_path: Path) -> None:
    """It removes what an export killed by SIGKILL mid-write left, and writes the export."""
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / _NAMES[fmt]
    model = _small_model()
    export_model(model, target, _as(fmt))  # an earlier export, which the killed one replaced
    with (tmp_path / "child.log").open("w") as log:
        child = subprocess.Popen(
            [sys.executable, "-c", _KILLED_EXPORT, str(target), fmt],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert child.stdout is not None
            ready, _, _ = select.select([child.stdout], [], [], 300)
            assert ready, "the child did not stage its export in time"
            assert child.stdout.readline().strip() == "staged", (tmp_path / "child.log").read_text()
            left = sorted(p.name for p in folder.iterdir() if p.name != target.name)
            assert any(name.startswith(f".{target.name}.") for name in left), left
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert len(list(folder.iterdir())) > 1  # the killed process could not clean up
    result = export_model(model, target, _as(fmt))
    assert result.path == target.resolve()
    assert sorted(p.name for p in folder.iterdir()) == [target.name]
    assert load_exported(target).predict(np.zeros((2, 28, 28), np.uint8)).shape == (2, 10)


@pytest.mark.parametrize(
    ("fmt", "removed", "kept"),
    [
        (
            "tflite",
            [".m.tflite.abcd_123.tflite"],
            [
                ".m.tflite.abcd_123.tmp",  # another staging's suffix
                ".m.tflite.abc.tflite",  # not tempfile's eight characters
                ".n.tflite.abcd_123.tflite",  # another target's
                "m.tflite.abcd_123.tflite",  # not hidden
                ".m.tflite.abcd_123.tflite.bak",
                ".m.tflite.lock2",
            ],
        ),
        (
            "saved_model",
            [".saved.abcd_123.tmp/", ".saved.4242.1234567890.old/"],
            [
                ".saved.wxyz_123.tmp",  # a file where staging makes folders
                ".saved.x.1234567890.old/",
                ".saved.abcd_12.tmp/",
                ".saved_model.abcd_123.tmp/",
                "saved.abcd_123.tmp/",
            ],
        ),
    ],
)
def test_only_the_target_s_own_staged_names_are_removed(
    fmt: str, removed: list[str], kept: list[str], tmp_path: Path
) -> None:
    """It removes the names its staging makes for this target, and leaves anything else alone."""
    folder = tmp_path / "out"
    folder.mkdir()
    for name in [*removed, *kept]:
        if name.endswith("/"):
            (folder / name).mkdir()
            (folder / name / "variables.index").write_bytes(b"x")
        else:
            (folder / name).write_bytes(b"x")
    (tmp_path / "elsewhere.tflite").write_bytes(b"mine")
    link = f".{_NAMES[fmt]}.abcd_999.{'tmp' if fmt == 'saved_model' else 'tflite'}"
    (folder / link).symlink_to(tmp_path / "elsewhere.tflite")  # a link: never ours
    export_model(_small_model(), folder / _NAMES[fmt], _as(fmt))
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([_NAMES[fmt], link, *(name.rstrip("/") for name in kept)])
    assert (tmp_path / "elsewhere.tflite").read_bytes() == b"mine"


def test_an_export_that_disagrees_with_keras_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It writes nothing and names the difference when an export disagrees with the Keras model."""
    real_load = _exported.load

    def off_by_a_little(path: Path, fmt: Any) -> Any:
        loaded = real_load(path, fmt)
        run = loaded._run
        loaded._run = lambda x: run(x) + 1e-3
        return loaded

    monkeypatch.setattr(_exported, "load", off_by_a_little)
    with pytest.raises(ExportError, match=r"differ from the Keras model's by 0\.001"):
        export_model(_small_model(), tmp_path / "m.onnx", _as("onnx"))
    assert list(tmp_path.iterdir()) == []


def test_a_saved_model_replaces_only_a_saved_model(tmp_path: Path) -> None:
    """It replaces an earlier SavedModel in place but refuses a folder that holds other files."""
    model = _small_model()
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
        export_model(small_model, tmp_path / name, _as(fmt))
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
        export_model(small_model, target, _as(fmt))
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
        export_model(small_model, tmp_path / name, _as(fmt))
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


def test_export_run_refuses_a_contradicting_out_before_reading_the_run(tmp_path: Path) -> None:
    """It checks the out path's name against the format before it looks at the run directory."""
    with pytest.raises(InputValidationError, match=r"format tflite .* ends in \.onnx"):
        export_run(tmp_path / "no-run", _as("tflite"), out=tmp_path / "m.onnx")


def test_the_cli_refuses_a_contradicting_out_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The export command exits with status 1 and one line naming the contradiction."""
    out = tmp_path / "m.keras"
    assert main(["export", str(tmp_path), "--format", "onnx", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"fashionkit export: error: Cannot export format onnx to {out}: its name ends in .keras, "
        f"the suffix of a Keras model file. Format onnx writes one file; give a file name "
        f"ending in .onnx.\n"
    )
    assert not out.exists()


def test_a_saved_model_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """It raises StorageError when the SavedModel path is an existing file."""
    (tmp_path / "saved").write_text("x")
    with pytest.raises(StorageError, match="is a file"):
        export_model(_small_model(), tmp_path / "saved")


def test_missing_converter_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It names fashionkit[export] and writes nothing when tf2onnx is missing."""
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    with pytest.raises(ExportError, match=r"fashionkit\[export\]"):
        export_model(_small_model(), tmp_path / "m.onnx", _as("onnx"))
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(small_model: Any, tmp_path: Path) -> None:
    """It refuses a zero temperature, a non-bool tta, bad check images and a non-run folder."""
    onnx = _as("onnx")
    with pytest.raises(ArgumentError, match=r"temperature must be a number > 0\.0; got 0\.0"):
        export_model(small_model, tmp_path / "m.onnx", onnx, temperature=0.0)
    with pytest.raises(ArgumentError, match="tta must be True or False; got 'yes'"):
        export_model(small_model, tmp_path / "m.onnx", onnx, tta="yes")  # type: ignore[arg-type]
    with pytest.raises(InputValidationError, match="shape"):
        export_model(
            small_model, tmp_path / "m.onnx", onnx, check_images=np.zeros((3, 4), np.uint8)
        )
    with pytest.raises(ArgumentError, match="model must be a Keras model"):
        export_model(None, tmp_path / "m.onnx", onnx)
    with pytest.raises(ArgumentError, match="options must be an ExportOptions or None"):
        export_model(small_model, tmp_path / "m.onnx", {"format": "onnx"})  # type: ignore[arg-type]
    with pytest.raises(RunDirError, match="not a run directory"):
        export_run(tmp_path)
    with pytest.raises(ArgumentError, match="run must be a path"):
        export_run(42)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


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
    export_model(_small_model(), tmp_path / "m.onnx", _as("onnx"))
    loaded = load_exported(tmp_path / "m.onnx")
    with pytest.raises(InputValidationError):
        loaded(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ArgumentError, match="images must be uint8 images"):
        loaded(None)
    assert loaded(np.zeros((28, 28), np.uint8)).shape == (1, 10)  # one image
    assert loaded(np.zeros((0, 28, 28), np.uint8)).shape == (0, 10)


def test_cli_export(calibrated_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The export command writes ONNX and prints JSON, and exits 1 when --out lacks .onnx."""
    out = tmp_path / "cli.onnx"
    argv = ["export", str(calibrated_run), "--format", "onnx", "--out", str(out), "--json"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["path"] == str(out.resolve())
    assert printed["format"] == "onnx"
    assert printed["tta"] is True
    assert printed["which"] == "final"
    assert "model" not in printed
    assert out.is_file()
    assert main(["export", str(calibrated_run), "--format", "onnx", "--out", str(tmp_path)]) == 1
    assert "ending in .onnx" in capsys.readouterr().err


def _copy_run(run: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(run, tmp_path / "copy", ignore=shutil.ignore_patterns("export")))


def test_only_a_completed_run_is_exported(calibrated_run: Path, tmp_path: Path) -> None:
    """It refuses a run without summary.json, saying it did not complete, and writes nothing."""
    copy = _copy_run(calibrated_run, tmp_path)
    (copy / "summary.json").unlink()
    with pytest.raises(RunDirError, match="did not complete"):
        export_run(copy, _as("onnx"))
    assert not (copy / "export").exists()


def test_a_calibrated_run_without_its_temperature_is_refused(
    calibrated_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """It refuses a calibrated run missing calibration.json, in every command, however asked."""
    copy = _copy_run(calibrated_run, tmp_path)
    (copy / "calibration.json").unlink()
    with pytest.raises(RunDirError, match=r"calibration\.json is missing"):
        export_run(copy, _as("onnx"))
    image = tmp_path / "one.npy"
    np.save(image, np.zeros((28, 28), np.uint8))
    assert main(["predict", str(copy), str(image)]) == 1
    assert "calibration.json is missing" in capsys.readouterr().err
    assert main(["predict", str(copy), str(image), "--no-calibrated"]) == 1  # a damaged run
    assert "calibration.json is missing" in capsys.readouterr().err


def test_a_damaged_calibration_is_refused_even_when_not_applied(
    calibrated_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A damaged calibration.json makes the run damaged: predict names it, --no-calibrated too."""
    copy = _copy_run(calibrated_run, tmp_path)
    (copy / "calibration.json").write_text("{damaged")
    image = tmp_path / "one.npy"
    np.save(image, np.zeros((28, 28), np.uint8))
    for flags in ([], ["--no-calibrated"]):
        assert main(["predict", str(copy), str(image), *flags]) == 1
        assert "calibration.json is corrupted" in capsys.readouterr().err


def test_a_saved_model_folder_with_other_files_is_not_replaced(tmp_path: Path) -> None:
    """It refuses to replace a SavedModel folder that holds a user's file, and keeps the file."""
    model = _small_model()
    out = tmp_path / "saved"
    export_model(model, out)
    (out / "README.txt").write_text("mine")
    with pytest.raises(StorageError, match=r"README\.txt"):
        export_model(model, out)
    assert (out / "README.txt").read_text() == "mine"


def test_a_symbolic_link_is_not_replaced(tmp_path: Path) -> None:
    """It refuses to replace a symbolic link and leaves the link and its target as they were."""
    model = _small_model()
    export_model(model, tmp_path / "v1")
    (tmp_path / "current").symlink_to(tmp_path / "v1")
    with pytest.raises(StorageError, match="symbolic link"):
        export_model(model, tmp_path / "current")
    assert (tmp_path / "current").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "v1"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_low_temperature_widens_the_tolerance(fmt: str, tmp_path: Path) -> None:
    """Dividing by T = 0.05 amplifies float32 rounding twenty-fold; the check allows for it."""
    rng = np.random.default_rng(3)
    real_like = rng.integers(0, 256, (256, 28, 28), dtype=np.uint8)
    result = export_model(
        _small_model(), tmp_path / _NAMES[fmt], _as(fmt), temperature=0.05, check_images=real_like
    )
    assert result.tolerance == pytest.approx(TOLERANCES[fmt] * 20)
    assert result.max_difference <= result.tolerance


def test_the_precision_difference_is_reported(mixed_model: Any, tmp_path: Path) -> None:
    """It reports the mixed-precision difference for a bfloat16 model and none for a float32 one."""
    result = export_model(mixed_model, tmp_path / "m.onnx", _as("onnx"))
    assert result.precision_difference is not None
    assert 0 < result.precision_difference < MIXED_TOLERANCE
    assert "mixed-precision model by up to" in result.to_text()
    plain = export_model(_small_model(), tmp_path / "p.onnx", _as("onnx"))
    assert plain.precision_difference is None


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
        export_model(_small_model(), target)
    assert (target / "assets" / "logo.png").read_text() == "logo"
    assert (target / "variables" / "notes.txt").read_text() == "keep"


@pytest.fixture(scope="module")
def plain_run(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A small uncalibrated MLP run that ends with its last epoch's weights (best.keras kept)."""
    run = tmp_path_factory.mktemp("export-plain") / "run"
    config = fashionkit.TrainConfig(model="mlp", epochs=3, batch_size=32, verbose=0)
    fashionkit.train(config, dataset=tiny_dataset, run_dir=run)
    return run


@pytest.mark.parametrize(("which", "file"), [("final", "model.keras"), ("best", "best.keras")])
def test_the_run_s_best_or_final_model_is_exported(
    which: str, file: str, plain_run: Path, tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """which= picks the file exported, and the result records it."""
    from fashionkit.runs import load_model

    out = tmp_path / "m.onnx"
    result = export_run(plain_run, _as("onnx"), out=out, which=which)  # type: ignore[arg-type]
    assert result.which == which
    assert result.to_dict()["which"] == which
    assert f"the run's {which} model" in result.to_text()
    images = tiny_dataset.test.images[:50]
    expected = fashionkit.predict(load_model(plain_run / file), images).probabilities
    np.testing.assert_allclose(load_exported(out).predict(images), expected, atol=1e-5, rtol=0)


def test_the_default_is_the_model_the_run_ended_with(
    plain_run: Path, tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It is "final" for a run that ended with its last weights, "best" for one that restored."""
    assert export_run(plain_run, _as("onnx"), out=tmp_path / "a.onnx").which == "final"
    restored = tmp_path / "restored"
    config = fashionkit.TrainConfig(
        model="mlp",
        epochs=2,
        verbose=0,
        early_stopping=fashionkit.EarlyStoppingConfig(restore_best=True),
    )
    fashionkit.train(config, dataset=tiny_dataset, run_dir=restored)
    run = fashionkit.load_run(restored)
    assert export_run(run, _as("onnx"), out=tmp_path / "b.onnx").which == "best"


def test_the_best_model_of_a_run_calibrated_on_its_final_one_is_refused(
    calibrated_run: Path, tmp_path: Path
) -> None:
    """Its temperature belongs to model.keras: exporting best.keras with it is refused."""
    with pytest.raises(RunDirError, match="calibrated on its final model"):
        export_run(calibrated_run, _as("onnx"), out=tmp_path / "m.onnx", which="best")
    assert not (tmp_path / "m.onnx").exists()


def test_a_missing_best_model_or_a_bad_choice_is_refused(plain_run: Path, tmp_path: Path) -> None:
    """No best.keras: a RunDirError naming it; which='worst': an ArgumentError naming choices."""
    copy = _copy_run(plain_run, tmp_path)
    (copy / "best.keras").unlink()
    for which in ("best", "final"):  # a run that lost best.keras is damaged, whatever is asked
        with pytest.raises(RunDirError, match=r"best\.keras is missing"):
            export_run(copy, _as("onnx"), which=which)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="which must be one of 'best' or 'final' or None"):
        export_run(plain_run, _as("onnx"), which="worst")  # type: ignore[arg-type]


def test_a_dataset_without_an_accuracy_check_is_refused(
    plain_run: Path, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It refuses a dataset without an accuracy check, before the run is read."""
    with pytest.raises(ArgumentError, match="give it with options that check the accuracy"):
        export_run(plain_run / "missing", _as("tflite"), dataset=tiny_dataset)


def test_cli_export_takes_the_model(
    plain_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--model best exports best.keras and says so in the JSON line."""
    out = tmp_path / "best.onnx"
    argv = ["export", str(plain_run), "--format", "onnx", "--out", str(out), "--model", "best"]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["which"] == "best"
    assert out.is_file()
