"""Search spaces: reading, sampling, and every refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fashionkit
from fashionkit.config import TrainConfig
from fashionkit.exceptions import ArgumentError, ConfigError, ConfigFileNotFoundError
from fashionkit.sweep import Parameter, SearchSpace
from tests.helpers import SPACE_TOML, sweep_space

optuna = pytest.importorskip("optuna")


# -- the search space ---------------------------------------------------------------------------


def test_a_space_reads_from_toml_and_round_trips(tmp_path: Path) -> None:
    """It reads a search space from TOML and reads its to_toml output back as an equal space."""
    path = tmp_path / "space.toml"
    path.write_text(SPACE_TOML)
    space = SearchSpace.from_toml(path)
    assert space.base.epochs == 3
    assert space.base.model.hidden_units == (32,)
    assert [p.key for p in space.params] == ["optimizer.learning_rate", "model.hidden_units"]
    assert [p.kind for p in space.params] == ["float", "choice"]
    again = tmp_path / "again.toml"
    again.write_text(space.to_toml())
    assert SearchSpace.from_toml(again) == space


def test_a_space_can_start_from_a_preset() -> None:
    """It starts the fixed config from a preset, overriding only the fields given."""
    space = SearchSpace.from_dict(
        {
            "fixed": {"preset": "fast", "epochs": 2, "model": {"dropout": 0.1}},
            "search": {"batch_size": {"choices": [64, 128]}},
        }
    )
    fast = fashionkit.presets.get_preset("fast")
    assert space.base.epochs == 2
    assert space.base.model.dropout == 0.1
    assert space.base.model.filters == fast.model.filters  # the rest of the preset stays
    assert space.base.optimizer == fast.optimizer


def test_every_sampled_config_is_valid() -> None:
    """It samples 30 valid TrainConfigs, each within the space's ranges and choices."""
    space = sweep_space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        trial = study.ask()
        config = space.config_for(space.suggest(trial))
        assert isinstance(config, TrainConfig)
        assert 1e-4 <= config.optimizer.learning_rate <= 0.1
        assert config.model.hidden_units in ((16,), (32, 16))
        study.tell(trial, 0.0)


def test_integer_ranges_sample_integers() -> None:
    """It treats an integer range as int and samples only integers on its step."""
    parameter = Parameter(key="epochs", low=2, high=8, step=2)
    assert parameter.kind == "int"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    values = {parameter.suggest(study.ask()) for _ in range(20)}
    assert values <= {2, 4, 6, 8}
    assert all(isinstance(v, int) for v in values)


@pytest.mark.parametrize(
    ("search", "match"),
    [
        (
            {"optimizer.learning_rat": {"low": 0.1, "high": 1}},
            "did you mean 'optimizer.learning_rate'",
        ),
        ({"epochs": {"low": 5, "high": 2}}, "low must be below high"),
        (
            {"optimizer.learning_rate": {"low": 0, "high": 1, "log": True}},
            "log range needs low > 0",
        ),
        ({"batch_size": {"choices": []}}, "non-empty list"),
        ({"batch_size": {"choices": [8], "low": 1, "high": 2}}, "either choices"),
        ({"batch_size": {"low": 1}}, "give low and high"),
        ({"batch_size": {"lo": 1, "high": 2}}, "unknown key"),
        ({"batch_size": 64}, "must be a table"),
        ({"epochs": {"low": 0, "high": 3}}, r"invalid config at epochs=0: TrainConfig\.epochs"),
        (
            {"loss.label_smoothing": {"low": 0.0, "high": 0.2}},
            "invalid config at loss.label_smoothing=0.2.*one_hot",
        ),
        ({}, "at least one parameter"),
        (
            {"device.strategy": {"choices": ["auto", "multi_worker"]}},
            "invalid config at device.strategy='multi_worker': sweeps train each trial on one",
        ),
    ],
)
def test_bad_spaces_fail_with_the_configs_message(search: dict[str, Any], match: str) -> None:
    """It raises ConfigError saying what is wrong with each bad search space."""
    with pytest.raises(ConfigError, match=match):
        SearchSpace.from_dict({"fixed": {}, "search": search})


