"""The one serialisation layer: configs, reports, records and results as JSON and TOML data."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

import fashionkit
from fashionkit import _schema
from fashionkit.config import DataConfig, DeviceConfig, LossConfig, OptimizerConfig, TrainConfig
from fashionkit.devices import Placement
from fashionkit.evaluation import EvaluationReport
from fashionkit.exceptions import ConfigError
from fashionkit.models import CNNConfig, MLPConfig, get_architecture, list_architectures
from fashionkit.results import EpochRecord
from tests.helpers import sample_result

# --- configs -------------------------------------------------------------------------------

_CONFIGS: dict[str, Any] = {
    "data": DataConfig(validation_fraction=0.1, split_seed=7, stratify=True, layout="image"),
    "loss": LossConfig(encoding="one_hot", label_smoothing=0.1),
    "optimizer": OptimizerConfig(name="adamw", learning_rate=3e-4),
    "device-gpu": DeviceConfig(
        accelerator="gpu",
        gpus=(1, 0),
        memory_limit_mb=2048,
        precision="mixed_float16",
        strategy="mirrored",
    ),
    "device-cpu": DeviceConfig(accelerator="cpu", virtual_cpus=4, strategy="one_device"),
    "mlp": MLPConfig(hidden_units=(256, 128), activation="tanh", dropout=0.25),
    "cnn": CNNConfig(filters=(16, 32, 64), kernel_size=5, dense_units=64, dropout=0.0),
    "train": TrainConfig(
        model=CNNConfig(filters=(8,)),
        data=DataConfig(layout="flat", stratify=True),
        loss=LossConfig(encoding="one_hot"),
        optimizer=OptimizerConfig(name="sgd", learning_rate=0.5),
        device=DeviceConfig(memory_growth=True),
        epochs=20,
        batch_size=128,
        seed=0,
        verbose=2,
        time_budget_seconds=90.5,
        deterministic=False,
        steps_per_execution=7,
    ),
    **{f"default-{name}": get_architecture(name).config() for name in list_architectures()},
    **{
        f"train-default-{name}": TrainConfig(model=get_architecture(name).config())
        for name in list_architectures()
    },
}


def _via_data(obj: Any) -> Any:
    return _schema.to_data(obj)


def _via_json(obj: Any) -> Any:
    return json.loads(_schema.to_json(obj))


def _via_toml(obj: Any) -> Any:
    return _schema.parse_toml(_schema.to_toml(obj), source="test")


_FORMATS: dict[str, Callable[[Any], Any]] = {
    "data": _via_data,
    "json": _via_json,
    "toml": _via_toml,
}


@pytest.mark.parametrize("fmt", list(_FORMATS))
@pytest.mark.parametrize("config", list(_CONFIGS.values()), ids=list(_CONFIGS))
def test_every_config_round_trips(config: Any, fmt: str) -> None:
    """It reads back an equal config from its plain data, JSON and TOML forms."""
    data = _FORMATS[fmt](config)
    assert _schema.from_data(data, type(config)) == config
    assert type(config).from_dict(data) == config


@pytest.mark.parametrize("name", list_architectures())
def test_a_model_config_is_written_with_its_architecture_first(name: str) -> None:
    """It writes the architecture key before the fields, so the mapping selects the class."""
    config = get_architecture(name).config()
    data = _schema.to_data(config)
    assert next(iter(data)) == "architecture"
    assert data["architecture"] == name
    assert list(data)[1:] == [f.name for f in attrs.fields(type(config))]
    assert TrainConfig.from_dict({"model": data}).model == config


def test_to_toml_leaves_out_none_and_writes_nested_tables() -> None:
    """It omits unset optional fields (TOML has no null) and writes each section as a table."""
    text = _schema.to_toml(TrainConfig(time_budget_seconds=None))
    assert "time_budget_seconds" not in text
    assert "gpus" not in text
    for table in ("[data]", "[model]", "[loss]", "[optimizer]", "[device]"):
        assert table in text


_CONFIG_CLASSES = [
    DataConfig,
    LossConfig,
    OptimizerConfig,
    DeviceConfig,
    TrainConfig,
    *(get_architecture(name).config for name in list_architectures()),
]


@pytest.mark.parametrize("cls", _CONFIG_CLASSES, ids=lambda c: c.__name__)
def test_every_config_rejects_an_unknown_key_with_a_suggestion(cls: type[Any]) -> None:
    """It names the misspelt key, the closest allowed key and every allowed key."""
    fields = [f.name for f in attrs.fields(cls)]
    if not fields:  # the linear model has no parameters: any key is unknown
        with pytest.raises(ConfigError, match=r"unknown key\(s\) 'units'.*architecture"):
            cls.from_dict({"units": 3})
        return
    misspelt = fields[0][:-1]
    with pytest.raises(ConfigError) as info:
        cls.from_dict({misspelt: 1})
    message = str(info.value)
    assert message.startswith(f"{cls.__name__} got unknown key(s) {misspelt!r}")
    assert f"did you mean {fields[0]!r}?" in message
    for name in fields:
        assert name in message


@pytest.mark.parametrize("name", list_architectures())
def test_a_model_config_rejects_another_architectures_name(name: str) -> None:
    """It refuses a mapping whose architecture key names another architecture."""
    cls = get_architecture(name).config
    other = next(n for n in list_architectures() if n != name)
    with pytest.raises(ConfigError, match=f"Build the config class of {other!r} instead"):
        cls.from_dict({"architecture": other})
    assert cls.from_dict({"architecture": name}) == cls()


def test_a_model_mapping_with_another_architectures_field_is_rejected() -> None:
    """It rejects the CNN's filters in an MLP mapping and lists the MLP's keys."""
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict({"model": {"architecture": "mlp", "filters": [16]}})
    assert str(info.value) == (
        "MLPConfig got unknown key(s) 'filters'; allowed keys are architecture, hidden_units, "
        "activation, dropout."
    )


@pytest.mark.parametrize("data", [[("epochs", 3)], "epochs = 3", 3, None])
def test_a_config_is_built_from_a_mapping_only(data: object) -> None:
    """It raises ConfigError naming the type it got when the data is not a mapping."""
    with pytest.raises(ConfigError, match="must be built from a mapping") as info:
        _schema.from_data(data, TrainConfig)
    assert type(data).__name__ in str(info.value)


def test_config_values_reach_the_validators_unconverted() -> None:
    """It passes a string to an int field as it is, so the validator's message is the same."""
    with pytest.raises(ConfigError) as from_data:
        _schema.from_data({"epochs": "5"}, TrainConfig)
    with pytest.raises(ConfigError) as direct:
        TrainConfig(epochs="5")  # type: ignore[arg-type]
    assert str(from_data.value) == str(direct.value)


