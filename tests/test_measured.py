"""docs/measured.toml: the one source of measured figures, tied to the presets it measured."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from fashionkit.hardware import CPU_KINDS
from fashionkit.presets import get_preset, list_presets
from tests.helpers import module_from_file

DOCS = Path(__file__).resolve().parents[1] / "docs"


measured = module_from_file(DOCS / "_ext" / "fashionkit_measured.py")
TABLE = measured.load()


@pytest.mark.parametrize("name", sorted(TABLE["presets"]))
def test_every_measured_preset_still_has_the_config_it_was_measured_with(name: str) -> None:
    """It fails when a preset changed (or is gone) since its figures in measured.toml."""
    assert name in list_presets(), f"measured.toml quotes {name!r}, which is no preset now"
    now = measured.fingerprint(get_preset(name))
    recorded = TABLE["presets"][name]["config"]
    assert recorded == now, (
        f"the figures of preset {name!r} were measured with another config ({recorded}, now "
        f"{now}): measure it again and update docs/measured.toml "
        f"(python docs/_ext/fashionkit_measured.py fingerprint {name})"
    )


def test_the_fingerprint_changes_with_any_setting_of_the_preset() -> None:
    """It gives another fingerprint to a preset with one setting changed, the same to a copy."""
    fast = get_preset("fast")
    assert measured.fingerprint(attrs.evolve(fast)) == measured.fingerprint(fast)
    assert measured.fingerprint(attrs.evolve(fast, epochs=8)) != measured.fingerprint(fast)
    smaller = attrs.evolve(fast, model=attrs.evolve(fast.model, filters=(8, 64)))
    assert measured.fingerprint(smaller) != measured.fingerprint(fast)


def test_the_kinds_of_cpu_are_those_fashionkit_info_prints() -> None:
    """It keeps the extension's kinds in the order and spelling of fashionkit.hardware."""
    assert tuple(measured.KINDS) == CPU_KINDS


def test_every_run_names_its_cpu_flags_precision_and_raw_rows() -> None:
    """It has each run name a CPU model, flags, a precision and rows that exist in bench/."""
    root = DOCS.parent
    for preset in TABLE["presets"].values():
        for run in preset["runs"]:
            assert run["cpu"]
            assert run["cpu"] != "unknown"
            assert "AVX2" in run["flags"] or run["kind"] == "other"
            assert run["precision"] in ("float32", "mixed_bfloat16", "mixed_float16")
            assert (root / run["rows"]).is_file(), run["rows"]


def test_a_run_with_a_missing_key_or_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    """It refuses a file whose run lacks a key or names a kind fashionkit does not know."""
    good = (DOCS / "measured.toml").read_text(encoding="utf-8")
    missing = tmp_path / "missing.toml"
    missing.write_text(re.sub(r"(?m)^fit_seconds = [0-9.]+\n", "", good, count=1), encoding="utf-8")
    with pytest.raises(measured.MeasuredError, match="missing keys \\['fit_seconds'\\]"):
        measured.load(missing)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(good.replace('kind = "avx2"', 'kind = "avx3"', 1), encoding="utf-8")
    with pytest.raises(measured.MeasuredError, match="kind must be one of"):
        measured.load(unknown)


def test_every_measured_key_a_page_uses_exists() -> None:
    """It finds every :measured: key written in the pages among the file's figures."""
    known = measured.figures(TABLE)
    pages = [*DOCS.glob("*.rst"), *DOCS.glob("*/*.rst"), *DOCS.glob("_measured/*.inc")]
    used = {
        key
        for page in pages
        for key in re.findall(r"(?<!`):measured:`([^`]+)`", page.read_text(encoding="utf-8"))
    }
    assert used, "no page quotes a measured figure"
    assert used <= set(known), sorted(used - set(known))


def test_the_readme_quotes_only_current_figures_of_the_presets() -> None:
    """It finds each "mean ± std" figure and each fit time of the README's table in the file."""
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What each preset costs", 1)[1].split("\n## ", 1)[0]
    known = set(measured.figures(TABLE).values())
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) == sum(len(preset["runs"]) for preset in TABLE["presets"].values())
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[2] in known, row
        assert cells[3] in known, row


#: Words about the project's own machines and data, for the contributors' page only.
PRIVATE_WORDS = ("the project's machine", "project's machines", "offline copy", "shared re-split")


def test_user_pages_do_not_speak_of_the_projects_own_machines_or_data() -> None:
    """It finds the project's machines and data copies named only on the contributors' page."""
    pages = [*DOCS.glob("*.rst"), *DOCS.glob("*/*.rst"), *DOCS.glob("_measured/*.inc")]
    offenders = [
        f"{page.relative_to(DOCS)}: {word}"
        for page in pages
        if page.name != "contributing.rst"
        for word in PRIVATE_WORDS
        if word in page.read_text(encoding="utf-8").lower()
    ]
    assert offenders == []
