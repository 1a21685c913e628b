"""Pictures drawn at build time from the shared data and small real runs (filled in later)."""

from __future__ import annotations

from typing import Any


def setup(app: Any) -> dict[str, Any]:
    """Register the extension."""
    return {"parallel_read_safe": True, "parallel_write_safe": True}