def test_parse_toml_names_the_source_of_a_syntax_error() -> None:
    """It raises ConfigError naming the source when the text is not TOML."""
    with pytest.raises(ConfigError, match=r"^run\.toml is not valid TOML"):
        _schema.parse_toml("epochs = = 3", source="run.toml")


# --- records -------------------------------------------------------------------------------


def _report() -> EvaluationReport:
    return sample_result().validation


def test_a_report_round_trips_through_json() -> None:
    """It reads back a report whose data equals the original's."""
    report = _report()
    back = EvaluationReport.from_dict(json.loads(report.to_json()))
    assert back.to_dict() == report.to_dict()
    assert back.per_class == report.per_class
    assert back.n_samples == report.n_samples == 20


def test_a_report_written_with_an_older_layout_still_reads() -> None:
    """It ignores keys it does not know, such as the n_samples that older reports held."""
    data = {**_report().to_dict(), "n_samples": 20}
    assert EvaluationReport.from_dict(data).to_dict() == _report().to_dict()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda d: d.pop("accuracy"), KeyError),
        (lambda d: d.update(accuracy=[0.5]), TypeError),
        (lambda d: d.update(accuracy=True), TypeError),
        (lambda d: d.update(per_class="none"), TypeError),
        (lambda d: d.update(per_class=[{"name": "a"}]), KeyError),
    ],
    ids=["missing", "list", "bool", "string", "class-fields-missing"],
)
def test_a_damaged_report_is_refused(change: Callable[[dict[str, Any]], Any], error: Any) -> None:
    """It raises KeyError or TypeError (as documented) for a missing field or a wrong type."""
    data = _report().to_dict()
    change(data)
    with pytest.raises(error):
        EvaluationReport.from_dict(data)


def test_an_epoch_record_round_trips_with_non_finite_floats() -> None:
    """It writes NaN and infinity as strings JSON can hold and reads them back as floats."""
    record = EpochRecord(
        epoch=3,
        loss=math.nan,
        accuracy=0.5,
        val_loss=math.inf,
        val_accuracy=0.25,
        val_per_class_accuracy=(math.nan, 1.0),
        seconds=None,
        partial=True,
        extra={"lr": 0.01, "note": "warm"},
    )
    text = _schema.to_json(record)
    data = json.loads(text)  # strict JSON: no bare NaN or Infinity
    assert "NaN" not in text
    assert "Infinity" not in text
    assert (data["loss"], data["val_loss"]) == ("nan", "inf")
    back = _schema.from_data(data, EpochRecord)
    assert math.isnan(back.loss)
    assert back.val_loss == math.inf
    assert math.isnan(back.val_per_class_accuracy[0])
    assert back.val_per_class_accuracy[1] == 1.0
    finite = attrs.evolve(back, loss=0.0, val_per_class_accuracy=())
    assert finite == attrs.evolve(record, loss=0.0, val_per_class_accuracy=())


