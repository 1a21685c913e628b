"""``create_model``: an uncompiled Keras model from an architecture name or config."""

from __future__ import annotations

from typing import Any

from fashionkit._constants import NUM_CLASSES, LayoutChoice, input_shape_for
from fashionkit._messages import shown
from fashionkit._validation import params
from fashionkit.exceptions import ConfigError
from fashionkit.models._base import ModelConfig
from fashionkit.models._layers import NUM_CLASSES_RULE
from fashionkit.models._registry import get_architecture


@params(num_classes=NUM_CLASSES_RULE)
def create_model(
    model: ModelConfig | str = "linear",
    *,
    layout: LayoutChoice = "auto",
    num_classes: int = NUM_CLASSES,
    **overrides: Any,
) -> Any:
    """Create an uncompiled ``keras.Model`` for an architecture.

    Compile it with :func:`fashionkit.training.compile_model`, or let
    :func:`fashionkit.training.create_training_model` do both from a
    :class:`~fashionkit.config.TrainConfig`.

    Args:
        model: A model config, or a registered name whose config takes ``overrides``.
            Defaults to ``"linear"``.
        layout: Input layout, ``"flat"``, ``"image"`` or ``"auto"`` (the architecture's
            preference). Defaults to ``"auto"``.
        num_classes: Units of the softmax output, at least 2. Defaults to 10.
        **overrides: Config fields to set when ``model`` is a name, e.g. ``hidden_units=(256,)``.

    Returns:
        The ``keras.Model``; its input is an explicit ``keras.Input`` and its output layer a
        float32 softmax.

    Raises:
        UnknownModelError: ``model`` names no registered architecture.
        ConfigError: An override is not a field of the architecture or is invalid.
        ArgumentError: An unknown layout, fewer than 2 classes, or a ``model`` that is neither
            a config nor a name (an ArgumentError is a ConfigError too).

    Example:
        >>> model = create_model("mlp", hidden_units=(32,))
        >>> model.output_shape
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
            f"The architecture {shown(config.architecture)} expects a "
            f"{architecture.config.__name__}; "
            f"got {type(config).__name__}."
        )
    resolved = config.preferred_layout if layout == "auto" else layout
    return architecture.build(
        config, input_shape=input_shape_for(resolved), num_classes=num_classes
    )
