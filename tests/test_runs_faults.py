"""Faults injected at every write of a run: the directory stays resumable or is refused clearly.

A full disk (ENOSPC) or a read-only folder (EACCES) is simulated where fashionkit writes: at the
rename that publishes a whole file (config, checkpoints, model, reports, environment, summary,
pictures, downloads) and at each appended metrics line. After every fault the run directory
must hold nothing half-written under a final name, and training again must finish the run with
the same metrics as a run that never failed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fashionkit
from conftest import metrics_only, serving
from fashionkit import _io
from fashionkit.callbacks import _metrics_logger


class Faults:
    """Counts fashionkit's writes and makes the ``fail_at``-th one fail with ``code``."""

    def __init__(self, fail_at: int | None = None, code: int = errno.ENOSPC) -> None:
        self.fail_at = fail_at
        self.code = code
        self.writes: list[str] = []
        self._publish = _io.publish
        self._append = _io.append_line

    def _tick(self, what: str) -> None:
        self.writes.append(what)
        if len(self.writes) == self.fail_at:
            raise OSError(self.code, os.strerror(self.code))

    def publish(self, tmp: Path, path: Path) -> None:
        """Stand in for fashionkit._io.publish (the rename of every whole-file write)."""
        self._tick(f"publish {path.parent.name}/{path.name}")
        self._publish(tmp, path)

    def append_line(self, path: Path, line: str) -> None:
        """Stand in for the metrics log's append."""
        self._tick(f"append {path.name}")
        self._append(path, line)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Put the stand-ins in place for the test."""
        monkeypatch.setattr(_io, "publish", self.publish)
        monkeypatch.setattr(_metrics_logger, "append_line", self.append_line)


CONFIG = fashionkit.TrainConfig(epochs=2, verbose=0, batch_size=50)


def _train(data: fashionkit.FashionMNIST, run_dir: Path) -> fashionkit.TrainResult:
    return fashionkit.train(CONFIG, dataset=data, run_dir=run_dir)


@pytest.fixture(scope="module")
def clean(tiny_dataset: fashionkit.FashionMNIST, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A run that never failed, and the list of writes it made."""
    faults = Faults()
    with pytest.MonkeyPatch.context() as patch:
        faults.install(patch)
        result = _train(tiny_dataset, tmp_path_factory.mktemp("clean") / "run")
    return result, faults.writes


def _check_nothing_half_written(run_dir: Path) -> None:
    leftovers = [p.name for p in run_dir.rglob(".*")]
    assert leftovers == [], f"temporary or lock files left: {leftovers}"
    if (run_dir / "config.toml").exists():
        assert fashionkit.TrainConfig.from_toml(run_dir / "config.toml") == CONFIG
    if (run_dir / "metrics.jsonl").exists():
        for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
            json.loads(line)
    state = run_dir / "checkpoint" / "state.json"
    if state.exists():
        name = json.loads(state.read_text(encoding="utf-8"))["checkpoint"]
        assert (run_dir / "checkpoint" / name).is_file()
    for name in ("validation.json", "test.json", "environment.json", "summary.json"):
        if (run_dir / name).exists():
            json.loads((run_dir / name).read_text(encoding="utf-8"))
    assert not (run_dir / "summary.json").exists(), "a failed run must not look complete"


def test_a_clean_run_writes_every_file_kind(clean: Any) -> None:
    """It sees every kind of write of a run, so the fault tests below cover each of them."""
    _, writes = clean
    expected = {
        "publish run/config.toml",
        "append metrics.jsonl",
        "publish checkpoint/epoch-0001.keras",
        "publish checkpoint/state.json",
        "publish run/model.keras",
        "publish run/validation.json",
        "publish run/test.json",
        "publish run/environment.json",
        "publish run/summary.json",
    }
    assert expected <= set(writes)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_every_write_fault_leaves_a_resumable_run(
    clean: Any,
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    """It raises a StorageError naming the file at every write, and a retry finishes the run."""
    reference, writes = clean
    points = range(1, len(writes) + 1) if code == errno.ENOSPC else (1, 3, len(writes))
    for fail_at in points:
        run_dir = tmp_path / f"run-{fail_at}"
        faults = Faults(fail_at, code)
        with monkeypatch.context() as patch:
            faults.install(patch)
            with pytest.raises(fashionkit.StorageError) as caught:
                _train(tiny_dataset, run_dir)
        where = writes[fail_at - 1]
        assert caught.value.errno == code, where
        assert str(run_dir) in str(caught.value), where
        _check_nothing_half_written(run_dir)
        retried = _train(tiny_dataset, run_dir)
        assert metrics_only(retried.history) == metrics_only(reference.history), where
        assert retried.test.accuracy == reference.test.accuracy, where
        assert fashionkit.load_run(run_dir).test.accuracy == reference.test.accuracy


def test_a_fault_while_writing_pictures_leaves_no_partial_png(
    clean: Any, tiny_dataset: fashionkit.FashionMNIST, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It raises StorageError from write_report and leaves no half-written picture."""
    pytest.importorskip("matplotlib")
    from fashionkit.plots import write_report

    result, _ = clean
    run_dir = result.run_dir
    faults = Faults(2, errno.ENOSPC)
    faults.install(monkeypatch)
    with pytest.raises(fashionkit.StorageError, match="the disk is full"):
        write_report(run_dir, dataset=tiny_dataset)
    assert not [p.name for p in run_dir.glob(".*png*")]
    assert (run_dir / "learning_curves.png").is_file()  # the first picture was complete
    assert not (run_dir / "confusion_matrix.png").exists()


@pytest.fixture
def one_file_server() -> Iterator[tuple[str, bytes]]:
    """A local HTTP server answering every GET with the same bytes."""
    body = b"fashion" * 1000
    with serving(lambda name: body) as (url, _):
        yield url, body


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_a_download_that_cannot_be_saved_leaves_nothing(
    one_file_server: tuple[str, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    """It raises StorageError (not a mirror failure) and leaves no file; a retry succeeds."""
    from fashionkit.datasets import download_file

    url, body = one_file_server
    digest = hashlib.sha256(body).hexdigest()
    faults = Faults(1, code)
    with monkeypatch.context() as patch:
        faults.install(patch)
        with pytest.raises(fashionkit.StorageError, match="Cannot save the download") as caught:
            download_file("f.gz", tmp_path, sha256=digest, mirrors=[url, url])
    assert caught.value.errno == code
    assert faults.writes == ["publish " + f"{tmp_path.name}/f.gz"]  # the second mirror unused
    assert list(tmp_path.iterdir()) == []
    assert download_file("f.gz", tmp_path, sha256=digest, mirrors=[url]).read_bytes() == body


def test_a_failing_metrics_log_outside_a_run_names_the_file(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It raises StorageError naming the log file when a metrics line cannot be appended."""
    from fashionkit.callbacks import JSONLinesLogger

    log = tmp_path / "log.jsonl"
    Faults(1, errno.ENOSPC).install(monkeypatch)
    with pytest.raises(fashionkit.StorageError, match=f"Cannot write {log}"):
        fashionkit.train(CONFIG, dataset=tiny_dataset, callbacks=[JSONLinesLogger(log)])
