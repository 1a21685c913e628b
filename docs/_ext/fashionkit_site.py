"""Site polish: the Korean page's language, and marks on its links to English-only pages.

The site is written in English (``language = "en"``) except for the Korean tutorial,
``tutorial.ko``. This extension

- renders that page with ``<html lang="ko">`` (furo's ``base.html`` writes
  ``lang="{{ language }}"`` from the page context), so that browsers, screen readers and the
  stylesheet's ``html[lang="ko"]`` rules (``word-break: keep-all``) treat it as Korean;
- adds "(영어)" after every link from a Korean page to another page of the site, all of which
  are in English. Links to API objects, rendered as code, are left unmarked: code names read
  the same in both languages;
- puts the notebook file beside each page rendered from a notebook (``docs/notebooks/``) and a
  "download" line at the top of the page, so that a reader can open it in Jupyter;
- (The measured figures, ``docs/measured.toml`` and its role, are ``fashionkit_measured``.)
"""

from __future__ import annotations

import html
import posixpath
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes

#: Pages written in Korean, by docname, and the language they are served in.
KOREAN_PAGES = frozenset({"tutorial.ko", "notebooks/tutorial.ko"})
#: The line above a notebook's page, in the page's language.
DOWNLOAD = {
    "en": 'Download this notebook: <a href="{href}" download>{name}</a> (open it in Jupyter, '
    "VS Code or Colab).",
    "ko": '이 노트북 내려받기: <a href="{href}" download>{name}</a> (Jupyter, VS Code, Colab에서 '
    "여세요).",
}
ENGLISH_MARK = "영어"


def _page_language(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Serve the Korean pages as ``lang="ko"``."""
    if pagename in KOREAN_PAGES:
        context["language"] = "ko"


def _notebook_download(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Copy a notebook page's ``.ipynb`` into the site and link it at the top of the page."""
    if doctree is None or app.builder.format != "html":
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".ipynb":
        return
    target = Path(app.outdir) / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    language = "ko" if pagename in KOREAN_PAGES else "en"
    name = html.escape(target.name)
    line = DOWNLOAD[language].format(href=name, name=name)
    context["body"] = f'<p class="fk-notebook-download">{line}</p>\n' + context.get("body", "")


def _links_to_english(node: nodes.reference, docname: str, app: Any) -> bool:
    """Whether ``node`` links to a page of the site that is not Korean (so is English)."""
    if not node.get("internal") or "refuri" not in node:
        return False  # an external link, or an anchor on the same page (refid)
    if node.next_node(nodes.literal) is not None:
        return False  # an API object: code, the same in every language
    target = node["refuri"].split("#", 1)[0]
    if not target:
        return False  # an anchor on the same page
    here = app.builder.get_target_uri(docname)
    page = posixpath.normpath(posixpath.join(posixpath.dirname(here), target))
    return page not in {app.builder.get_target_uri(name) for name in KOREAN_PAGES}


def _mark_english_links(app: Any, doctree: nodes.document, docname: str) -> None:
    """Add "(영어)" after each link from a Korean page to an English-only page."""
    if docname not in KOREAN_PAGES or app.builder.format != "html":
        return
    for node in list(doctree.findall(nodes.reference)):
        if _links_to_english(node, docname, app):
            mark = nodes.inline("", f" ({ENGLISH_MARK})", classes=["fk-lang-mark"])
            node.parent.insert(node.parent.index(node) + 1, mark)


def setup(app: Any) -> dict[str, Any]:
    """Register the extension."""
    app.connect("html-page-context", _page_language)
    app.connect("html-page-context", _notebook_download)
    app.connect("doctree-resolved", _mark_english_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
