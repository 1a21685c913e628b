"""Calibration and export, measured: ECE before and after, parity, file sizes, export time.

Usage: ``python bench/calibration_export.py [--seeds 3] [--out DIR] [--config NAME ...]``.

For each config (``cnn``: ``TrainConfig(model="cnn")``, the default CNN with the tutorial's
other settings; ``fast``: the ``fast`` preset, mixed bfloat16) and each seed (42, 43, ...) it
trains with ``calibrate=True`` into a run directory in a temporary folder, then:

- reads the fitted temperature and the validation and test ECE and loss before and after
  (``calibration.json``);
- exports the run in every format with :func:`fashionkit.export.export_run` and records the
  seconds, the size on disk and the export's own check;
- loads each export with :func:`fashionkit.export.load_exported` and records the largest
  absolute difference of any probability from ``fashionkit.predict`` (the Keras model, with the
  run's TTA and temperature) on the 10,000 test images, and how many top classes differ.

Output: one JSON line per (config, seed) on stdout; with ``--out DIR`` also
``calibration_export.jsonl`` and a Markdown summary ``calibration_export.md`` (mean ± std).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
import numpy as np

import fashionkit
from fashionkit.export import ExportOptions, export_run, load_exported
from fashionkit.hardware import describe_machine
from fashionkit.presets import get_preset

FORMATS = ("saved_model", "tflite", "onnx")


def _config(name: str, seed: int) -> fashionkit.TrainConfig:
    base = get_preset(name) if name != "cnn" else fashionkit.TrainConfig(model="cnn")
    return attrs.evolve(base, seed=seed, verbose=0, calibrate=True)


def measure(name: str, seed: int, data: fashionkit.FashionMNIST) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        started = time.perf_counter()
        result = fashionkit.train(_config(name, seed), dataset=data, run_dir=run)
        train_seconds = time.perf_counter() - started
        calibration = result.calibration
        if calibration is None:
            raise RuntimeError("calibrate=True produced no calibration")
        record = fashionkit.load_run(run)
        images = data.test.images
        keras_probs = fashionkit.predict(
            record.model, images, tta=record.config.tta, temperature=record.temperature
        ).probabilities
        line: dict[str, Any] = {
            "config": name,
            "seed": seed,
            "precision": record.config.device.precision,
            "train_seconds": train_seconds,
            "test_accuracy": result.test.accuracy,
            "temperature": calibration.temperature,
            "calibration": calibration.to_dict()["scores"],
            "exports": {},
            "machine": describe_machine(result.placement.precision),
        }
        for fmt in FORMATS:
            exported = export_run(record, ExportOptions(format=fmt))  # type: ignore[arg-type]
            got = load_exported(exported.path)(images)
            line["exports"][fmt] = {
                "seconds": exported.seconds,
                "size_bytes": exported.size_bytes,
                "check_difference": exported.max_difference,
                "test_max_difference": float(np.abs(got - keras_probs).max()),
                "test_top_class_changes": int((got.argmax(1) != keras_probs.argmax(1)).sum()),
            }
        keras_bytes = (run / "model.keras").stat().st_size
        line["keras_size_bytes"] = keras_bytes
        return line


def _mean_std(values: list[float], digits: int = 4) -> str:
    if len(values) < 2:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def summary(lines: list[dict[str, Any]]) -> str:
    machine = next((line["machine"] for line in lines if "machine" in line), None)
    facts = {k: v for k, v in (machine or {}).items() if k != "precision"}
    out = [f"machine: {json.dumps(facts)}\n"] if machine is not None else []
    for name in dict.fromkeys(line["config"] for line in lines):
        mine = [line for line in lines if line["config"] == name]
        precision = mine[0].get("machine", {}).get("precision", mine[0]["precision"])
        out.append(f"## {name} ({len(mine)} seeds, {precision})\n")
        out.append("| split | ECE before | ECE after | loss before | loss after |")
        out.append("|---|---|---|---|---|")
        for split in ("validation", "test"):
            rows = [next(s for s in m["calibration"] if s["split"] == split) for m in mine]
            out.append(
                f"| {split} | {_mean_std([r['ece_before'] for r in rows])} | "
                f"{_mean_std([r['ece_after'] for r in rows])} | "
                f"{_mean_std([r['loss_before'] for r in rows])} | "
                f"{_mean_std([r['loss_after'] for r in rows])} |"
            )
        out.append(
            f"\ntemperature {_mean_std([m['temperature'] for m in mine], 3)}; test "
            f"accuracy {_mean_std([m['test_accuracy'] for m in mine])}; .keras file "
            f"{statistics.mean(m['keras_size_bytes'] for m in mine) / 1e6:.2f} MB\n"
        )
        out.append(
            "| format | size MB | export s | max diff (10,000 test images) | top-class changes |"
        )
        out.append("|---|---|---|---|---|")
        for fmt in FORMATS:
            rows = [m["exports"][fmt] for m in mine]
            out.append(
                f"| {fmt} | {statistics.mean(r['size_bytes'] for r in rows) / 1e6:.2f} | "
                f"{_mean_std([r['seconds'] for r in rows], 1)} | "
                f"{max(r['test_max_difference'] for r in rows):.2g} | "
                f"{sum(r['test_top_class_changes'] for r in rows)} |"
            )
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--config", nargs="+", default=["cnn", "fast"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    data = fashionkit.load_fashion_mnist()
    lines = []
    for seed in range(42, 42 + args.seeds):
        for name in args.config:
            line = measure(name, seed, data)
            lines.append(line)
            print(json.dumps(line), flush=True)
            if args.out is not None:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / "calibration_export.jsonl").write_text(
                    "".join(json.dumps(x) + "\n" for x in lines)
                )
    text = summary(lines)
    print(text, file=sys.stderr)
    if args.out is not None:
        (args.out / "calibration_export.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
