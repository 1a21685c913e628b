"""Helpers the test modules share: synthetic data, hand-built results, runs, fault injection.

Fixtures and hooks live in ``conftest.py``; everything a test imports by name lives here
(``from tests.helpers import ...``).
"""

from __future__ import annotations

import collections
import contextlib
import errno
import gzip
import http.server
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

import fashionkit

# --- synthetic Fashion-MNIST files and arrays ------------------------------------------------


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


def write_synthetic_files(directory: Path, *, train: int = 50, test: int = 20) -> Path:
    """Four small, valid Fashion-MNIST-format files (random images) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    write_idx_gz(directory / "train-images-idx3-ubyte.gz", synthetic_images(train))
    write_idx_gz(directory / "train-labels-idx1-ubyte.gz", balanced_labels(train))
    write_idx_gz(directory / "t10k-images-idx3-ubyte.gz", synthetic_images(test, seed=1))
    write_idx_gz(directory / "t10k-labels-idx1-ubyte.gz", balanced_labels(test))
    return directory


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


# --- configs of the tiny runs (conftest's tiny_run trains each once per session) ---------------

#: The tutorial's linear model, three epochs in batches of 16: "a finished tiny run".
SMALL = fashionkit.TrainConfig(epochs=3, batch_size=16, verbose=0)
#: An MLP with dropout, four epochs: the run directory tests' run (resumed bit for bit).
DROPOUT_MLP = fashionkit.TrainConfig(
    model=fashionkit.MLPConfig(hidden_units=(32,), dropout=0.3),
    epochs=4,
    batch_size=16,
    verbose=0,
)
#: A small CNN with flip TTA and a fitted temperature.
CALIBRATED_CNN = fashionkit.TrainConfig(
    model=fashionkit.CNNConfig(filters=(8, 16), dense_units=32),
    epochs=3,
    batch_size=32,
    verbose=0,
    tta=True,
    calibrate=True,
)
#: The tutorial's linear model with a fitted temperature.
CALIBRATED_LINEAR = fashionkit.TrainConfig(epochs=3, verbose=0, calibrate=True)
#: An uncalibrated MLP that ends with its last epoch's weights (best.keras kept beside them).
PLAIN_MLP = fashionkit.TrainConfig(model="mlp", epochs=3, batch_size=32, verbose=0)
#: An MLP with a 784 x 64 kernel: large enough for every TFLite quantization to apply.
MLP_64 = fashionkit.TrainConfig(
    model=fashionkit.MLPConfig(hidden_units=(64,)), epochs=3, batch_size=32, verbose=0
)


def small_config(**changes: Any) -> fashionkit.TrainConfig:
    """:data:`SMALL` with ``changes``."""
    return attrs.evolve(SMALL, **changes)


def dropout_mlp(**changes: Any) -> fashionkit.TrainConfig:
    """:data:`DROPOUT_MLP` with ``changes``."""
    return attrs.evolve(DROPOUT_MLP, **changes)


@attrs.frozen
class TinyRun:
    """A run conftest's ``tiny_run`` trained: its folder, its result and each epoch's logs.

    ``path`` is ``None`` for a run trained without a run directory; ``result`` is ``None`` for
    a run that crashed (``crash_after``). Shared by every test of the session: never modify
    the folder (work on :func:`copy_run`) or the model.
    """

    path: Path | None
    result: fashionkit.TrainResult | None
    logs: tuple[dict[str, Any], ...]


def copy_run(run_dir: Path, tmp_path: Path) -> Path:
    """A copy of ``run_dir`` in ``tmp_path`` (same folder name), for a test that changes files."""
    return Path(shutil.copytree(run_dir, tmp_path / run_dir.name))


def logs_kept() -> Any:
    """A Keras callback whose ``logs`` list keeps the logs each epoch ends with."""
    import keras

    class KeepLogs(keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.logs: list[dict[str, Any]] = []

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.logs.append(dict(logs or {}))

    return KeepLogs()


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


def plain_fit(
    data: fashionkit.FashionMNIST, callbacks: list[Any], *, epochs: int = 2, model: Any = None
) -> Any:
    """Plain model.fit on the training split, without fashionkit.train."""
    model = model or fashionkit.create_training_model(fashionkit.TrainConfig(steps_per_execution=1))
    x = fashionkit.prepare_images(data.train.images)
    model.fit(x, data.train.labels, epochs=epochs, batch_size=50, verbose=0, callbacks=callbacks)
    return model


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


# --- faults at fashionkit's writes ------------------------------------------------------------


class Faults:
    """Counts fashionkit's writes and makes the ``fail_at``-th one fail with ``code``."""

    def __init__(self, fail_at: int | None = None, code: int = errno.ENOSPC) -> None:
        from fashionkit import _io, _jsonl

        self.fail_at = fail_at
        self.code = code
        self.writes: list[str] = []
        self._publish = _io.publish
        self._append = _jsonl.append_record

    def _tick(self, what: str) -> None:
        self.writes.append(what)
        if len(self.writes) == self.fail_at:
            raise OSError(self.code, os.strerror(self.code))

    def publish(self, tmp: Path, path: Path) -> None:
        """Stand in for fashionkit._io.publish (the rename of every whole-file write)."""
        self._tick(f"publish {path.parent.name}/{path.name}")
        self._publish(tmp, path)

    def append_record(self, path: Path, line: str) -> None:
        """Stand in for the metrics log's append."""
        self._tick(f"append {path.name}")
        self._append(path, line)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Put the stand-ins in place for the test."""
        from fashionkit import _io
        from fashionkit.callbacks import _metrics_logger

        monkeypatch.setattr(_io, "publish", self.publish)
        monkeypatch.setattr(_metrics_logger, "append_record", self.append_record)


# --- the command line -------------------------------------------------------------------------


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``fashionkit ARGV`` in this process; return its exit status and standard error."""
    from fashionkit import cli

    status = cli.main(argv)
    return status, capsys.readouterr().err


