"""The GPU suite: runs only where TensorFlow sees a GPU, and is skipped, with its reason, elsewhere.

Each test runs its training in a fresh Python process, because TensorFlow accepts device settings
(visibility, memory growth, memory limits) only before its runtime starts; the process prints one
JSON line that the test reads. The trainings are short (one or two epochs on a subset of the real
data) so that the suite, with ``bench/gpu.sh``'s timing, stays within a few minutes on one GPU.
The decision whether a GPU is present is made once per session, in ``conftest.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.gpu, pytest.mark.integration, pytest.mark.slow]

_PRELUDE = """
import json, math, sys
import numpy as np
import fashionkit
from fashionkit import DeviceConfig, TrainConfig
from fashionkit.presets import get_preset

data = fashionkit.load_fashion_mnist({data_dir!r}, verify=False, download=False)
subset = fashionkit.FashionMNIST(
    train=fashionkit.Split(images=data.train.images[:{rows}], labels=data.train.labels[:{rows}]),
    test=fashionkit.Split(images=data.test.images[:2000], labels=data.test.labels[:2000]),
    source=data.source,
)


def gpu_facts():
    import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    details = [tf.config.experimental.get_device_details(g) for g in gpus]
    return [list(d.get("compute_capability") or ()) for d in details]


def finish(**facts):
    print("RESULT " + json.dumps(facts), flush=True)
