"""RunLayout: the file names of a run directory, spelled in one module."""

from __future__ import annotations

from pathlib import Path

import fashionkit


def test_the_run_directory_s_file_names_are_spelled_in_one_module() -> None:
    """It finds the file names of a run directory in no code but fashionkit.runs._layout."""
    import ast

    from fashionkit.runs import REPORT_PICTURES, RunLayout

    layout = RunLayout("run")
    names = {
        path.name
        for path in (
            layout.config, layout.metrics, layout.model, layout.best, layout.validation,
            layout.test, layout.calibration, layout.environment, layout.summary,
            layout.explanations, *(layout.picture(name) for name in REPORT_PICTURES),
        )
    }  # fmt: skip
    source = Path(fashionkit.__file__).parent
    found = []
    for path in sorted(source.rglob("*.py")):
        if path == source / "runs" / "_layout.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and any(name in node.value for name in names)
            ):
                found.append(f"{path.relative_to(source)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "\n".join(found)
