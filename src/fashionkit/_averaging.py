"""The moving average of the weights that a Keras optimizer keeps with ``use_ema=True``.

Keras updates the average after every step and copies it into the model when ``fit`` ends.
During training the model holds the raw weights; :func:`averaged_weights` swaps the average in
for the length of a ``with`` block (to evaluate or save it) and puts the raw weights back, so
training continues exactly as if nothing had happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _averaging_optimizer(model: Any) -> Any:
    """The optimizer that keeps the average (looking through a ``LossScaleOptimizer``).

    Under ``mixed_float16`` Keras wraps the optimizer in a ``LossScaleOptimizer``, which passes
    the steps on to its ``inner_optimizer``.
    """
    optimizer = getattr(model, "optimizer", None)
    return getattr(optimizer, "inner_optimizer", optimizer)


def moving_averages(model: Any) -> list[Any] | None:
    """The optimizer's averaged copies of ``model.trainable_variables``, or ``None``.

    ``None`` when the model has no optimizer, its optimizer keeps no average, or the optimizer
    has not been built yet (before the first step). A loss-scale optimizer (``mixed_float16``)
    is looked through to the optimizer it wraps.
    """
    optimizer = _averaging_optimizer(model)
    if optimizer is None or not getattr(optimizer, "use_ema", False):
        return None
    averages = getattr(optimizer, "_model_variables_moving_average", None)
    return list(averages) if averages else None


@contextmanager
def averaged_weights(model: Any) -> Iterator[bool]:
    """Within the block, ``model`` holds the averaged weights; yields whether it does.

    Without an average (see :func:`moving_averages`) the model is left as it is and the block
    gets ``False``.
    """
    averages = moving_averages(model)
    variables = list(model.trainable_variables)
    if averages is None or len(averages) != len(variables):
        yield False
        return
    saved = [variable.numpy() for variable in variables]
    for variable, average in zip(variables, averages, strict=True):
        if average is not None:
            variable.assign(average)
    try:
        yield True
    finally:
        for variable, value in zip(variables, saved, strict=True):
            variable.assign(value)


def finalize_average(model: Any) -> bool:
    """Copy the average into the model for good, as Keras's ``fit`` does when it ends.

    Returns:
        Whether there was an average to copy.
    """
    if moving_averages(model) is None:
        return False
    _averaging_optimizer(model).finalize_variable_values(model.trainable_variables)
    return True
