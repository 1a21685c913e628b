"""The base class of architecture configs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from fashionkit._constants import Layout
from fashionkit._fields import ConfigBase


@attrs.frozen(kw_only=True)
class ModelConfig(ConfigBase):
    """Base class of architecture configs; each subclass names its architecture.

    Subclass it (as a frozen attrs class with an ``architecture`` class variable) and register
    a builder with :func:`fashionkit.models.register_architecture` to add an architecture. Its
    dict form starts with the ``architecture`` key, which selects the class when a config is
    read back.
    """

    architecture: ClassVar[str] = ""
    #: Input layout the architecture is designed for when ``DataConfig.layout`` is ``"auto"``.
    preferred_layout: ClassVar[Layout] = "flat"

    @classmethod
    def _fixed_keys(cls) -> Mapping[str, Any]:
        return {"architecture": cls.architecture}
