"""The ``train`` and ``lr-find`` commands: config resolution, --set, training, refusals."""

from __future__ import annotations

import json
import operator
import re
from pathlib import Path
from typing import Any

import attrs
import pytest

import fashionkit
from fashionkit import cli
from fashionkit.cli import main
from fashionkit.config import TrainConfig, settable_keys
from fashionkit.exceptions import ConfigError
from fashionkit.models import CNNConfig, MLPConfig
from tests.helpers import run_cli


def _resolved(argv: list[str], tmp_path: Path) -> TrainConfig:
    """The config `fashionkit train ... --dry-run` resolves, read back from --save-config."""
    saved = tmp_path / "resolved.toml"
    assert main(["train", *argv, "--dry-run", "--save-config", str(saved)]) == 0
    return TrainConfig.from_toml(saved)


# --- train: config resolution --------------------------------------------------------------


def test_train_dry_run_prints_the_resolved_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It merges a TOML config with flags, prints it and can save it."""
    config = tmp_path / "run.toml"
    config.write_text('epochs = 7\n[model]\narchitecture = "mlp"\nhidden_units = [64]\n')
    resolved = _resolved(["--config", str(config), "--loss", "one_hot"], tmp_path)
    out = capsys.readouterr().out
    assert "epochs = 7" in out
    assert 'encoding = "one_hot"' in out
    assert resolved == TrainConfig(
        epochs=7, model=MLPConfig(hidden_units=(64,)), loss={"encoding": "one_hot"}
    )


def test_train_takes_a_preset_and_overrides(tmp_path: Path) -> None:
    """It starts from the preset and applies flags on top."""
    resolved = _resolved(["--preset", "fast", "--epochs", "1"], tmp_path)
    assert resolved == attrs.evolve(fashionkit.presets.get_preset("fast"), epochs=1)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--epochs", "0"], "TrainConfig.epochs must be an integer >= 1; got 0"),
        (["--model", "cnm"], "Did you mean 'cnn'?"),
        (["--loss", "sparse", "--label-smoothing", "0.1"], "needs encoding='one_hot'"),
        (["--device", "cuda"], "DeviceConfig.accelerator must be one of"),
        (["--preset", "fsat"], "Did you mean 'fast'?"),
    ],
)
def test_train_rejects_bad_flags_before_training(
    flags: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """It validates the resolved config and reports the library's message."""
    assert main(["train", *flags, "--dry-run"]) == 1
    assert expected in capsys.readouterr().err


def test_train_device_flags_reach_the_config(tmp_path: Path) -> None:
    """It maps every device flag onto DeviceConfig and keeps the rest of the base config."""
    argv = [
        "--preset", "fast", "--device", "cpu", "--strategy", "mirrored", "--virtual-cpus", "2",
        "--precision", "float32", "--no-determinism", "--learning-rate", "0.01",
    ]  # fmt: skip
    config = _resolved(argv, tmp_path)
    assert config.device.accelerator == "cpu"
    assert config.device.strategy == "mirrored"
    assert config.device.virtual_cpus == 2
    assert config.device.precision == "float32"  # the preset's is auto
    assert config.deterministic is False
    assert config.optimizer.name == fashionkit.presets.get_preset("fast").optimizer.name
    assert config.optimizer.schedule == "one_cycle"
    assert config.optimizer.learning_rate == 0.01
    assert config.model.architecture == "cnn"


