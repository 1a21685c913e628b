"""The public API: a cheap import, documented names, and a namespace that is what it claims."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from typing import Any

import pytest

import fashionkit

MODULES = [
    "fashionkit.baseline",
    "fashionkit.callbacks",
    "fashionkit.cli",
    "fashionkit.config",
    "fashionkit.calibration",
    "fashionkit.datasets",
    "fashionkit.devices",
    "fashionkit.evaluation",
    "fashionkit.exceptions",
    "fashionkit.explain",
    "fashionkit.export",
    "fashionkit.hardware",
    "fashionkit.images",
    "fashionkit.lr_finder",
    "fashionkit.models",
    "fashionkit.plots",
    "fashionkit.preprocessing",
    "fashionkit.presets",
    "fashionkit.results",
    "fashionkit.runs",
    "fashionkit.sklearn",
    "fashionkit.sweep",
    "fashionkit.training",
]


def _public_objects() -> list[tuple[str, Any]]:
    found = [(f"fashionkit.{name}", getattr(fashionkit, name)) for name in fashionkit.__all__]
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        found.append((module_name, module))
        found.extend((f"{module_name}.{n}", getattr(module, n)) for n in module.__all__)
    return found


def _documented_members(cls: type) -> list[tuple[str, Any]]:
    members = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if inspect.isfunction(member) or isinstance(member, (property, classmethod, staticmethod)):
            members.append((name, member))
    return members


@pytest.mark.parametrize(
    ("name", "obj"), _public_objects(), ids=[name for name, _ in _public_objects()]
)
def test_every_public_name_has_a_docstring(name: str, obj: Any) -> None:
    """It gives every exported function, class, module and public method a docstring."""
    if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj)):
        return  # constants are documented in the API reference through #: comments
    assert inspect.getdoc(obj), f"{name} has no docstring"
    if inspect.isclass(obj):
        for member_name, member in _documented_members(obj):
            target = member.fget if isinstance(member, property) else member
            assert inspect.getdoc(target), f"{name}.{member_name} has no docstring"


def test_every_public_name_has_one_home() -> None:
    """It lists each public name in one module's __all__; the top level re-exports that object."""
    homes: dict[str, list[str]] = {}
    for module_name in MODULES:
        for name in importlib.import_module(module_name).__all__:
            homes.setdefault(name, []).append(module_name)
    shared = {name: where for name, where in homes.items() if len(where) > 1}
    assert not shared, f"names with more than one import path: {shared}"
    for name in fashionkit.__all__:
        if name == "__version__":
            continue
        assert name in homes, f"fashionkit.{name} is in no public module's __all__"
        home = importlib.import_module(homes[name][0])
        assert getattr(fashionkit, name) is getattr(home, name), name


def test_no_old_alias_is_left() -> None:
    """It no longer offers the names replaced in 0.2 (the package is 0.x: they are gone)."""
    import fashionkit.lr_finder
    import fashionkit.training

    for module, name in [
        (fashionkit, "build_model"),
        (fashionkit, "LearningRateSweep"),
        (fashionkit, "RunRecord"),
        (fashionkit.training, "build_model"),
        (fashionkit.lr_finder, "LearningRateSweep"),
    ]:
        assert not hasattr(module, name), f"{module.__name__}.{name}"


def test_all_lists_only_existing_names() -> None:
    """It exports exactly the names it lists, and each module's __all__ resolves."""
    for name in fashionkit.__all__:
        assert hasattr(fashionkit, name), name
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name}"


def test_import_does_not_load_tensorflow_keras_or_scikit_learn() -> None:
    """It keeps TensorFlow, Keras and scikit-learn out of `import fashionkit` and the data path."""
    code = (
        "import sys, json, numpy as np, fashionkit\n"
        "heavy = ('tensorflow', 'keras', 'sklearn')\n"
        "after_import = [m for m in heavy if m in sys.modules]\n"
        "x = np.zeros((50, 28, 28), np.uint8); y = np.arange(50) % 10\n"
        "parts = fashionkit.train_validation_split(x, y)\n"
        "fashionkit.prepare_images(parts.train_images)\n"
        "fashionkit.TrainConfig.from_dict({'model': 'cnn'})\n"
        "after_use = [m for m in heavy if m in sys.modules]\n"
        "print(json.dumps([after_import, after_use]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == [[], []]


def test_the_package_version_is_the_installed_distributions() -> None:
    """It reports the version of the installed distribution."""
    from importlib.metadata import version

    assert fashionkit.__version__ == version("fashionkit")
