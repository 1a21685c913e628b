"""Site polish: the Korean page's language, and other page-level settings (filled in later)."""

from __future__ import annotations

from typing import Any


def setup(app: Any) -> dict[str, Any]:
    """Register the extension."""
    return {"parallel_read_safe": True, "parallel_write_safe": True}