def test_a_placement_round_trips() -> None:
    """It reads back an equal Placement, its device tuple included."""
    placement = Placement(
        accelerator="cpu",
        devices=("/device:CPU:0", "/device:CPU:1"),
        requested="cpu",
        strategy="mirrored",
        replicas=2,
        note="split",
    )
    assert _schema.from_data(_via_json(placement), Placement) == placement


def test_a_train_result_is_written_without_its_model() -> None:
    """It writes every field of TrainResult but the model, each in its own layout."""
    result = sample_result(run_dir=Path("runs") / "one", stop_reason="enough")
    data = result.to_dict()
    names = [f.name for f in attrs.fields(fashionkit.TrainResult)]
    assert list(data) == [n for n in names if n != "model"]
    assert data["config"] == result.config.to_dict()
    assert data["history"] == [_schema.to_data(r) for r in result.history]
    assert data["validation"] == result.validation.to_dict()
    assert data["placement"] == _schema.to_data(result.placement)
    assert data["run_dir"] == str(Path("runs") / "one")
    assert json.loads(_schema.to_json(result)) == data


def test_to_data_turns_nested_values_into_plain_data() -> None:
    """It turns tuples into lists, paths into strings and keeps None."""

    @attrs.frozen
    class Holder:
        path: Path
        sizes: tuple[tuple[int, ...], ...]
        missing: float | None

    assert _schema.to_data(Holder(Path("a") / "b", ((1, 2), (3,)), None)) == {
        "path": str(Path("a") / "b"),
        "sizes": [[1, 2], [3]],
        "missing": None,
    }


def test_to_json_keeps_korean_class_names_readable() -> None:
    """It writes non-ASCII text as itself, not as escape sequences."""
    from fashionkit.evaluation import report_from_probabilities

    report = report_from_probabilities(
        [[0.5, 0.5] + [0.0] * 8], [0], split="test", class_names=fashionkit.CLASS_NAMES_KO
    )
    text = _schema.to_json(report)
    assert "앵클 부츠" in text
    assert "\\u" not in text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda d: d["per_class"][0].update(support=2.7), TypeError),
        (lambda d: d["per_class"][0].update(support=True), TypeError),
        (lambda d: d.update(split=5), TypeError),
        (lambda d: d.update(class_names="abcdefghij"), ValueError),
        (lambda d: d["confusion_matrix"].pop(), ValueError),
        (lambda d: d.update(class_names=d["class_names"][:-1]), ValueError),
    ],
)
def test_records_are_read_strictly(change: Callable[[dict[str, Any]], None], error: type) -> None:
    """It rejects a damaged report (non-whole counts, wrong types, parts that disagree)."""
    data = sample_result().test.to_dict()
    change(data)
    with pytest.raises(error):
        EvaluationReport.from_dict(data)


def test_numpy_values_become_plain_data() -> None:
    """It turns NumPy scalars and arrays into Python numbers and lists."""
    import numpy as np

    assert _schema.to_data({"a": np.float32(0.5), "b": np.arange(3), "c": np.float64("nan")}) == {
        "a": 0.5,
        "b": [0, 1, 2],
        "c": "nan",
    }


# --- files nested too deep -----------------------------------------------------------------


@pytest.mark.parametrize("levels", [_schema.MAX_TOML_DEPTH + 1, 5000])
def test_toml_nested_deeper_than_the_limit_is_a_config_error(levels: int) -> None:
    """Arrays nested past the limit, or past Python's recursion limit, are a ConfigError."""
    text = "x = " + "[" * levels + "]" * levels
    with pytest.raises(ConfigError, match=r"^deep\.toml nests arrays or tables deeper than 32"):
        _schema.parse_toml(text, source="deep.toml")


def test_toml_at_the_limit_is_read() -> None:
    """A document exactly as deep as the limit parses."""
    levels = _schema.MAX_TOML_DEPTH - 1  # the top-level table is one level
    data = _schema.parse_toml("x = " + "[" * levels + "]" * levels, source="ok.toml")
    assert "x" in data


def test_config_space_and_override_files_nested_too_deep_are_refused(tmp_path: Path) -> None:
    """TrainConfig.from_toml, SearchSpace.from_toml and a --set value refuse deep nesting alike."""
    from fashionkit.config import parse_override
    from fashionkit.sweep import SearchSpace

    deep = "[" * 3000 + "]" * 3000
    path = tmp_path / "deep.toml"
    path.write_text(f"epochs = {deep}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="deeper than 32 levels"):
        TrainConfig.from_toml(path)
    with pytest.raises(ConfigError, match="deeper than 32 levels"):
        SearchSpace.from_toml(path)
    with pytest.raises(ConfigError, match="deeper than 32 levels"):
        parse_override(f"epochs={deep}")
