"""JSONLinesLogger: one flushed JSON line per epoch, and its write errors."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import keras
import pytest

import fashionkit
from fashionkit.callbacks import JSONLinesLogger
from fashionkit.exceptions import (
    ArgumentError,
    RunDirError,
    StorageError,
)
from tests.helpers import Faults, plain_fit, small_config

# --- JSONLinesLogger -----------------------------------------------------------------------


def test_metrics_logger_writes_one_flushed_line_per_epoch(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It writes one JSON line per epoch with the epoch number and every logged metric."""
    path = tmp_path / "logs" / "metrics.jsonl"
    result = fashionkit.train(
        small_config(), dataset=tiny_dataset, callbacks=[JSONLinesLogger(path)]
    )
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert set(lines[0]) == {
        "epoch",
        "seconds",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "val_per_class_accuracy",
    }
    assert [line["val_loss"] for line in lines] == [r.val_loss for r in result.history]
    assert lines[-1]["val_per_class_accuracy"] == list(result.validation.per_class_recall)


def test_metrics_logger_flushes_before_training_ends(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It has each epoch's line on disk before the next epoch starts (crash safety)."""
    path = tmp_path / "metrics.jsonl"
    seen: list[int] = []

    class Peek(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            seen.append(len(path.read_text().splitlines()))

    fashionkit.train(
        small_config(), dataset=tiny_dataset, callbacks=[JSONLinesLogger(path), Peek()]
    )
    assert seen == [1, 2, 3]


def test_metrics_logger_appends_and_is_reusable(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It starts a new file per fit by default and keeps lines with append=True."""
    path = tmp_path / "metrics.jsonl"
    logger = JSONLinesLogger(path)
    plain_fit(tiny_dataset, [logger])
    plain_fit(tiny_dataset, [logger])
    assert len(path.read_text().splitlines()) == 2
    plain_fit(tiny_dataset, [JSONLinesLogger(path, append=True)], epochs=1)
    assert [json.loads(line)["epoch"] for line in path.read_text().splitlines()] == [1, 2, 1]


@pytest.mark.parametrize(
    ("kwargs", "expected", "hint"),
    [
        ({}, StorageError, ""),
        ({"error_type": RunDirError, "error_hint": "Resume it."}, RunDirError, "Resume it."),
    ],
)
def test_metrics_logger_raises_the_error_type_it_was_given(
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
    kwargs: dict[str, Any],
    expected: type[StorageError],
    hint: str,
) -> None:
    """A write that fails raises the class given at construction, its hint in the message."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    with pytest.raises(expected) as info:
        plain_fit(tiny_dataset, [JSONLinesLogger(blocker / "metrics.jsonl", **kwargs)])
    assert str(info.value).endswith(hint)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"path": ""}, "path must be a path"),
        ({"path": 3}, "path must be a path"),
        ({"append": "yes"}, "append must be True or False; got 'yes'"),
        ({"error_type": OSError}, r"error_type must be StorageError or a subclass of it"),
        ({"error_type": RunDirError()}, r"error_type must be StorageError or a subclass of it"),
        ({"error_hint": None}, r"error_hint must be a str; got None \(NoneType\)"),
    ],
)
def test_metrics_logger_refuses_bad_arguments_when_created(
    tmp_path: Path, kwargs: dict[str, Any], match: str
) -> None:
    """It raises ArgumentError at construction, not at the first epoch's write."""
    arguments = {"path": tmp_path / "metrics.jsonl", **kwargs}
    with pytest.raises(ArgumentError, match=match):
        JSONLinesLogger(**arguments)


CONFIG = fashionkit.TrainConfig(epochs=2, verbose=0, batch_size=50)


def test_a_failing_metrics_log_outside_a_run_names_the_file(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It raises StorageError naming the log file when a metrics line cannot be appended."""
    from fashionkit.callbacks import JSONLinesLogger

    log = tmp_path / "log.jsonl"
    Faults(1, errno.ENOSPC).install(monkeypatch)
    with pytest.raises(fashionkit.StorageError, match=f"Cannot write {log}"):
        fashionkit.train(CONFIG, dataset=tiny_dataset, callbacks=[JSONLinesLogger(log)])
