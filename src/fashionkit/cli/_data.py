"""``fashionkit info`` and ``fashionkit baseline``: the machine and data, the baseline."""

from __future__ import annotations

import argparse
import json
import time
import unicodedata

from fashionkit._constants import CLASS_NAMES, CLASS_NAMES_KO
from fashionkit.baseline import baseline
from fashionkit.cli import _options
from fashionkit.cli._options import Commands, data_options, nonzero, positive
from fashionkit.hardware import describe_machine, machine_summary

# fashionkit info


def add_info(commands: Commands) -> None:
    info = commands.add_parser(
        "info",
        parents=[data_options()],
        help="this machine (CPU, flags, the precision auto picks) and the data",
        description=(
            "Print this machine's CPU model, the flags that decide precision and speed "
            "(AVX2, FMA, AVX512F, AVX512_VNNI, AVX512_BF16, AMX), its kind (the row of the "
            "presets table that applies), the precision precision='auto' picks and why, then "
            "where the data is, whether it was verified, its shapes and class counts."
        ),
    )
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_cmd_info)


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (Hangul takes two columns)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _cmd_info(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    data = _options.load_data(args)
    seconds = time.perf_counter() - start
    src = data.source
    info = {
        "machine": describe_machine(),
        "directory": str(src.directory),
        "origin": src.origin,
        "verified": src.verified,
        "downloaded": list(src.downloaded),
        "load_seconds": round(seconds, 3),
        "train": {
            "images": list(data.train.images.shape),
            "labels": list(data.train.labels.shape),
            "class_counts": list(data.train.class_counts),
        },
        "test": {
            "images": list(data.test.images.shape),
            "labels": list(data.test.labels.shape),
            "class_counts": list(data.test.class_counts),
        },
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    print(machine_summary())
    status = "verified against the canonical SHA-256" if src.verified else "NOT verified"
    print(f"data:     {src.directory} (from {src.origin}; {status})")
    if src.downloaded:
        print(f"fetched:  {', '.join(src.downloaded)}")
    print(f"loaded:   in {seconds:.2f} s")
    print(
        f"train:    images {data.train.images.shape} {data.train.images.dtype}, "
        f"labels {data.train.labels.shape}"
    )
    print(
        f"test:     images {data.test.images.shape} {data.test.images.dtype}, "
        f"labels {data.test.labels.shape}"
    )
    print(f"{'label':>5}  {'class':<12} {_pad('korean', 10)} {'train':>6} {'test':>6}")
    for i, (en, ko) in enumerate(zip(CLASS_NAMES, CLASS_NAMES_KO, strict=True)):
        print(
            f"{i:>5}  {en:<12} {_pad(ko, 10)} {data.train.class_counts[i]:>6} "
            f"{data.test.class_counts[i]:>6}"
        )
    return 0


# fashionkit baseline


def add_baseline(commands: Commands) -> None:
    base = commands.add_parser(
        "baseline",
        parents=[data_options()],
        help="the tutorial's SGD logistic regression, 5-fold CV",
    )
    base.add_argument(
        "--folds", type=positive, default=5, help="cross-validation folds (default 5)"
    )
    base.add_argument(
        "--jobs", type=nonzero, default=-1, help="parallel fits (default -1: all cores)"
    )
    base.add_argument("--json", action="store_true", help="print JSON")
    base.set_defaults(func=_cmd_baseline)


def _cmd_baseline(args: argparse.Namespace) -> int:
    result = baseline(_options.load_data(args), folds=args.folds, n_jobs=args.jobs)
    if args.json:
        print(
            json.dumps(
                {
                    "fold_scores": list(result.fold_scores),
                    "mean": result.mean,
                    "std": result.std,
                    "seconds": result.seconds,
                    "n_samples": result.n_samples,
                },
                indent=2,
            )
        )
    else:
        print(result)
    return 0