"""


def _run(shared_data_dir: Path, body: str, *, rows: int = 6000, timeout: int = 420) -> Any:
    """Run ``body`` after the prelude in a fresh process; return what it passed to ``finish``."""
    code = _PRELUDE.format(data_dir=str(shared_data_dir), rows=rows) + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0, f"the GPU process failed:\n{done.stderr[-4000:]}"
    assert lines, f"the GPU process printed no result:\n{done.stdout[-4000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


def test_auto_precision_follows_the_gpus_compute_capability(shared_data_dir: Path) -> None:
    """``auto`` computes in bfloat16 from 8.0, float16 on 7.x and float32 below, on the real GPU."""
    facts = _run(
        shared_data_dir,
        """
        from fashionkit.devices import apply_device_config
        _, placement = apply_device_config(DeviceConfig(accelerator="gpu"))
        finish(capabilities=gpu_facts(), precision=placement.precision,
               accelerator=placement.accelerator)
        """,
    )
    assert facts["accelerator"] == "gpu"
    weakest = min(tuple(c) for c in facts["capabilities"] if c)
    expected = (
        "mixed_bfloat16"
        if weakest >= (8, 0)
        else "mixed_float16"
        if weakest >= (7, 0)
        else "float32"
    )
    assert facts["precision"] == expected


@pytest.mark.parametrize("preset", ["fast", "accurate"])
def test_each_preset_trains_on_one_gpu(shared_data_dir: Path, preset: str) -> None:
    """Each preset trains an epoch on GPU 0 with a finite loss and learns something."""
    facts = _run(
        shared_data_dir,
        f"""
        import attrs
        config = get_preset({preset!r})
        config = attrs.evolve(
            config, epochs=1, verbose=0, device=attrs.evolve(config.device, accelerator="gpu",
            gpus=(0,)),
        )
        result = fashionkit.train(config, dataset=subset)
        finish(loss=[r.loss for r in result.history], test=result.test.accuracy,
               accelerator=result.placement.accelerator, precision=result.placement.precision,
               seconds=result.fit_seconds)
        """,
    )
    assert facts["accelerator"] == "gpu"
    assert all(x == x and abs(x) < 1e6 for x in facts["loss"])  # finite
    assert facts["test"] > 0.5


def test_mirrored_over_every_gpu_keeps_the_loss_finite(shared_data_dir: Path) -> None:
    """Mirrored over all visible GPUs (Keras 3.7+'s NaN trap), every epoch's loss is finite."""
    facts = _run(
        shared_data_dir,
        """
        config = TrainConfig(
            epochs=2, batch_size=128, verbose=0, model="cnn",
            device=DeviceConfig(accelerator="gpu", strategy="mirrored"),
        )
        result = fashionkit.train(config, dataset=subset)
        finish(loss=[r.loss for r in result.history], replicas=result.placement.replicas,
               gpus=len(gpu_facts()), strategy=result.placement.strategy,
               val=[r.val_accuracy for r in result.history])
        """,
    )
    assert facts["strategy"] == "mirrored"
    assert facts["replicas"] == facts["gpus"]
    assert all(x == x and x < 10 for x in facts["loss"])
    assert facts["val"][-1] > 0.5


@pytest.mark.parametrize(("precision", "needs"), [("mixed_float16", 7), ("mixed_bfloat16", 8)])
def test_mixed_precisions_train_where_the_gpu_has_them(
    shared_data_dir: Path, precision: str, needs: int
) -> None:
    """Each mixed policy trains with a finite loss and float32 probabilities out, where native."""
    facts = _run(
        shared_data_dir,
        f"""
        caps = gpu_facts()
        if min(c[0] for c in caps) < {needs}:
            finish(skipped=True, capabilities=caps)
            sys.exit(0)
        config = TrainConfig(
            epochs=1, verbose=0, model="cnn",
            device=DeviceConfig(accelerator="gpu", gpus=(0,), precision={precision!r}),
        )
        result = fashionkit.train(config, dataset=subset)
        probs = result.model.predict(subset.test.images[:8] / 255.0, verbose=0)
        finish(skipped=False, loss=[r.loss for r in result.history],
               precision=result.placement.precision, out=str(probs.dtype),
               test=result.test.accuracy)
        """,
    )
    if facts["skipped"]:
        pytest.skip(f"{precision} needs compute capability {needs}.0; have {facts['capabilities']}")
    assert facts["precision"] == precision
    assert facts["out"] == "float32"
    assert all(x == x for x in facts["loss"])
    assert facts["test"] > 0.5


def test_memory_growth_and_limit_reach_tensorflow(shared_data_dir: Path) -> None:
    """Memory growth and a memory limit are set on the real device before the runtime starts."""
    growth = _run(
        shared_data_dir,
        """
        import tensorflow as tf
        from fashionkit.devices import apply_device_config
        apply_device_config(DeviceConfig(accelerator="gpu", gpus=(0,), memory_growth=True))
        gpu = tf.config.list_physical_devices("GPU")[0]
        finish(growth=tf.config.experimental.get_memory_growth(gpu))
        """,
    )
    assert growth["growth"] is True
    limit = _run(
        shared_data_dir,
        """
        import tensorflow as tf
        from fashionkit.devices import apply_device_config
        apply_device_config(DeviceConfig(accelerator="gpu", gpus=(0,), memory_limit_mb=1024))
        gpu = tf.config.list_physical_devices("GPU")[0]
        (logical,) = tf.config.get_logical_device_configuration(gpu)
        result = fashionkit.train(TrainConfig(epochs=1, verbose=0, device=DeviceConfig(
            accelerator="gpu", gpus=(0,), memory_limit_mb=1024)), dataset=subset)
        finish(limit=logical.memory_limit, test=result.test.accuracy)
        """,
    )
    assert limit["limit"] == 1024
    assert limit["test"] > 0.5


def test_a_gpu_trained_run_exports_and_passes_the_parity_check(
    shared_data_dir: Path, tmp_path: Path
) -> None:
    """A run trained on the GPU (in its auto precision) exports within the parity tolerance."""
    facts = _run(
        shared_data_dir,
        f"""
        from fashionkit.export import ExportOptions, export_run
        config = TrainConfig(epochs=1, verbose=0, model="cnn",
                             device=DeviceConfig(accelerator="gpu", gpus=(0,)))
        fashionkit.train(config, dataset=subset, run_dir={str(tmp_path / "run")!r})
        checks = {{}}
        for fmt in ("saved_model", "tflite"):
            done = export_run({str(tmp_path / "run")!r},
                              ExportOptions(format=fmt, check_accuracy=True), dataset=subset)
            checks[fmt] = [done.max_difference, done.tolerance]
        finish(checks=checks)
        """,
    )
    for fmt, (difference, tolerance) in facts["checks"].items():
        assert difference <= tolerance, fmt
