"""Sphinx configuration of the fashionkit documentation.

Build (as CI does)::

    sphinx-build -n -W --keep-going -b html docs docs/_build/html
    sphinx-build -b doctest docs docs/_build/doctest
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import typing
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any

from sphinx.application import Sphinx

import fashionkit

# -- Project information -----------------------------------------------------------------------

project = "fashionkit"
author = "fashionkit developers"
copyright = "fashionkit developers"
try:
    release = _dist_version("fashionkit")
except PackageNotFoundError:  # building from a checkout that was not installed
    release = "0+unknown"
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx.ext.doctest",
]
exclude_patterns = ["_build"]

# -- autodoc / napoleon ------------------------------------------------------------------------

autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# -- intersphinx -------------------------------------------------------------------------------

# The build machines have no internet access, and an inventory that cannot be fetched is a
# warning (an error under -W). Links into the Python, NumPy, attrs and scikit-learn docs are
# therefore opt-in: set FASHIONKIT_DOCS_INTERSPHINX=1 on a machine with network access.
INTERSPHINX = os.environ.get("FASHIONKIT_DOCS_INTERSPHINX") == "1"
if INTERSPHINX:
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "attrs": ("https://www.attrs.org/en/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }
else:
    intersphinx_mapping = {}

# -- nitpicky ----------------------------------------------------------------------------------

nitpicky = True
nitpick_ignore = [
    # The TypeVar bound to ModelConfig in register_architecture and Architecture; a TypeVar has
    # no page of its own.
    ("py:class", "fashionkit.models.C"),
]
nitpick_ignore_regex = [
    # NumPy documents its sized scalar aliases (uint8, float32, int64) as attributes, so a class
    # reference to them does not resolve even with NumPy's inventory.
    (r"py:class", r"numpy\.(u?int|float)\d+"),
]
if not INTERSPHINX:
    # Offline, nothing outside fashionkit can be linked (builtins such as str and typing names
    # are resolved by Sphinx itself): NumPy types from NDArray annotations, pathlib.Path,
    # os.PathLike, collections.abc, and attrs (mentioned in the config docstrings).
    nitpick_ignore_regex.append(
        (r"py:(class|mod|func)", r"(numpy|pathlib|os|collections\.abc|attrs)(\..+)?")
    )

# -- doctest -----------------------------------------------------------------------------------

# The docstring examples are written to run in their module's namespace (as pytest's
# --doctest-modules runs them); give the doctest builder the same names.
doctest_global_setup = """
import fashionkit
from fashionkit import *
from fashionkit.config import *
from fashionkit.datasets import *
from fashionkit.evaluation import *
from fashionkit.models import *
from fashionkit.models import unregister_architecture
from fashionkit.preprocessing import *
from fashionkit.devices import *
from fashionkit.runs import *

# Examples that draw pictures need the optional plot extra; they carry
# ":skipif: not HAVE_MATPLOTLIB" so that a docs build without it still passes.
import importlib.util as _importlib_util
HAVE_MATPLOTLIB = _importlib_util.find_spec("matplotlib") is not None
"""

# -- HTML output -------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"fashionkit {release}"

# -- local extensions --------------------------------------------------------------------------

# fashionkit re-exports its public API from the package (``fashionkit.train``), and docstrings
# refer to it that way; the pages document each name once, in the module that defines it
# (``fashionkit.training.train``). Map every name in fashionkit.__all__ to that module.
_DEFINING_MODULES = (
    "datasets",
    "preprocessing",
    "baseline",
    "config",
    "models",
    "training",
    "evaluation",
    "devices",
    "runs",
    "exceptions",
)
_REEXPORTS = {
    name: f"fashionkit.{module}"
    for module in _DEFINING_MODULES
    for name in importlib.import_module(f"fashionkit.{module}").__all__
    if name in fashionkit.__all__
}


def _resolve_reexport(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``fashionkit.NAME`` to ``fashionkit.<module>.NAME``, where NAME is documented."""
    if node.get("refdomain") != "py":
        return None
    package, _, name = node["reftarget"].rpartition(".")
    if package != "fashionkit" or name not in _REEXPORTS:
        return None
    target = f"{_REEXPORTS[name]}.{name}"
    return env.domains.python_domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], target, node, contnode
    )


def _evaluate_init_annotations(app: Sphinx, obj: Any, bound_method: bool) -> None:
    """Evaluate the string annotations of a plain class's ``__init__`` before autodoc reads them.

    With ``from __future__ import annotations`` and ``autodoc_typehints = "description"``,
    autodoc evaluates only class-level annotations, so the parameters of a hand-written
    ``__init__`` (the callbacks') keep unlinkable strings such as ``'PathLike'``
    (sphinx-doc/sphinx#11674). attrs classes are unaffected.
    """
    if inspect.isfunction(obj) and obj.__name__ == "__init__":
        # An annotation that cannot be evaluated is left as it was.
        with contextlib.suppress(Exception):
            obj.__annotations__ = typing.get_type_hints(obj)


def setup(app: Sphinx) -> None:
    """Connect the local handlers."""
    app.connect("missing-reference", _resolve_reexport)
    app.connect("autodoc-before-process-signature", _evaluate_init_annotations)
