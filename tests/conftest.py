"""Shared fixtures and hooks: the real Fashion-MNIST files, small synthetic data and tiny runs.

How the tests are laid out: ``tests/`` mirrors ``src/fashionkit/``. A subpackage has a folder
(``tests/callbacks/``, ``tests/cli/``, ...) with one module per module of the subpackage, named
after it without the underscore (``tests/callbacks/test_tensorboard.py`` tests
``callbacks/_tensorboard.py``); a top-level module has ``tests/test_<module>.py`` (all of
``datasets.py``, its downloads and concurrent loads included, is in ``tests/test_datasets.py``).
A test goes where the code it exercises lives: a test of the ``evaluate`` command is in
``tests/cli/test_runs.py`` because the command is in ``cli/_runs.py``. Tests of the package as
a whole (public API, parameters, documentation examples, notebooks, fuzzing, GPU) stay at the
top. Every folder is a package (``__init__.py``), so equal file names in different folders
work; shared helper functions are in ``tests/helpers.py`` (``from tests.helpers import ...``),
and ``conftest.py`` files hold fixtures and hooks only. Tests that start several TensorFlow
processes at once, or hang on timing, carry ``@pytest.mark.xdist_group("processes")`` so that
under ``pytest -n 2`` two of them never run at the same moment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import fashionkit
from fashionkit.datasets import DATA_DIR_ENV
from tests.helpers import (
    CALIBRATED_CNN,
    MLP_64,
    PLAIN_MLP,
    TinyRun,
    balanced_labels,
    band_dataset,
    copy_run,
    crash_after,
    logs_kept,
    synthetic_images,
    write_idx_gz,
    write_synthetic_files,
)

# The offline copy beside the checkout (see ../shared/data/fashion-mnist/README.md).
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


@pytest.fixture
def synthetic_dir(tmp_path: Path) -> Path:
    """A folder with four small, valid Fashion-MNIST-format files (50 train, 20 test)."""
    return write_synthetic_files(tmp_path)


@pytest.fixture(scope="session")
def synthetic_data_args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Command-line data options pointing at small synthetic files (50 train, 20 test)."""
    directory = write_synthetic_files(tmp_path_factory.mktemp("synthetic-data"))
    return ["--data-dir", str(directory), "--no-verify"]


@pytest.fixture(scope="session")
def slow_epoch_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic data folder large enough for a small CNN's epoch to take about a second."""
    folder = tmp_path_factory.mktemp("slow-epoch-data")
    write_idx_gz(folder / "train-images-idx3-ubyte.gz", synthetic_images(5000))
    write_idx_gz(folder / "train-labels-idx1-ubyte.gz", balanced_labels(5000))
    write_idx_gz(folder / "t10k-images-idx3-ubyte.gz", synthetic_images(500, seed=1))
    write_idx_gz(folder / "t10k-labels-idx1-ubyte.gz", balanced_labels(500))
    return folder


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Remove fashionkit's environment variables and point the Keras cache at tmp_path."""
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.delenv("FASHIONKIT_VERIFY", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))


def _shared_dir() -> Path | None:
    env = os.environ.get(DATA_DIR_ENV)
    for candidate in (Path(env) if env else None, _SHARED):
        if candidate is not None and (candidate / "train-labels-idx1-ubyte.gz").is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The folder with the real Fashion-MNIST files; CI must have it, elsewhere it may skip."""
    found = _shared_dir()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the Fashion-MNIST files: set {DATA_DIR_ENV}")
        pytest.skip(f"Fashion-MNIST files not found; set {DATA_DIR_ENV}")
    return found


@pytest.fixture(scope="session")
def real_data(shared_data_dir: Path) -> fashionkit.FashionMNIST:
    """The real dataset (the shared re-split, so loaded without checksum verification)."""
    return fashionkit.load_fashion_mnist(shared_data_dir, verify=False, download=False)


@pytest.fixture(scope="session")
def tutorial_run(real_data: fashionkit.FashionMNIST) -> fashionkit.TrainResult:
    """The tutorial's run, TrainConfig(verbose=0) on the real data, trained once per session."""
    return fashionkit.train(fashionkit.TrainConfig(verbose=0), dataset=real_data)


@pytest.fixture(scope="session")
def tiny_dataset() -> fashionkit.FashionMNIST:
    """A 200/50-image :func:`~tests.helpers.band_dataset`.

    Session-scoped: a FashionMNIST is frozen and its arrays are read-only.
    """
    return band_dataset(200, 50, seed=7)


