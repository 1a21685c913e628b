"""export_run and export_model: parity with Keras, and the run's TTA, temperature and model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.cli import main
from fashionkit.exceptions import (
    ArgumentError,
    ExportError,
    InputValidationError,
    RunDirError,
)
from fashionkit.export import (
    TOLERANCES,
    export_model,
    export_run,
    load_exported,
)
from tests.helpers import (
    EXPORT_FORMATS,
    EXPORT_NAMES,
    MIXED_TOLERANCE,
    copy_run,
    export_options,
    small_mlp,
)


@pytest.mark.integration
@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
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
    out = tmp_path / EXPORT_NAMES[fmt]
    result = export_run(record, export_options(fmt), out=out)
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
@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_a_mixed_precision_model_exports_in_float32(
    fmt: str, mixed_model: Any, real_data: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It exports a bfloat16 model in float32, close to Keras, and leaves the model in bfloat16."""
    images = real_data.test.images[:300]
    keras_probs = fashionkit.predict(mixed_model, images).probabilities
    out = tmp_path / EXPORT_NAMES[fmt]
    result = export_model(mixed_model, out, export_options(fmt))
    got = load_exported(out)(images)
    np.testing.assert_allclose(got, keras_probs, atol=MIXED_TOLERANCE, rtol=0)
    assert (got.argmax(axis=1) == keras_probs.argmax(axis=1)).mean() >= 0.98
    assert result.max_difference <= TOLERANCES[fmt]
    # The model itself is untouched: it still computes in bfloat16.
    assert mixed_model.layers[1].compute_dtype == "bfloat16"


# Writing: where, and never half-written.


def test_the_default_path_is_inside_the_run(calibrated_run: Path, tmp_path: Path) -> None:
    """It writes the export to export/model.tflite inside the run by default."""
    run = copy_run(calibrated_run, tmp_path)
    result = export_run(run, export_options("tflite"))
    assert result.path == (run / "export" / "model.tflite").resolve()
    assert result.path.is_file()


def test_the_result_names_the_resolved_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative path is reported as the absolute path written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    result = export_model(small_mlp(), Path("out") / "m.tflite", export_options("tflite"))
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
    result = export_run(copy, export_options("onnx"))
    assert result.path == elsewhere.resolve() / "model.onnx"
    assert result.path.is_file()
    assert (copy / "export").is_symlink()
    assert main(["export", str(copy), "--format", "tflite"]) == 0
    written = elsewhere.resolve() / "model.tflite"
    assert f"exported tflite to {written} (" in capsys.readouterr().out
    assert sorted(p.name for p in elsewhere.iterdir()) == ["model.onnx", "model.tflite"]


def test_export_run_refuses_a_contradicting_out_before_reading_the_run(tmp_path: Path) -> None:
    """It checks the out path's name against the format before it looks at the run directory."""
    with pytest.raises(InputValidationError, match=r"format tflite .* ends in \.onnx"):
        export_run(tmp_path / "no-run", export_options("tflite"), out=tmp_path / "m.onnx")


def test_missing_converter_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It names fashionkit[export] and writes nothing when tf2onnx is missing."""
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    with pytest.raises(ExportError, match=r"fashionkit\[export\]"):
        export_model(small_mlp(), tmp_path / "m.onnx", export_options("onnx"))
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(small_model: Any, tmp_path: Path) -> None:
    """It refuses a zero temperature, a non-bool tta, bad check images and a non-run folder."""
    onnx = export_options("onnx")
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


def _copy_run(run: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(run, tmp_path / "copy", ignore=shutil.ignore_patterns("export")))


def test_only_a_completed_run_is_exported(calibrated_run: Path, tmp_path: Path) -> None:
    """It refuses a run without summary.json, saying it did not complete, and writes nothing."""
    copy = _copy_run(calibrated_run, tmp_path)
    (copy / "summary.json").unlink()
    with pytest.raises(RunDirError, match="did not complete"):
        export_run(copy, export_options("onnx"))
    assert not (copy / "export").exists()


def test_a_calibrated_run_without_its_temperature_is_refused(
    calibrated_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """It refuses a calibrated run missing calibration.json, in every command, however asked."""
    copy = _copy_run(calibrated_run, tmp_path)
    (copy / "calibration.json").unlink()
    with pytest.raises(RunDirError, match=r"calibration\.json is missing"):
        export_run(copy, export_options("onnx"))
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


@pytest.mark.parametrize(("which", "file"), [("final", "model.keras"), ("best", "best.keras")])
def test_the_run_s_best_or_final_model_is_exported(
    which: str, file: str, plain_run: Path, tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """which= picks the file exported, and the result records it."""
    from fashionkit.runs import load_model

    out = tmp_path / "m.onnx"
    result = export_run(plain_run, export_options("onnx"), out=out, which=which)  # type: ignore[arg-type]
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
    assert export_run(plain_run, export_options("onnx"), out=tmp_path / "a.onnx").which == "final"
    restored = tmp_path / "restored"
    config = fashionkit.TrainConfig(
        model="mlp",
        epochs=2,
        verbose=0,
        early_stopping=fashionkit.EarlyStoppingConfig(restore_best=True),
    )
    fashionkit.train(config, dataset=tiny_dataset, run_dir=restored)
    run = fashionkit.load_run(restored)
    assert export_run(run, export_options("onnx"), out=tmp_path / "b.onnx").which == "best"


def test_the_best_model_of_a_run_calibrated_on_its_final_one_is_refused(
    calibrated_run: Path, tmp_path: Path
) -> None:
    """Its temperature belongs to model.keras: exporting best.keras with it is refused."""
    with pytest.raises(RunDirError, match="calibrated on its final model"):
        export_run(calibrated_run, export_options("onnx"), out=tmp_path / "m.onnx", which="best")
    assert not (tmp_path / "m.onnx").exists()


def test_a_missing_best_model_or_a_bad_choice_is_refused(plain_run: Path, tmp_path: Path) -> None:
    """No best.keras: a RunDirError naming it; which='worst': an ArgumentError naming choices."""
    copy = _copy_run(plain_run, tmp_path)
    (copy / "best.keras").unlink()
    for which in ("best", "final"):  # a run that lost best.keras is damaged, whatever is asked
        with pytest.raises(RunDirError, match=r"best\.keras is missing"):
            export_run(copy, export_options("onnx"), which=which)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="which must be one of 'best' or 'final' or None"):
        export_run(plain_run, export_options("onnx"), which="worst")  # type: ignore[arg-type]


def test_a_dataset_without_an_accuracy_check_is_refused(
    plain_run: Path, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It refuses a dataset without an accuracy check, before the run is read."""
    with pytest.raises(ArgumentError, match="give it with options that check the accuracy"):
        export_run(plain_run / "missing", export_options("tflite"), dataset=tiny_dataset)
