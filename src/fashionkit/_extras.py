"""Optional dependencies: refuse a feature early, naming the extra that brings what it needs.

A bottom layer: it looks packages up with :func:`importlib.util.find_spec`, without importing
them, so that a check costs nothing and can run before devices, data or files are touched.
"""

from __future__ import annotations

import importlib.util

from fashionkit.exceptions import ConfigError

__all__ = ["missing", "require"]


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported (found on the path, or already imported)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that fails, or a spec-less module
        return False


def missing(*modules: str) -> list[str]:
    """The ``modules`` that cannot be imported, in the order given.

    Example:
        >>> missing("json", "no_such_module_for_fashionkit")
        ['no_such_module_for_fashionkit']
    """
    return [module for module in modules if not _installed(module)]


def require(*modules: str, extra: str, purpose: str) -> None:
    """Raise unless every one of ``modules`` can be imported; the message names ``extra``.

    Args:
        modules: Top-level module names, such as ``"tensorboard"``.
        extra: The fashionkit extra that installs them, such as ``"tensorboard"``.
        purpose: What needs them, as the start of a sentence: ``"TrainConfig.tensorboard=True
            writes TensorBoard logs"``.

    Raises:
        ConfigError: A module is missing; the message says what needs it and how to install
            the extra.

    Example:
        >>> require("json", extra="demo", purpose="Reading JSON")
        >>> require("no_such_module_for_fashionkit", extra="demo", purpose="The demo draws")
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: The demo draws, which needs the
        no_such_module_for_fashionkit package: pip install 'fashionkit[demo]'.
    """
    absent = missing(*modules)
    if not absent:
        return
    noun = "package" if len(absent) == 1 else "packages"
    raise ConfigError(
        f"{purpose}, which needs the {' and '.join(absent)} {noun}: "
        f"pip install 'fashionkit[{extra}]'."
    )
