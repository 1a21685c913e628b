"""The documentation's examples can be copied: each page defines every name its code uses.

The doctest builder gives every page hidden names (``doctest_global_setup`` in
``docs/conf.py``: ``fashionkit`` and its public names, for the docstring examples of the API
pages). A guide or tutorial page that leans on them, or on a ``testsetup`` block, passes its
doctests but fails for the reader who copies its code. This test reads the Python a reader
sees on each prose page (``doctest`` and ``testcode`` blocks without ``:hide:``, ``python``
code blocks) and checks that every name it reads is imported or assigned somewhere in that
code, or is a builtin.
"""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import module_from_file

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted([*DOCS.glob("*.rst"), *(DOCS / "howto").glob("*.rst")])

_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. (?P<name>[\w-]+)::\s*(?P<argument>\S*)")
_SHOWN = {"doctest", "testcode"}
_CODE = {"code-block", "code", "sourcecode"}


def shown_code(text: str) -> Iterator[str]:
    """The Python source of each block a reader sees on a page, prompts removed."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        i += 1
        if match is None:
            continue
        name, argument = match["name"], match["argument"]
        if name not in _SHOWN and not (name in _CODE and argument in {"python", "pycon"}):
            continue
        indent = len(match["indent"])
        body = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            body.append(lines[i])
            i += 1
        lines_of_block = textwrap.dedent("\n".join(body)).splitlines()
        if any(line.strip() == ":hide:" for line in lines_of_block):
            continue  # a hidden check: not what the reader copies
        block = [line for line in lines_of_block if not line.startswith(":")]  # no options
        if any(line.startswith(">>>") for line in block):
            prompts = [line for line in block if line[:4] in {">>> ", "... ", ">>>", "..."}]
            yield "\n".join(line[4:] for line in prompts)
        else:
            yield "\n".join(block)


def undefined_names(blocks: list[str]) -> dict[str, str]:
    """Names read but never bound in ``blocks`` (nor builtins), each with its block's start."""
    bound: set[str] = set()
    read: dict[str, str] = {}
    for block in blocks:
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue  # a fragment shown for its shape (``...`` bodies): nothing to check
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    read.setdefault(node.id, block.splitlines()[0])
                else:
                    bound.add(node.id)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(node.name)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
    unknown = set(read) - bound
    return {name: read[name] for name in sorted(unknown) if not hasattr(builtins, name)}


def test_the_pages_are_found() -> None:
    """The tutorial and the guides are among the pages read (so the test below tests them)."""
    names = {page.relative_to(DOCS).as_posix() for page in PAGES}
    assert {"tutorial.rst", "tutorial.ko.rst", "howto/sweeps.rst"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(DOCS).as_posix())
def test_a_page_defines_the_names_its_code_uses(page: Path) -> None:
    """No example relies on the hidden doctest setup or a ``testsetup`` block."""
    missing = undefined_names(list(shown_code(page.read_text(encoding="utf-8"))))
    assert not missing, (
        f"{page.relative_to(DOCS)} uses names its shown code never defines (import or assign "
        f"them where the reader sees it): {missing}"
    )


def test_the_check_finds_a_name_from_hidden_setup() -> None:
    """A page that uses ``TrainConfig`` and ``tmp`` without defining them is caught."""
    page = """
.. testsetup::

   tmp = 1

.. doctest::

   >>> from fashionkit.sweep import Parameter
   >>> config = TrainConfig(epochs=2)
   >>> [config, tmp, len([1])]
   [...]
"""
    assert set(undefined_names(list(shown_code(page)))) == {"TrainConfig", "tmp"}


def test_every_quoted_figure_comes_from_the_one_file() -> None:
    """Each ``:measured:`key``` names a figure of docs/measured.toml, and each figure is shown.

    A plain section's figure is shown where a page quotes its key; a preset's runs are shown by
    the presets table (``.. measured-presets::``), which some page must hold.
    """
    measured = module_from_file(DOCS / "_ext" / "fashionkit_measured.py")
    figures = set(measured.figures())
    texts = [page.read_text(encoding="utf-8") for page in PAGES]
    used = {key for text in texts for key in re.findall(r"(?<!`):measured:`([^`]+)`", text)}
    assert used - figures == set(), "pages quote figures docs/measured.toml does not have"
    plain = {key for key in figures if not key.startswith("presets.")}
    assert plain - used == set(), "docs/measured.toml keeps figures no page quotes"
    assert any(".. measured-presets::" in text for text in texts), "no page shows the presets"
