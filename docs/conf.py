"""Sphinx configuration of the fashionkit documentation.

Build (as CI does)::

    sphinx-build -n -W --keep-going -b html docs docs/_build/html
    sphinx-build -n -W -b doctest docs docs/_build/doctest

The doctests load the real data: set FASHIONKIT_DATA_DIR (and FASHIONKIT_VERIFY=0 for a copy
whose files differ from the canonical ones) first.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import sys
import typing
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any

import attrs
from sphinx import addnodes
from sphinx.application import Sphinx

import fashionkit
import fashionkit.exceptions

# Local extensions: build-time figures (fashionkit_figures), site polish (fashionkit_site) and
# the measured figures of docs/measured.toml (fashionkit_measured).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

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
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx.ext.doctest",
    "myst_nb",  # Markdown pages (MyST) and the tutorial notebooks, executed at build time
    "sphinx_copybutton",
    "fashionkit_figures",
    "fashionkit_site",
    "fashionkit_measured",
]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# -- notebooks ---------------------------------------------------------------------------------

# docs/notebooks/*.ipynb are kept without outputs (docs/_tools/make_notebooks.py writes them) and
# executed by a Jupyter kernel when the documentation is built, on the data FASHIONKIT_DATA_DIR
# names; a failing cell fails the build. The cache keeps the outputs between the HTML and the
# doctest builds of one CI run (it lives in _build, which CI empties first).
nb_execution_mode = "cache"
nb_execution_cache_path = os.path.join(os.path.dirname(__file__), "_build", ".jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# TensorFlow's start-up lines go to stderr in the kernel; the pages show the cells' results.
nb_output_stderr = "remove"
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["fashionkit.css"]

# -- autodoc / napoleon ------------------------------------------------------------------------

autodoc_typehints = "description"
# Types read as their names (``ModelConfig``), linked to their pages, rather than as the dotted
# path of the module that defines them, which may be private (``fashionkit.models._base``).
python_use_unqualified_type_names = True
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# -- autosummary -------------------------------------------------------------------------------

# The API pages (docs/api/*.rst) list their module's classes and functions in autosummary tables;
# each entry gets a page of its own in docs/api/generated/ (written at build time, not kept in
# git) from the templates in docs/_templates/autosummary/. A class is documented with its own
# members unless listed here with the autodoc options its page takes instead.
autosummary_generate = True
_CONFIG = [":members:", ":inherited-members:"]
_MODEL_CONFIG = [*_CONFIG, ":show-inheritance:"]
_EXCEPTION = [":members:", ":show-inheritance:"]
_CLASS_OPTIONS: dict[str, list[str]] = {
    "fashionkit.config.TrainConfig": _CONFIG,
    "fashionkit.config.DataConfig": _CONFIG,
    "fashionkit.config.LossConfig": _CONFIG,
    "fashionkit.config.OptimizerConfig": _CONFIG,
    "fashionkit.config.AugmentConfig": _CONFIG,
    "fashionkit.config.EarlyStoppingConfig": _CONFIG,
    "fashionkit.config.DeviceConfig": _CONFIG,
    "fashionkit.models.ModelConfig": _CONFIG,
    "fashionkit.models.LinearConfig": _MODEL_CONFIG,
    "fashionkit.models.MLPConfig": _MODEL_CONFIG,
    "fashionkit.models.CNNConfig": _MODEL_CONFIG,
    "fashionkit.models.ResNetConfig": _MODEL_CONFIG,
    "fashionkit.sweep.SearchSpace": [
        ":members: config_for, suggest, to_dict, to_toml, from_dict, from_toml"
    ],
    "fashionkit.sweep.Parameter": [":members: kind, corners, suggest, value_of, to_dict"],
    "fashionkit.sweep.TrialRecord": [],
    "fashionkit.sklearn.FashionClassifier": [
        ":members: fit, predict, predict_proba, get_params, set_params, from_config, to_config"
    ],
    "fashionkit.results.BestEpoch": [],
    "fashionkit.results.CheckpointState": [],
    "fashionkit.evaluation.Evaluator": [":members:", ":special-members: __call__"],
    "fashionkit.export.ExportedModel": [":members: predict"],
}
_CLASS_OPTIONS.update(
    {f"fashionkit.exceptions.{name}": _EXCEPTION for name in fashionkit.exceptions.__all__}
)
autosummary_context = {"class_options": _CLASS_OPTIONS}

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
    # Offline: Debian's python3.11-doc package ships the Python documentation's inventory
    # (.ci/run installs it); links into the Python docs use it when it is there.
    _PYTHON_INVENTORY = "/usr/share/doc/python3.11/html/objects.inv"
    intersphinx_mapping = (
        {"python": ("https://docs.python.org/3.11", _PYTHON_INVENTORY)}
        if os.path.isfile(_PYTHON_INVENTORY)
        else {}
    )

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
    # Private modules (fashionkit._schema, ...) have no page: the API is documented where it is
    # public. A docstring that names one renders it as plain code.
    (r"py:mod", r"fashionkit(\.\w+)*\._\w+"),
    # Private classes in the signatures of internal helpers (RunWriter's lock).
    (r"py:class", r"fashionkit(\.\w+)*\._\w+\.\w+"),
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
# --doctest-modules runs them); give the doctest builder the same names. Star imports take each
# module's __all__. fashionkit.callbacks imports Keras, which the examples of the training and
# model modules import anyway.
doctest_global_setup = """
import fashionkit
from fashionkit import *
from fashionkit.datasets import *
from fashionkit.preprocessing import *
from fashionkit.config import *
from fashionkit.models import *
from fashionkit.training import *
from fashionkit.results import *
from fashionkit.evaluation import *
from fashionkit.callbacks import *
from fashionkit.devices import *
from fashionkit.hardware import *
from fashionkit.runs import *
from fashionkit.presets import *
from fashionkit.lr_finder import *
from fashionkit.calibration import *
from fashionkit.export import *
from fashionkit.sklearn import *
from fashionkit.sweep import *

