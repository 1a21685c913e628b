"""HParams records written with TensorBoard's API: sessions, experiments and runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tensorboard.plugins.hparams import api_pb2

import fashionkit
from fashionkit.callbacks import TensorBoardLogger, _hparams, config_hparams
from fashionkit.callbacks._tensorboard_writers import (
    write_hparams_experiment,
    write_hparams_session,
)
from fashionkit.exceptions import ArgumentError, InputValidationError
from fashionkit.presets import get_preset
from tests.helpers import assert_session_results, read_hparams


def test_a_session_s_values_group_and_times_read_back_through_tensorboard(
    tmp_path: Path,
) -> None:
    """It writes each kind of value, a long name, the group, the times and the final metrics."""
    long_name = "x" * 300
    hparams = {"rate": 0.003, "layers": 3, "tta": True, "off": False, "name": "cnn", long_name: -2}
    write_hparams_session(
        tmp_path / "s1", hparams, {"accuracy": 0.75}, 4, group_name="g1", start_time=12.5,
        end_time=99.0,
    )  # fmt: skip
    _, groups = read_hparams(tmp_path)
    [group] = groups.session_groups
    assert group.name == "g1"
    values = group.hparams
    assert values["rate"].number_value == 0.003
    assert values["layers"].number_value == 3
    assert values["tta"].bool_value is True
    assert values["off"].WhichOneof("kind") == "bool_value"
    assert values["off"].bool_value is False
    assert values["name"].string_value == "cnn"
    assert values[long_name].number_value == -2
    assert set(values) == set(hparams)
    [session] = group.sessions
    assert (session.name, session.start_time_secs, session.end_time_secs) == ("s1", 12.5, 99.0)
    assert session.status == api_pb2.STATUS_SUCCESS
    [metric] = session.metric_values
    assert (metric.name.group, metric.name.tag) == ("", "accuracy")
    assert (metric.value, metric.training_step) == (0.75, 4)


@pytest.mark.parametrize("status", ["success", "failure", "running", "unknown"])
def test_a_session_end_s_status_reads_back(tmp_path: Path, status: Any) -> None:
    """It writes each status as TensorBoard's own status value."""
    write_hparams_session(tmp_path / "s", {"rate": 0.1}, {"accuracy": 0.5}, 1, status=status)
    _, groups = read_hparams(tmp_path)
    [session] = groups.session_groups[0].sessions
    assert api_pb2.Status.Name(session.status) == f"STATUS_{status.upper()}"


def test_sessions_with_equal_values_share_a_group_by_default(tmp_path: Path) -> None:
    """It names the group after the values, so equal values make one dashboard row."""
    for name, rate in (("a", 0.1), ("b", 0.1), ("c", 0.2)):
        write_hparams_session(tmp_path / name, {"rate": rate}, {"accuracy": 0.5}, 1)
    _, groups = read_hparams(tmp_path)
    rows = sorted(sorted(s.name for s in g.sessions) for g in groups.session_groups)
    assert rows == [["a", "b"], ["c"]]


def test_an_experiment_reads_back_with_its_domains_metrics_and_description(
    tmp_path: Path,
) -> None:
    """It writes the domains (interval, strings, numbers, booleans), metrics and description."""
    domains = [
        _hparams.HParamDomain(name="optimizer.learning_rate", low=1e-4, high=0.1),
        _hparams.HParamDomain(name="model.filters", values=("[16, 64]", "[32, 64]")),
        _hparams.HParamDomain(name="batch_size", values=(64, 128)),
        _hparams.HParamDomain(name="tta", values=(True, False)),
    ]
    metrics = [("", "val_accuracy"), ("validation", "epoch_loss")]
    write_hparams_experiment(tmp_path, domains, metrics, description="d")
    write_hparams_session(tmp_path / "s", {"batch_size": 64}, {"val_accuracy": 0.5}, 1)
    experiment, _ = read_hparams(tmp_path)
    assert experiment.description == "d"
    infos = {info.name: info for info in experiment.hparam_infos}
    assert set(infos) == {"optimizer.learning_rate", "model.filters", "batch_size", "tta"}
    rate = infos["optimizer.learning_rate"]
    assert (rate.domain_interval.min_value, rate.domain_interval.max_value) == (1e-4, 0.1)
    assert [v.string_value for v in infos["model.filters"].domain_discrete.values] == [
        "[16, 64]",
        "[32, 64]",
    ]
    assert infos["model.filters"].type == api_pb2.DATA_TYPE_STRING
    assert [v.number_value for v in infos["batch_size"].domain_discrete.values] == [64, 128]
    assert infos["batch_size"].type == api_pb2.DATA_TYPE_FLOAT64
    assert infos["tta"].type == api_pb2.DATA_TYPE_BOOL
    assert {v.bool_value for v in infos["tta"].domain_discrete.values} == {True, False}
    names = [(m.name.group, m.name.tag) for m in experiment.metric_infos]
    assert names == metrics


def test_config_hparams_flattens_a_config_into_showable_values() -> None:
    """It turns a config into dotted names and booleans, numbers or strings."""
    config = get_preset("accurate")
    hparams = config_hparams(config)
    assert hparams["model.filters"] == "[16, 64, 128]"
    assert config.optimizer.warmup_fraction is None
    assert "optimizer.warmup_fraction" not in hparams  # unset: left out, not "none"
    assert hparams["epochs"] == config.epochs
    assert "verbose" not in hparams
    assert "tensorboard" not in hparams
    assert config_hparams(config.to_dict()) == hparams
    assert all(isinstance(v, (bool, int, float, str)) for v in hparams.values())


