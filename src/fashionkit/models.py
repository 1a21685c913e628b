"""The model factory: a registry of architectures and functions that build and compile them.

Builders import Keras when they run, so importing this module (and looking up or listing
architectures) stays cheap. Models are built here, never fitted: training lives in
:mod:`fashionkit.training`.

Example:
    >>> from fashionkit.models import list_architectures
    >>> list_architectures()
    ['cnn', 'linear', 'mlp']
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from fashionkit.config import (
    CNNConfig,
    LinearConfig,
    LossConfig,
    MLPConfig,
    ModelConfig,
    OptimizerConfig,
    TrainConfig,
)
from fashionkit.datasets import IMAGE_SHAPE, NUM_CLASSES
from fashionkit.exceptions import ConfigError, UnknownModelError

__all__ = [
    "Architecture",
    "aligned_steps_per_execution",
    "build_model",
    "compile_model",
    "create_model",
    "get_architecture",
    "input_shape_for",
    "list_architectures",
    "register_architecture",
    "unregister_architecture",
]

C = TypeVar("C", bound=ModelConfig)
#: A builder takes the architecture's config, the input shape and the number of classes, and
#: returns an uncompiled ``keras.Model`` whose output is a softmax over the classes.
Builder = Callable[..., Any]


@attrs.frozen(kw_only=True)
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


def register_architecture(
    config: type[C], *, overwrite: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a builder for the architecture that ``config`` describes (a decorator).

    Args:
        config: A frozen attrs subclass of :class:`~fashionkit.config.ModelConfig` whose
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
        >>> from fashionkit.config import ModelConfig
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
            f"register_architecture needs a frozen attrs subclass of ModelConfig; got {config!r}."
        )
    name = config.architecture
    if not name or not name.isidentifier():
        raise ConfigError(
            f"{config.__name__}.architecture must be a non-empty identifier such as 'resnet'; "
            f"got {name!r}."
        )

    def decorator(build: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and not overwrite:
            raise ConfigError(
                f"An architecture named {name!r} is already registered; pass overwrite=True to "
                f"replace it, or choose another name."
            )
        doc = (build.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Architecture(
            name=name, config=config, build=build, summary=doc[0] if doc else ""
        )
        return build

    return decorator


def unregister_architecture(name: str) -> None:
    """Remove a registered architecture (for tests and interactive sessions)."""
    get_architecture(name)
    del _REGISTRY[name]


def get_architecture(name: str) -> Architecture[Any]:
    """Return the architecture registered under ``name``.

    Raises:
        UnknownModelError: No such architecture; the message lists close matches and every
            registered name.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        known = sorted(_REGISTRY)
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownModelError(
            f"No architecture named {name!r}.{hint} Registered architectures: "
            f"{', '.join(known)}. Add one with fashionkit.register_architecture."
        ) from None


def list_architectures(pattern: str | None = None) -> list[str]:
    """Return the registered architecture names, sorted, optionally filtered by a glob.

    Example:
        >>> list_architectures("*n*")
        ['cnn', 'linear']
    """
    names = sorted(_REGISTRY)
    return [n for n in names if pattern is None or fnmatch.fnmatchcase(n, pattern)]


def input_shape_for(layout: str) -> tuple[int, ...]:
    """Return the per-sample input shape of a layout: ``(784,)`` or ``(28, 28, 1)``."""
    if layout == "flat":
        return (IMAGE_SHAPE[0] * IMAGE_SHAPE[1],)
    if layout == "image":
        return (*IMAGE_SHAPE, 1)
    raise ConfigError(f"layout must be 'flat' or 'image'; got {layout!r}.")


def create_model(
    model: ModelConfig | str = "linear",
    *,
    layout: str = "auto",
    num_classes: int = NUM_CLASSES,
    **overrides: Any,
) -> Any:
    """Build an uncompiled ``keras.Model`` for an architecture.

    Args:
        model: A model config, or a registered name whose config takes ``overrides``.
            Defaults to ``"linear"``.
        layout: Input layout, ``"flat"``, ``"image"`` or ``"auto"`` (the architecture's
            preference). Defaults to ``"auto"``.
        num_classes: Units of the softmax output. Defaults to 10.
        **overrides: Config fields to set when ``model`` is a name, e.g. ``hidden_units=(256,)``.

    Returns:
        The ``keras.Model``; its input is an explicit ``keras.Input`` and its output layer a
        float32 softmax.

    Raises:
        UnknownModelError: ``model`` names no registered architecture.
        ConfigError: An override is not a field of the architecture or is invalid.

    Example:
        >>> model = create_model("mlp", hidden_units=(32,))  # doctest: +SKIP
        >>> model.output_shape  # doctest: +SKIP
        (None, 10)
    """
    if isinstance(model, str):
        config: ModelConfig = get_architecture(model).config.from_dict(overrides)
    else:
        if overrides:
            raise ConfigError(
                "create_model takes field overrides only with an architecture name; use "
                "attrs.evolve(config, ...) to change a config object."
            )
        config = model
    architecture = get_architecture(config.architecture)
    if not isinstance(config, architecture.config):
        raise ConfigError(
            f"The architecture {config.architecture!r} expects a {architecture.config.__name__}; "
            f"got {type(config).__name__}."
        )
    resolved = config.preferred_layout if layout == "auto" else layout
    return architecture.build(
        config, input_shape=input_shape_for(resolved), num_classes=num_classes
    )


