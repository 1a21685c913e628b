"""Accuracy over several seeds: mean and standard deviation, chosen on validation, on test.

Usage: ``python bench/seeds.py [--preset NAME | --config run.toml] [--set KEY=VALUE ...]
[--seeds 3]``. Each seed trains the same config (``seed`` and ``data.split_seed`` stay as the
config says unless set; only ``seed`` changes: weight initialisation, shuffling, dropout) in
a fresh process, through the public API, and prints one JSON line per seed and a summary line.
The README and the docs quote accuracy figures from this script.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from typing import Any

CHILD = """
import json, sys
import fashionkit
from fashionkit.hardware import describe_machine
from fashionkit.presets import get_preset
spec = json.loads(sys.argv[1])
if spec["preset"] is not None:
    base = get_preset(spec["preset"])
elif spec["config"] is not None:
    base = fashionkit.TrainConfig.from_toml(spec["config"])
else:
    base = fashionkit.TrainConfig()
config = base.with_overrides(*spec["settings"])
result = fashionkit.train(config)
print(json.dumps({
    "seed": config.seed,
    "validation_accuracy": result.validation.accuracy,
    "test_accuracy": result.test.accuracy,
    "fit_seconds": result.fit_seconds,
    "epochs": result.epochs_completed,
    "machine": describe_machine(result.placement.precision),
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--preset")
    base.add_argument("--config")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds, 42, 43, ...")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for seed in range(42, 42 + args.seeds):
        spec = {
            "preset": args.preset,
            "config": args.config,
            "settings": ["verbose=0", f"seed={seed}", *args.set],
        }
        out = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(CHILD), json.dumps(spec)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)

    def stats(key: str) -> str:
        values = [row[key] for row in rows]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.4f} ± {spread:.4f}"

    print(
        json.dumps({
            "seeds": len(rows),
            "validation_accuracy": stats("validation_accuracy"),
            "test_accuracy": stats("test_accuracy"),
            "fit_seconds": stats("fit_seconds"),
            "machine": rows[0]["machine"] if rows else None,
        }, ensure_ascii=False)
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
