"""Shared fixtures and helpers: the real Fashion-MNIST files, small synthetic data and runs."""

from __future__ import annotations

import collections
import contextlib
import gzip
import http.server
import os
import shutil
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

import fashionkit
from fashionkit.datasets import DATA_DIR_ENV

# The offline copy beside the checkout (see ../shared/data/fashion-mnist/README.md).
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an (uncompressed) IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx_gz(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` as a gzip-compressed IDX file and return the path."""
    path.write_bytes(gzip.compress(idx_bytes(array)))
    return path


def synthetic_images(n: int, *, seed: int = 0) -> np.ndarray:
    """Random uint8 images of shape (n, 28, 28)."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def balanced_labels(n: int) -> np.ndarray:
    """Labels 0..9 repeated, so every class has n/10 images."""
    return (np.arange(n) % 10).astype(np.uint8)


@contextlib.contextmanager
def serving(body_for: Callable[[str], bytes]) -> Iterator[tuple[str, collections.Counter[str]]]:
    """A local HTTP server on 127.0.0.1 answering GET /NAME with ``body_for(NAME)``.

    Yields the base URL and a counter of the requests for each name.
    """
    hits: collections.Counter[str] = collections.Counter()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            hits[name] += 1
            body = body_for(name)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def synthetic_dir(tmp_path: Path) -> Path:
    """A folder with four small, valid Fashion-MNIST-format files (50 train, 20 test)."""
    write_idx_gz(tmp_path / "train-images-idx3-ubyte.gz", synthetic_images(50))
    write_idx_gz(tmp_path / "train-labels-idx1-ubyte.gz", balanced_labels(50))
    write_idx_gz(tmp_path / "t10k-images-idx3-ubyte.gz", synthetic_images(20, seed=1))
    write_idx_gz(tmp_path / "t10k-labels-idx1-ubyte.gz", balanced_labels(20))
    return tmp_path


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


def sample_result(**changes: Any) -> fashionkit.TrainResult:
    """A TrainResult built by hand (no model, no training), for layout tests."""
    from fashionkit.devices import Placement
    from fashionkit.evaluation import report_from_probabilities

    labels = balanced_labels(20)
    probabilities = np.full((20, 10), 0.05)
    probabilities[np.arange(20), labels] = 0.55
    fields: dict[str, Any] = {
        "model": None,
        "config": fashionkit.TrainConfig(epochs=2),
        "history": (
            fashionkit.EpochRecord(
                epoch=1,
                loss=0.9,
                accuracy=0.7,
                val_loss=0.8,
                val_accuracy=0.75,
                val_per_class_accuracy=(0.75,) * 10,
                seconds=1.5,
            ),
            fashionkit.EpochRecord(
                epoch=2,
                loss=0.5,
                accuracy=0.8,
                val_loss=0.6,
                val_accuracy=0.8,
                val_per_class_accuracy=(0.8,) * 10,
                seconds=1.25,
                extra={"lr": 0.001},
            ),
        ),
        "validation": report_from_probabilities(probabilities, labels, split="validation"),
        "test": report_from_probabilities(probabilities, labels, split="test"),
        "placement": Placement(accelerator="cpu", devices=("/device:CPU:0",), requested="auto"),
        "fit_seconds": 2.75,
        "total_seconds": 3.5,
    }
    fields.update(changes)
    return fashionkit.TrainResult(**fields)


def crash_after(epoch: int) -> Any:
    """A callback that raises KeyboardInterrupt as 1-based ``epoch`` ends, before it is kept."""
    import keras

    class Crash(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, index: int, logs: dict[str, Any] | None = None) -> None:
            if index + 1 == epoch:
                raise KeyboardInterrupt

    return Crash()


def metrics_only(history: Sequence[fashionkit.EpochRecord]) -> list[fashionkit.EpochRecord]:
    """The records without their wall-clock ``seconds``, to compare the metrics of two runs."""
    return [attrs.evolve(record, seconds=None) for record in history]


def band_dataset(
    train: int, test: int, *, seed: int, noise: int = 40, band: int = 230
) -> fashionkit.FashionMNIST:
    """A synthetic dataset whose classes are learnable: class c is a bright band at rows 2c..2c+2.

    The background is uniform noise below ``noise``; the band's pixels are ``band``.
    """
    rng = np.random.default_rng(seed)

    def make(n: int) -> fashionkit.Split:
        labels = balanced_labels(n)
        images = rng.integers(0, noise, size=(n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 3, :] = band
        return fashionkit.Split(images=images, labels=labels)

    source = fashionkit.DataSource(directory=Path("."), origin="argument", verified=False)
    return fashionkit.FashionMNIST(train=make(train), test=make(test), source=source)


@pytest.fixture(scope="session")
def tiny_dataset() -> fashionkit.FashionMNIST:
    """A 200/50-image :func:`band_dataset`.

    Session-scoped: a FashionMNIST is frozen and its arrays are read-only.
    """
    return band_dataset(200, 50, seed=7)


_REAL_DATA_FIXTURES = frozenset({"real_data", "shared_data_dir"})


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Check the markers, and skip the ``gpu`` tests, saying why, where there is no GPU.

    A test that reads the real shared data without the ``integration`` marker is refused.
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


def read_hparams(log_dir: Path) -> tuple[Any, Any]:
    """The HParams experiment and session groups TensorBoard's own backend reads from log_dir.

    What the dashboard's table and parallel coordinates show: the experiment's hyperparameter
    and metric infos, and per session group its values, status and metric values.
    """
    from tensorboard import context as tb_context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import (
        api_pb2,
        backend_context,
        get_experiment,
        list_session_groups,
    )

    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(log_dir))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(log_dir))
    board = base_plugin.TBContext(
        logdir=str(log_dir), multiplexer=multiplexer, data_provider=provider
    )
    backend = backend_context.Context(board)
    request = tb_context.RequestContext()
    experiment = get_experiment.Handler(request, backend, "", api_pb2.GetExperimentRequest()).run()
    groups = list_session_groups.Handler(
        request,
        backend,
        "",
        api_pb2.ListSessionGroupsRequest(
            start_index=0, slice_size=1000, allowed_statuses=[0, 1, 2, 3]
        ),
    ).run()
    return experiment, groups