def cnn_train_command(run_dir: Path, data_dir: Path, epochs: int) -> list[str]:
    """``fashionkit train`` of a small CNN on ``data_dir`` into ``run_dir``, as a process."""
    return [
        sys.executable,
        "-m",
        "fashionkit.cli",
        "train",
        "--data-dir",
        str(data_dir),
        "--no-verify",
        "--model",
        "cnn",
        # A small CNN: an epoch of the 4,000 images takes about a second on an AVX2-only CPU.
        "--set",
        "model.filters=[8, 16]",
        "--set",
        "model.dense_units=32",
        "--epochs",
        str(epochs),
        "--set",
        "steps_per_execution=1",
        "--quiet",
        "--run-dir",
        str(run_dir),
    ]


def start_cnn_training(run_dir: Path, data_dir: Path, epochs: int) -> subprocess.Popen[str]:
    """Start :func:`cnn_train_command` with its output piped."""
    return subprocess.Popen(
        cnn_train_command(run_dir, data_dir, epochs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_epochs(run_dir: Path, count: int, child: subprocess.Popen[str]) -> None:
    """Wait until ``child`` has logged ``count`` epochs into ``run_dir`` (fail if it ends)."""
    metrics = run_dir / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if metrics.is_file() and len(metrics.read_text(encoding="utf-8").splitlines()) >= count:
            return
        if child.poll() is not None:
            pytest.fail(f"training ended early: {child.communicate()}")
        time.sleep(0.05)
    child.kill()
    pytest.fail("training did not log an epoch in time")


def logged_epochs(run_dir: Path) -> list[int]:
    """The epoch numbers of ``run_dir``'s metrics log, in order."""
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["epoch"] for line in lines]


# --- TensorBoard ------------------------------------------------------------------------------


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


def recipe_config(**changes: Any) -> fashionkit.TrainConfig:
    """A small MLP with dropout, four epochs, with ``changes`` given as in a config file."""
    base: dict[str, Any] = {
        "model": {"architecture": "mlp", "hidden_units": [32], "dropout": 0.2},
        "epochs": 4,
        "batch_size": 16,
        "verbose": 0,
    }
    base.update(changes)
    return fashionkit.TrainConfig.from_dict(base)


#: The ``tiny_run`` fixture: ``tiny_run(config, *, run_dir=True, crash_after=None)``.
TinyRunFactory = Callable[..., TinyRun]
# The keys every epoch's logs hold under fashionkit.train, whichever loop runs it.
LOG_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy", "val_per_class_accuracy"}


# --- run directories --------------------------------------------------------------------------

#: The files of a finished run directory trained without tensorboard or calibration.
RUN_FILES = [
    "best.keras",
    "config.toml",
    "environment.json",
    "metrics.jsonl",
    "model.keras",
    "summary.json",
    "test.json",
    "validation.json",
]
#: The lock file of a training process; removed when the process ends training, however it ends.
RUN_LOCK = ".lock"


def listing(directory: Path) -> list[str]:
    """The names in ``directory``, sorted."""
    return sorted(p.name for p in directory.iterdir())


# --- exports ----------------------------------------------------------------------------------

EXPORT_FORMATS = ("saved_model", "tflite", "onnx")
#: The file (or folder) name a test exports each format to.
EXPORT_NAMES = {"saved_model": "saved", "tflite": "m.tflite", "onnx": "m.onnx"}
# Tolerances of the parity tests, on the largest absolute difference of any probability:
# a float32 model matches its exports to rounding (each format's TOLERANCES); a model trained in
# mixed bfloat16 is exported with float32 computation, so its exports differ from the
# bfloat16 Keras model by that model's own rounding (bfloat16 keeps 8 bits of mantissa).
MIXED_TOLERANCE = 1e-2


def export_options(fmt: str) -> Any:
    """ExportOptions of the format ``fmt``, the rest default."""
    from fashionkit.export import ExportOptions

    return ExportOptions(format=fmt)  # type: ignore[arg-type]


def small_mlp() -> Any:
    """A small untrained MLP, for the checks that refuse before any work."""
    return fashionkit.create_model(fashionkit.MLPConfig(hidden_units=(16,)))


def fragile_model() -> Any:
    """A linear model whose decisions hang on logit gaps far below its output's int8 step.

    Class 9's bias of -1000 stretches the logits' range to about 1000, so int8 (256 steps)
    rounds the other classes' logits, which differ by tenths, to the same few values.
    """
    import keras

    rng = np.random.default_rng(3)
    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(10, activation="softmax")], name="fragile"
    )
    kernel = rng.normal(0.0, 0.02, (784, 10)).astype(np.float32)
    bias = np.zeros(10, np.float32)
    bias[9] = -1000.0
    model.layers[0].set_weights([kernel, bias])
    return model


