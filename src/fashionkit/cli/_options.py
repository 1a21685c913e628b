"""What several commands share: argument types, help-text choices, the data flags."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from fashionkit._fields import UNSET_WORD, unset_word
from fashionkit._messages import shown
from fashionkit.datasets import load_fashion_mnist

#: Environment variable that turns on ``--debug`` (tracebacks, TensorFlow's start-up log).
DEBUG_ENV = "FASHIONKIT_DEBUG"


#: A ``fashionkit`` parser's commands, to which each ``add_<command>`` adds its own (declared
#: beside the ``_cmd_<command>`` that reads them).
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def choices(values: Sequence[str]) -> str:
    """``a, b or c``: a choice list for help text, from its single source."""
    items = list(values)
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else "".join(items)


def positive(text: str) -> int:
    """An argument type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {shown(text)}")
    return value


def nonzero(text: str) -> int:
    """An argument type: a whole number other than 0 (-1: every core)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"expected a non-zero integer (-1: every core); got {shown(text)}"
        )
    return value


def gpu_list(text: str) -> list[int] | str:
    """An argument type: comma-separated GPU indices, or ``none`` for every GPU."""
    if unset_word(text) is None:
        return UNSET_WORD
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated GPU indices such as 0,1, or {UNSET_WORD} for every GPU; "
            f"got {shown(text)}"
        ) from None


def number_or_none(kind: type[int] | type[float]) -> Callable[[str], int | float | str]:
    """An argument type for a flag of an optional config key: a number, or ``none`` to unset.

    ``none`` reaches the config as the word, which unsets the key there (as ``--set`` does).
    """
    noun = "an integer" if kind is int else "a number"

    def parse(text: str) -> int | float | str:
        if unset_word(text) is None:
            return UNSET_WORD
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {noun}, or {UNSET_WORD} to unset it; got {shown(text)}"
            ) from None

    parse.__name__ = kind.__name__  # argparse names the type in its own messages
    return parse


def common_options() -> argparse.ArgumentParser:
    """The flags every command takes (``--debug``), as a parent parser."""
    parent = argparse.ArgumentParser(add_help=False)
    # --debug is accepted after the command too; SUPPRESS keeps the top-level value otherwise.
    parent.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    return parent


def data_options() -> argparse.ArgumentParser:
    """The flags of the commands that load Fashion-MNIST, as a parent parser."""
    parent = argparse.ArgumentParser(add_help=False, parents=[common_options()])
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


def load_data(args: argparse.Namespace) -> Any:
    return load_fashion_mnist(args.data_dir, verify=args.verify, download=args.download)


def debug_wanted(args: argparse.Namespace) -> bool:
    """Whether ``--debug`` or ``FASHIONKIT_DEBUG`` asks for tracebacks and TensorFlow's log."""
    return bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
