"""Device selection (pure planning over device lists) and its real application on the CPU.

No test here pretends that a GPU ran: GPU branches are exercised through ``plan_devices`` with
made-up device names, and everything that runs TensorFlow runs on this machine's CPU.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest

import fashionkit
from fashionkit.config import DeviceConfig, TrainConfig
from fashionkit.devices import plan_devices
from fashionkit.exceptions import DeviceError
from tests.helpers import metrics_only

CPU = ["/physical_device:CPU:0"]
TWO_GPUS = ["/physical_device:GPU:0", "/physical_device:GPU:1"]
TF_CONFIG = json.dumps(
    {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 1}}
)


# --- planning: every branch, on any machine -------------------------------------------------


def test_auto_without_gpu_falls_back_to_cpu_and_says_so() -> None:
    """It trains on the CPU with a note when auto finds no GPU."""
    plan = plan_devices(DeviceConfig(), gpus=[], cpus=CPU)
    assert plan.accelerator == "cpu"
    assert plan.gpu_indices == ()
    assert plan.strategy == "default"
    assert "no GPU" in plan.note


def test_gpu_without_gpu_lists_devices_and_causes() -> None:
    """It raises DeviceError listing the devices that exist and the usual causes."""
    with pytest.raises(DeviceError) as info:
        plan_devices(DeviceConfig(accelerator="gpu"), gpus=[], cpus=CPU)
    message = str(info.value)
    assert "/physical_device:CPU:0" in message
    assert "tensorflow[and-cuda]" in message
    assert "CUDA_VISIBLE_DEVICES" in message
    assert isinstance(info.value, RuntimeError)


def test_device_names_given_as_one_string_are_refused() -> None:
    """It raises ArgumentError naming gpus, instead of counting the letters of a name as GPUs."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^gpus must be a list or tuple"):
        plan_devices(DeviceConfig(), gpus="/physical_device:GPU:0", cpus=CPU)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [-1, 2**32, 4.0, "42"])
def test_configure_determinism_refuses_a_seed_out_of_range(seed: object) -> None:
    """It raises ArgumentError naming seed before Keras is seeded with it."""
    from fashionkit.devices import configure_determinism

    with pytest.raises(fashionkit.ArgumentError, match=r"^seed must be an integer >= 0 and < "):
        configure_determinism(seed, deterministic=False)  # type: ignore[arg-type]


def test_one_gpu_is_used_with_the_default_strategy() -> None:
    """It uses a single GPU without a distribution strategy."""
    plan = plan_devices(DeviceConfig(), gpus=TWO_GPUS[:1], cpus=CPU)
    assert (plan.accelerator, plan.gpu_indices, plan.strategy) == ("gpu", (0,), "default")


def test_several_gpus_are_mirrored_by_auto() -> None:
    """It mirrors across every GPU when auto sees several."""
    plan = plan_devices(DeviceConfig(accelerator="gpu"), gpus=TWO_GPUS, cpus=CPU)
    assert plan.gpu_indices == (0, 1)
    assert plan.strategy == "mirrored"


def test_selected_gpu_indices_are_kept() -> None:
    """It keeps only the requested GPUs."""
    plan = plan_devices(DeviceConfig(gpus=[1]), gpus=TWO_GPUS, cpus=CPU)
    assert plan.gpu_indices == (1,)
    assert plan.strategy == "default"


def test_a_gpu_index_that_does_not_exist_is_refused() -> None:
    """It raises DeviceError naming the bad index and the GPUs that exist."""
    with pytest.raises(DeviceError, match=r"GPU 2.*sees 2 GPU\(s\), numbered 0 to 1"):
        plan_devices(DeviceConfig(gpus=[0, 2]), gpus=TWO_GPUS, cpus=CPU)