# --- sweeps -----------------------------------------------------------------------------------

#: A search space as a TOML file: an MLP's learning rate and hidden layers.
SPACE_TOML = """
[fixed]
epochs = 3
batch_size = 16
model = { architecture = "mlp", hidden_units = [32] }

[search."optimizer.learning_rate"]
low = 1e-4
high = 0.1
log = true

[search."model.hidden_units"]
choices = [[16], [32, 16]]
"""


def sweep_space() -> Any:
    """A small search space: an MLP's learning rate and hidden layers, two epochs."""
    from fashionkit.sweep import SearchSpace

    return SearchSpace.from_dict(
        {
            "fixed": {"epochs": 2, "batch_size": 16, "model": {"architecture": "mlp"}},
            "search": {
                "optimizer.learning_rate": {"low": 1e-4, "high": 0.1, "log": True},
                "model.hidden_units": {"choices": [[16], [32, 16]]},
            },
        }
    )


def module_from_file(path: Path) -> Any:
    """The Python file ``path`` (a docs extension or tool, not a package module), imported.

    It is registered in ``sys.modules`` under its stem, once, as Sphinx would import it.
    """
    import importlib.util

    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def assert_session_results(session: Any, result: Any, *, epochs: int) -> Any:
    """Check an HParams session's status and final metrics against ``result``; return them.

    The metrics are returned by tag (those outside any group), for further checks.
    """
    from tensorboard.plugins.hparams import api_pb2

    assert session.status == api_pb2.STATUS_SUCCESS
    values = {v.name.tag: v for v in session.metric_values if not v.name.group}
    assert values["final_validation_accuracy"].value == pytest.approx(
        result.validation.accuracy, abs=1e-6
    )
    assert values["final_test_loss"].value == pytest.approx(result.test.loss, rel=1e-5)
    assert values["epochs_trained"].value == epochs
    return values
