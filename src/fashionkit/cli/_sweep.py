"""``fashionkit sweep``: a hyperparameter search with Optuna."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fashionkit.cli import _options
from fashionkit.cli._options import Commands, choices, data_options, positive
from fashionkit.cli._tflog import start_tensorflow
from fashionkit.plots import write_sweep_report
from fashionkit.sweep import PRUNERS

# fashionkit sweep


def add_sweep(commands: Commands) -> None:
    sw = commands.add_parser(
        "sweep",
        parents=[data_options()],
        help="search hyperparameters with Optuna: parallel, resumable, pruned",
        description="Train --trials configs sampled from the search space SPACE.toml, each into "
        "a run directory under the sweep folder, pruning poor ones by their per-epoch "
        "validation accuracy. Running the same command again continues the sweep; workers on "
        "other machines join with the same --storage URL and --study-name. Ends with a table "
        "of the trials, best.toml (the best config, for train --config) and plots.",
    )
    sw.add_argument("space", type=Path, help="the search space, a TOML file")
    sw.add_argument("--trials", type=positive, required=True, help="finished trials to end with")
    sw.add_argument(
        "--workers", type=positive, default=1, help="worker processes on this machine (default 1)"
    )
    sw.add_argument(
        "--storage",
        metavar="URL",
        help="where several machines share the study: a database URL, or journal:PATH for a "
        "journal file on a shared filesystem (default: SQLite in the sweep folder, one machine)",
    )
    sw.add_argument(
        "--study-name", default="fashionkit", help="the study's name (default fashionkit)"
    )
    sw.add_argument(
        "--pruner",
        choices=PRUNERS,
        default="median",
        help=f"{choices(PRUNERS)} (default median)",
    )
    sw.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="wall-clock budget: running trials stop and are queued to resume next time",
    )
    sw.add_argument("--seed", type=int, help="seed of the sampler (repeatable with one worker)")
    sw.add_argument(
        "--out", type=Path, metavar="DIR", help="the sweep folder (default sweeps/SPACE_NAME)"
    )
    sw.add_argument("--json", action="store_true", help="print the result as one JSON line")
    sw.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from fashionkit.sweep import SearchSpace, sweep

    space = SearchSpace.from_toml(args.space)
    folder = args.out if args.out is not None else Path("sweeps") / args.space.stem
    start_tensorflow(args)
    data = _options.load_data(args)
    print(
        f"sweep {args.space} into {folder}: {args.trials} trial(s), {args.workers} worker(s), "
        f"{args.pruner} pruner",
        file=sys.stderr if args.json else sys.stdout,
        flush=True,
    )
    result = sweep(
        space,
        folder,
        trials=args.trials,
        workers=args.workers,
        storage=args.storage,
        study_name=args.study_name,
        pruner=args.pruner,
        timeout_seconds=args.timeout,
        dataset=data,
        seed=args.seed,
        progress=not args.json,
    )
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    print(result.to_text())
    if result.finished < args.trials:
        print(
            f"the time budget ran out with {result.finished} of {args.trials} trial(s) finished; "
            f"run the same command again to continue (stopped trials resume)"
        )
    if result.best is not None and _drawing_available():
        for path in write_sweep_report(folder, storage=args.storage, study_name=args.study_name):
            print(f"wrote {path}")
    return 0


def _drawing_available() -> bool:
    from fashionkit._drawing import can_draw

    return can_draw()
