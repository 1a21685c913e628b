"""The fashionkit command line, run in-process and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fashionkit.cli import main


def test_help_answers_fast_without_tensorflow() -> None:
    """It prints help in a fresh interpreter without importing TensorFlow or scikit-learn."""
    code = (
        "import sys\n"
        "from fashionkit.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "usage: fashionkit" in done.stdout
    assert "HEAVY []" in done.stdout


def test_import_does_not_load_tensorflow() -> None:
    """It keeps TensorFlow, Keras and scikit-learn out of `import fashionkit`."""
    code = (
        "import sys, fashionkit\n"
        "print([m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_info_reports_source_shapes_and_counts(
    synthetic_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It prints where the data came from, the verification status and per-class counts."""
    assert main(["info", "--data-dir", str(synthetic_dir), "--no-verify", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["directory"] == str(synthetic_dir)
    assert info["verified"] is False
    assert info["train"]["images"] == [50, 28, 28]
    assert info["train"]["class_counts"] == [5] * 10
    assert info["test"]["class_counts"] == [2] * 10


def test_info_text_lists_english_and_korean_names(
    synthetic_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It prints a table with both class-name languages."""
    assert main(["info", "--data-dir", str(synthetic_dir), "--no-verify"]) == 0
    out = capsys.readouterr().out
    assert "NOT verified" in out
    assert "Ankle boot" in out
    assert "앵클 부츠" in out


def test_errors_exit_1_with_the_library_message(
    synthetic_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It turns a library error into a one-line message and exit status 1, not a traceback."""
    monkeypatch.delenv("FASHIONKIT_VERIFY", raising=False)
    assert main(["info", "--data-dir", str(synthetic_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fashionkit info: error:")
    assert "canonical SHA-256" in err
    assert "Traceback" not in err


def test_train_dry_run_prints_the_resolved_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It merges a TOML config with flags, prints it and can save it."""
    config = tmp_path / "run.toml"
    config.write_text('epochs = 7\n[model]\narchitecture = "mlp"\nhidden_units = [64]\n')
    saved = tmp_path / "resolved.toml"
    argv = ["train", "--config", str(config), "--loss", "one_hot", "--dry-run"]
    assert main([*argv, "--save-config", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "epochs = 7" in out
    assert 'encoding = "one_hot"' in out
    text = saved.read_text()
    assert 'architecture = "mlp"' in text
    assert "64" in text


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--epochs", "0"], "TrainConfig.epochs must be an integer >= 1; got 0"),
        (["--model", "cnm"], "Did you mean 'cnn'?"),
        (["--loss", "sparse", "--label-smoothing", "0.1"], "needs encoding='one_hot'"),
        (["--device", "cuda"], "DeviceConfig.accelerator must be one of"),
    ],
)
def test_train_rejects_bad_flags_before_training(
    flags: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """It validates the resolved config and reports the library's message."""
    assert main(["train", *flags, "--dry-run"]) == 1
    assert expected in capsys.readouterr().err


def test_train_then_evaluate_a_saved_model(
    synthetic_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It trains, saves the model atomically, and evaluates the saved file."""
    model_path = tmp_path / "out" / "model.keras"
    log = tmp_path / "out" / "metrics.jsonl"
    data = ["--data-dir", str(synthetic_dir), "--no-verify"]
    argv = ["train", *data, "--epochs", "2", "--quiet", "--save-model", str(model_path)]
    assert main([*argv, "--metrics-log", str(log)]) == 0
    out = capsys.readouterr().out
    assert "validation accuracy" in out
    assert model_path.is_file()
    assert sorted(p.name for p in model_path.parent.iterdir()) == ["metrics.jsonl", "model.keras"]
    assert len(log.read_text().splitlines()) == 2
    assert main(["evaluate", str(model_path), *data, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "test"
    assert report["n_samples"] == 20


def test_evaluate_missing_model_file_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It reports a missing model file instead of a Keras traceback."""
    assert main(["evaluate", str(tmp_path / "nope.keras")]) == 1
    assert "No model file" in capsys.readouterr().err


def test_train_device_flags_reach_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It maps every device flag onto DeviceConfig and keeps the rest of the base config."""
    saved = tmp_path / "resolved.toml"
    argv = [
        "train", "--preset", "fast", "--device", "cpu", "--strategy", "mirrored",
        "--virtual-cpus", "2", "--precision", "mixed_bfloat16", "--no-determinism",
        "--learning-rate", "0.01", "--dry-run", "--save-config", str(saved),
    ]  # fmt: skip
    assert main(argv) == 0
    from fashionkit.config import TrainConfig

    config = TrainConfig.from_toml(saved)
    assert config.device.accelerator == "cpu"
    assert config.device.strategy == "mirrored"
    assert config.device.virtual_cpus == 2
    assert config.device.precision == "mixed_bfloat16"
    assert config.deterministic is False
    assert config.optimizer.name == "adam"  # from the preset
    assert config.optimizer.learning_rate == 0.01
    assert config.model.architecture == "cnn"


def test_train_gpu_flags_with_cpu_fail_at_construction(capsys: pytest.CaptureFixture[str]) -> None:
    """It rejects GPU memory options together with the CPU accelerator, naming the field."""
    assert main(["train", "--device", "cpu", "--memory-growth", "--dry-run"]) == 1
    assert "DeviceConfig.memory_growth applies to GPUs" in capsys.readouterr().err
