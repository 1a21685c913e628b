"""Small HTML tables for Jupyter's rich display (``_repr_html_``) of configs and records.

Every value is escaped; the markup is plain tables with inline styles only (no scripts, no
external CSS), so it renders the same in Jupyter, VS Code and on GitHub's notebook viewer.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["caption", "key_value_table", "number", "table"]

_TABLE = 'style="border-collapse:collapse;margin:0.3em 0;font-size:0.9em"'
_CELL = 'style="border:1px solid #ccc;padding:2px 8px;text-align:{align}"'


def number(value: Any, digits: int = 4) -> str:
    """A number as text: floats rounded to ``digits`` places, NaN as ``nan``, None as ``—``."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def _cell(value: Any, *, header: bool = False, bold: bool = False) -> str:
    text = html.escape(value if isinstance(value, str) else number(value))
    align = "left" if isinstance(value, str) else "right"
    tag = "th" if header else "td"
    if bold:
        text = f"<b>{text}</b>"
    return f"<{tag} {_CELL.format(align=align)}>{text}</{tag}>"


def caption(text: str) -> str:
    """A bold line above a table."""
    return f"<div><b>{html.escape(text)}</b></div>"


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    row_header: bool = False,
) -> str:
    """A table with a header row; with ``row_header`` the first cell of each row is a header.

    Example:
        >>> print(table(["a", "b"], [[1, 0.5]]).count("<td"))
        2
    """
    head = "".join(_cell(h, header=True) for h in header)
    body = "".join(
        "<tr>"
        + "".join(_cell(v, header=row_header and i == 0) for i, v in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table {_TABLE}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plain(value: Any) -> str:
    """A config value exactly as written in TOML-like text (no rounding)."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def key_value_table(
    title: str, data: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None
) -> str:
    """A two-column table of ``data``, dotted keys to values (see ``_schema.flatten``).

    Values that differ from ``defaults`` (same keys) are bold, and a note says so.

    Example:
        >>> out = key_value_table("Demo", {"a": 1, "b.c": "x"}, defaults={"a": 2})
        >>> "b.c" in out and "<b>1</b>" in out
        True
    """
    rows = []
    for key, value in data.items():
        changed = defaults is not None and defaults.get(key, object()) != value
        rows.append(f"<tr>{_cell(key, header=True)}{_cell(_plain(value), bold=changed)}</tr>")
    note = (
        '<div style="font-size:0.8em;color:#666">bold: differs from the default</div>'
        if defaults is not None
        else ""
    )
    return f"{caption(title)}<table {_TABLE}><tbody>{''.join(rows)}</tbody></table>{note}"