def test_cpu_hides_gpus_that_exist() -> None:
    """It plans no GPU at all when the CPU is requested on a GPU machine."""
    plan = plan_devices(DeviceConfig(accelerator="cpu"), gpus=TWO_GPUS, cpus=CPU)
    assert (plan.accelerator, plan.gpu_indices) == ("cpu", ())
    assert plan.note == "CPU requested"


def test_virtual_cpus_make_auto_mirror_on_the_cpu() -> None:
    """It splits the CPU into logical devices and mirrors across them."""
    plan = plan_devices(DeviceConfig(accelerator="cpu", virtual_cpus=2), gpus=[], cpus=CPU)
    assert plan.logical_cpus == 2
    assert plan.strategy == "mirrored"
    assert "2 logical devices" in plan.note


def test_explicit_strategies_are_kept() -> None:
    """It uses one_device or mirrored as asked, even on one device."""
    for name in ("one_device", "mirrored"):
        plan = plan_devices(DeviceConfig(strategy=name), gpus=[], cpus=CPU)
        assert plan.strategy == name


def test_multi_worker_needs_tf_config() -> None:
    """It explains TF_CONFIG when multi_worker is asked for without it."""
    with pytest.raises(DeviceError, match="TF_CONFIG"):
        plan_devices(DeviceConfig(strategy="multi_worker"), gpus=[], cpus=CPU, tf_config=None)


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        json.dumps({"cluster": {}}),
        json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}),
    ],
)
def test_multi_worker_rejects_a_malformed_tf_config(bad: str) -> None:
    """It raises DeviceError for TF_CONFIG that is not JSON or lacks the worker list or index."""
    with pytest.raises(DeviceError, match="TF_CONFIG"):
        plan_devices(DeviceConfig(strategy="multi_worker"), gpus=[], cpus=CPU, tf_config=bad)


def test_multi_worker_counts_the_workers() -> None:
    """It plans multi_worker and names the number of workers from TF_CONFIG."""
    plan = plan_devices(
        DeviceConfig(strategy="multi_worker"), gpus=[], cpus=CPU, tf_config=TF_CONFIG
    )
    assert plan.strategy == "multi_worker"
    assert "2 worker(s)" in plan.note


# --- real application on the CPU (fresh processes, since TensorFlow configures once) --------


def _run_python(code: str, *, env: dict[str, str] | None = None, timeout: float = 300) -> Any:
    """Run ``code`` in a fresh interpreter and return the JSON its last stdout line holds."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


_TINY = """
import json, numpy as np, fashionkit, keras
from pathlib import Path
rng = np.random.default_rng(7)
def make(n):
    labels = (np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i, 2 * label : 2 * label + 3, :] = 230
    return fashionkit.Split(images=images, labels=labels)
data = fashionkit.FashionMNIST(
    train=make(200), test=make(50),
    source=fashionkit.DataSource(directory=Path("."), origin="argument", verified=False))
