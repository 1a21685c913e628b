"""The commands that read a run directory or a model file: evaluate, predict, explain, report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fashionkit._constants import CLASS_NAMES, CLASS_NAMES_KO, EXPORT_SOURCES
from fashionkit.cli import _options
from fashionkit.cli._options import Commands, common_options, data_options, positive
from fashionkit.cli._tflog import start_tensorflow
from fashionkit.evaluation import Predictor
from fashionkit.exceptions import InputValidationError
from fashionkit.explain import METHODS, explain
from fashionkit.images import read_images
from fashionkit.plots import (
    check_plot_path,
    plot_explanations,
    save_figure,
    write_report,
    write_sweep_report,
)
from fashionkit.runs import RunLayout, load_model, load_run

# A saved model, for evaluate, predict and explain: a run directory (read by load_run, which
# checks it) or a .keras file, and the flags that choose how it predicts.


#: A run directory's file names, for help texts (RunLayout spells them).
_NAMES = RunLayout(".")
#: Images per picture of ``fashionkit explain``: more make one picture per page of this many.
EXPLAIN_PAGE = 16


def _add_model_options(command: argparse.ArgumentParser, *, prediction: bool = True) -> None:
    """Add ``--model`` and, with ``prediction``, ``--tta`` and ``--calibrated``.

    Added in place rather than through a parent parser, whose flags ``--help`` would list
    before the command's own: the commands show them last.
    """
    command.add_argument(
        "--model",
        choices=EXPORT_SOURCES,
        help=f"for a run directory: best, the best epoch's model ({_NAMES.best.name}), or final, "
        f"the model training ended with ({_NAMES.model.name}); default: the one the run ended "
        f"with",
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
        help=f"apply the temperature a calibrated run fitted ({_NAMES.calibration.name}); "
        f"default: on when the run directory has one",
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


def add_evaluate(commands: Commands) -> None:
    ev = commands.add_parser(
        "evaluate", parents=[data_options()], help="evaluate a saved model on the test split"
    )
    ev.add_argument(
        "run", type=Path, metavar="RUN_DIR_OR_MODEL", help="a run directory or a .keras file"
    )
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_model_options(ev)
    ev.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    start_tensorflow(args)
    predictor = _predictor_for(args)
    data = _options.load_data(args)
    report = predictor.evaluate(data.test.images, data.test.labels, split="test")
    print(report.to_json() if args.json else report.to_text())
    return 0


# fashionkit predict


def add_predict(commands: Commands) -> None:
    pr = commands.add_parser(
        "predict",
        parents=[common_options()],
        help="classify 28x28 grayscale PNG or .npy images",
    )
    pr.add_argument("run", type=Path, help="a run directory or a .keras file")
    pr.add_argument("images", type=Path, nargs="+", help=".png or .npy files")
    pr.add_argument("--top", type=positive, default=3, help="classes to show per image (default 3)")
    pr.add_argument("--json", action="store_true", help="print JSON")
    _add_model_options(pr)
    pr.set_defaults(func=_cmd_predict)


def _cmd_predict(args: argparse.Namespace) -> int:
    start_tensorflow(args)
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


def add_explain(commands: Commands) -> None:
    ex = commands.add_parser(
        "explain",
        parents=[common_options()],
        help="draw what the model looked at in each image (Grad-CAM, saliency, SmoothGrad)",
        description="Classify the images and draw, beside each one, the map of the pixels that "
        "made the model choose its class: Grad-CAM for convolutional models and gradient "
        f"saliency for dense ones (--method), into one picture per {EXPLAIN_PAGE} images "
        "(several: NAME_1.png, NAME_2.png, ..., with a progress line for each).",
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
        help=f"the picture to write, in the format its suffix names (.png, .jpg, .svg or .pdf; "
        f"default: {_NAMES.explanations.name} in the run directory, or beside the .keras file)",
    )
    ex.add_argument("--json", action="store_true", help="print the classes as JSON")
    _add_model_options(ex, prediction=False)
    ex.set_defaults(func=_cmd_explain)


def _page_path(out: Path, page: int, pages: int) -> Path:
    """``out`` for one page, ``NAME_1.png``, ``NAME_2.png``... when there are several."""
    return out if pages == 1 else out.with_name(f"{out.stem}_{page}{out.suffix}")


def _cmd_explain(args: argparse.Namespace) -> int:
    # In the run directory, or beside a .keras file.
    default = RunLayout(args.run if args.run.is_dir() else args.run.parent).explanations
    out = check_plot_path(args.out if args.out is not None else default)
    start_tensorflow(args)
    images, names = read_images(args.images)
    model = _predictor_for(args).model
    pages = -(-len(images) // EXPLAIN_PAGE)
    rows: list[dict[str, Any]] = []
    paths: list[Path] = []
    for page, start in enumerate(range(0, len(images), EXPLAIN_PAGE), start=1):
        chunk, titles = images[start : start + EXPLAIN_PAGE], names[start : start + EXPLAIN_PAGE]
        shown = explain(model, chunk, method=args.method)
        figure = plot_explanations(chunk, shown, CLASS_NAMES, titles=titles)
        paths.append(save_figure(figure, _page_path(out, page, pages)))
        rows += [
            {"image": name, "class": CLASS_NAMES[int(c)], "class_ko": CLASS_NAMES_KO[int(c)],
             "probability": float(p.max())}
            for name, c, p in zip(titles, shown.classes, shown.probabilities, strict=True)
        ]  # fmt: skip
        if pages > 1:  # progress, off standard output (which --json keeps for the result)
            print(f"explained {len(rows)} of {len(images)} images; wrote {paths[-1]}",
                  file=sys.stderr, flush=True)  # fmt: skip
    if args.json:
        print(json.dumps({"method": shown.method, "layer": shown.layer,
                          "pictures": [str(p) for p in paths], "images": rows},
                         ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    where = f", layer {shown.layer}" if shown.layer else ""
    for row in rows:
        print(f"{row['image']}: {row['class']} ({row['class_ko']}) {row['probability']:.3f}")
    written = str(paths[0]) if pages == 1 else f"{pages} pictures, {paths[0]} to {paths[-1]}"
    print(f"wrote {written} ({shown.method}{where})")
    return 0


# fashionkit report


def add_report(commands: Commands) -> None:
    rep = commands.add_parser(
        "report",
        parents=[data_options()],
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
    start_tensorflow(args)
    run = load_run(args.run)
    for path in write_report(run, dataset=_options.load_data(args)):
        print(f"wrote {path}")
    return 0
