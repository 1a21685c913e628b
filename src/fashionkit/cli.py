"""The ``fashionkit`` command line: a thin layer over the public API.

It only parses arguments and calls :mod:`fashionkit`; TensorFlow is imported only by the
commands that train or evaluate, so ``fashionkit --help`` answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from fashionkit import __version__
from fashionkit._constants import (
    ACCELERATORS,
    CLASS_NAMES,
    CLASS_NAMES_KO,
    EXPORT_FORMATS,
    EXPORT_SOURCES,
    LABEL_ENCODINGS,
    LAYOUT_CHOICES,
    OPTIMIZERS,
    PRECISIONS,
    QUANTIZATIONS,
    STRATEGIES,
)
from fashionkit._io import os_error_message
from fashionkit.baseline import baseline
from fashionkit.config import TrainConfig, settable_keys
from fashionkit.datasets import load_fashion_mnist
from fashionkit.devices import is_chief_task
from fashionkit.evaluation import Predictor
from fashionkit.exceptions import (
    FashionkitError,
    InputValidationError,
    TrainingInterrupted,
)
from fashionkit.explain import METHODS, explain
from fashionkit.export import (
    DEFAULT_MAX_ACCURACY_LOSS,
    DEFAULT_REPRESENTATIVE_SIZE,
    check_run_export,
    export,
)
from fashionkit.images import read_images
from fashionkit.lr_finder import check_range_arguments, find_learning_rate
from fashionkit.models import list_architectures
from fashionkit.plots import (
    check_plot_path,
    plot_explanations,
    plot_learning_rate_sweep,
    save_figure,
    write_report,
    write_sweep_report,
)
from fashionkit.presets import get_preset, list_presets
from fashionkit.runs import (
    RunLayout,
    RunWriter,
    check_model_path,
    load_model,
    load_run,
    save_model,
)
from fashionkit.sweep import PRUNERS
from fashionkit.training import train

__all__ = ["main"]

#: Environment variable that turns on ``--debug`` (tracebacks, TensorFlow's start-up log).
DEBUG_ENV = "FASHIONKIT_DEBUG"

# The parsing helpers: argument types, choice lists for help texts, the flags several commands
# share (as parent parsers) and build_parser, the table of contents. Each command's own flags
# are declared by its _add_<command>, beside the _cmd_<command> that reads them.

#: A ``fashionkit`` parser's commands, to which each ``_add_<command>`` adds its own.
_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _choices(values: Sequence[str]) -> str:
    """``a, b or c``: a choice list for help text, from its single source."""
    items = list(values)
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else "".join(items)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _nonzero(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"expected a non-zero integer (-1: every core); got {text!r}"
        )
    return value


def _gpu_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated GPU indices such as 0,1; got {text!r}"
        ) from None


def _common_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    # --debug is accepted after the command too; SUPPRESS keeps the top-level value otherwise.
    parent.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    return parent


def _data_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False, parents=[_common_options()])
    group = parent.add_argument_group("data")
    group.add_argument(
        "--data-dir",
        type=Path,
        help="folder holding (or to receive) the four Fashion-MNIST .gz files; defaults to "
        "$FASHIONKIT_DATA_DIR, then the Keras cache",
    )
    group.add_argument(
        "--no-verify",
        dest="verify",
        action="store_const",
        const=False,
        default=None,
        help="do not check files on disk against the canonical SHA-256 (for trusted re-splits); "
        "the default follows $FASHIONKIT_VERIFY and otherwise verifies",
    )
    group.add_argument(
        "--no-download",
        dest="download",
        action="store_false",
        help="fail instead of downloading missing files",
    )
    return parent


def _load(args: argparse.Namespace) -> Any:
    return load_fashion_mnist(args.data_dir, verify=args.verify, download=args.download)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``fashionkit`` command."""
    parser = argparse.ArgumentParser(
        prog="fashionkit",
        description="Fashion-MNIST with Keras: verified data, a baseline, training, evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"fashionkit {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help=f"show Python tracebacks and TensorFlow's start-up log (or set {DEBUG_ENV}=1)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_info(commands)
    _add_baseline(commands)
    _add_train(commands)
    _add_lr_find(commands)
    _add_evaluate(commands)
    _add_predict(commands)
    _add_explain(commands)
    _add_export(commands)
    _add_sweep(commands)
    _add_report(commands)
    return parser


# fashionkit info


def _add_info(commands: _Commands) -> None:
    info = commands.add_parser(
        "info",
        parents=[_data_options()],
        help="where the data is, whether it verified, shapes and counts",
    )
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_cmd_info)


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (Hangul takes two columns)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _cmd_info(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    data = _load(args)
    seconds = time.perf_counter() - start
    src = data.source
    info = {
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


def _add_baseline(commands: _Commands) -> None:
    base = commands.add_parser(
        "baseline",
        parents=[_data_options()],
        help="the tutorial's SGD logistic regression, 5-fold CV",
    )
    base.add_argument(
        "--folds", type=_positive, default=5, help="cross-validation folds (default 5)"
    )
    base.add_argument(
        "--jobs", type=_nonzero, default=-1, help="parallel fits (default -1: all cores)"
    )
    base.add_argument("--json", action="store_true", help="print JSON")
    base.set_defaults(func=_cmd_baseline)


def _cmd_baseline(args: argparse.Namespace) -> int:
    result = baseline(_load(args), folds=args.folds, n_jobs=args.jobs)
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


# The config flags of train and lr-find (a parent parser), where each lands in the config, and
# _train_config, which applies them.


def _config_options() -> argparse.ArgumentParser:
    """The flags that build a TrainConfig (see :func:`_train_config`): train and lr-find."""
    parent = argparse.ArgumentParser(add_help=False)
    base_config = parent.add_mutually_exclusive_group()
    base_config.add_argument("--config", type=Path, help="TOML config; flags below override it")
    base_config.add_argument(
        "--preset", help=f"named config: {_choices(list_presets())}; flags below override it"
    )
    parent.add_argument(
        "--model",
        help=f"architecture: {_choices(list_architectures())} (register others from Python)",
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
    parent.add_argument("--loss", help=f"label encoding: {_choices(LABEL_ENCODINGS)}")
    parent.add_argument("--label-smoothing", type=float, help="one_hot only")
    parent.add_argument("--optimizer", help=_choices(OPTIMIZERS))
    parent.add_argument("--learning-rate", type=float)
    parent.add_argument("--validation-fraction", type=float)
    parent.add_argument("--layout", help=_choices(LAYOUT_CHOICES))
    dev = parent.add_argument_group("devices")
    dev.add_argument("--device", help=f"accelerator: {_choices(ACCELERATORS)}")
    dev.add_argument("--gpus", type=_gpu_list, help="GPU indices to use, e.g. 0,1")
    dev.add_argument("--memory-growth", action="store_true", help="grow GPU memory as needed")
    dev.add_argument("--memory-limit", type=int, metavar="MIB", help="cap each GPU's memory")
    dev.add_argument("--precision", help=_choices(PRECISIONS))
    dev.add_argument("--strategy", help=f"{_choices(STRATEGIES)} (multi_worker reads TF_CONFIG)")
    dev.add_argument("--virtual-cpus", type=int, help="split the CPU into N logical devices")
    parent.add_argument(
        "--no-determinism", action="store_true", help="skip TensorFlow op determinism (faster)"
    )
    parent.add_argument("--seed", type=int)
    parent.add_argument("--time-budget", type=float, metavar="SECONDS", help="stop fit after this")
    parent.add_argument("--quiet", action="store_true", help="no Keras progress output")
    return parent


# Where each valued flag of _config_options lands in the config's dict form (the others are read
# by _train_config itself); every other key is reachable with --set KEY=VALUE.
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


def _train_config(args: argparse.Namespace) -> TrainConfig:
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


def _add_train(commands: _Commands) -> None:
    tr = commands.add_parser(
        "train",
        parents=[_data_options(), _config_options()],
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
    config = _train_config(args)
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
    _start_tensorflow(args)
    callbacks: list[Any] = []
    if args.metrics_log:
        from fashionkit.callbacks import JSONLinesLogger

        callbacks.append(JSONLinesLogger(args.metrics_log))
    result = train(config, dataset=_load(args), callbacks=callbacks, run_dir=args.run_dir)
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


def _add_lr_find(commands: _Commands) -> None:
    lr = commands.add_parser(
        "lr-find",
        parents=[_data_options(), _config_options()],
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
    config = _train_config(args)
    # Refuse what would fail after the sweep, before the data is loaded.
    check_range_arguments(min_lr=args.min_lr, max_lr=args.max_lr, steps=args.steps)
    if args.plot is not None:
        check_plot_path(args.plot)
    _start_tensorflow(args)
    sweep = find_learning_rate(
        config, dataset=_load(args), min_lr=args.min_lr, max_lr=args.max_lr, steps=args.steps
    )
    if args.plot is not None:
        plot_learning_rate_sweep(sweep, args.plot)
    if args.json:
        print(json.dumps(sweep.to_dict(), ensure_ascii=False))
        return 0
    print(sweep.to_text())
    if args.plot is not None:
        print(f"plot written to {args.plot}")
    return 0


# A saved model, for evaluate, predict and explain: a run directory (read by load_run, which
# checks it) or a .keras file, and the flags that choose how it predicts.


def _add_model_options(command: argparse.ArgumentParser, *, prediction: bool = True) -> None:
    """Add ``--model`` and, with ``prediction``, ``--tta`` and ``--calibrated``.

    Added in place rather than through a parent parser, whose flags ``--help`` would list
    before the command's own: the commands show them last.
    """
    command.add_argument(
        "--model",
        choices=EXPORT_SOURCES,
        help="for a run directory: best, the best epoch's model (best.keras), or final, the "
        "model training ended with (model.keras); default: the one the run ended with",
    )
    if not prediction:
        return
    command.add_argument(
        "--tta",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average each image with its mirror image (flip test-time augmentation); default: "
        "as the run directory's config says, off for a .keras file",
    )
    command.add_argument(
        "--calibrated",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="apply the temperature a calibrated run fitted (calibration.json); default: on "
        "when the run directory has one",
    )


def _predictor_for(args: argparse.Namespace) -> Predictor:
    """The predictor of ``args.run``: a run's, as it predicted unless the flags say otherwise.

    A run directory goes through :func:`~fashionkit.load_run`, which checks it; a ``.keras``
    file is loaded with Keras's safe mode on and predicts plainly (``--tta`` turns TTA on).
    """
    path: Path = args.run
    tta: bool | None = getattr(args, "tta", None)
    calibrated: bool | None = getattr(args, "calibrated", None)
    if path.is_dir() or (path.suffix != ".keras" and not path.exists()):
        return load_run(path).predictor(args.model, tta=tta, calibrated=calibrated)
    if not path.is_file():
        raise InputValidationError(f"No model file or run directory at {path}.")
    for flag, given in (("--model", args.model is not None), ("--calibrated", bool(calibrated))):
        if given:
            raise InputValidationError(
                f"{flag} applies to a run directory; {path} is a .keras file, which has no "
                f"best model or calibration of its own."
            )
    return Predictor(model=load_model(path), tta=bool(tta))


# fashionkit evaluate


def _add_evaluate(commands: _Commands) -> None:
    ev = commands.add_parser(
        "evaluate", parents=[_data_options()], help="evaluate a saved model on the test split"
    )
    ev.add_argument(
        "run", type=Path, metavar="RUN_DIR_OR_MODEL", help="a run directory or a .keras file"
    )
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_model_options(ev)
    ev.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    _start_tensorflow(args)
    predictor = _predictor_for(args)
    data = _load(args)
    report = predictor.evaluate(data.test.images, data.test.labels, split="test")
    print(report.to_json() if args.json else report.to_text())
    return 0


# fashionkit predict


def _add_predict(commands: _Commands) -> None:
    pr = commands.add_parser(
        "predict",
        parents=[_common_options()],
        help="classify 28x28 grayscale PNG or .npy images",
    )
    pr.add_argument("run", type=Path, help="a run directory or a .keras file")
    pr.add_argument("images", type=Path, nargs="+", help=".png or .npy files")
    pr.add_argument(
        "--top", type=_positive, default=3, help="classes to show per image (default 3)"
    )
    pr.add_argument("--json", action="store_true", help="print JSON")
    _add_model_options(pr)
    pr.set_defaults(func=_cmd_predict)


def _cmd_predict(args: argparse.Namespace) -> int:
    _start_tensorflow(args)
    images, names = read_images(args.images)
    result = _predictor_for(args).predict(images)
    rows: list[dict[str, Any]] = []
    for name, probs in zip(names, result.probabilities, strict=True):
        top = np.argsort(-probs, kind="stable")[: args.top]
        rows.append({
            "image": name,
            "predictions": [
                {"class": CLASS_NAMES[i], "class_ko": CLASS_NAMES_KO[i],
                 "probability": float(probs[i])}
                for i in top
            ],
        })  # fmt: skip
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        ranked = ", ".join(
            f"{p['class']} ({p['class_ko']}) {p['probability']:.3f}" for p in row["predictions"]
        )
        print(f"{row['image']}: {ranked}")
    return 0


# fashionkit explain


def _add_explain(commands: _Commands) -> None:
    ex = commands.add_parser(
        "explain",
        parents=[_common_options()],
        help="draw what the model looked at in each image (Grad-CAM, saliency, SmoothGrad)",
        description="Classify the images and draw, beside each one, the map of the pixels that "
        "made the model choose its class: Grad-CAM for convolutional models and gradient "
        "saliency for dense ones (--method), into one PNG.",
    )
    ex.add_argument("run", type=Path, help="a run directory or a .keras file")
    ex.add_argument("images", type=Path, nargs="+", help="28x28 grayscale .png or .npy files")
    ex.add_argument(
        "--method",
        default="auto",
        choices=METHODS,
        help="auto (default: grad_cam for convolutional models, saliency otherwise), "
        "saliency, smoothgrad or grad_cam",
    )
    ex.add_argument(
        "--out",
        type=Path,
        help="the PNG to write (default: explanations.png in the run directory, or beside the "
        ".keras file)",
    )
    ex.add_argument("--json", action="store_true", help="print the classes as JSON")
    _add_model_options(ex, prediction=False)
    ex.set_defaults(func=_cmd_explain)


def _cmd_explain(args: argparse.Namespace) -> int:
    default = (
        RunLayout(args.run).explanations
        if args.run.is_dir()
        else args.run.parent / RunLayout(args.run.parent).explanations.name
    )
    out = check_plot_path(args.out if args.out is not None else default)
    _start_tensorflow(args)
    images, names = read_images(args.images)
    model = _predictor_for(args).model
    shown = explain(model, images, method=args.method)
    figure = plot_explanations(images, shown, CLASS_NAMES, titles=names)
    path = save_figure(figure, out)
    rows = [
        {"image": name, "class": CLASS_NAMES[int(c)], "class_ko": CLASS_NAMES_KO[int(c)],
         "probability": float(p.max())}
        for name, c, p in zip(names, shown.classes, shown.probabilities, strict=True)
    ]  # fmt: skip
    if args.json:
        print(json.dumps({"method": shown.method, "layer": shown.layer, "picture": str(path),
                          "images": rows}, ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    where = f", layer {shown.layer}" if shown.layer else ""
    for row in rows:
        print(f"{row['image']}: {row['class']} ({row['class_ko']}) {row['probability']:.3f}")
    print(f"wrote {path} ({shown.method}{where})")
    return 0


# fashionkit export


def _add_export(commands: _Commands) -> None:
    ex = commands.add_parser(
        "export",
        parents=[_data_options()],
        help="export a run's model for serving: SavedModel, TFLite or ONNX",
        description="Write the run's model (final or best) in a serving format. The exported "
        "model takes uint8 images (N, 28, 28) and returns (N, 10) probabilities, with the "
        "run's flip TTA and calibration temperature inside; it is checked against the Keras "
        "model before it is renamed into place.",
    )
    ex.add_argument("run", type=Path, help="a completed run directory")
    ex.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        default="saved_model",
        help=f"{_choices(EXPORT_FORMATS)} (default saved_model; onnx needs the export extra)",
    )
    ex.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="where to write (default: RUN_DIR/export/saved_model, model.tflite or model.onnx)",
    )
    ex.add_argument(
        "--model",
        choices=EXPORT_SOURCES,
        help="best: the best epoch's model (best.keras); final: the model training ended with "
        "(model.keras); default: the one the run ended with (best with "
        "early_stopping.restore_best, else final)",
    )
    quant = ex.add_argument_group("quantized TFLite and the accuracy check")
    quant.add_argument(
        "--quantize",
        choices=QUANTIZATIONS,
        help="float16: float16 weights; dynamic: int8 weights; int8: int8 weights and "
        "activations, calibrated on training images (tflite only; default: float32). The "
        "export is then checked by its test accuracy",
    )
    quant.add_argument(
        "--representative",
        type=_positive,
        metavar="N",
        help=f"training images that calibrate an int8 model (default "
        f"{DEFAULT_REPRESENTATIVE_SIZE}, or all of fewer)",
    )
    quant.add_argument(
        "--max-accuracy-loss",
        type=float,
        default=DEFAULT_MAX_ACCURACY_LOSS,
        metavar="SHARE",
        help=f"refuse an export whose test accuracy is more than this below the float32 "
        f"model's (a share: default {DEFAULT_MAX_ACCURACY_LOSS:g}, one percentage point)",
    )
    quant.add_argument(
        "--integer-output",
        action="store_true",
        help="an int8 model outputs int8 probabilities instead of float32 ones",
    )
    quant.add_argument(
        "--check-accuracy",
        action="store_true",
        help="check a float32 export's test accuracy too (always done when quantized)",
    )
    ex.add_argument("--json", action="store_true", help="print the result as one JSON line")
    ex.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    _start_tensorflow(args)
    _, accuracy_check = check_run_export(
        format=args.format,
        model=args.model,
        quantize=args.quantize,
        check_accuracy=True if args.check_accuracy else None,
        check_images=None,
        representative_size=args.representative,
        max_accuracy_loss=args.max_accuracy_loss,
        integer_output=args.integer_output,
        dataset=None,
    )  # before the data is loaded
    result = export(
        args.run,
        format=args.format,
        out=args.out,
        model=args.model,
        quantize=args.quantize,
        check_accuracy=True if accuracy_check else None,
        representative_size=args.representative,
        max_accuracy_loss=args.max_accuracy_loss,
        integer_output=args.integer_output,
        dataset=_load(args) if accuracy_check else None,
    )
    print(json.dumps(result.to_dict(), ensure_ascii=False) if args.json else result.to_text())
    return 0


# fashionkit sweep


def _add_sweep(commands: _Commands) -> None:
    sw = commands.add_parser(
        "sweep",
        parents=[_data_options()],
        help="search hyperparameters with Optuna: parallel, resumable, pruned",
        description="Train --trials configs sampled from the search space SPACE.toml, each into "
        "a run directory under the sweep folder, pruning poor ones by their per-epoch "
        "validation accuracy. Running the same command again continues the sweep; workers on "
        "other machines join with the same --storage URL and --study-name. Ends with a table "
        "of the trials, best.toml (the best config, for train --config) and plots.",
    )
    sw.add_argument("space", type=Path, help="the search space, a TOML file")
    sw.add_argument("--trials", type=_positive, required=True, help="finished trials to end with")
    sw.add_argument(
        "--workers", type=_positive, default=1, help="worker processes on this machine (default 1)"
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
        help=f"{_choices(PRUNERS)} (default median)",
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
    _start_tensorflow(args)
    data = _load(args)
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


# fashionkit report


def _add_report(commands: _Commands) -> None:
    rep = commands.add_parser(
        "report",
        parents=[_data_options()],
        help="write learning curves, confusion matrix, mistakes (PNG); the mistakes are drawn "
        "from the Fashion-MNIST test split that --data-dir (or the default search) finds",
    )
    rep.add_argument("run", type=Path, help="a completed run directory, or a sweep folder")
    rep.add_argument(
        "--storage",
        metavar="URL",
        help="for a sweep folder: the study's database URL or journal:PATH (default: its SQLite "
        "file)",
    )
    rep.add_argument(
        "--study-name", default="fashionkit", help="for a sweep folder: the study's name"
    )
    rep.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    if args.run.is_dir() and (args.run / "space.toml").is_file():  # a sweep folder
        for path in write_sweep_report(args.run, storage=args.storage, study_name=args.study_name):
            print(f"wrote {path}")
        return 0
    _start_tensorflow(args)
    run = load_run(args.run)
    for path in write_report(run, dataset=_load(args)):
        print(f"wrote {path}")
    return 0


# Running a command: --debug, TensorFlow's start-up log, error messages, main.


def _debug(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )


# The filter the user's TF_CPP_MIN_LOG_LEVEL puts TensorFlow's start-up log through (see
# _start_tensorflow). It runs as a process of its own, so that what TensorFlow writes before a
# crash (a FATAL line, then abort) still gets through: it copies its standard input to its
# standard output line by line and leaves out only absl's log lines ("E0000 00:00:1745.123456
# 4321 cuda_dnn.cc:8310] ...") below the level in argv[1] (0 INFO, 1 WARNING, 2 ERROR; FATAL
# lines always pass) and absl's note that logging is not yet initialised, which absl writes at
# INFO. Every other line (Python's warnings and tracebacks, anything unrecognised) passes.
_TF_LOG_FILTER = r"""
import re, sys
minimum = int(sys.argv[1])
record = re.compile(rb"([IWEF])\d{4} [\d:.]+ +\d+ [^ \]]+:\d+\] ")
note = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
rank = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    found = record.match(line)
    if found and found.group(1) != b"F" and rank[found.group(1)] < minimum:
        continue
    if minimum >= 1 and line.rstrip(b"\r\n") == note:
        continue
    out.write(line)
    out.flush()
"""


def _tf_log_level(value: str | None) -> int:
    """``TF_CPP_MIN_LOG_LEVEL`` as TensorFlow reads it: an integer, anything else 0."""
    try:
        return int((value or "").strip())
    except ValueError:
        return 0


@contextlib.contextmanager
def _tf_log_filtered(level: int) -> Iterator[None]:
    """Within the block, standard error goes through :data:`_TF_LOG_FILTER` at ``level``.

    Nothing is filtered if the filter process cannot be started.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to filter
        yield
        return
    try:
        # A session of its own: Ctrl-C at the terminal stops the command, not the filter, which
        # ends when the command closes the pipe (or dies) and it has copied everything.
        child = subprocess.Popen(  # noqa: S603 - this interpreter and the script above
            [sys.executable, "-I", "-S", "-c", _TF_LOG_FILTER, str(level)],
            stdin=subprocess.PIPE,
            stdout=saved,
            start_new_session=True,
        )
    except OSError:
        os.close(saved)
        yield
        return
    if child.stdin is None:  # stdin=PIPE guarantees it; narrowed for mypy
        raise AssertionError
    os.dup2(child.stdin.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a copy of the pipe kept open somewhere
            child.kill()
            child.wait()


def _start_tensorflow(args: argparse.Namespace) -> None:
    """Import TensorFlow and list the devices with its start-up log kept off the terminal.

    TensorFlow's C++ and absl start-up lines (CUDA probing on a machine without a GPU, CPU
    feature notes) are written to the process's standard error before any Python setting can
    silence them, so standard error is captured while they are produced and shown only if the
    import fails. With ``--debug`` they are shown as usual, and so they are when the user set
    ``TF_CPP_MIN_LOG_LEVEL`` to 0 (or to something that is not a number), TensorFlow's "show
    everything".

    When the user set it to 1 or more, TensorFlow filters its own log by that level, but not
    the absl lines its libraries write while they load, before absl's logging is initialised
    (``I0000 00:00:... port.cc:153] oneDNN custom operations are on``, absl's note
    ``WARNING: All log messages before absl::InitializeLog() is called are written to
    STDERR``). So TensorFlow is imported with standard error going through a filter that
    applies the level to those lines as TensorFlow documents it: 1 leaves out INFO (and the
    note, which absl writes at INFO), 2 WARNING too, 3 ERROR too. FATAL lines and everything
    that is not an absl log line (Python's warnings and tracebacks) always pass, as they are
    written. The devices are not listed here then, as before: TensorFlow lists them when the
    command needs them, and its own level applies to what it writes then.
    """
    if _debug(args) or "tensorflow" in sys.modules:
        return
    user_level = getattr(args, "user_tf_log_level", None)
    if user_level is not None:
        level = _tf_log_level(user_level)
        if level >= 1:
            with _tf_log_filtered(level):
                import tensorflow  # noqa: F401 - imported for its start-up log, filtered
        return
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", errors="replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _message(exc: BaseException) -> str:
    if isinstance(exc, FashionkitError):
        return str(exc)
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else "a file"
        return os_error_message(exc, where, action="use")
    return f"{type(exc).__name__}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fashionkit`` command and return its exit status.

    0 on success; 1 when the command fails, with one or two lines on standard error that name
    the file or value at fault and what to do (``--debug`` or ``FASHIONKIT_DEBUG=1`` adds the
    traceback); 130 after Ctrl-C and 143 after SIGTERM (training stops at a batch boundary
    first, keeping every completed epoch). A usage error makes argparse exit with status 2
    (``SystemExit``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    command = f"fashionkit {args.command}"
    # TensorFlow's C++ log below warnings stays quiet; a user's setting wins.
    args.user_tf_log_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return int(args.func(args))
    except TrainingInterrupted as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (e.g. `| head`) went away: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (FashionkitError, OSError) as exc:
        if _debug(args):
            traceback.print_exc()
        print(f"{command}: error: {_message(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug in fashionkit or a library: still no traceback by default
        if _debug(args):
            traceback.print_exc()
            return 1
        print(
            f"{command}: unexpected error: {_message(exc)}\nRun it again with --debug to see "
            f"the traceback, and please report it.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
