"""``fashionkit train`` and ``fashionkit lr-find``: the config flags and the commands."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from fashionkit._constants import (
    ACCELERATORS,
    LABEL_ENCODINGS,
    LAYOUT_CHOICES,
    OPTIMIZERS,
    PRECISIONS,
    STRATEGIES,
)
from fashionkit.cli import _options
from fashionkit.cli._options import Commands, choices, data_options, gpu_list, number_or_none
from fashionkit.cli._tflog import start_tensorflow
from fashionkit.config import TrainConfig, settable_keys
from fashionkit.devices import is_chief_task
from fashionkit.lr_finder import RangeTestOptions, find_learning_rate
from fashionkit.models import list_architectures
from fashionkit.plots import check_plot_path, plot_learning_rate_sweep
from fashionkit.presets import get_preset, list_presets
from fashionkit.runs import RunWriter, check_model_path, save_model
from fashionkit.training import train

# The config flags of train and lr-find (a parent parser), where each lands in the config, and
# train_config, which applies them.


def config_options() -> argparse.ArgumentParser:
    """The flags that build a TrainConfig (see :func:`train_config`): train and lr-find."""
    parent = argparse.ArgumentParser(add_help=False)
    base_config = parent.add_mutually_exclusive_group()
    base_config.add_argument("--config", type=Path, help="TOML config; flags below override it")
    base_config.add_argument(
        "--preset", help=f"named config: {choices(list_presets())}; flags below override it"
    )
    parent.add_argument(
        "--model",
        help=f"architecture: {choices(list_architectures())} (register others from Python)",
    )
    parent.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="set any config key, dotted, to a TOML value (repeatable), e.g. "
        "--set model.dropout=0.3 --set model.filters=[16,32]; applied after the other flags",
    )
    parent.add_argument("--epochs", type=int)
    parent.add_argument("--batch-size", type=int)
    parent.add_argument("--loss", help=f"label encoding: {choices(LABEL_ENCODINGS)}")
    parent.add_argument("--label-smoothing", type=float, help="one_hot only")
    parent.add_argument("--optimizer", help=choices(OPTIMIZERS))
    parent.add_argument("--learning-rate", type=float)
    parent.add_argument("--validation-fraction", type=float)
    parent.add_argument("--layout", help=choices(LAYOUT_CHOICES))
    dev = parent.add_argument_group("devices")
    dev.add_argument("--device", help=f"accelerator: {choices(ACCELERATORS)}")
    dev.add_argument("--gpus", type=gpu_list, help="GPU indices to use, e.g. 0,1 (none: all)")
    dev.add_argument("--memory-growth", action="store_true", help="grow GPU memory as needed")
    dev.add_argument(
        "--memory-limit",
        type=number_or_none(int),
        metavar="MIB",
        help="cap each GPU's memory (none: no cap)",
    )
    dev.add_argument("--precision", help=choices(PRECISIONS))
    dev.add_argument("--strategy", help=f"{choices(STRATEGIES)} (multi_worker reads TF_CONFIG)")
    dev.add_argument("--virtual-cpus", type=int, help="split the CPU into N logical devices")
    parent.add_argument(
        "--no-determinism", action="store_true", help="skip TensorFlow op determinism (faster)"
    )
    parent.add_argument("--seed", type=int)
    parent.add_argument(
        "--time-budget",
        type=number_or_none(float),
        metavar="SECONDS",
        help="stop fit after this (none: no budget)",
    )
    parent.add_argument("--quiet", action="store_true", help="no Keras progress output")
    return parent


# Where each valued flag of config_options lands in the config's dict form (the others are read
# by train_config itself); every other key is reachable with --set KEY=VALUE.
_TRAIN_FLAGS: dict[str, tuple[str, ...]] = {
    "epochs": ("epochs",),
    "batch_size": ("batch_size",),
    "seed": ("seed",),
    "time_budget": ("time_budget_seconds",),
    "loss": ("loss", "encoding"),
    "label_smoothing": ("loss", "label_smoothing"),
    "optimizer": ("optimizer", "name"),
    "learning_rate": ("optimizer", "learning_rate"),
    "validation_fraction": ("data", "validation_fraction"),
    "layout": ("data", "layout"),
    "device": ("device", "accelerator"),
    "gpus": ("device", "gpus"),
    "memory_limit": ("device", "memory_limit_mb"),
    "precision": ("device", "precision"),
    "strategy": ("device", "strategy"),
    "virtual_cpus": ("device", "virtual_cpus"),
}


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The base config (TOML file, preset or defaults) with the flags applied, validated."""
    if args.config:
        base = TrainConfig.from_toml(args.config)
    elif args.preset:
        base = get_preset(args.preset)
    else:
        base = TrainConfig()
    changes: list[tuple[str, Any]] = []
    if args.model is not None:
        changes.append(("model.architecture", args.model))
    changes.extend(
        (".".join(path), getattr(args, flag))
        for flag, path in _TRAIN_FLAGS.items()
        if getattr(args, flag) is not None
    )
    if args.memory_growth:
        changes.append(("device.memory_growth", True))
    if args.quiet:
        changes.append(("verbose", 0))
    if args.no_determinism:
        changes.append(("deterministic", False))
    # After the flags: --set wins.
    return base.with_overrides(*changes, *(args.set or ()), context="--set")


