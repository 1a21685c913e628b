"""Screen recipe components against a preset on the validation split only.

Usage: ``python bench/screen.py --preset fast --variants base whiten3 ... [--seeds 42]
[--out DIR]``; ``--list`` prints the variants.

Each (seed, variant) trains the preset with the variant's settings (``--set`` keys, as
``fashionkit train --preset NAME --set KEY=VALUE`` applies them) in a fresh process, seeds the
outer loop, and records after every epoch the fit seconds so far (``EpochRecord.seconds``
added up: training and the preset's own per-epoch validation) and the validation accuracy. The
test split is never evaluated here: components are kept or dropped on validation alone, and
the test accuracy of the chosen presets is measured afterwards by
``bench/time_to_accuracy.py``.

Output: one JSON line per (variant, seed) on stdout with ``variant``, ``settings``, ``seed``,
``epochs`` (per epoch: ``seconds``, ``validation_accuracy``), ``fit_seconds``,
``final_validation`` (the final validation report, with the preset's test-time augmentation)
and ``machine``; with ``--out DIR`` also ``screen.jsonl`` (rewritten after every process) and
``screen.md``: per variant the mean fit seconds, the final validation accuracy, and the fit
seconds at which the per-epoch validation accuracy first reached 0.91 and 0.92 (0.93 and 0.94
for ``accurate``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from time_to_accuracy import describe  # the benchmark beside this script: one machine line

#: The variants: settings laid over the preset (dotted keys, TOML values as for --set).
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "epochs5": {"epochs": 5},
    "whiten2": {"model.whiten": 2},
    "whiten3": {"model.whiten": 3},
    "bn-after-pool": {"model.batch_norm": True, "model.norm_after_pool": True},
    "muon": {"optimizer.name": "muon"},
    "batch256": {"batch_size": 256},
    "filters16-32": {"model.filters": [16, 32]},
    "smoothing0.2": {"loss.label_smoothing": 0.2},
    "no-tta": {"tta": False, "calibrate": False},
}

_CHILD = """
import json, sys, time
import fashionkit
from fashionkit.config import TrainConfig
from fashionkit.hardware import describe_machine
from fashionkit.presets import get_preset

preset, seed, settings = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
config = get_preset(preset).with_overrides(*settings.items(), ("seed", seed), ("verbose", 0))
result = fashionkit.train(config)
total = 0.0
epochs = []
for record in result.history:
    total += record.seconds or 0.0
    epochs.append({"epoch": record.epoch, "seconds": round(total, 2),
                   "validation_accuracy": record.val_accuracy})
print(json.dumps({"fit_seconds": round(result.fit_seconds, 2), "epochs": epochs,
                  "final_validation": result.validation.accuracy,
                  "machine": describe_machine(precision=result.placement.precision)}))
"""


def _run(preset: str, seed: int, settings: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, preset, str(seed), json.dumps(settings)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _first(epochs: list[dict[str, Any]], target: float) -> float | None:
    return next((e["seconds"] for e in epochs if e["validation_accuracy"] >= target), None)


def _machine(facts: dict[str, Any]) -> str:
    """The benchmark's machine line, with the precision the run computed in and why."""
    return f"{describe(facts)}; precision {facts['auto_precision']} ({facts['auto_reason']})"


def _table(rows: list[dict[str, Any]], preset: str) -> str:
    targets = (0.91, 0.92) if preset != "accurate" else (0.93, 0.94)
    machine = _machine(rows[0]["machine"]) if rows else ""
    lines = [
        f"# Screening `{preset}` on the validation split",
        "",
        f"Machine: {machine}.",
        "",
        "`python bench/screen.py --preset "
        + preset
        + f"`; seeds {', '.join(map(str, sorted({r['seed'] for r in rows})))}, one fresh "
        "process per (seed, variant). Fit seconds: the epochs' wall time, "
        "the preset's per-epoch validation included. A target column gives the mean fit "
        "seconds at which the per-epoch validation accuracy (without test-time augmentation) "
        "first reached it (— when it did not in some seed). The final validation accuracy is "
        "the final report's, with the preset's test-time augmentation.",
        "",
        "| variant | settings | seeds | fit seconds | final validation | "
        + " | ".join(f"≥ {t} at" for t in targets)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(targets),
    ]
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    for name in variants:
        mine = [r for r in rows if r["variant"] == name]
        fit = statistics.mean(r["fit_seconds"] for r in mine)
        final = [r["final_validation"] for r in mine]
        spread = f" ± {statistics.stdev(final):.4f}" if len(final) > 1 else ""
        cells = []
        for target in targets:
            reached = [_first(r["epochs"], target) for r in mine]
            cells.append(
                "—" if any(t is None for t in reached) else f"{statistics.mean(reached):.1f} s"  # type: ignore[arg-type]
            )
        settings = ", ".join(f"{k}={v}" for k, v in mine[0]["settings"].items()) or "(preset)"
        lines.append(
            f"| `{name}` | {settings} | {len(mine)} | {fit:.1f} | "
            f"{statistics.mean(final):.4f}{spread} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    """Run the screening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=KEY=VALUE;KEY=VALUE")
    parser.add_argument("--seeds", nargs="*", type=int, default=[42])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--list", action="store_true")
    parser.add_argument(
        "--table", action="store_true", help="only rewrite --out's screen.md from its JSON lines"
    )
    args = parser.parse_args()
    if args.table:
        rows = [json.loads(line) for line in (args.out / "screen.jsonl").read_text().splitlines()]
        (args.out / "screen.md").write_text(_table(rows, args.preset))
        return 0
    variants = dict(VARIANTS)
    for spec in args.set:  # ad-hoc variants: name=key=value;key=value
        name, _, body = spec.partition("=")
        from fashionkit.config import parse_override

        pairs = [parse_override(item) for item in body.split(";")]
        variants[name] = {".".join(path): value for path, value in pairs}
        args.variants.append(name)
    if args.list:
        for name, settings in variants.items():
            print(name, json.dumps(settings))
        return 0
    rows: list[dict[str, Any]] = []
    if args.out is not None and (args.out / "screen.jsonl").exists():
        rows = [json.loads(line) for line in (args.out / "screen.jsonl").read_text().splitlines()]
    for seed in args.seeds:
        for name in args.variants:
            settings = variants[name]
            row = {"variant": name, "settings": settings, "seed": seed, "preset": args.preset}
            row.update(_run(args.preset, seed, settings))
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out is not None:
                args.out.mkdir(parents=True, exist_ok=True)
                mine = [r for r in rows if r.get("preset", args.preset) == args.preset]
                (args.out / "screen.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
                (args.out / "screen.md").write_text(_table(mine, args.preset))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
