"""How messages echo values and other libraries' errors: shortened, one line."""

from __future__ import annotations

import pytest

from fashionkit._messages import BRIEF_LENGTH, SHOWN_LENGTH, brief, shown


def test_a_short_value_is_shown_whole() -> None:
    """It shows a short value exactly as repr does."""
    assert shown([1, 2]) == "[1, 2]"
    assert shown("adam") == "'adam'"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("x" * 1_000_000, "(a str of 1000000 characters)"),
        (list(range(10_000)), "(a list of 10000 items)"),
        ({i: i for i in range(1000)}, "characters as text)"),
    ],
)
def test_a_huge_value_is_cut_and_its_length_said(value: object, says: str) -> None:
    """It cuts the text to the stated length, ends it with an ellipsis and the full length."""
    text = shown(value)
    assert text.endswith(says)
    assert "..." in text
    assert len(text) <= SHOWN_LENGTH + 40


def test_brief_keeps_one_line_of_a_long_error_and_counts_the_rest() -> None:
    """It keeps the type and first line, cut to the stated length, and says how many follow."""
    error = ValueError("Could not locate function 'scale'.\n" + "config: {...}\n" * 40)
    text = brief(error)
    assert "\n" not in text
    assert text.startswith("ValueError: Could not locate function 'scale'.")
    assert text.endswith("(40 more lines; --debug shows them)")
    long = brief(RuntimeError("y" * 5000))
    assert len(long) <= BRIEF_LENGTH + 60
    assert long.endswith("(5000 characters)")
    assert brief(KeyError()) == "KeyError"
