"""The architecture registry: names to config classes and builders.

It imports no numerical library: looking up, listing or registering an architecture is cheap.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from fashionkit._messages import shown
from fashionkit._validation import CheckedBy, annotated_fields, params
from fashionkit.exceptions import ConfigError, UnknownModelError
from fashionkit.models._base import ModelConfig

C = TypeVar("C", bound=ModelConfig)
# The type variable of Architecture's config class, shown in its documented home: the API pages
# then read "fashionkit.models.C", not the private module it is defined in.
C.__module__ = "fashionkit.models"


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class Architecture(Generic[C]):
    """A registered architecture: its name, config class and builder.

    Attributes:
        name: The registry key, equal to ``config.architecture``.
        config: The frozen attrs config class holding the architecture's parameters.
        build: ``build(config, *, input_shape, num_classes) -> keras.Model`` (uncompiled).
        summary: First line of the builder's docstring.
    """

    name: str
    config: type[C]
    build: Callable[..., Any]
    summary: str


_REGISTRY: dict[str, Architecture[Any]] = {}


@params(config=CheckedBy("register_architecture (a frozen attrs ModelConfig subclass with a name)"))
def register_architecture(
    config: type[C], *, overwrite: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a builder for the architecture that ``config`` describes (a decorator).

    Args:
        config: A frozen attrs subclass of :class:`~fashionkit.models.ModelConfig` whose
            ``architecture`` class variable is the name to register.
        overwrite: Replace an architecture already registered under that name.
            Defaults to ``False``.

    Returns:
        A decorator that registers the builder and returns it unchanged.

    Raises:
        ConfigError: ``config`` is not a ModelConfig subclass with a name, or the name is taken
            and ``overwrite`` is ``False``.

    Example:
        >>> from typing import ClassVar
        >>> import attrs
        >>> from fashionkit.models import ModelConfig
        >>> @attrs.frozen(kw_only=True)
        ... class TinyConfig(ModelConfig):
        ...     architecture: ClassVar[str] = "tiny"
        ...     units: int = 16
        >>> @register_architecture(TinyConfig)
        ... def build_tiny(config, *, input_shape, num_classes):
        ...     '''Flatten, one hidden layer, softmax.'''
        ...     import keras
        ...     inputs = keras.Input(shape=input_shape)
        ...     x = keras.layers.Flatten()(inputs)
        ...     x = keras.layers.Dense(config.units, activation="relu")(x)
        ...     outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
        ...     return keras.Model(inputs, outputs, name="tiny")
        >>> "tiny" in list_architectures()
        True
        >>> unregister_architecture("tiny")
    """
    # "__attrs_attrs__" in the class's own namespace: a plain subclass of an attrs class inherits
    # the attribute without being an attrs class itself.
    if not (
        isinstance(config, type)
        and issubclass(config, ModelConfig)
        and "__attrs_attrs__" in vars(config)
    ):
        raise ConfigError(
            "register_architecture needs a frozen attrs subclass of ModelConfig; got "
            f"{shown(config)}."
        )
    name = config.architecture
    if not name or not name.isidentifier():
        raise ConfigError(
            f"{config.__name__}.architecture must be a non-empty identifier such as 'resnet'; "
            f"got {shown(name)}."
        )

    def decorator(build: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and not overwrite:
            raise ConfigError(
                f"An architecture named {shown(name)} is already registered; pass overwrite=True "
                "to "
                f"replace it, or choose another name."
            )
        doc = (build.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Architecture(
            name=name, config=config, build=build, summary=doc[0] if doc else ""
        )
        return build

    return decorator


#: Any name is looked up; one that is not registered (a non-str too) is an UnknownModelError.
_NAME = CheckedBy("get_architecture, which lists the registered names")


@params(name=_NAME)
def unregister_architecture(name: str) -> None:
    """Remove a registered architecture (for tests and interactive sessions).

    Raises:
        UnknownModelError: No architecture has that name.
    """
    get_architecture(name)
    del _REGISTRY[name]


@params(name=_NAME)
def get_architecture(name: str) -> Architecture[Any]:
    """Return the architecture registered under ``name``.

    Raises:
        UnknownModelError: No such architecture; the message lists close matches and every
            registered name.

    Example:
        >>> get_architecture("cnn").config.__name__
        'CNNConfig'
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        known = sorted(_REGISTRY)
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f" Did you mean {shown(close[0])}?" if close else ""
        raise UnknownModelError(
            f"No architecture named {shown(name)}.{hint} Registered architectures: "
            f"{', '.join(known)}. Add one with fashionkit.register_architecture."
        ) from None


@params()
def list_architectures(pattern: str | None = None) -> list[str]:
    """Return the registered architecture names, sorted, optionally filtered by a glob.

    Example:
        >>> list_architectures("*n*")
        ['cnn', 'linear', 'resnet']
    """
    names = sorted(_REGISTRY)
    return [n for n in names if pattern is None or fnmatch.fnmatchcase(n, pattern)]


def model_config_from(value: object) -> object:
    """Accept a ModelConfig, an architecture name, or a mapping with an ``architecture`` key.

    Used as the converter of ``TrainConfig.model``; other values are returned unchanged for the
    field's validator to reject.
    """
    if isinstance(value, ModelConfig):
        return value
    if isinstance(value, str):
        return get_architecture(value).config()
    if isinstance(value, dict) or hasattr(value, "keys"):
        fields = dict(value)  # type: ignore[call-overload]
        name = fields.pop("architecture", None)
        if not isinstance(name, str):
            raise ConfigError(
                "TrainConfig.model needs an 'architecture' key naming a registered architecture "
                f"({', '.join(map(repr, list_architectures()))}); got architecture={shown(name)} "
                "in "
                f"{shown(dict(value))}."  # type: ignore[call-overload]
            )
        config: object = get_architecture(name).config.from_dict(fields)
        return config
    return value
