"""Parameters declared once: every public callable says what each parameter accepts."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

import fashionkit
from fashionkit._validation import Constraint, declared_params

#: Every public module (its ``__all__`` is part of the API).
PUBLIC_MODULES = (
    "fashionkit",
    "fashionkit.baseline",
    "fashionkit.calibration",
    "fashionkit.callbacks",
    "fashionkit.cli",
    "fashionkit.config",
    "fashionkit.datasets",
    "fashionkit.devices",
    "fashionkit.evaluation",
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
)

#: Methods that Keras or scikit-learn call with arguments they check themselves.
FRAMEWORK_HOOKS = frozenset({"set_model", "set_params", "get_params", "get_config"})


def _owned_methods(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """The public methods a class defines itself (not Keras's hooks), unwrapped from descriptors."""
    for name, member in vars(cls).items():
        if name.startswith("_") or name.startswith("on_") or name in FRAMEWORK_HOOKS:
            continue
        if isinstance(member, (classmethod, staticmethod)):
            member = member.__func__
        if inspect.isfunction(member) and len(inspect.signature(member).parameters) > 1:
            yield name, member


def _public_callables() -> list[tuple[str, Any]]:
    seen: dict[int, tuple[str, Any]] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, (BaseException, Warning)):
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants and type aliases
            seen.setdefault(id(obj), (f"{module_name}.{name}", obj))
            if inspect.isclass(obj):
                for method_name, method in _owned_methods(obj):
                    seen.setdefault(id(method), (f"{module_name}.{name}.{method_name}", method))
    return sorted(seen.values(), key=lambda item: item[0])


PUBLIC_CALLABLES = _public_callables()


def _constraints_of(obj: Any) -> dict[str, Constraint] | None:
    """The declared constraints of a function, or of a class's hand-written ``__init__``."""
    if inspect.isclass(obj):
        return declared_params(obj.__init__)
    return declared_params(obj)


@pytest.mark.parametrize(("name", "obj"), PUBLIC_CALLABLES, ids=[n for n, _ in PUBLIC_CALLABLES])
def test_every_parameter_declares_a_constraint(name: str, obj: Any) -> None:
    """It finds a constraint for every parameter of every public function, method and class."""
    if inspect.isclass(obj) and attrs.has(obj):
        unchecked = [f.name for f in attrs.fields(obj) if f.init and f.validator is None]
        assert not unchecked, f"{name}: fields without a validator: {unchecked}"
        return
    parameters = [
        p
        for p in inspect.signature(obj).parameters.values()
        if p.name not in ("self", "cls")
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if not parameters:
        return
    constraints = _constraints_of(obj)
    assert constraints is not None, f"{name} declares no constraints (decorate it with params)"
    missing = [p.name for p in parameters if p.name not in constraints]
    assert not missing, f"{name}: parameters without a constraint: {missing}"


@pytest.mark.parametrize(("name", "obj"), PUBLIC_CALLABLES, ids=[n for n, _ in PUBLIC_CALLABLES])
def test_every_default_is_allowed_by_its_constraint(name: str, obj: Any) -> None:
    """It checks that no declared default is a value the parameter itself would refuse."""
    if inspect.isclass(obj) and attrs.has(obj):
        return  # attrs validates defaults on construction
    constraints = _constraints_of(obj) or {}
    for parameter in inspect.signature(obj).parameters.values():
        rule = constraints.get(parameter.name)
        if rule is not None and parameter.default is not inspect.Parameter.empty:
            assert rule.allows(parameter.default), (
                f"{name}: the default {parameter.name}={parameter.default!r} is not "
                f"{rule.describe()}"
            )


def test_the_walk_covers_the_whole_public_api() -> None:
    """It walks every name of the top level, so a new public function cannot slip past."""
    names = {name for name, _ in PUBLIC_CALLABLES}
    for public in fashionkit.__all__:
        obj = getattr(fashionkit, public)
        if inspect.isfunction(obj) or (
            inspect.isclass(obj) and not issubclass(obj, (BaseException, Warning))
        ):
            assert any(n.endswith(f".{public}") for n in names), public