def test_config_hparams_leaves_out_the_reporting_fields_and_refuses_other_values() -> None:
    """It drops TrainConfig.REPORTING_FIELDS and raises ArgumentError for what is no config."""
    data = fashionkit.TrainConfig(verbose=0).to_dict()
    assert not fashionkit.TrainConfig.REPORTING_FIELDS & set(config_hparams(data))
    assert config_hparams({"optimizer": {"name": "adam"}, "verbose": 2}) == {
        "optimizer.name": "adam"
    }
    with pytest.raises(ArgumentError, match=r"^config must be a TrainConfig or a mapping"):
        config_hparams(3)  # type: ignore[arg-type]


def test_bad_hparams_and_sessions_without_them_are_refused(tmp_path: Path) -> None:
    """It refuses values TensorBoard cannot show, and sessions of a logger without hparams."""
    import numpy as np

    with pytest.raises(InputValidationError, match="must be a boolean, a number or a string"):
        TensorBoardLogger(tmp_path, hparams={"filters": [16, 32]})  # type: ignore[dict-item]
    with pytest.raises(InputValidationError, match="must be a boolean, a number or a string"):
        TensorBoardLogger(tmp_path, hparams={"filters": np.array([16, 32])})  # type: ignore[dict-item]
    numpy_values = TensorBoardLogger(tmp_path, hparams={"rate": np.float32(0.5), "n": np.int64(3)})
    assert numpy_values.hparams == {"rate": 0.5, "n": 3}
    with pytest.raises(InputValidationError, match="non-empty strings"):
        TensorBoardLogger(tmp_path, hparams={"": 1})
    plain = TensorBoardLogger(tmp_path)
    with pytest.raises(InputValidationError, match="create the logger with hparams"):
        plain.end_session({"accuracy": 0.5}, step=1)
    logger = TensorBoardLogger(tmp_path, hparams={"rate": 0.1})
    with pytest.raises(InputValidationError, match="status must be one of"):
        logger.end_session({}, step=1, status="pruned")  # type: ignore[arg-type]
    with pytest.raises(InputValidationError, match="metrics must map names to numbers"):
        logger.end_session({"accuracy": "high"}, step=1)  # type: ignore[dict-item]


def test_runs_with_tensorboard_are_compared_in_the_hparams_dashboard(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """Two runs' configs and final scores, as TensorBoard's HParams backend reads them."""
    results = {}
    for rate in (0.001, 0.01):
        config = fashionkit.TrainConfig(
            model="mlp",
            epochs=2,
            verbose=0,
            tensorboard=True,
            optimizer=fashionkit.OptimizerConfig(learning_rate=rate),
        )
        run_dir = tmp_path / "runs" / f"lr-{rate}"
        results[rate] = fashionkit.train(config, dataset=tiny_dataset, run_dir=run_dir)
    experiment, groups = read_hparams(tmp_path / "runs")
    infos = {info.name: info for info in experiment.hparam_infos}
    assert infos["optimizer.learning_rate"].differs
    assert not infos["epochs"].differs
    assert set(infos) == set(config_hparams(results[0.001].config))
    metrics = {(m.name.group, m.name.tag) for m in experiment.metric_infos}
    assert {("", "final_validation_accuracy"), ("", "final_test_loss")} <= metrics
    assert {("validation", "epoch_accuracy"), ("train", "epoch_loss")} <= metrics
    assert len(groups.session_groups) == 2
    for group in groups.session_groups:
        rate = group.hparams["optimizer.learning_rate"].number_value
        result = results[rate]
        (session,) = group.sessions
        values = assert_session_results(session, result, epochs=2)
        assert values["final_test_accuracy"].training_step == 2
        assert group.hparams["model.architecture"].string_value == "mlp"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, r"HParamDomain.name must be a non-empty str; got ''"),
        ({"name": 3, "low": 0.0, "high": 1.0}, "HParamDomain.name must be a non-empty str"),
        ({"name": "a"}, "give either values or low and high"),
        ({"name": "a", "values": (1,), "low": 0.0, "high": 1.0}, "either values or low"),
        ({"name": "a", "values": ()}, "HParamDomain.values must be a non-empty tuple"),
        ({"name": "a", "values": (1, None)}, "HParamDomain.values must be a non-empty tuple"),
        ({"name": "a", "low": "0", "high": 1.0}, "HParamDomain.low must be a finite number"),
        ({"name": "a", "low": 2.0, "high": 1.0}, "low <= high"),
        ({"name": "a", "low": 1.0}, "low <= high"),
    ],
)
def test_bad_domains_are_refused(kwargs: dict[str, Any], message: str) -> None:
    """It raises ArgumentError for a domain without a name, or with no or both kinds of values."""
    with pytest.raises(ArgumentError, match=message):
        _hparams.HParamDomain(**kwargs)


def test_a_domain_casts_session_values_to_its_type() -> None:
    """Numbers stay numbers, lists become their JSON text, mixed lists strings."""
    numbers = _hparams.HParamDomain(name="batch_size", values=(64, 128))
    assert (numbers.kind, numbers.cast(64)) == ("float64", 64.0)
    lists = _hparams.HParamDomain(name="f", values=("[16]", "[32, 16]"))
    assert (lists.kind, lists.cast((32, 16))) == ("string", "[32, 16]")
    mixed = _hparams.HParamDomain(name="m", values=(1, "x"))
    assert (mixed.kind, mixed.cast(1), mixed.cast(None)) == ("string", "1", None)
    flags = _hparams.HParamDomain(name="tta", values=(True, False))
    assert (flags.kind, flags.cast(True)) == ("bool", True)
    interval = _hparams.HParamDomain(name="lr", low=0.1, high=1.0)
    assert (interval.kind, interval.cast(1)) == ("float64", 1.0)
