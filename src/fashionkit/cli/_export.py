"""``fashionkit export``: a run's model for serving."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fashionkit._constants import EXPORT_FORMATS, EXPORT_SOURCES, QUANTIZATIONS
from fashionkit.cli import _options
from fashionkit.cli._options import Commands, choices, data_options, positive
from fashionkit.cli._tflog import start_tensorflow
from fashionkit.export import (
    DEFAULT_MAX_ACCURACY_LOSS,
    DEFAULT_REPRESENTATIVE_SIZE,
    ExportOptions,
    export_run,
)
from fashionkit.export._targets import check_name
from fashionkit.runs import RunLayout, load_run

# fashionkit export


#: A run directory's file names, for help texts (RunLayout spells them).
_NAMES = RunLayout(".")


def add_export(commands: Commands) -> None:
    ex = commands.add_parser(
        "export",
        parents=[data_options()],
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
        help=f"{choices(EXPORT_FORMATS)} (default saved_model; onnx needs the export extra)",
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
        help=f"best: the best epoch's model ({_NAMES.best.name}); final: the model training "
        f"ended with ({_NAMES.model.name}); default: the one the run ended with (best with "
        f"early_stopping.restore_best, else final)",
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
        type=positive,
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
    start_tensorflow(args)
    options = ExportOptions(  # a bad combination of flags fails here, before anything is read
        format=args.format,
        quantize=args.quantize,
        check_accuracy=True if args.check_accuracy else None,
        representative_size=args.representative,
        max_accuracy_loss=args.max_accuracy_loss,
        integer_output=args.integer_output,
    )
    if args.out is not None:  # so is an --out that contradicts --format, before the run is read
        check_name(args.out, options.format)
    run = load_run(args.run)  # the run is checked before any data is loaded
    result = export_run(
        run,
        options,
        which=args.model,
        out=args.out,
        dataset=_options.load_data(args) if options.checks_accuracy else None,
    )
    print(json.dumps(result.to_dict(), ensure_ascii=False) if args.json else result.to_text())
    return 0
