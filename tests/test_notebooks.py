"""The tutorial notebooks: written from one source, the same code in English and Korean.

The documentation build executes them with a Jupyter kernel (myst-nb); these tests check the
files themselves, without a kernel.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_tools"))

import make_notebooks  # noqa: E402


def _cells(name: str) -> list[dict[str, object]]:
    return list(json.loads((DOCS / "notebooks" / name).read_text(encoding="utf-8"))["cells"])


def test_the_notebooks_are_what_their_script_writes() -> None:
    """The committed notebooks equal make_notebooks.py's output (no hand edits, no outputs)."""
    assert make_notebooks.main(["--check"]) == 0
    for name in ("tutorial.en.ipynb", "tutorial.ko.ipynb"):
        for cell in _cells(name):
            assert cell.get("outputs", []) == []


def test_both_languages_run_the_same_code_and_translate_the_prose() -> None:
    """The code cells are identical; every Korean markdown cell is written in Hangul."""
    english, korean = _cells("tutorial.en.ipynb"), _cells("tutorial.ko.ipynb")
    assert [c["cell_type"] for c in english] == [c["cell_type"] for c in korean]
    code = [(e["source"], k["source"]) for e, k in zip(english, korean, strict=True)
            if e["cell_type"] == "code"]  # fmt: skip
    assert code
    assert all(e == k for e, k in code)
    prose = [str(c["source"]) for c in korean if c["cell_type"] == "markdown"]
    assert all(re.search("[가-힣]", text) for text in prose)
    assert any("live=True" in str(source) for source, _ in code)  # the live curves are shown