# fashionkit train


def add_train(commands: Commands) -> None:
    tr = commands.add_parser(
        "train",
        parents=[data_options(), config_options()],
        help="train and evaluate a model",
    )
    tr.add_argument(
        "--list-keys", action="store_true", help="list every key --set accepts, and stop"
    )
    tr.add_argument("--metrics-log", type=Path, help="write one JSON line per epoch here")
    tr.add_argument("--save-config", type=Path, help="write the resolved config (TOML) here")
    tr.add_argument("--save-model", type=Path, help="save the trained model (.keras) here")
    tr.add_argument(
        "--run-dir",
        type=Path,
        help="keep config, checkpoints, metrics, model and reports here; resumes an interrupted "
        "run of the same config",
    )
    tr.add_argument("--dry-run", action="store_true", help="print the resolved config and stop")
    tr.add_argument("--json", action="store_true", help="print the result as one JSON line")
    tr.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    if args.list_keys:
        width = max(len(key) for key, _ in settable_keys())
        for key, accepts in settable_keys():
            print(f"{key:<{width}}  {accepts}")
        return 0
    config = train_config(args)
    if args.save_config:
        config.write_toml(args.save_config)
    if not args.json:
        print("# resolved config\n" + config.to_toml())
    if args.dry_run:
        return 0
    # Refuse what would fail after training, before the data is loaded.
    # A multi-worker run's other workers follow the chief's folder (locked by the chief).
    follows = config.device.strategy == "multi_worker" and not is_chief_task(
        os.environ.get("TF_CONFIG")
    )
    if args.run_dir is not None and not follows:
        RunWriter.check(args.run_dir, config)
    if args.save_model is not None:
        check_model_path(args.save_model)
    start_tensorflow(args)
    callbacks: list[Any] = []
    if args.metrics_log:
        from fashionkit.callbacks import JSONLinesLogger

        callbacks.append(JSONLinesLogger(args.metrics_log))
    # With --json, standard output holds the one JSON line: Keras's progress goes to stderr.
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = train(
            config, dataset=_options.load_data(args), callbacks=callbacks, run_dir=args.run_dir
        )
    if args.save_model:
        save_model(result.model, args.save_model)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    print(f"device: {result.placement}")
    if result.resumed_from_epoch:
        print(f"resumed after epoch {result.resumed_from_epoch} from {result.run_dir}")
    print(result.summary())
    if result.run_dir is not None:
        print(f"run saved in {result.run_dir}")
    if args.save_model:
        print(f"model saved to {args.save_model}")
    return 0


# fashionkit lr-find


def add_lr_find(commands: Commands) -> None:
    lr = commands.add_parser(
        "lr-find",
        parents=[data_options(), config_options()],
        help="sweep the learning rate over a few hundred batches and suggest one",
        description="Train a fresh model of the config for --steps batches while the learning "
        "rate rises exponentially from --min-lr to --max-lr, and suggest the rate at which the "
        "smoothed loss falls fastest (or say why there is none). Takes the config flags of "
        "train; its learning rate, schedule and epochs are not used.",
    )
    lr.add_argument(
        "--min-lr", type=float, default=1e-6, help="rate of the first step (default 1e-6)"
    )
    lr.add_argument("--max-lr", type=float, default=1.0, help="rate of the last step (default 1)")
    lr.add_argument("--steps", type=int, default=200, help="batches to sweep (default 200)")
    lr.add_argument(
        "--plot", type=Path, metavar="PATH.png", help="draw the loss against the rate (PNG) here"
    )
    lr.add_argument("--json", action="store_true", help="print the sweep as one JSON line")
    lr.set_defaults(func=_cmd_lr_find)


def _cmd_lr_find(args: argparse.Namespace) -> int:
    config = train_config(args)
    # Refuse what would fail after the sweep, before the data is loaded.
    options = RangeTestOptions(min_lr=args.min_lr, max_lr=args.max_lr, steps=args.steps)
    if args.plot is not None:
        check_plot_path(args.plot)
    start_tensorflow(args)
    sweep = find_learning_rate(config, options, dataset=_options.load_data(args))
    if args.plot is not None:
        plot_learning_rate_sweep(sweep, args.plot)
    if args.json:
        print(json.dumps(sweep.to_dict(), ensure_ascii=False))
        return 0
    print(sweep.to_text())
    if args.plot is not None:
        print(f"plot written to {args.plot}")
    return 0