def _optimizer(config: OptimizerConfig) -> Any:
    import keras

    classes = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "nadam": keras.optimizers.Nadam,
        "adagrad": keras.optimizers.Adagrad,
    }
    return classes[config.name](learning_rate=config.learning_rate)


def make_loss(config: LossConfig, *, reduction: str | None = "sum_over_batch_size") -> Any:
    """Return the Keras loss object for ``config`` (``reduction=None`` gives per-sample losses)."""
    import keras

    if config.encoding == "sparse":
        return keras.losses.SparseCategoricalCrossentropy(reduction=reduction)
    return keras.losses.CategoricalCrossentropy(
        label_smoothing=config.label_smoothing, reduction=reduction
    )


def compile_model(
    model: Any,
    *,
    loss: LossConfig | None = None,
    optimizer: OptimizerConfig | None = None,
    steps_per_execution: int = 1,
) -> Any:
    """Compile ``model`` with the configured loss, optimizer and the accuracy metric.

    Args:
        model: An uncompiled ``keras.Model`` with a softmax output.
        loss: The loss; sparse categorical cross-entropy when omitted.
        optimizer: The optimizer; RMSprop at 0.001 when omitted.
        steps_per_execution: Batches Keras runs per compiled call. Defaults to 1.

    Returns:
        The same model, compiled.
    """
    model.compile(
        optimizer=_optimizer(optimizer or OptimizerConfig()),
        loss=make_loss(loss or LossConfig()),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def build_model(config: TrainConfig | None = None, *, steps_per_epoch: int | None = None) -> Any:
    """Build and compile the model that a training config describes.

    Args:
        config: The training config; :class:`~fashionkit.config.TrainConfig()` when omitted.
        steps_per_epoch: Batches per epoch, when known. Keras runs whole groups of
            ``steps_per_execution`` batches, so a group would spill into the next epoch when
            that number does not divide the epoch; given the epoch length, the largest divisor
            not above ``config.steps_per_execution`` is used instead.

    Returns:
        A compiled ``keras.Model``.

    Example:
        >>> model = build_model()  # doctest: +SKIP
        >>> model.count_params()  # doctest: +SKIP
        7850
    """
    config = config or TrainConfig()
    model = create_model(config.model, layout=config.layout)
    steps = config.steps_per_execution
    if steps_per_epoch is not None:
        steps = aligned_steps_per_execution(steps, steps_per_epoch)
    return compile_model(
        model, loss=config.loss, optimizer=config.optimizer, steps_per_execution=steps
    )


def aligned_steps_per_execution(wanted: int, steps_per_epoch: int) -> int:
    """The largest divisor of ``steps_per_epoch`` that is at most ``wanted``.

    Example:
        >>> aligned_steps_per_execution(64, 1500)
        60
        >>> aligned_steps_per_execution(64, 1499)
        1
    """
    return max(d for d in range(1, min(wanted, steps_per_epoch) + 1) if steps_per_epoch % d == 0)


# --- the built-in architectures -----------------------------------------------------------


def _inputs(input_shape: tuple[int, ...], *, want: str) -> tuple[Any, Any]:
    """Create the ``keras.Input`` and adapt it to the layout the architecture computes on."""
    import keras

    inputs = keras.Input(shape=input_shape, name="pixels")
    x = inputs
    if want == "flat" and len(input_shape) != 1:
        x = keras.layers.Flatten(name="flatten")(x)
    elif want == "image" and len(input_shape) == 1:
        x = keras.layers.Reshape((*IMAGE_SHAPE, 1), name="to_image")(x)
    return inputs, x


def _softmax(num_classes: int) -> Any:
    import keras

    # float32 output keeps the softmax and the loss stable under mixed precision.
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="output")


@register_architecture(LinearConfig)
def build_linear(config: LinearConfig, *, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """The tutorial's single Dense softmax layer (multinomial logistic regression)."""
    import keras

    inputs, x = _inputs(input_shape, want="flat")
    return keras.Model(inputs, _softmax(num_classes)(x), name="linear")


@register_architecture(MLPConfig)
def build_mlp(config: MLPConfig, *, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """Hidden Dense layers with optional dropout, then a softmax layer."""
    import keras

    inputs, x = _inputs(input_shape, want="flat")
    for i, units in enumerate(config.hidden_units):
        x = keras.layers.Dense(units, activation=config.activation, name=f"hidden_{i}")(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    return keras.Model(inputs, _softmax(num_classes)(x), name="mlp")


@register_architecture(CNNConfig)
def build_cnn(config: CNNConfig, *, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """Convolution and max-pooling blocks, a dense layer with dropout, then softmax."""
    import keras

    inputs, x = _inputs(input_shape, want="image")
    for i, filters in enumerate(config.filters):
        x = keras.layers.Conv2D(
            filters, config.kernel_size, activation="relu", padding="same", name=f"conv_{i}"
        )(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    if config.dropout > 0:
        x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    return keras.Model(inputs, _softmax(num_classes)(x), name="cnn")
