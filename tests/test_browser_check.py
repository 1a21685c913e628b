"""docs/_tools/browser_check.py: each category it guards, caught on a deliberately broken page.

One headless Chromium session checks a small site of hand-written pages (no Sphinx build):
a good page that must pass, and one broken page per category (clipped code and tables,
placeholder output, figures that disagree with measured.toml, a quickstart below the fold, a
long page without its in-page table of contents).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import module_from_file

TOOL = Path(__file__).resolve().parents[1] / "docs" / "_tools" / "browser_check.py"


browser_check = module_from_file(TOOL)

STYLE = """
body { font: 16px/1.5 sans-serif; margin: 0; }
.content { width: 640px; max-width: 100%; }
article { width: 600px; max-width: 100%; margin-left: 20px; }
pre { overflow-x: auto; white-space: pre; margin: 0 0 1em; }
.table-wrapper { overflow-x: auto; }
td { white-space: nowrap; }
.toc-drawer { width: 200px; position: fixed; top: 0; right: 0; }
"""
TOC = '<aside class="toc-drawer"><div class="toc-tree"><a href="#a">A section</a></div></aside>'
TALL = '<div style="height: 3200px">A long section.</div>'


def _page(body: str, *, aside: str = "") -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<title>t</title><style>{STYLE}</style></head><body><div class="content">'
        f'<article role="main">{body}</article></div>{aside}</body></html>'
    )


PAGES = {
    "good.html": _page(
        "<pre>$ pip install fashionkit</pre>"
        "<pre>&gt;&gt;&gt; round(result.test.accuracy, 2)\n0.85\n"
        "&gt;&gt;&gt; get_preset('fastest')\nTraceback (most recent call last):\n...\n"
        "ConfigError: No preset named 'fastest'.</pre>"
        '<p>The <code>fast</code> preset reaches <span class="fk-measured">'
        "0.9243 ± 0.0016</span> test accuracy, 0.9243 ± 0.0016 again.</p>"
        '<table class="fk-other-measure"><tr><td><code>fast</code></td>'
        "<td>0.9243 ± 0.0018</td></tr></table>"
    ),
    "good-long.html": _page(TALL, aside=TOC),
    "clipped.html": _page(
        "<pre>ValueError: " + "a long error message that goes on " * 8 + "</pre>"
        '<div class="table-wrapper"><table><tr>'
        + "<td>a column with a very long cell</td>" * 6
        + "</tr></table></div>"
    ),
    "placeholder.html": _page(
        "<pre>&gt;&gt;&gt; print(result.summary())\nvalidation accuracy ... (loss ...)\n"
        "&gt;&gt;&gt; 0.5 &lt; result.test.accuracy &lt;= 1.0\nTrue</pre>"
    ),
    "figure.html": _page(
        "<p>The <code>fast</code> preset reaches 0.9263 ± 0.0003 test accuracy.</p>"
        '<p>It takes <span class="fk-measured">55.0 s</span>.</p>'
    ),
    "getting-started.html": _page(
        '<pre>$ pip install fashionkit</pre><div style="height: 1200px"></div>'
        "<pre>&gt;&gt;&gt; result = fashionkit.train()\n"
        "&gt;&gt;&gt; fashionkit.predict(result.model, images[0]).names\n"
        "('Ankle boot',)</pre>",
        aside=TOC,
    ),
    "long.html": _page(
        TALL, aside=TOC.replace('class="toc-drawer"', 'class="toc-drawer" style="right: -220px"')
    ),
}
MEASURED = """
[presets.fast]
config = "sha256:0"

[[presets.fast.runs]]
fit_seconds = 33.2
test = "0.9243 ± 0.0016"
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """The findings of one browser check over the pages above, by page and width."""
    if browser_check.find_browser(None) is None:
        pytest.skip("no Chromium installed")
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text(_page("<p>index</p>"), encoding="utf-8")
    for name, text in PAGES.items():
        (site / name).write_text(text, encoding="utf-8")
    measured = site / "measured.toml"
    measured.write_text(MEASURED, encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    status = browser_check.main(
        ["--html", str(site), "--out", str(out), "--measured", str(measured), *PAGES]
    )
    assert status == 1  # the broken pages fail
    pages = json.loads((out / "report.json").read_text(encoding="utf-8"))["pages"]
    found: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for page in pages:
        found.setdefault(page["page"], {})[page["width"]] = page["findings"]
    return found


def _kinds(report: dict[str, dict[int, list[dict[str, Any]]]], page: str) -> list[str]:
    return sorted(finding["kind"] for finding in report[page][1280])


def test_a_good_page_passes_at_both_widths(
    report: dict[str, dict[int, list[dict[str, Any]]]],
) -> None:
    """It passes a page with real output, a traceback's elision and figures from the file."""
    assert report["good.html"] == {1280: [], 412: []}
    assert report["good-long.html"] == {1280: [], 412: []}


def test_clipped_code_and_tables_are_caught_at_the_desktop_width(
    report: dict[str, dict[int, list[dict[str, Any]]]],
) -> None:
    """It reports a code block and a table whose text runs past their box at 1280 px."""
    clipped = [f for f in report["clipped.html"][1280] if f["kind"] == "clipped"]
    assert [f["message"].split(" hides")[0] for f in clipped] == ["a code block", "a table"]


def test_placeholder_output_is_caught(
    report: dict[str, dict[int, list[dict[str, Any]]]],
) -> None:
    """It reports "..." standing for values and a range check answered by True."""
    found = [f for f in report["placeholder.html"][1280] if f["kind"] == "placeholder"]
    assert [f["text"] for f in found] == [
        "validation accuracy ... (loss ...)",
        ">>> 0.5 < result.test.accuracy <= 1.0",
    ]


def test_figures_that_disagree_with_measured_toml_are_caught(
    report: dict[str, dict[int, list[dict[str, Any]]]],
) -> None:
    """It reports a superseded figure beside a preset and an inserted figure not in the file."""
    found = [f for f in report["figure.html"][1280] if f["kind"] == "figure"]
    messages = sorted(f["message"] for f in found)
    assert len(messages) == 2
    assert messages[0].startswith("0.9263 ± 0.0003 quoted beside a preset")
    assert messages[1].startswith("a figure from measured.toml is not in measured.toml")


def test_a_quickstart_below_the_fold_is_caught(
    report: dict[str, dict[int, list[dict[str, Any]]]],
) -> None:
    """It reports the quickstart's train and predict code when they end below 900 px."""
    found = [f["text"] for f in report["getting-started.html"][1280] if f["kind"] == "fold"]
    assert found == ["fashionkit.train(", "fashionkit.predict("]
    assert report["getting-started.html"][412] == []  # the fold is checked on desktops only


def test_a_long_page_without_its_table_of_contents_on_screen_is_caught(
    report: dict[str, dict[int, list[dict[str, Any]]]],
) -> None:
    """It reports a long page whose in-page contents sit off screen at 1280 px."""
    assert _kinds(report, "long.html") == ["toc"]
