"""Kernels and compilation: seconds per epoch of a preset under TensorFlow's CPU switches.

Usage: ``python bench/kernels.py [--preset fast] [--epochs 2] [--repeat 1] [--only NAME ...]
[--out FILE]``.

Each variant trains the preset for ``--epochs`` epochs (its schedule shortened to them, which
does not change the cost of an epoch) in a fresh process, so that variables read when
TensorFlow starts take effect. It reports the seconds of every epoch (the first includes
tracing), the validation accuracy after the last one, and the hardware line of
:func:`fashionkit.hardware.describe_machine`. Variants (see ``VARIANTS``):

- ``default``: what fashionkit does unless told otherwise, in float32;
- ``onednn-off`` / ``onednn-on``: ``TF_ENABLE_ONEDNN_OPTS=0`` / ``1`` (oneDNN off is the closest
  stand-in for an AVX2-only CPU on a machine that has AVX-512);
- ``bfloat16``: ``mixed_bfloat16`` (fast only where the CPU has AVX512_BF16 or AMX);
- ``xla`` / ``xla-nondeterministic``: Keras ``jit_compile=True`` with op determinism on / off;
- ``nondeterministic``: op determinism off, no XLA;
- ``threads-1x2`` / ``threads-2x1``: inter-op x intra-op thread pools;
- ``steps-1``: ``steps_per_execution=1`` instead of the default.

Output: one JSON line per process on stdout and a Markdown table on stderr (and in ``--out``).
Figures on a busy machine are upper bounds; compare variants of one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()

#: name -> (environment, child options)
VARIANTS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "default": ({}, {}),
    "onednn-off": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, {}),
    "onednn-on": ({"TF_ENABLE_ONEDNN_OPTS": "1"}, {}),
    "bfloat16": ({}, {"precision": "mixed_bfloat16"}),
    "xla": ({}, {"jit_compile": True}),
    "xla-nondeterministic": ({}, {"jit_compile": True, "deterministic": False}),
    "nondeterministic": ({}, {"deterministic": False}),
    "threads-1x2": ({}, {"threads": (1, 2)}),
    "threads-2x1": ({}, {"threads": (2, 1)}),
    "steps-1": ({}, {"steps_per_execution": 1}),
}


def _child(spec: dict[str, Any]) -> None:
    import attrs

    import fashionkit
    from fashionkit.hardware import describe_machine
    from fashionkit.presets import get_preset

    if spec.get("threads"):
        import tensorflow as tf

        inter, intra = spec["threads"]
        tf.config.threading.set_inter_op_parallelism_threads(inter)
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    if spec.get("jit_compile"):
        import keras

        compile_ = keras.Model.compile

        def compile_with_xla(self: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs["jit_compile"] = True
            return compile_(self, *args, **kwargs)

        keras.Model.compile = compile_with_xla  # type: ignore[method-assign]
    config = get_preset(spec["preset"])
    config = attrs.evolve(
        config,
        epochs=spec["epochs"],
        verbose=0,
        calibrate=False,
        deterministic=spec.get("deterministic", True),
        steps_per_execution=spec.get("steps_per_execution", config.steps_per_execution),
        device=attrs.evolve(config.device, precision=spec.get("precision", "float32")),
    )
    result = fashionkit.train(config)
    print(
        json.dumps(
            {
                "variant": spec["variant"],
                "epoch_seconds": [record.seconds for record in result.history],
                "validation_accuracy": result.validation.accuracy,
                "precision": result.placement.precision,
                "machine": describe_machine(),
            }
        ),
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", nargs="*", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(json.loads(args.child))
        return 0
    rows: list[dict[str, Any]] = []
    for _ in range(args.repeat):  # the outer loop, so that drifts hit every variant alike
        for name in args.only:
            env_extra, options = VARIANTS[name]
            spec = {"variant": name, "preset": args.preset, "epochs": args.epochs, **options}
            env = {**os.environ, **env_extra}
            done = subprocess.run(
                [sys.executable, str(HERE), "--child", json.dumps(spec)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(row), flush=True)
            rows.append(row)
    lines = [
        f"{args.preset}, {args.epochs} epochs, {rows[0]['machine'] if rows else ''}",
        "",
        "| variant | precision | first epoch s | later epochs s (median) | validation accuracy |",
        "|---|---|---|---|---|",
    ]
    for name in args.only:
        mine = [row for row in rows if row["variant"] == name]
        if not mine:
            continue
        first = statistics.median(row["epoch_seconds"][0] for row in mine)
        later = [s for row in mine for s in row["epoch_seconds"][1:]]
        accuracy = statistics.mean(row["validation_accuracy"] for row in mine)
        lines.append(
            f"| {name} | {mine[0]['precision']} | {first:.1f} | "
            f"{statistics.median(later) if later else float('nan'):.1f} | {accuracy:.4f} |"
        )
    table = "\n".join(lines) + "\n"
    print(table, file=sys.stderr)
    if args.out:
        args.out.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
