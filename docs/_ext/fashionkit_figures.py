"""Pictures drawn at build time from the shared data and small real runs.

On ``builder-inited`` of the HTML builder, every ``examples/plot_*.py`` script of the
repository runs in a subprocess (``sys.executable``, the repository as working directory, the
build's environment) and writes its PNG files into ``docs/_generated/``. A script runs again
only when its source changed or one of the pictures it wrote last time is missing: the hash of
each script and the names it wrote are kept in ``docs/_generated/.hashes.json``. A failing
script fails the build, with its output in the message.

Other builders (``doctest``, ``linkcheck``, ...) do not redraw changed pictures, but read the
pages too and would warn about a missing image: they run a script only when its pictures are
missing (a fresh checkout built with ``-b doctest`` first), never when only its source changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: The repository (the parent of ``docs/``).
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GENERATED = ROOT / "docs" / "_generated"
CACHE = GENERATED / ".hashes.json"


def _digest(script: Path) -> str:
    """The SHA-256 of a script's source."""
    return hashlib.sha256(script.read_bytes()).hexdigest()


def _load_cache() -> dict[str, Any]:
    """The hashes and outputs of the last runs (empty when missing or unreadable)."""
    try:
        cache = json.loads(CACHE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


def _up_to_date(entry: Any, digest: str) -> bool:
    """Whether a script's last run used this source and left every picture it wrote."""
    return (
        isinstance(entry, dict)
        and entry.get("sha256") == digest
        and bool(entry.get("outputs"))
        and all((GENERATED / name).is_file() for name in entry["outputs"])
    )


def _shown(path: Path) -> str:
    """A path as the message shows it: relative to the repository when inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _run(script: Path) -> list[str]:
    """Run one example script; return the names of the PNG files it wrote or rewrote."""
    before = {p.name: p.stat().st_mtime_ns for p in GENERATED.glob("*.png")}
    started = time.monotonic()
    completed = subprocess.run(  # noqa: S603  (our own script, run with this Python)
        [sys.executable, str(script)],
        cwd=ROOT,
        env={**os.environ, "FASHIONKIT_EXAMPLES_OUT": str(GENERATED)},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()[-4000:]
        raise ExtensionError(
            f"fashionkit_figures: example {_shown(script)} failed with exit status "
            f"{completed.returncode}; its output:\n{output}"
        )
    written = sorted(
        p.name for p in GENERATED.glob("*.png") if before.get(p.name) != p.stat().st_mtime_ns
    )
    if not written:
        raise ExtensionError(
            f"fashionkit_figures: example {_shown(script)} wrote no PNG file into "
            f"{_shown(GENERATED)}"
        )
    logger.info(
        "fashionkit_figures: %s wrote %s in %.1f s",
        script.name,
        ", ".join(written),
        time.monotonic() - started,
    )
    return written


def generate(app: Any) -> None:
    """Run the example scripts whose pictures are missing or (HTML builds) out of date."""
    html = app.builder.name == "html"
    GENERATED.mkdir(parents=True, exist_ok=True)
    cache = _load_cache()
    fresh: dict[str, Any] = {}
    for script in sorted(EXAMPLES.glob("plot_*.py")):
        digest = _digest(script)
        entry = cache.get(script.name)
        if html:
            stale = not _up_to_date(entry, digest)
        else:
            stale = not _up_to_date(entry, entry.get("sha256") if isinstance(entry, dict) else "")
        if stale:
            entry = {"sha256": digest, "outputs": _run(script)}
            # Record each success at once, so that a later failure does not redo it.
            fresh[script.name] = entry
            CACHE.write_text(json.dumps({**cache, **fresh}, indent=2), encoding="utf-8")
        fresh[script.name] = entry
    CACHE.write_text(json.dumps(fresh, indent=2), encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    """Register the extension."""
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
