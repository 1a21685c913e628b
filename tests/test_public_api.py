"""The public API: every exported name is documented, and the namespace is what it claims."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

import fashionkit

MODULES = [
    "fashionkit.baseline",
    "fashionkit.callbacks",
    "fashionkit.config",
    "fashionkit.datasets",
    "fashionkit.devices",
    "fashionkit.evaluation",
    "fashionkit.exceptions",
    "fashionkit.images",
    "fashionkit.models",
    "fashionkit.plots",
    "fashionkit.preprocessing",
    "fashionkit.presets",
    "fashionkit.runs",
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


@pytest.mark.parametrize(("name", "obj"), _public_objects(), ids=lambda v: str(v)[:60])
def test_every_public_name_has_a_docstring(name: str, obj: Any) -> None:
    """It gives every exported function, class, module and public method a docstring."""
    if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj)):
        return  # constants are documented in the API reference through #: comments
    assert inspect.getdoc(obj), f"{name} has no docstring"
    if inspect.isclass(obj):
        for member_name, member in _documented_members(obj):
            target = member.fget if isinstance(member, property) else member
            assert inspect.getdoc(target), f"{name}.{member_name} has no docstring"


def test_all_lists_only_existing_names() -> None:
    """It exports exactly the names it lists, and each module's __all__ resolves."""
    for name in fashionkit.__all__:
        assert hasattr(fashionkit, name), name
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name}"