# Examples that draw pictures need the optional plot extra; they carry
# ":skipif: not HAVE_MATPLOTLIB" so that a docs build without it still passes.
import importlib.util as _importlib_util
HAVE_MATPLOTLIB = _importlib_util.find_spec("matplotlib") is not None
"""

# -- copy button -------------------------------------------------------------------------------

# The copy button copies the commands and the code of an example without their prompts (">>> ",
# "... ", "$ ") and without the output lines.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True

# -- HTML output -------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"fashionkit {release}"

# -- local extensions --------------------------------------------------------------------------

# The API page documents every public name once, in its home: the one public module whose
# __all__ lists it (a test keeps it so). It is also reachable as fashionkit.NAME (the top
# level's shortcuts) and, in annotations, through the private module that defines it
# (fashionkit.models._cnn.CNNConfig); both paths are resolved to the documented one.
_PUBLIC_MODULES = (
    "fashionkit.datasets",
    "fashionkit.preprocessing",
    "fashionkit.baseline",
    "fashionkit.config",
    "fashionkit.models",
    "fashionkit.training",
    "fashionkit.results",
    "fashionkit.evaluation",
    "fashionkit.explain",
    "fashionkit.calibration",
    "fashionkit.callbacks",
    "fashionkit.devices",
    "fashionkit.hardware",
    "fashionkit.runs",
    "fashionkit.export",
    "fashionkit.sklearn",
    "fashionkit.sweep",
    "fashionkit.presets",
    "fashionkit.lr_finder",
    "fashionkit.images",
    "fashionkit.plots",
    "fashionkit.exceptions",
    "fashionkit.cli",
)


def _aliases() -> dict[str, str]:
    """The other dotted paths of every documented name, mapped to its documented path."""
    aliases: dict[str, str] = {}
    for home in _PUBLIC_MODULES:
        module = importlib.import_module(home)
        for name in module.__all__:
            obj = getattr(module, name)
            if getattr(fashionkit, name, None) is obj:
                aliases[f"fashionkit.{name}"] = f"{home}.{name}"
            defined_in = getattr(obj, "__module__", None)
            qualname = getattr(obj, "__qualname__", None)
            if defined_in and qualname and defined_in.startswith("fashionkit"):
                aliases[f"{defined_in}.{qualname}"] = f"{home}.{name}"
    return {alias: target for alias, target in aliases.items() if alias != target}


_ALIASES = _aliases()


def _resolve_alias(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve another path of a documented name (and of its members) to the documented one."""
    if node.get("refdomain") != "py":
        return None
    written = node["reftarget"].removesuffix("()")
    # A name written without its module (``LinearConfig`` in a fashionkit.config docstring) is
    # looked up in the module of the docstring, as Sphinx itself does.
    candidates = [written]
    if node.get("py:module"):
        candidates.append(f"{node['py:module']}.{written}")
    for candidate in candidates:
        parts = candidate.split(".")
        for i in range(len(parts), 1, -1):
            target = _ALIASES.get(".".join(parts[:i]))
            if target is not None:
                target = ".".join([target, *parts[i:]])
                return env.domains.python_domain.resolve_xref(
                    env, node["refdoc"], app.builder, node["reftype"], target, node, contnode
                )
    return None


