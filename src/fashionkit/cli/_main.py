"""The ``fashionkit`` parser, and running a command: its exit status and one-line errors."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from fashionkit import __version__
from fashionkit._io import os_error_message
from fashionkit._messages import brief
from fashionkit._validation import params
from fashionkit.cli._data import add_baseline, add_info
from fashionkit.cli._export import add_export
from fashionkit.cli._options import DEBUG_ENV, debug_wanted
from fashionkit.cli._runs import add_evaluate, add_explain, add_predict, add_report
from fashionkit.cli._sweep import add_sweep
from fashionkit.cli._train import add_lr_find, add_train
from fashionkit.exceptions import FashionkitError, TrainingInterrupted


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
    add_info(commands)
    add_baseline(commands)
    add_train(commands)
    add_lr_find(commands)
    add_evaluate(commands)
    add_predict(commands)
    add_explain(commands)
    add_export(commands)
    add_sweep(commands)
    add_report(commands)
    return parser


def _message(exc: BaseException) -> str:
    if isinstance(exc, FashionkitError):
        return str(exc)
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else "a file"
        return os_error_message(exc, where, action="use")
    return brief(exc)


@params()
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
        if debug_wanted(args):
            traceback.print_exc()
        print(f"{command}: error: {_message(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug in fashionkit or a library: still no traceback by default
        if debug_wanted(args):
            traceback.print_exc()
            return 1
        print(
            f"{command}: unexpected error: {_message(exc)}\nRun it again with --debug to see "
            f"the traceback, and please report it.",
            file=sys.stderr,
        )
        return 1
