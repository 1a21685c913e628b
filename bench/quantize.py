"""Quantized TFLite exports, measured: size, test accuracy and latency per image of each mode.

Usage: ``python bench/quantize.py --runs DIR [--seeds 3] [--preset fast accurate] [--out DIR]``.

Phase 1 trains each preset with each seed (42, 43, ...) into ``DIR/PRESET-SEED`` (a completed
run is kept and reused, so the script can be stopped and started again). Phase 2, once every
run is trained, exports each run as float32, float16, dynamic-range and int8 TFLite with
:func:`fashionkit.export.export_run` and records what the export measured itself: the size on
disk, the test accuracy (10,000 images) beside the float32 Keras model's, and the median
latency of one image per call with the LiteRT interpreter. Latency is measured only in
phase 2, when no training runs beside it.

Output: one JSON line per (preset, seed, mode) on stdout; with ``--out DIR`` also
``quantize.jsonl`` and a Markdown table ``quantize.md`` (mean ± std over the seeds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import attrs
from calibration_export import _mean_std  # the scripts run from bench/: one formatter

import fashionkit
from fashionkit.export import ExportOptions, export_run
from fashionkit.hardware import describe_machine
from fashionkit.presets import get_preset

MODES = (None, "float16", "dynamic", "int8")


def train_runs(presets: list[str], seeds: list[int], runs: Path, data: Any) -> dict[str, Any]:
    """Train every (preset, seed) not trained yet; the machine facts of the last one."""
    machine: dict[str, Any] = {}
    for name in presets:
        for seed in seeds:
            run = runs / f"{name}-{seed}"
            if (run / "summary.json").is_file():  # completed: reuse it
                record = fashionkit.load_run(run)
                machine = describe_machine(record.config.device.precision)
                continue
            config = attrs.evolve(get_preset(name), seed=seed, verbose=0)
            result = fashionkit.train(config, dataset=data, run_dir=run)
            machine = describe_machine(result.placement.precision)
            print(f"trained {run}: test {result.test.accuracy:.4f}", file=sys.stderr, flush=True)
    return machine


def measure(run: Path, mode: str | None, data: Any) -> dict[str, Any]:
    options = ExportOptions(
        format="tflite",
        quantize=mode,  # type: ignore[arg-type]
        check_accuracy=True,
        max_accuracy_loss=1.0,  # measure whatever it loses; the table shows it
    )
    result = export_run(run, options, dataset=data)
    return {
        "mode": mode or "float32",
        "size_bytes": result.size_bytes,
        "accuracy": result.accuracy,
        "reference_accuracy": result.reference_accuracy,
        "latency_ms": result.latency_ms,
        "export_seconds": result.seconds,
        "representative_images": result.representative_images,
    }


def summary(lines: list[dict[str, Any]], machine: dict[str, Any], command: str) -> str:
    facts = {k: v for k, v in machine.items() if k != "precision"}
    out = [f"command: `{command}`\n", f"machine: {json.dumps(facts)}\n"]
    for name in dict.fromkeys(line["preset"] for line in lines):
        mine = [line for line in lines if line["preset"] == name]
        seeds = sorted({line["seed"] for line in mine})
        precision = mine[0]["precision"]
        out.append(f"## {name} (seeds {', '.join(map(str, seeds))}; trained in {precision})\n")
        out.append("| TFLite | size MB | test accuracy | points vs float32 Keras | ms per image |")
        out.append("|---|---|---|---|---|")
        for mode in dict.fromkeys(line["mode"] for line in mine):
            rows = [line for line in mine if line["mode"] == mode]
            changes = [100 * (r["accuracy"] - r["reference_accuracy"]) for r in rows]
            change = f"{statistics.mean(changes):+.2f} ± {statistics.stdev(changes):.2f}"
            out.append(
                f"| {mode} | {statistics.mean(r['size_bytes'] for r in rows) / 1e6:.3f} | "
                f"{_mean_std([r['accuracy'] for r in rows])} | {change} | "
                f"{_mean_std([r['latency_ms'] for r in rows], 3)} |"
            )
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="folder of the run directories")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--preset", nargs="+", default=["fast", "accurate"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--train-only", action="store_true", help="stop after phase 1")
    parser.add_argument(
        "--summarize", type=Path, metavar="JSONL", help="only write the table of a quantize.jsonl"
    )
    args = parser.parse_args(argv)
    if args.summarize is not None:
        lines = [json.loads(x) for x in args.summarize.read_text().splitlines() if x.strip()]
        machine = lines[0]["machine"]
        command = lines[0]["command"]
        print(summary(lines, machine, command))
        return 0
    data = fashionkit.load_fashion_mnist()
    seeds = list(range(42, 42 + args.seeds))
    machine = train_runs(args.preset, seeds, args.runs, data)
    if args.train_only:
        return 0
    lines = []
    for name in args.preset:
        for seed in seeds:
            run = args.runs / f"{name}-{seed}"
            record = fashionkit.load_run(run)
            precision = record.environment["hardware"].get("precision", "unknown")
            for mode in MODES:
                line = {"preset": name, "seed": seed, "precision": precision}
                line.update(measure(run, mode, data))
                lines.append(line)
                print(json.dumps(line), flush=True)
    command = "python bench/quantize.py " + " ".join(argv if argv is not None else sys.argv[1:])
    for line in lines:
        line.update(machine=machine, command=command)
    text = summary(lines, machine, command)
    print(text, file=sys.stderr)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "quantize.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
        (args.out / "quantize.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