@pytest.fixture(scope="session")
def tiny_run(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., TinyRun]:
    """Train a run of a config on ``tiny_dataset`` once per session; return the same run after.

    ``tiny_run(config)`` trains into a run directory; ``run_dir=False`` trains without one;
    ``crash_after=N`` stops the run with a KeyboardInterrupt as epoch N ends (before it is
    checkpointed), leaving a resumable folder and no result. Runs are cached by config and
    those two options and shared by every test of the session (of the xdist worker): a test
    must not change a run's files (``tests.helpers.copy_run`` gives it a copy) or its model.
    """
    cache: dict[tuple[str, bool, int | None], TinyRun] = {}

    def trained(
        config: fashionkit.TrainConfig, *, run_dir: bool = True, crash_after: int | None = None
    ) -> TinyRun:
        key = (json.dumps(config.to_dict(), sort_keys=True), run_dir, crash_after)
        if key not in cache:
            cache[key] = _train_tiny(config, tiny_dataset, tmp_path_factory, run_dir, crash_after)
        return cache[key]

    return trained


def _train_tiny(
    config: fashionkit.TrainConfig,
    dataset: fashionkit.FashionMNIST,
    tmp_path_factory: pytest.TempPathFactory,
    run_dir: bool,
    stop_after: int | None,
) -> TinyRun:
    """Train one run for the ``tiny_run`` fixture."""
    path = tmp_path_factory.mktemp("tiny-run") / "run" if run_dir else None
    logs = logs_kept()
    callbacks = [logs] if stop_after is None else [logs, crash_after(stop_after)]
    if stop_after is None:
        result = fashionkit.train(config, dataset=dataset, run_dir=path, callbacks=callbacks)
        return TinyRun(path=path, result=result, logs=tuple(logs.logs))
    with pytest.raises(KeyboardInterrupt):
        fashionkit.train(config, dataset=dataset, run_dir=path, callbacks=callbacks)
    return TinyRun(path=path, result=None, logs=tuple(logs.logs))


@pytest.fixture
def calibrated_run(tiny_run: Callable[..., TinyRun]) -> Path:
    """A small CNN run with flip TTA and a fitted temperature; do not modify."""
    path = tiny_run(CALIBRATED_CNN).path
    assert path is not None
    return path


@pytest.fixture
def plain_run(tiny_run: Callable[..., TinyRun]) -> Path:
    """A small uncalibrated MLP run that ends with its last epoch's weights; do not modify."""
    path = tiny_run(PLAIN_MLP).path
    assert path is not None
    return path


@pytest.fixture(scope="module")
def mlp_run(tiny_run: Callable[..., TinyRun], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's copy of a small MLP run (a 784 x 64 kernel), which its tests export into."""
    path = tiny_run(MLP_64).path
    assert path is not None
    return copy_run(path, tmp_path_factory.mktemp("mlp-run"))


_REAL_DATA_FIXTURES = frozenset({"real_data", "shared_data_dir", "tutorial_run"})


def _no_gpu_reason() -> str | None:
    """Why TensorFlow sees no GPU here, or ``None`` when it sees one.

    Asked once, in a process of its own, so that this session's TensorFlow keeps its device
    settings free.
    """
    if not any(Path("/dev").glob("nvidia[0-9]*")) and shutil.which("nvidia-smi") is None:
        return "no GPU: no NVIDIA device or nvidia-smi on this machine"
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        check=False,
    )
    seen = probe.stdout.strip().splitlines()[-1:] if probe.returncode == 0 else []
    if seen and seen[0].isdigit() and int(seen[0]) > 0:
        return None
    return "no GPU visible to TensorFlow (a GPU is present but TensorFlow lists none)"


@pytest.hookimpl(tryfirst=True)  # before xdist files the tests by their xdist_group
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Check the markers, and skip the ``gpu`` tests, saying why, where there is no GPU.

    A test that reads the real shared data without the ``integration`` marker is refused.
    The tests that train the tutorial's run on the real data share one ``xdist_group``, so
    that under ``pytest -n 2`` one worker trains it, not both.
    """
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if gpu_items:
        reason = _no_gpu_reason()
        if reason is not None:
            for item in gpu_items:
                item.add_marker(pytest.mark.skip(reason=reason))
    unmarked = [
        item.nodeid
        for item in items
        if _REAL_DATA_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("integration") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests that use the real Fashion-MNIST files must be marked integration (and slow "
            f"when they train on them): {', '.join(unmarked)}"
        )
    for item in items:
        if "tutorial_run" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "xdist_group"
        ):
            item.add_marker(pytest.mark.xdist_group("tutorial"))


@pytest.hookimpl(tryfirst=True)  # before an xdist worker reports what it collected
def pytest_collection_finish(session: pytest.Session) -> None:
    """Give each test of an ``xdist_group`` the group in its id, as ``--dist loadgroup`` needs.

    pytest-xdist files a grouped test by appending ``@GROUP`` to its id, which pytest 9.2's
    structured ids no longer take (pytest-xdist issue 1386: the tests are then spread over the
    workers as if unmarked). Where the id lacks the group after collection, it is set here;
    with a pytest or xdist that keep it, nothing changes.
    """
    if not getattr(session.config.option, "loadgroup", False):
        return
    for item in session.items:
        groups = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group")})
        if groups and "@" not in item.nodeid and hasattr(item, "_id"):
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")