def _evaluate_init_annotations(app: Sphinx, obj: Any, bound_method: bool) -> None:
    """Evaluate the string annotations of a plain class's ``__init__`` before autodoc reads them.

    With ``from __future__ import annotations`` and ``autodoc_typehints = "description"``,
    autodoc evaluates only class-level annotations, so the parameters of a hand-written
    ``__init__`` (the callbacks') keep unlinkable strings such as ``'PathLike'``
    (sphinx-doc/sphinx#11674). attrs classes are unaffected.
    """
    if inspect.isfunction(obj) and obj.__name__ == "__init__":
        # autodoc reads the signature of the function a decorator (fashionkit's params) wraps.
        target = inspect.unwrap(obj)
        # An annotation that cannot be evaluated is left as it was.
        with contextlib.suppress(Exception):
            target.__annotations__ = typing.get_type_hints(target)


def _default_text(default: Any) -> str:
    """How an attrs default reads in a signature: a factory as the call that makes the value."""
    if isinstance(default, attrs.Factory):
        factory = default.factory
        if factory in (list, dict, set, tuple):
            return repr(factory())
        return f"{getattr(factory, '__qualname__', repr(factory))}()"
    return repr(default)


def _attrs_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """Rebuild an attrs class's signature from its fields.

    autodoc reads the generated ``__init__``, where a factory default is the sentinel
    ``NOTHING`` (``data=NOTHING``); the fields give the real default (``data=DataConfig()``) and
    which arguments are keyword-only. Types stay in the description, as for every signature.
    """
    if what != "class" or not attrs.has(obj):
        return None
    positional: list[str] = []
    keyword: list[str] = []
    for field in attrs.fields(obj):
        if not field.init:
            continue
        text = field.alias or field.name
        if field.default is not attrs.NOTHING:
            text += f"={_default_text(field.default)}"
        (keyword if field.kw_only else positional).append(text)
    if keyword:
        positional += ["*", *keyword]
    return f"({', '.join(positional)})", return_annotation


def _drop_attribute_parameters(
    app: Sphinx, domain: str, objtype: str, contentnode: addnodes.desc_content
) -> None:
    """Document a class's parameter once, as the attribute it becomes.

    ``autodoc_typehints = "description"`` adds a "Parameters" list with the type of every
    ``__init__`` argument. For a class whose docstring documents the same names as attributes
    (the attrs configs and records, with their types and descriptions), that list only repeats
    them. This runs before autodoc merges the types in, and drops the parameters documented as
    attributes or properties of the class.
    """
    if domain != "py" or objtype not in {"class", "exception"}:
        return
    signature = contentnode.parent[0]
    fullname = ".".join(filter(None, [signature.get("module"), signature.get("fullname")]))
    annotations = app.env.current_document.autodoc_annotations.get(fullname)
    if not annotations:
        return
    prefix = f"{signature.get('fullname')}."
    for member in contentnode.findall(addnodes.desc):
        if member.get("objtype") not in {"attribute", "property"}:
            continue
        for member_signature in member.findall(addnodes.desc_signature):
            member_name = member_signature.get("fullname", "")
            if member_name.startswith(prefix):
                annotations.pop(member_name.removeprefix(prefix), None)


def _keras_callback_methods() -> frozenset[str]:
    """The methods Keras calls on a callback (``on_epoch_end``, ``set_model``, ...)."""
    import keras

    return frozenset(name for name in vars(keras.callbacks.Callback) if not name.startswith("_"))


# Keras calls these methods of a callback; they are documented by Keras, not by fashionkit.
# fashionkit's own hooks (set_context, on_result) are documented.
_KERAS_CALLBACK_METHODS = _keras_callback_methods()


def _skip_keras_hooks(
    app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any
) -> bool | None:
    """Leave the Keras hook methods (``on_epoch_end``, ``set_model``, ...) out of the callbacks."""
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("fashionkit.callbacks") and name in _KERAS_CALLBACK_METHODS:
        return True
    return None


def _drop_generic_bases(app: Sphinx, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """Leave ``Generic[C]`` out of a class's bases: its type variable lives in a private module.

    ``Architecture(Generic[C])`` would show "Bases: Generic[fashionkit.models._registry.C]",
    which names nothing a reader can use.
    """
    bases[:] = [
        base
        for base in bases
        if base is not typing.Generic and typing.get_origin(base) is not typing.Generic
    ]


def setup(app: Sphinx) -> None:
    """Connect the local handlers."""
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-process-bases", _drop_generic_bases)
    app.connect("autodoc-before-process-signature", _evaluate_init_annotations)
    app.connect("autodoc-process-signature", _attrs_signature)
    app.connect("autodoc-skip-member", _skip_keras_hooks)
    # Before autodoc's own handler (priority 500) adds the types to the description.
    app.connect("object-description-transform", _drop_attribute_parameters, priority=400)
