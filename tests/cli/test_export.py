"""The ``export`` command: formats, the run's model, quantization, refusals in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.cli import main
from fashionkit.export import serving_model
from tests.helpers import fragile_model


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


def test_cli_export_takes_the_model(
    plain_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--model best exports best.keras and says so in the JSON line."""
    out = tmp_path / "best.onnx"
    argv = ["export", str(plain_run), "--format", "onnx", "--out", str(out), "--model", "best"]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["which"] == "best"
    assert out.is_file()


def test_cli_export_quantizes_with_the_data_options(
    mlp_run: Path,
    synthetic_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--quantize int8 --representative N calibrates on the data folder's training images."""
    out = tmp_path / "small.tflite"
    argv = [
        "export", str(mlp_run), "--format", "tflite", "--quantize", "int8",
        "--representative", "20", "--max-accuracy-loss", "1", "--out", str(out),
        "--data-dir", str(synthetic_dir), "--no-verify", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["quantize"] == "int8"
    assert line["representative_images"] == 20
    assert line["check_images"] == 20
    assert line["max_accuracy_loss"] == 1.0
    assert 0.0 <= line["accuracy"] <= 1.0
    assert line["latency_ms"] > 0
    assert out.is_file()

    def no_data(args: Any) -> Any:
        raise AssertionError("the data was loaded before the arguments were checked")

    monkeypatch.setattr("fashionkit.cli._options.load_data", no_data)
    assert main([*argv[:-1], "--max-accuracy-loss", "7"]) != 0
    assert "max_accuracy_loss must be a number >= 0.0 and <= 1.0" in capsys.readouterr().err
    assert main(["export", str(mlp_run), "--format", "onnx", "--quantize", "int8"]) != 0
    assert "tflite format only" in capsys.readouterr().err
    assert main(["export", str(mlp_run), "--format", "tflite", "--representative", "9"]) != 0
    assert "with quantize='int8' only" in capsys.readouterr().err
    # The flags are checked before the run is read, and the run before the data is loaded.
    nowhere = str(tmp_path / "no-run")
    assert main(["export", nowhere, "--format", "onnx", "--quantize", "int8"]) == 1
    assert "tflite format only" in capsys.readouterr().err
    assert main(["export", nowhere, "--format", "tflite", "--quantize", "int8"]) == 1
    assert f"{nowhere} is not a directory" in capsys.readouterr().err


def test_cli_refuses_an_export_that_loses_too_much_in_one_line(
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The accuracy guard's refusal reaches the command line as one error line, exit 1."""
    from fashionkit.runs import save_model

    run = tmp_path / "run"
    fashionkit.train(fashionkit.TrainConfig(epochs=1, verbose=0), dataset=tiny_dataset, run_dir=run)
    fragile = fragile_model()
    save_model(fragile, run / "model.keras")  # the tutorial's architecture, fragile weights
    images = np.random.default_rng(5).integers(0, 256, (300, 28, 28), dtype=np.uint8)
    labels = np.asarray(serving_model(fragile)(images)).argmax(axis=1).astype(np.uint8)
    data = fashionkit.FashionMNIST(
        train=tiny_dataset.train,
        test=fashionkit.Split(images=images, labels=labels),
        source=tiny_dataset.source,
    )
    monkeypatch.setattr("fashionkit.cli._options.load_data", lambda args: data)
    argv = ["export", str(run), "--format", "tflite", "--quantize", "int8"]
    assert main([*argv, "--max-accuracy-loss", "0.05"]) == 1
    err = capsys.readouterr().err
    assert "below the float32 Keras model's 1.0000 on 300 images" in err
    assert "--max-accuracy-loss" in err
    assert len(err.strip().splitlines()) == 1
    assert not (run / "export" / "model-int8.tflite").exists()
    assert main([*argv, "--max-accuracy-loss", "1", "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["reference_accuracy"] == 1.0
    assert line["accuracy"] < 0.95