class CountBatches(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.batches = 0
    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
"""


def test_mirrored_on_virtual_cpus_keeps_the_global_batch() -> None:
    """It mirrors over two logical CPUs, reports 2 replicas, and keeps steps per epoch global."""
    result = _run_python(
        _TINY
        + """
counter = CountBatches()
config = fashionkit.TrainConfig(
    epochs=2, batch_size=16, verbose=0,
    device={"accelerator": "cpu", "virtual_cpus": 2})
r = fashionkit.train(config, dataset=data, callbacks=[counter])
print(json.dumps({"replicas": r.placement.replicas, "strategy": r.placement.strategy,
                  "devices": list(r.placement.devices), "batches": counter.batches,
                  "accuracy": r.test.accuracy,
                  "steps_per_execution": r.model.steps_per_execution}))
"""
    )
    assert result["strategy"] == "mirrored"
    assert result["replicas"] == 2
    assert len(result["devices"]) == 2
    # 160 training images in global batches of 16: 10 steps, as on one device.
    assert result["batches"] == 10
    assert result["accuracy"] > 0.5
    # Keras's multi-step loop fails under MirroredStrategy: one step per call there.
    assert result["steps_per_execution"] == 1


def test_xla_is_refused_where_auto_mirrors_over_virtual_cpus() -> None:
    """``strategy="auto"`` resolves to mirrored here: ``jit_compile="on"`` fails before training."""
    result = _run_python(
        _TINY
        + """
config = fashionkit.TrainConfig(
    epochs=1, verbose=0, deterministic=False,
    device={"accelerator": "cpu", "virtual_cpus": 2, "jit_compile": "on"})
try:
    fashionkit.train(config, dataset=data)
except fashionkit.ConfigError as exc:
    print(json.dumps({"error": str(exc)}))
"""
    )
    assert "strategy='auto' chose 'mirrored' for 2 devices" in result["error"]


def test_changing_devices_after_tensorflow_started_is_a_clear_error() -> None:
    """It raises DeviceError, not TensorFlow's RuntimeError, when the runtime is already up."""
    result = _run_python(
        _TINY
        + """
import tensorflow as tf
tf.constant(1.0) + 1.0  # starts the runtime with one logical CPU
config = fashionkit.TrainConfig(epochs=1, verbose=0,
                                device={"accelerator": "cpu", "virtual_cpus": 2})
try:
    fashionkit.train(config, dataset=data)
except fashionkit.DeviceError as exc:
    print(json.dumps({"error": str(exc), "runtime": isinstance(exc, RuntimeError)}))
"""
    )
    assert "already initialised" in result["error"]
    assert "fresh process" in result["error"]
    assert result["runtime"] is True


# bfloat16 is emulated on AVX2-only CPUs, and fashionkit says so (see test_hardware).
@pytest.mark.filterwarnings(
    "ignore:DeviceConfig\\(precision=:fashionkit.exceptions.FashionkitWarning"
)
def test_mixed_precision_keeps_a_float32_output_and_restores_the_policy(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It builds mixed-precision layers, a float32 softmax, and restores Keras's policy."""
    import keras

    config = TrainConfig(epochs=1, verbose=0, device={"precision": "mixed_bfloat16"})
    result = fashionkit.train(config, dataset=tiny_dataset)
    assert result.placement.precision == "mixed_bfloat16"
    assert result.model.layers[-1].dtype_policy.name == "float32"
    assert result.model.get_layer("output").compute_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"
    assert math.isfinite(result.history[0].loss)
    assert math.isfinite(result.validation.loss)


def test_auto_on_this_machine_reports_the_cpu_fallback(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It trains on the CPU with auto here and says why in the placement."""
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    result = fashionkit.train(TrainConfig(epochs=1, verbose=0), dataset=tiny_dataset)
    assert result.placement.accelerator == "cpu"
    assert result.placement.requested == "auto"
    assert "no GPU" in result.placement.note
    assert result.placement.replicas == 1
    assert result.placement.precision == "float32"  # TrainConfig's default is float32
    assert result.placement.precision_note.startswith("as configured; native on this CPU")


def test_auto_precision_follows_this_cpu_and_is_recorded(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It resolves auto from this CPU's flags, prints why, and keeps it in the run directory."""
    import tensorflow as tf

    from fashionkit.hardware import choose_precision, read_cpu

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    expected = choose_precision("auto", accelerator="cpu", cpu=read_cpu())
    config = TrainConfig(epochs=1, verbose=0, device={"precision": "auto"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", fashionkit.FashionkitWarning)  # auto never warns
        result = fashionkit.train(config, dataset=tiny_dataset, run_dir=tmp_path / "run")
    assert result.placement.precision == expected.precision
    assert result.placement.precision_note == expected.reason
    assert f"precision {expected.precision} ({expected.reason})" in str(result.placement)
    assert result.model.get_layer("output").compute_dtype == "float32"
    environment = json.loads((tmp_path / "run" / "environment.json").read_text())
    assert environment["placement"]["precision"] == expected.precision
    assert environment["placement"]["precision_note"] == expected.reason
    assert environment["hardware"]["cpu"] == read_cpu().model
    assert environment["hardware"]["isa"] == list(read_cpu().isa)


def test_gpu_request_without_gpu_fails_with_device_list(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It raises DeviceError listing the devices when train requires a GPU that is absent."""
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    config = TrainConfig(epochs=1, verbose=0, device={"accelerator": "gpu"})
    with pytest.raises(fashionkit.DeviceError, match="CPU:0"):
        fashionkit.train(config, dataset=tiny_dataset)


# --- determinism --------------------------------------------------------------------------


def _subset(data: fashionkit.FashionMNIST, n_train: int, n_test: int) -> fashionkit.FashionMNIST:
    return fashionkit.FashionMNIST(
        train=fashionkit.Split(
            images=data.train.images[:n_train], labels=data.train.labels[:n_train]
        ),
        test=fashionkit.Split(images=data.test.images[:n_test], labels=data.test.labels[:n_test]),
        source=data.source,
    )


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize(("model", "n_train"), [("linear", 10000), ("cnn", 3000)])
def test_deterministic_runs_give_identical_metrics(
    real_data: fashionkit.FashionMNIST, model: str, n_train: int
) -> None:
    """It gives bit-identical histories and reports for two runs of one deterministic config."""
    data = _subset(real_data, n_train, 1000)
    config = TrainConfig(model=model, epochs=2, batch_size=64, verbose=0)
    first = fashionkit.train(config, dataset=data)
    second = fashionkit.train(config, dataset=data)
    assert metrics_only(first.history) == metrics_only(second.history)
    assert first.test.to_dict() == second.test.to_dict()


def test_deterministic_switch_turns_op_determinism_on_and_off(
    tiny_dataset: fashionkit.FashionMNIST,
) -> None:
    """It enables TensorFlow's op determinism by default and disables it on request."""
    from tensorflow.python.framework import config as tf_config

    fashionkit.train(TrainConfig(epochs=1, verbose=0), dataset=tiny_dataset)
    assert tf_config.is_op_determinism_enabled()
    fashionkit.train(TrainConfig(epochs=1, verbose=0, deterministic=False), dataset=tiny_dataset)
    assert not tf_config.is_op_determinism_enabled()


# --- two workers on this machine ----------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.xdist_group("processes")
def test_two_workers_train_like_one(
    shared_data_dir: Path, real_data: fashionkit.FashionMNIST
) -> None:
    """It trains the linear model on two workers on 127.0.0.1 as well as on one.

    The one machine's run is trained in this process, from the same files; the two workers
    are ``fashionkit train`` processes.
    """
    common = [
        sys.executable, "-m", "fashionkit.cli", "train", "--data-dir", str(shared_data_dir),
        "--no-verify", "--epochs", "1", "--batch-size", "256", "--quiet", "--json",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    single = fashionkit.train(TrainConfig(epochs=1, batch_size=256, verbose=0), dataset=real_data)
    one = json.loads(json.dumps(single.to_dict()))

    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(
            subprocess.Popen(
                [*common, "--strategy", "multi_worker"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**env, "TF_CONFIG": json.dumps(tf_config)},
            )
        )
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:  # on failure too: stop the workers and close their pipes
            proc.kill()
            proc.communicate()
    for result in results:
        assert result["placement"]["strategy"] == "multi_worker"
        assert result["placement"]["replicas"] == 2
        assert [r["partial"] for r in result["history"]] == [False]
        # The multi-worker loop logs what Keras's fit logs, val_* from the same evaluator.
        assert [set(r) for r in result["history"]] == [set(r) for r in one["history"]]
        assert result["history"][-1]["val_loss"] == result["validation"]["loss"]
        assert abs(result["validation"]["accuracy"] - one["validation"]["accuracy"]) < 0.02
    # The workers hold one synchronised model: they agree exactly.
    assert results[0]["test"] == results[1]["test"]