def test_the_flags_of_optional_keys_take_none_to_unset_them(tmp_path: Path) -> None:
    """``--time-budget``, ``--gpus`` and ``--memory-limit`` unset their keys with ``none``."""
    config = tmp_path / "set.toml"
    config.write_text("time_budget_seconds = 30.0\n[device]\ngpus = [0]\nmemory_limit_mb = 512\n")
    argv = ["--config", str(config)]
    assert _resolved(argv, tmp_path).time_budget_seconds == 30.0
    unset = ["--time-budget", "none", "--gpus", "None", "--memory-limit", "NONE"]
    resolved = _resolved([*argv, *unset], tmp_path)
    assert resolved.time_budget_seconds is None
    assert resolved.device.gpus is None
    assert resolved.device.memory_limit_mb is None
    kept = _resolved(
        [*argv, "--time-budget", "12", "--gpus", "1,0", "--memory-limit", "64"], tmp_path
    )
    assert (kept.time_budget_seconds, kept.device.gpus, kept.device.memory_limit_mb) == (
        12.0,
        (1, 0),
        64,
    )


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--time-budget", "soon", "expected a number, or none to unset it; got 'soon'"),
        ("--memory-limit", "1.5", "expected an integer, or none to unset it; got '1.5'"),
        ("--gpus", "0,x", "or none for every GPU; got '0,x'"),
    ],
)
def test_a_bad_value_of_an_optional_flag_names_none(
    flag: str, value: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The usage error says the number it wanted and that ``none`` unsets the key."""
    with pytest.raises(SystemExit) as info:
        main(["train", flag, value, "--dry-run"])
    assert info.value.code == 2
    assert expected in capsys.readouterr().err


def test_train_gpu_flags_with_cpu_fail_at_construction(capsys: pytest.CaptureFixture[str]) -> None:
    """It rejects GPU memory options together with the CPU accelerator, naming the field."""
    assert main(["train", "--device", "cpu", "--memory-growth", "--dry-run"]) == 1
    assert "DeviceConfig.memory_growth applies to GPUs" in capsys.readouterr().err


# --- train --set and --list-keys -----------------------------------------------------------

# For every settable key: the architecture it belongs to (model fields), the text after
# KEY=, the value the config must then hold, and other settings it needs.
_SET_CASES: list[tuple[str, str | None, str, Any, list[str]]] = [
    ("data.validation_fraction", None, "0.25", 0.25, []),
    ("data.split_seed", None, "7", 7, []),
    ("data.stratify", None, "true", True, []),
    ("data.layout", None, "image", "image", []),
    ("loss.encoding", None, "one_hot", "one_hot", []),
    ("loss.label_smoothing", None, "0.1", 0.1, ["loss.encoding=one_hot"]),
    ("optimizer.name", None, "adam", "adam", []),
    ("optimizer.learning_rate", None, "3e-4", 3e-4, []),
    ("device.accelerator", None, "cpu", "cpu", []),
    ("device.gpus", None, "[1, 0]", (1, 0), []),
    ("device.memory_growth", None, "true", True, []),
    ("device.memory_limit_mb", None, "512", 512, []),
    ("device.precision", None, '"mixed_bfloat16"', "mixed_bfloat16", []),
    ("device.strategy", None, "one_device", "one_device", []),
    ("device.virtual_cpus", None, "2", 2, []),
    ("device.jit_compile", None, "off", "off", []),
    ("epochs", None, "2", 2, []),
    ("batch_size", None, "64", 64, []),
    ("seed", None, "0", 0, []),
    ("verbose", None, "2", 2, []),
    ("time_budget_seconds", None, "30.5", 30.5, []),
    ("deterministic", None, "false", False, []),
    ("steps_per_execution", None, "8", 8, []),
    ("model.architecture", None, "mlp", MLPConfig(), []),
    ("model.hidden_units", "mlp", "[64, 32]", (64, 32), []),
    ("model.activation", "mlp", "tanh", "tanh", []),
    ("model.dropout", "mlp", "0.5", 0.5, []),
    ("model.filters", "cnn", "[8,16]", (8, 16), []),
    ("model.kernel_size", "cnn", "5", 5, []),
    ("model.dense_units", "cnn", "16", 16, []),
    ("model.dropout", "cnn", "0.125", 0.125, []),
    ("model.batch_norm", "cnn", "true", True, []),
    ("model.norm_after_pool", "cnn", "true", True, ["model.batch_norm=true"]),
    ("model.whiten", "cnn", "3", 3, []),
    ("model.whiten_stride", "cnn", "2", 2, ["model.whiten=2"]),
    ("model.identity_init", "cnn", "true", True, []),
    ("model.width", "resnet", "16", 16, []),
    ("model.stages", "resnet", "2", 2, []),
    ("model.blocks", "resnet", "3", 3, []),
    ("model.dropout", "resnet", "0.25", 0.25, []),
    ("optimizer.schedule", None, "one_cycle", "one_cycle", []),
    ("optimizer.warmup_fraction", None, "0.1", 0.1, []),
    ("optimizer.weight_decay", None, "5e-4", 5e-4, []),
    ("optimizer.momentum", None, "0.9", 0.9, ["optimizer.name=sgd"]),
    ("optimizer.nesterov", None, "true", True, ["optimizer.name=sgd", "optimizer.momentum=0.9"]),
    ("optimizer.ema_momentum", None, "0.999", 0.999, []),
    ("augment.translate", None, "2", 2, []),
    ("augment.flip", None, "alternate", "alternate", []),
    ("augment.erase_probability", None, "0.25", 0.25, []),
    ("augment.erase_max_size", None, "8", 8, []),
    ("early_stopping.monitor", None, "val_loss", "val_loss", []),
    ("early_stopping.patience", None, "3", 3, []),
    ("early_stopping.min_delta", None, "0.001", 0.001, []),
    ("early_stopping.restore_best", None, "true", True, []),
    ("tta", None, "true", True, []),
    ("tta_each_epoch", None, "true", True, ["tta=true"]),
    ("validate_last_epochs", None, "2", 2, []),
    ("calibrate", None, "true", True, []),
    ("tensorboard", None, "true", True, []),
]


def _set_case_id(case: tuple[str, str | None, str, Any, list[str]]) -> str:
    key, architecture, text, _, _ = case
    return f"{architecture}:{key}={text}" if architecture else f"{key}={text}"


def _architecture_of(key: str, accepts: str) -> str | None:
    match = re.search(r"\((\w+)\)$", accepts)
    return match.group(1) if key.startswith("model.") and match else None


def test_set_cases_cover_every_settable_key() -> None:
    """It has a --set case for every key settable_keys lists, per architecture."""
    listed = {(key, _architecture_of(key, accepts)) for key, accepts in settable_keys()}
    covered = {(key, architecture) for key, architecture, *_ in _SET_CASES}
    assert covered == listed


@pytest.mark.parametrize(
    ("key", "architecture", "text", "expected", "needs"),
    _SET_CASES,
    ids=[_set_case_id(c) for c in _SET_CASES],
)
def test_set_reaches_every_settable_key(
    key: str, architecture: str | None, text: str, expected: Any, needs: list[str], tmp_path: Path
) -> None:
    """It parses KEY=VALUE as TOML (bare words as strings) into the dotted config field."""
    argv = [f"--set={setting}" for setting in needs]
    if architecture is not None:
        argv += ["--set", f"model.architecture={architecture}"]
    config = _resolved([*argv, "--set", f"{key}={text}"], tmp_path)
    value = config.model if key == "model.architecture" else operator.attrgetter(key)(config)
    assert value == expected
    assert type(value) is type(expected)


_BAD_SETTINGS: list[tuple[list[str], dict[str, Any]]] = [
    (["epochs=0"], {"epochs": 0}),
    (["epochs=five"], {"epochs": "five"}),
    (["seed=1.5"], {"seed": 1.5}),
    (["optimizer.name=adamm"], {"optimizer": {"name": "adamm"}}),
    (["data.stratify=1"], {"data": {"stratify": 1}}),
    (["device.gpus=[0, 0]"], {"device": {"gpus": [0, 0]}}),
    (["loss.label_smoothing=0.1"], {"loss": {"label_smoothing": 0.1}}),
    (["optimzer.name=adam"], {"optimzer": {"name": "adam"}}),
    (["model.filters=[8]"], {"model": {"architecture": "linear", "filters": [8]}}),
    (["model.architecture=vit"], {"model": {"architecture": "vit"}}),
    (
        ["model.architecture=mlp", "model.hidden_units=[0]"],
        {"model": {"architecture": "mlp", "hidden_units": [0]}},
    ),
]


@pytest.mark.parametrize(
    ("settings", "data"), _BAD_SETTINGS, ids=[" ".join(s) for s, _ in _BAD_SETTINGS]
)
def test_set_reports_the_python_apis_message_for_a_bad_value(
    settings: list[str], data: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """It fails with exit status 1 and the very message TrainConfig.from_dict gives."""
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict(data)
    argv = [arg for setting in settings for arg in ("--set", setting)]
    assert main(["train", *argv, "--dry-run"]) == 1
    assert capsys.readouterr().err == f"fashionkit train: error: {info.value}\n"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("epochs", "--set expects KEY=VALUE"),
        ("=3", "--set expects KEY=VALUE"),
        ("epochs=", "--set expects KEY=VALUE"),
        ("epochs= ", "--set expects KEY=VALUE"),
        (".epochs=3", "--set expects KEY=VALUE"),
        ("data..layout=flat", "--set expects KEY=VALUE"),
        ("epochs.x=1", "--set epochs.x: epochs is a value, not a section"),
    ],
)
def test_a_malformed_set_fails_cleanly(
    setting: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """It exits with status 1 and one message, no traceback, for a setting it cannot parse."""
    assert main(["train", "--set", setting, "--dry-run"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"fashionkit train: error: {message}")
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_set_is_applied_after_the_other_flags(tmp_path: Path) -> None:
    """It lets --set override a flag of the same field, whatever their order."""
    config = _resolved(["--set", "epochs=4", "--epochs", "3", "--set", "seed=9"], tmp_path)
    assert (config.epochs, config.seed) == (4, 9)


def test_the_last_set_of_a_key_wins(tmp_path: Path) -> None:
    """It applies repeated settings in order."""
    assert _resolved(["--set", "epochs=4", "--set", "epochs=6"], tmp_path).epochs == 6


@pytest.mark.parametrize(
    "settings",
    [
        ["model.architecture=cnn", "model.filters=[16]"],
        ["model.filters=[16]", "model.architecture=cnn"],
    ],
    ids=["architecture-first", "architecture-last"],
)
def test_switching_architecture_resets_the_model_fields(
    settings: list[str], tmp_path: Path
) -> None:
    """It starts the new architecture from its defaults, then applies the model settings."""
    base = tmp_path / "base.toml"
    TrainConfig(model=MLPConfig(hidden_units=(64,), dropout=0.5)).write_toml(base)
    argv = ["--config", str(base), *[arg for s in settings for arg in ("--set", s)]]
    assert _resolved(argv, tmp_path).model == CNNConfig(filters=(16,))


def test_switching_to_the_same_architecture_keeps_the_model_fields(tmp_path: Path) -> None:
    """It keeps the base config's model fields when the architecture does not change."""
    base = tmp_path / "base.toml"
    TrainConfig(model=MLPConfig(hidden_units=(64,))).write_toml(base)
    argv = ["--config", str(base), "--set", "model.architecture=mlp"]
    assert _resolved(argv, tmp_path).model == MLPConfig(hidden_units=(64,))


def test_set_architecture_wins_over_the_model_flag(tmp_path: Path) -> None:
    """It uses the architecture --set names rather than --model's, since --set comes last."""
    assert _resolved(["--model", "cnn", "--set", "model.architecture=mlp"], tmp_path).model == (
        MLPConfig()
    )
    assert _resolved(["--model", "cnn"], tmp_path).model == CNNConfig()


def test_list_keys_prints_every_settable_key(capsys: pytest.CaptureFixture[str]) -> None:
    """It prints one line per settable key with what it accepts, and trains nothing."""
    assert main(["train", "--list-keys"]) == 0
    lines = capsys.readouterr().out.splitlines()
    parsed = [tuple(re.split(r"\s{2,}", line.strip(), maxsplit=1)) for line in lines]
    assert parsed == settable_keys()


# --- train: training, saving, JSON ----------------------------------------------------------


def test_train_then_evaluate_a_saved_model(
    synthetic_data_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It trains, saves the model atomically, and evaluates the saved file."""
    model_path = tmp_path / "out" / "model.keras"
    log = tmp_path / "out" / "metrics.jsonl"
    argv = [
        "train",
        *synthetic_data_args,
        "--epochs",
        "2",
        "--quiet",
        "--save-model",
        str(model_path),
    ]
    assert main([*argv, "--metrics-log", str(log)]) == 0
    out = capsys.readouterr().out
    assert "validation accuracy" in out
    assert model_path.is_file()
    assert sorted(p.name for p in model_path.parent.iterdir()) == ["metrics.jsonl", "model.keras"]
    assert len(log.read_text().splitlines()) == 2
    assert main(["evaluate", str(model_path), *synthetic_data_args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "test"
    assert sum(map(sum, report["confusion_matrix"])) == 20


def test_train_json_prints_the_results_layout(
    synthetic_data_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It prints exactly one JSON document, TrainResult.to_dict, and nothing else on stdout."""
    assert main(["train", *synthetic_data_args, "--epochs", "2", "--quiet", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    names = [f.name for f in attrs.fields(fashionkit.TrainResult) if f.name != "model"]
    assert list(result) == names
    assert TrainConfig.from_dict(result["config"]) == TrainConfig(epochs=2, verbose=0)
    assert [r["epoch"] for r in result["history"]] == [1, 2]
    assert result["history"][-1]["val_loss"] == result["validation"]["loss"]
    assert len(result["history"][-1]["val_per_class_accuracy"]) == 10
    assert fashionkit.EvaluationReport.from_dict(result["test"]).n_samples == 20


def test_train_json_keeps_the_progress_bar_off_standard_output(
    synthetic_data_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --quiet, Keras's progress goes to stderr and stdout is still one JSON line."""
    assert main(["train", *synthetic_data_args, "--epochs", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 1
    assert json.loads(captured.out)["history"][0]["epoch"] == 1
    assert "accuracy:" in captured.err  # the progress bar


def test_a_run_dir_that_is_a_file_is_refused(
    a_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It refuses a regular file as run directory before any data is loaded."""
    monkeypatch.setattr(cli._options, "load_data", lambda args: pytest.fail("data loaded"))
    status, err = run_cli(["train", "--run-dir", str(a_file), "--quiet"], capsys)
    assert status == 1
    assert "is a file, not a folder" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--save-model", "{tmp}/model.h5", "--quiet"], "ending in .keras"),
        (["train", "--save-model", "{file}/model.keras", "--quiet"], "is a file, not a folder"),
    ],
)
def test_bad_arguments_fail_before_any_work(
    argv: list[str],
    words: str,
    tmp_path: Path,
    a_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It refuses a model path that would fail after training, before training."""
    monkeypatch.setattr(cli._train, "train", lambda *a, **k: pytest.fail("trained"))
    status, err = run_cli([arg.format(tmp=tmp_path, file=a_file) for arg in argv], capsys)
    assert status == 1
    assert words in err
    assert "Traceback" not in err


# --- lr-find ----------------------------------------------------------------------------------


def test_lr_find_json_prints_the_sweep_with_the_train_flags_applied(
    synthetic_data_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It builds the config as train does, sweeps, and prints LearningRateRange.to_dict."""
    argv = [
        "lr-find", *synthetic_data_args, "--model", "mlp", "--optimizer", "adam",
        "--batch-size", "8", "--set", "model.dropout=0.1", "--steps", "12", "--min-lr", "1e-5",
        "--max-lr", "0.1", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == [
        "rates", "losses", "smoothed_losses", "suggestion", "minimum_rate", "reason",
        "stopped_early", "config", "seconds",
    ]  # fmt: skip
    config = TrainConfig.from_dict(data["config"])
    assert config.model.architecture == "mlp"
    assert config.model.dropout == 0.1  # type: ignore[attr-defined]
    assert config.optimizer.name == "adam"
    assert config.batch_size == 8
    assert data["rates"][0] == 1e-5
    assert len(data["rates"]) == len(data["losses"]) <= 12
    assert isinstance(data["reason"], str)


def test_lr_find_prints_the_suggestion_and_writes_the_plot(
    synthetic_data_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It prints the summary and writes the picture when asked."""
    pytest.importorskip("matplotlib")
    path = tmp_path / "sweep.png"
    assert main(["lr-find", *synthetic_data_args, "--steps", "10", "--plot", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("learning-rate sweep: model linear, optimizer rmsprop, ")
    assert "suggested learning rate: " in out
    assert f"plot written to {path}" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--min-lr", "0"], "RangeTestOptions.min_lr must be a number > 0; got 0.0"),
        (["--max-lr", "20"], "max_lr must be a number > 0 and <= 10.0; got 20.0"),
        (["--steps", "5"], "steps must be an integer >= 10 and <= 100000; got 5"),
        (["--min-lr", "0.1", "--max-lr", "0.01"], "min_lr must be below max_lr"),
        (["--preset", "fsat"], "Did you mean 'fast'?"),
        (["--epochs", "0"], "TrainConfig.epochs must be an integer >= 1; got 0"),
    ],
)
def test_lr_find_rejects_bad_flags_with_a_message(
    flags: list[str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It exits with status 1 and the library's message, without a traceback or loading data."""
    monkeypatch.setattr(cli._options, "load_fashion_mnist", lambda *a, **k: pytest.fail("loaded"))
    assert main(["lr-find", "--no-download", *flags]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fashionkit lr-find: error:")
    assert expected in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2


def test_lr_find_refuses_a_plot_path_inside_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It checks the picture's path before loading the data and sweeping."""
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(cli._options, "load_fashion_mnist", lambda *a, **k: pytest.fail("loaded"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["lr-find", "--no-download", "--plot", str(blocker / "lr.png")]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err