def test_a_single_parameter_instead_of_a_sequence_is_refused_with_a_hint() -> None:
    """It raises ArgumentError (not a raw TypeError) telling to wrap one parameter in a tuple."""
    one = Parameter(key="model.dropout", low=0.0, high=0.5)
    message = (
        r"^SearchSpace.params must be a list or tuple of at least one parameter .*; got "
        r"Parameter\(key='model.dropout'.*\(Parameter\)\. Wrap a single one in a tuple"
    )
    with pytest.raises(ArgumentError, match=message):
        SearchSpace(base=TrainConfig(model="mlp"), params=one)  # type: ignore[arg-type]
    space = SearchSpace(base=TrainConfig(model="mlp"), params=[one])
    assert space.params == (one,)
    with pytest.raises(ArgumentError, match=r"SearchSpace\.params must be"):
        SearchSpace(base=TrainConfig(model="mlp"), params=("model.dropout",))  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"SearchSpace\.base must be a TrainConfig"):
        SearchSpace(base={"epochs": 1}, params=(one,))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"low": "0", "high": 1.0}, "Parameter.low must be an integer or a finite number or None"),
        ({"low": 0.0, "high": float("inf")}, "Parameter.high must be"),
        ({"low": True, "high": 3}, "Parameter.low must be"),
        ({"low": 0.0, "high": 1.0, "log": "yes"}, "Parameter.log must be True or False"),
        ({"low": 0.0, "high": 1.0, "step": 0}, "Parameter.step must be a number > 0 or None"),
        ({"choices": "abc"}, "Parameter.choices must be a non-empty list of values"),
        ({"key": 3, "low": 0.0, "high": 1.0}, "Parameter.key must be a str; got 3"),
    ],
)
def test_each_field_of_a_parameter_is_checked_on_its_own(
    fields: dict[str, Any], match: str
) -> None:
    """It raises ArgumentError (a ConfigError) naming the field, what it takes and the value."""
    arguments = {"key": "model.dropout", **fields}
    with pytest.raises(ArgumentError, match=match):
        Parameter(**arguments)


def test_a_bad_field_in_a_toml_space_names_its_parameter() -> None:
    """It prefixes a field's refusal with the search parameter it belongs to."""
    match = r"^search parameter 'model.dropout': Parameter.log must be True or False; got 'yes'"
    with pytest.raises(ArgumentError, match=match):
        SearchSpace.from_dict(
            {"search": {"model.dropout": {"low": 0.0, "high": 0.5, "log": "yes"}}}
        )
    with pytest.raises(ArgumentError, match=r"^data must be a table \(a mapping\)"):
        SearchSpace.from_dict([("search", {})])  # type: ignore[arg-type]


def test_numpy_numbers_make_the_same_range_as_python_ones() -> None:
    """It turns NumPy ends into Python numbers, so that an integer range stays an integer one."""
    import numpy as np

    parameter = Parameter(key="epochs", low=np.int64(2), high=np.int64(6))
    assert parameter.kind == "int"
    assert parameter == Parameter(key="epochs", low=2, high=6)


def test_suggest_takes_an_optuna_trial() -> None:
    """It raises ArgumentError for something that is not a trial, before asking it anything."""
    with pytest.raises(ArgumentError, match=r"^trial must be an Optuna trial"):
        sweep_space().suggest({"optimizer.learning_rate": 0.01})
    with pytest.raises(ArgumentError, match=r"^trial must be an Optuna trial"):
        sweep_space().params[0].suggest(None)


def test_unknown_sections_and_files() -> None:
    """It refuses an unknown section and raises ConfigFileNotFoundError for a missing file."""
    with pytest.raises(ConfigError, match="unknown key"):
        SearchSpace.from_dict({"fixd": {}, "search": {"epochs": {"low": 1, "high": 2}}})
    with pytest.raises(ConfigFileNotFoundError):
        SearchSpace.from_toml("/nonexistent/space.toml")


def test_ranges_follow_the_fields_type() -> None:
    """It makes a float field's integer range float and refuses a float range for an int field."""
    space = SearchSpace.from_dict(
        {
            "fixed": {},
            "search": {
                "optimizer.learning_rate": {"low": 1, "high": 2},  # written as integers
                "epochs": {"low": 1, "high": 3},
            },
        }
    )
    assert [p.kind for p in space.params] == ["float", "int"]
    assert space.params[0].low == 1.0
    assert isinstance(space.params[0].low, float)
    with pytest.raises(ConfigError, match="integer field"):
        SearchSpace.from_dict({"fixed": {}, "search": {"epochs": {"low": 1.5, "high": 3}}})


def test_a_step_must_divide_the_range() -> None:
    """It raises ConfigError when the step does not divide the range."""
    with pytest.raises(ConfigError, match="does not divide"):
        Parameter(key="batch_size", low=32, high=64, step=100)


def test_integer_choices_of_a_float_field_become_floats() -> None:
    """It turns integer choices of a float field into floats."""
    space = SearchSpace.from_dict(
        {"fixed": {}, "search": {"optimizer.learning_rate": {"choices": [1, 2]}}}
    )
    assert space.params[0].choices == (1.0, 2.0)
    assert all(isinstance(c, float) for c in space.params[0].choices or ())


def test_a_space_that_could_sample_multi_worker_is_refused_before_the_folder_is_written(
    tmp_path: Path,
) -> None:
    """sweep() refuses it naming the parameter, and writes no sweep folder."""
    from fashionkit.sweep import sweep

    space = {
        "fixed": {"epochs": 1},
        "search": {"device.strategy": {"choices": ["auto", "multi_worker"]}},
    }
    with pytest.raises(ConfigError, match=r"device\.strategy"):
        sweep(SearchSpace.from_dict(space), tmp_path / "s", trials=1)
    with pytest.raises(ConfigError, match="one machine"):
        sweep(
            SearchSpace.from_dict(
                {
                    "fixed": {"device": {"strategy": "multi_worker"}},
                    "search": {"epochs": {"low": 1, "high": 2}},
                }
            ),
            tmp_path / "s",
            trials=1,
        )
    assert not (tmp_path / "s").exists()
