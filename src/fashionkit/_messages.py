"""How messages show what they echo: a user's value, shortened; another library's error, briefly.

Every message fashionkit writes is one or two lines. A value a user gave is shown with
:func:`shown`, cut to :data:`SHOWN_LENGTH` characters with its full length said, so that a
1 MB string never floods the terminal; an error of another library that fashionkit wraps is
shown with :func:`brief`, its first line, cut the same way (the whole of it stays attached as
the wrapped exception's ``__cause__``, which ``--debug`` prints).
"""

from __future__ import annotations

from collections.abc import Mapping, Sized

__all__ = ["BRIEF_LENGTH", "SHOWN_LENGTH", "brief", "shown"]

#: How many characters of a value a message shows; a longer one is cut (see :func:`shown`).
SHOWN_LENGTH = 80
#: How many characters of another library's error a message shows (see :func:`brief`).
BRIEF_LENGTH = 200


def shown(value: object, *, limit: int = SHOWN_LENGTH) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters with its full length said.

    Every message that echoes a user's value goes through it, so that a huge value (a 1 MB
    string, a long list) never floods the terminal.

    Example:
        >>> shown("adam")
        "'adam'"
        >>> shown("x" * 1000, limit=12)
        "'xxxxxxxxxx... (a str of 1000 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, (str, bytes)):
        size = f"a {type(value).__name__} of {len(value)} characters"
    elif isinstance(value, Sized) and not isinstance(value, Mapping):
        size = f"a {type(value).__name__} of {len(value)} items"
    else:
        size = f"{len(text)} characters as text"
    return f"{text[: max(limit - 1, 1)]}... ({size})"


def brief(exc: BaseException, *, limit: int = BRIEF_LENGTH) -> str:
    r"""``TYPE: first line`` of another library's error, cut to ``limit`` characters.

    For wrapping: Keras's message for a model file it cannot load, say, can hold kilobytes of
    the model's config over several lines; the wrapper says what happened in its own words and
    adds this, and keeps the whole error as its ``__cause__``.

    Example:
        >>> brief(ValueError("Could not locate function 'scale'.\nFull object config: {...}"))
        "ValueError: Could not locate function 'scale'. (1 more line; --debug shows it)"
    """
    text = str(exc).strip()
    first, _, rest = text.partition("\n")
    more = rest.count("\n") + 1 if rest.strip() else 0
    if len(first) > limit:
        first = f"{first[: limit - 1]}... ({len(first)} characters)"
    tail = ""
    if more == 1:
        tail = " (1 more line; --debug shows it)"
    elif more:
        tail = f" ({more} more lines; --debug shows them)"
    name = type(exc).__name__
    return f"{name}: {first}{tail}" if first else name
