"""The ``fashionkit`` command line: a thin layer over the public API.

It only parses arguments, builds configs and options, calls :mod:`fashionkit` and prints;
TensorFlow is imported only by the commands that train or evaluate, so ``fashionkit --help``
answers at once. Each command's flags are declared beside the code that reads them, one
module per group of commands.
"""

from fashionkit.cli._main import main as main

__all__ = ["main"]
