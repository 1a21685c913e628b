"""Benchmark fashionkit against the tutorial's own code, in one run on one machine.

Usage: ``python bench/run.py [--repeat N] [--presets] [--json PATH]`` (or ``nox -s bench``).

Every measurement runs in a fresh process, so that import costs, peak memory (the child's
``ru_maxrss`` from ``wait4``) and TensorFlow's start-up are those a user sees. The tutorial and
fashionkit alternate, ``--repeat`` times each, and medians are reported with the ratio
fashionkit / tutorial. Timings on shared 2-core machines are noisy: compare the ratios of one
run, not seconds across runs.

Data: ``$FASHIONKIT_DATA_DIR`` (default ``../shared/data/fashion-mnist``). The tutorial reads
it through ``keras.datasets.fashion_mnist.load_data()`` from a temporary ``KERAS_HOME``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "fashion-mnist"
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

IMPORT = """
import json, sys, time
start = time.perf_counter()
import fashionkit
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "tensorflow_imported": "tensorflow" in sys.modules}))
"""

LOAD = """
import hashlib, json, sys, time
from pathlib import Path
import fashionkit, fashionkit.datasets as ds
folder, verify = Path(sys.argv[1]), sys.argv[2] == "1"
if verify:
    # The offline copy is a re-split (not the canonical bytes): pin its own digests, so that
    # the real verification code runs in full.
    for name in ds.CANONICAL_SHA256:
        ds.CANONICAL_SHA256[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
start = time.perf_counter()
data = fashionkit.load_fashion_mnist(folder, verify=verify, download=False)
print(json.dumps({"seconds": time.perf_counter() - start, "verified": data.source.verified}))
"""

FASHIONKIT = """
import json, fashionkit
result = fashionkit.train()
print(json.dumps({"fit_seconds": result.fit_seconds,
                  "val_accuracy": result.validation.accuracy}))
"""

PRESET = """
import json, sys, time
import keras, fashionkit
from fashionkit.presets import get_preset
config = get_preset(sys.argv[1])
data = fashionkit.load_fashion_mnist()
test = fashionkit.Evaluator(data.test.images, data.test.labels, split="test", tta=config.tta)
from fashionkit._averaging import averaged_weights  # evaluate what fashionkit keeps

class TimeToAccuracy(keras.callbacks.Callback):
    # Fit time, excluding this callback's own test evaluation, at the end of every epoch.
    def on_train_begin(self, logs=None):
        self.fit, self.rows = 0.0, []
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        self.fit += time.perf_counter() - self.start
        with averaged_weights(self.model):
            accuracy = test(self.model).accuracy
        self.rows.append({"epoch": epoch + 1, "fit_seconds": self.fit, "test_accuracy": accuracy})

tta = TimeToAccuracy()
fashionkit.train(config, dataset=data, callbacks=[tta])
print(json.dumps({"epochs": tta.rows}))
"""

TARGETS = {"fast": (0.92, 60.0), "accurate": (0.94, 900.0)}  # issue 12


def run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a child process; return its last JSON line plus wall time and peak RSS (MiB)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    out = child.stdout.read() if child.stdout is not None else b""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{args[:2]} failed with status {status}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result.update(wall_seconds=wall, peak_rss_mib=usage.ru_maxrss / 1024)
    return dict(result)


def code(source: str, *argv: str) -> list[str]:
    return ["-c", textwrap.dedent(source), *argv]


def median(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(row[key] for row in rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--presets", action="store_true", help="also time the presets")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    args = parser.parse_args()

    data = Path(os.environ.get("FASHIONKIT_DATA_DIR", DEFAULT_DATA)).resolve()
    env = {**os.environ, "FASHIONKIT_DATA_DIR": str(data), "FASHIONKIT_VERIFY": "0",
           "TF_CPP_MIN_LOG_LEVEL": "2"}  # fmt: skip
    keras_home = Path(tempfile.mkdtemp(prefix="fashionkit-bench-"))
    (keras_home / "datasets" / "fashion-mnist").mkdir(parents=True)
    for name in FILES:
        (keras_home / "datasets" / "fashion-mnist" / name).symlink_to(data / name)
    tutorial_env = {**env, "KERAS_HOME": str(keras_home)}
    # Imported only now that the environments are fixed: ``import fashionkit`` may set
    # TF_ENABLE_ONEDNN_OPTS in this process, and the tutorial's must stay the user's.
    from fashionkit.hardware import describe_machine, onednn_setting

    machine = {**describe_machine(), "onednn_tutorial": onednn_setting(tutorial_env)}

    results: dict[str, Any] = {
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "machine": machine,
    }
    results["import"] = [run(code(IMPORT), env) for _ in range(args.repeat)]
    results["load_unverified"] = [run(code(LOAD, str(data), "0"), env) for _ in range(args.repeat)]
    results["load_verified"] = [run(code(LOAD, str(data), "1"), env) for _ in range(args.repeat)]
    tutorial: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    for _ in range(args.repeat):  # alternate, so that drifts of the machine hit both alike
        tutorial.append(run([str(HERE / "tutorial.py")], tutorial_env))
        ours.append(run(code(FASHIONKIT), env))
    results["tutorial"], results["fashionkit"] = tutorial, ours
    if args.presets:
        results["presets"] = {name: run(code(PRESET, name), env) for name in TARGETS}

    print(f"fashionkit benchmark: {args.repeat} run(s) each, medians, {os.cpu_count()} cores")
    print(f"machine: {json.dumps(machine)}")
    print(
        f"import fashionkit          {median(results['import'], 'seconds'):.3f} s "
        f"(TensorFlow imported: {any(r['tensorflow_imported'] for r in results['import'])})"
    )
    print(f"load, not verified         {median(results['load_unverified'], 'seconds'):.3f} s")
    print(f"load, verified (sha256)    {median(results['load_verified'], 'seconds'):.3f} s")
    print()
    print("| measure | tutorial | fashionkit | ratio | target |")
    print("|---|---|---|---|---|")
    for label, key, unit, target in (
        ("fit wall time", "fit_seconds", "s", "<= 0.4"),
        ("whole process wall time", "wall_seconds", "s", ""),
        ("peak resident memory", "peak_rss_mib", "MiB", "<= 0.6"),
    ):
        t, f = median(tutorial, key), median(ours, key)
        print(f"| {label} | {t:.2f} {unit} | {f:.2f} {unit} | {f / t:.2f} | {target} |")
    t_acc, f_acc = median(tutorial, "val_accuracy"), median(ours, "val_accuracy")
    print(
        f"| validation accuracy | {t_acc:.4f} | {f_acc:.4f} | {100 * (f_acc - t_acc):+.2f} pts "
        f"| within 0.5 pts |"
    )
    for name, run_result in results.get("presets", {}).items():
        goal, budget = TARGETS[name]
        rows = run_result["epochs"]
        hit = next((r for r in rows if r["test_accuracy"] >= goal), None)
        best = max(r["test_accuracy"] for r in rows)
        reached = (
            f"reached {goal:.2f} after epoch {hit['epoch']}, {hit['fit_seconds']:.0f} s of fit"
            if hit else f"did not reach {goal:.2f}"
        )  # fmt: skip
        print(
            f"preset {name}: {reached} (budget {budget:.0f} s); best {best:.4f}, "
            f"{rows[-1]['fit_seconds']:.0f} s for {len(rows)} epochs"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
