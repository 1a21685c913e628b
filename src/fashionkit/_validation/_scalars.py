"""Plain values: the one number check, and how messages show a user's value."""

from __future__ import annotations

import math
from typing import Any, Literal, overload

import numpy as np

from fashionkit._messages import SHOWN_LENGTH, shown
from fashionkit.exceptions import ArgumentError, FashionkitError

__all__ = ["SHOWN_LENGTH", "bounds_text", "check_scalar", "shown"]


def bounds_text(
    *,
    integer: bool,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> str:
    """What a number check allows: ``an integer >= 1``, ``a number > 0 and <= 2.0``..."""
    bounds = [
        f"{sign} {bound}"
        for sign, bound in ((">=", ge), (">", gt), ("<=", le), ("<", lt))
        if bound is not None
    ]
    if not bounds:
        return "an integer" if integer else "a finite number"
    return f"{'an integer' if integer else 'a number'} {' and '.join(bounds)}"


@overload
def check_scalar(
    value: object,
    name: str,
    *,
    kind: Literal["int"] = ...,
    ge: float | None = ...,
    gt: float | None = ...,
    le: float | None = ...,
    lt: float | None = ...,
    hint: str = ...,
    numpy: bool = ...,
    error: type[FashionkitError] = ...,
) -> int: ...


@overload
def check_scalar(
    value: object,
    name: str,
    *,
    kind: Literal["number"],
    ge: float | None = ...,
    gt: float | None = ...,
    le: float | None = ...,
    lt: float | None = ...,
    hint: str = ...,
    numpy: bool = ...,
    error: type[FashionkitError] = ...,
) -> float: ...


def check_scalar(
    value: object,
    name: str,
    *,
    kind: Literal["int", "number"] = "int",
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    hint: str = "",
    numpy: bool = True,
    error: type[FashionkitError] = ArgumentError,
) -> int | float:
    """Check one plain number: its type, that it is finite, and its bounds.

    The one number check of fashionkit: plain arguments use it directly, and the config
    fields' validators (``fashionkit._fields.number``) call it with ``error=ConfigError``.
    ``True`` and ``False`` are never numbers here (Python counts them as integers).

    Args:
        value: The value as received.
        name: Its name in the message (``"batch_size"``, ``"TrainConfig.epochs"``).
        kind: ``"int"`` for an integer, ``"number"`` for any finite real number.
        ge: The value must be ``>=`` this; ``None`` for no such bound (likewise ``gt``, ``le``,
            ``lt`` for ``>``, ``<=`` and ``<``).
        gt: See ``ge``.
        le: See ``ge``.
        lt: See ``ge``.
        hint: A sentence appended to the message (what a usual value is).
        numpy: Accept NumPy integers and floats too (a config field takes Python numbers only,
            so that it serialises as it was given).
        error: The exception class raised. Defaults to
            :class:`~fashionkit.exceptions.ArgumentError`.

    Returns:
        The value as a Python ``int`` (``kind="int"``) or ``float``.

    Raises:
        ArgumentError: Wrong type, NaN or infinite, or out of bounds (or ``error``); the
            message names the value, what is allowed and what was received.

    Example:
        >>> check_scalar(3, "folds", ge=2)
        3
        >>> check_scalar(0.0, "fraction", kind="number", gt=0, lt=1)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ArgumentError: fraction must be a number > 0 and < 1; got 0.0.
        >>> check_scalar(True, "steps", ge=1)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ArgumentError: steps must be an integer >= 1; got True (bool).
    """
    integer = kind == "int"
    wanted = bounds_text(integer=integer, ge=ge, gt=gt, le=le, lt=lt)
    suffix = f" {hint}" if hint else ""
    types: tuple[type, ...] = (int,) if integer else (int, float)
    if numpy:
        types += (np.integer,) if integer else (np.integer, np.floating)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, types):
        raise error(
            f"{name} must be {wanted}; got {shown(value)} ({type(value).__name__}).{suffix}"
        )
    # Integers are compared as integers: a huge one is finite, but float() would overflow.
    checked: Any = value  # an int, a float or a NumPy number, as tested just above
    number: int | float = int(checked) if isinstance(checked, (int, np.integer)) else float(checked)
    if (
        (isinstance(number, float) and not math.isfinite(number))
        or (ge is not None and number < ge)
        or (gt is not None and number <= gt)
        or (le is not None and number > le)
        or (lt is not None and number >= lt)
    ):
        raise error(f"{name} must be {wanted}; got {shown(value)}.{suffix}")
    if integer:
        return number
    try:
        return float(number)
    except OverflowError:  # an int beyond any float, with no upper bound to refuse it
        raise error(
            f"{name} must be {wanted} within float range; got {shown(value)}.{suffix}"
        ) from None
