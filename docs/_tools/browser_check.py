"""Render pages of the built HTML docs in headless Chromium and check them as a reader would.

Usage (after ``sphinx-build -b html docs docs/_build/html``)::

    python docs/_tools/browser_check.py [--html docs/_build/html] [--out docs/_build/browser-check]

The built site is served on 127.0.0.1 with :mod:`http.server` and each page is opened in
headless Chromium, driven over the DevTools protocol on ``--remote-debugging-pipe`` (file
descriptors 3 and 4, one JSON message per NUL-terminated chunk). A page fails the check on

- an uncaught exception, a ``console.error``, or an error in the browser's log (a resource
  that failed to load, a blocked script, ...);
- an image that did not load;
- text that overflows its column: an element or a run of text in the main article whose right
  edge passes the article's, unless it sits in a box that scrolls horizontally; content cut off
  by a box with ``overflow: hidden``; or a page that scrolls sideways as a whole;
- a word broken in the middle, anywhere on the page (the sidebar too): a Korean word split
  between two of its Hangul letters, or a name in inline code split anywhere, although it fits
  on one line of its box;
- a picture drawn for 1x screens (fewer than 1.5 image pixels per CSS pixel at the desktop
  width) or shrunk so far that its text cannot be read (more than 2.8; the gallery's
  thumbnails, in ``.fk-thumbnails``, are shrunk on purpose);
- on the landing page and on Getting started at the desktop width, an install command or the
  quickstart's code that is not above the fold (inside the first 900 CSS pixels);
- at the desktop width, a code block or table whose text is cut off at its right edge (wider
  than its box, so part of it is hidden until scrolled): long output must wrap and a table fit;
- placeholder output in a code block: ``...`` where a value belongs ("accuracy ..., loss ...",
  a table of dots; a line of only ``...``, as under "Traceback (most recent call last):",
  reads as the traceback's elision and is allowed), or a
  range check such as ``>>> 0.5 < x <= 1.0`` answered by ``True``;
- a measured figure that disagrees with ``docs/measured.toml``: a figure inserted from it
  (``.fk-measured``) whose text is not a figure there (a stale page), or a "mean ± std" figure
  in a table row, paragraph or list item that names a preset (``fast``) and is not a figure
  there, unless it sits in an element marked ``.fk-other-measure`` (a table of another
  measure, such as an export's accuracy) or on the changelog, which keeps superseded figures
  labelled;
- at the desktop width, a long page (more than three screens) without its in-page table of
  contents on screen (furo's "On this page" column);
- a page served in the wrong language (``tutorial.ko`` must be ``<html lang="ko">``).

Every built page (not only those above) is also opened once at the desktop width and checked
for what the structure shows: a section shown twice (an object's description with two
"Parameters" lists, two headings of the same name under one section) and a private module path
(``fashionkit.models._base``) in the text, where the public name belongs.

Each page is checked at a desktop and a phone width, and a full-page screenshot of each is kept
in the output folder (``NAME-WIDTH.png``) with ``report.json``, which lists every finding.

Only the standard library is used. Exit status: 0 when every page passes, 1 when a check
fails, 2 when no Chromium is installed (``apt-get install chromium fonts-nanum``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.server
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

#: The pages to check, relative to the HTML folder. A missing optional page is skipped with a
#: note; a missing required page is a failure. An optional page not at its usual path is
#: looked for by name anywhere in the site (per-object API pages may live in another folder).
REQUIRED_PAGES = (
    "index.html",
    "getting-started.html",
    "tutorial.html",
    "tutorial.ko.html",
    "api.html",
    "gallery.html",
    "measured.html",
    "howto/presets.html",
    "howto/sweeps.html",
    "howto/calibration.html",
)
OPTIONAL_PAGES = (
    "api/generated/fashionkit.config.TrainConfig.html",
    "changelog.html",
)
#: The language each page must be served in (the rest: "en").
PAGE_LANGUAGES = {"tutorial.ko.html": "ko"}
#: Viewport widths, CSS pixels: a laptop and a phone.
WIDTHS = (1280, 412)
VIEWPORT_HEIGHT = 900
#: What a page must show above the fold (inside the first VIEWPORT_HEIGHT pixels) at the
#: desktop width: text that some code block of the page holds.
ABOVE_THE_FOLD = {
    "index.html": ("pip install", "fashionkit.train("),
    "getting-started.html": ("pip install", "fashionkit.train(", "fashionkit.predict("),
}
#: A page taller than this many screens must show its in-page table of contents at the
#: desktop width.
LONG_PAGE_SCREENS = 3
#: Pages that keep superseded figures on purpose, labelled (the figure check skips them).
HISTORY_PAGES = ("changelog.html",)
#: The measured figures the pages may quote (see docs/_ext/fashionkit_measured.py).
MEASURED = ROOT / "docs" / "measured.toml"
#: Image pixels per CSS pixel that a picture in an article must have at the desktop width:
#: at least HIDPI_LOW (sharp on a HiDPI screen), at most HIDPI_HIGH (drawn at 2x and shown
#: at no less than 70% of its design size, so that its text stays readable).
HIDPI_LOW, HIDPI_HIGH = 1.5, 2.8
#: Pages the structure pass skips: generated indexes and highlighted source.
STRUCTURE_SKIP = ("genindex.html", "search.html", "py-modindex.html")
#: Chromium cannot capture taller images than this in one piece.
MAX_SCREENSHOT_HEIGHT = 16000
BROWSERS = ("chromium", "chromium-headless-shell", "chrome-headless-shell", "google-chrome")
PAGE_TIMEOUT = 60.0

# Runs in the page; returns the findings as JSON-compatible data. Images are first made eager
# and awaited so that none is reported only because it was lazy or still decoding.
CHECKER = r"""
(async (args) => {
  const findings = [];
  const describe = (el) => {
    let path = [];
    for (let e = el; e && e.nodeType === 1 && path.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) { part += "#" + e.id; path.unshift(part); break; }
      if (e.classList.length) part += "." + [...e.classList].slice(0, 2).join(".");
      path.unshift(part);
    }
    return path.join(" > ");
  };
  const snippet = (text) => (text || "").replace(/\s+/g, " ").trim().slice(0, 120);

  // Images: load every one, then report those that did not load.
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  for (const img of images) {
    if (!img.complete || img.naturalWidth === 0) {
      findings.push({kind: "image", message: "image did not load",
                     src: img.getAttribute("src"), where: describe(img)});
    }
  }

  // Overflow: measured against the main article's column.
  const article = document.querySelector("article[role=main]") || document.querySelector("article");
  if (!article) {
    findings.push({kind: "overflow", message: "no main article found"});
    return {findings, images: images.length};
  }
  // Text and pictures must stay inside the article. Boxes may bleed into the padding of the
  // column around it, as the theme draws headings, signatures and tables (their backgrounds
  // reach 4 to 8 px past the text), but no further.
  const limit = article.getBoundingClientRect().right + 1;
  const column = article.closest(".content") || article.parentElement;
  const boxLimit = column.getBoundingClientRect().right + 1;
  const replaced = new Set(["IMG", "SVG", "CANVAS", "VIDEO", "IFRAME", "svg"]);
  const scrollsSideways = (el) => {
    const x = getComputedStyle(el).overflowX;
    return (x === "auto" || x === "scroll");
  };
  // The nearest ancestor inside the article that scrolls or clips horizontally.
  const container = (node) => {
    for (let e = node.parentElement; e && e !== article; e = e.parentElement) {
      const x = getComputedStyle(e).overflowX;
      if (x !== "visible") return e;
    }
    return null;
  };
  const visible = (el) => {
    const style = getComputedStyle(el);
    return style.visibility !== "hidden" && style.display !== "none";
  };
  const seen = new Set();
  const report = (node, el, right, what, bound) => {
    const where = describe(el);
    if (seen.has(where)) return;
    seen.add(where);
    findings.push({kind: "overflow", message: what, where,
                   right: Math.round(right), limit: Math.round(bound - 1),
                   text: snippet(node.textContent)});
  };
  const check = (node, el, rect, bound) => {
    if (rect.width === 0 && rect.height === 0) return;
    const box = container(node);
    if (box === null) {
      if (rect.right > bound) {
        report(node, el, rect.right, "passes the right edge of the column", bound);
      }
    } else if (!scrollsSideways(box)) {
      const boxRight = box.getBoundingClientRect().right + 1;
      if (rect.right > boxRight) {
        report(node, box, rect.right, "is cut off by a box that hides overflow", boxRight);
      }
    }
  };
  for (const el of article.querySelectorAll("*")) {
    if (!visible(el)) continue;
    const x = getComputedStyle(el).overflowX;
    if (x === "hidden" || x === "clip") {
      if (el.scrollWidth > el.clientWidth + 1) {
        const right = el.getBoundingClientRect().left + el.scrollWidth;
        const edge = el.getBoundingClientRect().right + 1;
        report(el, el, right, "hides content past its right edge", edge);
      }
    }
    check(el, el, el.getBoundingClientRect(), replaced.has(el.tagName) ? limit : boxLimit);
  }
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim() || !visible(node.parentElement)) continue;
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) check(node, node.parentElement, rect, limit);
  }
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1) {
    findings.push({kind: "overflow", message: "the page scrolls sideways",
                   right: page.scrollWidth, limit: page.clientWidth});
  }

  // Words broken in the middle, anywhere on the page (the sidebar too): a Korean word, or a
  // name in inline code, on two lines although it fits on one line of the box it is in.
  const lineTops = (rects) =>
    new Set([...rects].filter((r) => r.width > 0 && r.height > 0).map((r) => Math.round(r.top)));
  const blockOf = (el) => {
    let e = el;
    while (e.parentElement && getComputedStyle(e).display.startsWith("inline")) e = e.parentElement;
    return e;
  };
  const contentWidth = (el) => {
    const style = getComputedStyle(el);
    return el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  };
  const broken = new Set();
  const brokenWord = (what, text, el, rects) => {
    if (lineTops(rects).size < 2) return;
    const width = [...rects].reduce((sum, r) => sum + r.width, 0);
    if (width > contentWidth(blockOf(el)) - 1) return;  // longer than a line: it must break
    const where = describe(el);
    if (broken.has(where + "|" + text)) return;
    broken.add(where + "|" + text);
    findings.push({kind: "break", message: `${what} is split over two lines but fits on one`,
                   where, text: snippet(text)});
  };
  const hangul = /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]/;
  const words = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = words.nextNode(); node; node = words.nextNode()) {
    const text = node.textContent;
    if (!hangul.test(text) || !node.parentElement || !visible(node.parentElement)) continue;
    for (const match of text.matchAll(/\S+/g)) {
      if (!hangul.test(match[0])) continue;
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      if (lineTops(range.getClientRects()).size < 2) continue;
      // Where the word's lines change: a break beside punctuation or a hyphen ("Fashion-" /
      // "MNIST로", "타깃" / "(sparse)") is one the line-breaking rules allow; a break between
      // two Hangul letters ("튜토" / "리얼") splits the word itself.
      let top = null;
      for (let k = 0; k < match[0].length; k++) {
        range.setStart(node, match.index + k);
        range.setEnd(node, match.index + k + 1);
        const rect = range.getBoundingClientRect();
        if (top !== null && Math.round(rect.top) > top + 1
            && hangul.test(match[0][k]) && hangul.test(match[0][k - 1])) {
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          brokenWord("a Korean word", match[0], node.parentElement, range.getClientRects());
          break;
        }
        top = Math.round(rect.top);
      }
    }
  }
  // The lines of a name's text, not of its box: a word in an inline-block box may still wrap
  // inside it.
  for (const name of document.querySelectorAll("code span.pre")) {
    if (!visible(name)) continue;
    range.selectNodeContents(name);
    brokenWord("a name in inline code", name.textContent, name, range.getClientRects());
  }

  // Pictures: sharp on HiDPI screens, and not shrunk past reading (desktop width only: on a
  // phone every picture is shrunk to the screen).
  if (args.desktop) {
    for (const img of article.querySelectorAll("img")) {
      const shown = img.getBoundingClientRect().width;
      if (!img.naturalWidth || !shown || /\.svg($|\?)/.test(img.currentSrc)) continue;
      const ratio = img.naturalWidth / shown;
      const thumbnail = img.closest(".fk-thumbnails") !== null;  // shrunk on purpose
      if (ratio < args.hidpiLow || (ratio > args.hidpiHigh && !thumbnail)) {
        findings.push({kind: "picture", where: describe(img), src: img.getAttribute("src"),
                       message: `${img.naturalWidth} px wide shown at ${Math.round(shown)} px ` +
                         `(${ratio.toFixed(2)} image px per CSS px; allowed ` +
                         `${args.hidpiLow} to ${args.hidpiHigh}: ` +
                         (ratio < args.hidpiLow ? "draw it at 2x for HiDPI screens)"
                                                : "draw it narrower, or its text is too small)")});
      }
    }
  }

  // Above the fold: each required text in a code block whose bottom is on the first screen.
  for (const needle of args.fold) {
    const blocks = [...article.querySelectorAll("pre")]
      .filter((b) => b.textContent.includes(needle));
    const bottom = Math.min(
      ...blocks.map((b) => b.getBoundingClientRect().bottom + window.scrollY));
    if (!(bottom <= window.innerHeight)) {
      findings.push({kind: "fold", text: needle,
                     message: blocks.length
                       ? `the code with ${JSON.stringify(needle)} ends at ` +
                         `${Math.round(bottom)} px, below the fold at ${window.innerHeight} px`
                       : `no code block shows ${JSON.stringify(needle)}`});
    }
  }
  // Clipped: at the desktop width, a code block or a table must show all of its text.
  if (args.desktop) {
    for (const box of article.querySelectorAll("pre, .table-wrapper, table")) {
      if (!visible(box) || box.closest(".fk-thumbnails")) continue;
      const wrapped = box.parentElement.classList.contains("table-wrapper");
      if (box.tagName === "TABLE" && wrapped) continue;
      if (box.scrollWidth > box.clientWidth + 1) {
        findings.push({kind: "clipped", where: describe(box),
                       message: `${box.tagName === "PRE" ? "a code block" : "a table"} hides ` +
                         `${box.scrollWidth - box.clientWidth} px of its text past its right ` +
                         `edge (wrap it or make it narrower)`,
                       text: snippet(box.textContent)});
      }
    }
  }

  // Placeholders: "..." standing for a value in output, and range checks answered by True.
  for (const pre of article.querySelectorAll("pre")) {
    const lines = pre.textContent.split("\n");
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k].trim();
      const prompt = /^(>>>|\.\.\.\s|\$\s)/.test(line) || line === "...";
      if (!prompt && /(^|[\s(\[{,;:=])\.\.\.([\s)\]},;]|$)/.test(line)) {
        findings.push({kind: "placeholder", where: describe(pre), text: snippet(line),
                       message: "output shows ... where a value belongs"});
      }
      if (/^>>> .*[^<>=!]<=?\s.*\s<=?[^<>=]/.test(line) && (lines[k + 1] || "").trim() === "True") {
        findings.push({kind: "placeholder", where: describe(pre), text: snippet(line),
                       message: "a range check answered by True stands where the value belongs"});
      }
    }
  }

  // Figures: what was inserted from measured.toml, and "mean ± std" figures beside a preset.
  const measured = new Set(args.measured);
  for (const figure of article.querySelectorAll(".fk-measured")) {
    const text = figure.textContent.trim();
    if (!measured.has(text)) {
      findings.push({kind: "figure", where: describe(figure), text,
                     message: "a figure from measured.toml is not in measured.toml (stale page?)"});
    }
  }
  const presets = new Set(args.presets);
  const figurePattern = /\d+\.\d+ ± \d+\.\d+/g;
  for (const block of args.history ? [] : article.querySelectorAll("tr, p, li")) {
    if (block.querySelector("tr, p, li") || block.closest(".fk-other-measure, pre")) continue;
    const names = [...block.querySelectorAll("code")].map((c) => c.textContent.trim());
    if (!names.some((name) => presets.has(name))) continue;
    for (const match of block.textContent.matchAll(figurePattern)) {
      if (!measured.has(match[0])) {
        findings.push({kind: "figure", where: describe(block), text: snippet(block.textContent),
                       message: `${match[0]} quoted beside a preset is not a figure of ` +
                         `docs/measured.toml (a superseded figure?)`});
      }
    }
  }

  // In-page contents: a long page shows its "On this page" column at the desktop width.
  const height = Math.ceil(page.scrollHeight);
  if (args.desktop && height > args.longPage) {
    const toc = document.querySelector(".toc-drawer");
    const rect = toc ? toc.getBoundingClientRect() : null;
    const links = toc ? toc.querySelectorAll(".toc-tree a").length : 0;
    const shown = rect && visible(toc) && rect.width > 0 && rect.left >= 0
      && rect.right <= window.innerWidth + 1;
    if (!shown || links === 0) {
      findings.push({kind: "toc", message: `a page ${Math.round(height / window.innerHeight)} ` +
                     `screens long shows no in-page table of contents at ${window.innerWidth} px`});
    }
  }
  return {findings, images: images.length, lang: page.getAttribute("lang"), height};
})
"""

# Runs in every built page once (the structure pass): sections shown twice, private paths.
STRUCTURE = r"""
(() => {
  const findings = [];
  const article = document.querySelector("article[role=main]") || document.querySelector("article");
  if (!article) return findings;
  const textOf = (el) => {
    const copy = el.cloneNode(true);
    for (const link of copy.querySelectorAll(".headerlink")) link.remove();
    return copy.textContent.replace(/\s+/g, " ").trim().replace(/:$/, "");
  };
  const twice = (names, what, where) => {
    const seen = new Set();
    for (const name of names) {
      if (name && seen.has(name)) {
        findings.push({kind: "duplicate", message: `${what} ${JSON.stringify(name)} appears twice`,
                       where});
      }
      seen.add(name);
    }
  };
  for (const dd of article.querySelectorAll("dl > dd")) {
    const dt = dd.previousElementSibling;
    const where = dt && dt.id ? dt.id : textOf(dt || dd).slice(0, 80);
    twice([...dd.querySelectorAll(":scope > dl.field-list > dt")].map(textOf), "the field", where);
    twice([...dd.querySelectorAll(":scope > p.rubric")].map(textOf), "the rubric", where);
  }
  for (const section of [article, ...article.querySelectorAll("section")]) {
    const headings = section.querySelectorAll(":scope > section > :is(h1, h2, h3, h4, h5, h6)");
    twice([...headings].map(textOf), "the heading", section.id || "the page");
  }
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const match = node.textContent.match(/\bfashionkit(\.\w+)*\._[a-z]\w*/);
    if (match && !node.parentElement.closest(".viewcode-link, .viewcode-back")) {
      findings.push({kind: "private", message: `the private path ${match[0]} is shown`,
                     where: (node.parentElement.closest("[id]") || {}).id || ""});
    }
  }
  return findings;
})()
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files without logging each request; note the paths that were not found."""

    missing: list[str] = []  # noqa: RUF012 (shared on purpose: the server's 404s)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep quiet."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Record a 404 before answering it (a favicon the site does not declare excepted)."""
        if code == 404 and self.path == "/favicon.ico":
            # The browser asks for /favicon.ico on its own; no page of the site links to it.
            self.send_response(204)
            self.end_headers()
            return
        if code == 404:
            self.missing.append(self.path)
        super().send_error(code, message, explain)


class DevTools:
    """A Chromium process driven over ``--remote-debugging-pipe``."""

    def __init__(self, browser: str, profile: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes() -> None:  # in the child: the pipe ends become fds 3 and 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        args = [
            browser,
            "--headless",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--hide-scrollbars",
            "--mute-audio",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Only dup2 runs between fork and exec: safe beside the server's thread.
            preexec_fn=wire_pipes,
            close_fds=False,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._drainer = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drainer.start()

    def _drain_stderr(self) -> None:
        if self.process.stderr is None:
            return
        for line in self.process.stderr:
            self._stderr.append(line)

    def stderr_tail(self) -> str:
        """The browser's last lines of standard error, for a failure message."""
        return b"".join(self._stderr[-15:]).decode(errors="replace")

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                self.events.put({"method": "_closed"})
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        waiter = self._replies.pop(message["id"], None)
                    if waiter is not None:
                        waiter.put(message)
                else:
                    self.events.put(message)

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = PAGE_TIMEOUT,
    ) -> dict[str, Any]:
        """Send a command and wait for its result; raise on a protocol error."""
        waiter: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
            self._replies[message_id] = waiter
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        try:
            reply = waiter.get(timeout=timeout)
        except queue.Empty:
            msg = f"no answer to {method} in {timeout:.0f} s"
            raise TimeoutError(msg) from None
        if "error" in reply:
            msg = f"{method}: {reply['error']}"
            raise RuntimeError(msg)
        result: dict[str, Any] = reply.get("result", {})
        return result

    def close(self) -> None:
        """Close the browser, killing it if it does not quit."""
        with contextlib.suppress(Exception):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        self._drainer.join(timeout=5)  # the browser's stderr ends with the browser
        if self.process.stderr is not None:
            self.process.stderr.close()


def find_browser(requested: str | None) -> str | None:
    """The Chromium executable to use: ``--browser``, ``$CHROMIUM``, or the first on PATH."""
    for name in (requested, os.environ.get("CHROMIUM"), *BROWSERS):
        if name and (path := shutil.which(name)):
            return path
    return None


def console_errors(events: list[dict[str, Any]], session: str) -> list[dict[str, Any]]:
    """Errors among a page's DevTools events: exceptions, console.error, the browser's log."""
    findings: list[dict[str, Any]] = []
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            findings.append({"kind": "console", "message": f"uncaught exception: {text}"})
        elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            text = " ".join(
                str(arg.get("value", arg.get("description", ""))) for arg in params["args"]
            )
            findings.append({"kind": "console", "message": f"console.{params['type']}: {text}"})
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            where = f" ({entry['url']})" if entry.get("url") else ""
            findings.append({"kind": "console", "message": f"{entry['text']}{where}"})
    return findings


def measured_figures(path: Path = MEASURED) -> tuple[list[str], list[str]]:
    """Every figure of ``measured.toml`` as pages show it, and the names of its presets.

    The same flattening as ``docs/_ext/fashionkit_measured.py`` (every string value, and each
    run's fit seconds as "33.2 s"), kept here so that the check needs only the standard library.
    """
    if not path.is_file():
        return [], []
    with path.open("rb") as file:
        table = tomllib.load(file)
    values: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, str):
            values.add(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            values.add(str(value))
            seconds = float(value)
            values.add(f"{seconds:.1f} s")
            if seconds >= 600:
                minutes, rest = divmod(round(seconds), 60)
                values.add(f"{minutes} min {rest} s")

    collect(table)
    return sorted(values), sorted(table.get("presets", {}))


def check_page(
    tools: DevTools,
    base: str,
    page: str,
    width: int,
    out: Path,
    measured: tuple[list[str], list[str]] = ([], []),
) -> dict[str, Any]:
    """Open ``page`` at ``width``, check it and save its screenshot; return the findings."""
    target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    try:
        for domain in ("Runtime", "Log", "Page"):
            tools.send(f"{domain}.enable", session=session)
        metrics = {"width": width, "height": VIEWPORT_HEIGHT, "deviceScaleFactor": 1}
        tools.send(
            "Emulation.setDeviceMetricsOverride",
            {**metrics, "mobile": width < 600},
            session=session,
        )
        events: list[dict[str, Any]] = []
        tools.send("Page.navigate", {"url": f"{base}/{page}"}, session=session)
        deadline = time.monotonic() + PAGE_TIMEOUT
        loaded = False
        while not loaded:
            event = tools.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if event.get("method") == "_closed":
                msg = "the browser quit"
                raise RuntimeError(msg)
            events.append(event)
            loaded = (
                event.get("sessionId") == session and event.get("method") == "Page.loadEventFired"
            )
        tools.send(
            "Runtime.evaluate",
            {"expression": "document.fonts.ready.then(() => true)", "awaitPromise": True},
            session=session,
        )
        checker_args = {
            "desktop": width >= 1000,
            "fold": list(ABOVE_THE_FOLD.get(page, ())) if width >= 1000 else [],
            "hidpiLow": HIDPI_LOW,
            "hidpiHigh": HIDPI_HIGH,
            "measured": measured[0],
            "presets": measured[1],
            "longPage": LONG_PAGE_SCREENS * VIEWPORT_HEIGHT,
            "history": page in HISTORY_PAGES,
        }
        result = tools.send(
            "Runtime.evaluate",
            {
                "expression": f"{CHECKER}({json.dumps(checker_args)})",
                "awaitPromise": True,
                "returnByValue": True,
            },
            session=session,
        )
        if "exceptionDetails" in result:
            msg = f"the checker failed: {result['exceptionDetails']}"
            raise RuntimeError(msg)
        checked = result["result"]["value"]
        findings = checked["findings"]
        expected = PAGE_LANGUAGES.get(page, "en")
        if checked.get("lang") != expected:
            findings.append(
                {"kind": "language", "message": f"lang={checked.get('lang')!r}, not {expected!r}"}
            )

        height = min(int(checked.get("height", VIEWPORT_HEIGHT)), MAX_SCREENSHOT_HEIGHT)
        shot = tools.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
            session=session,
        )
        name = page.removesuffix(".html").replace("/", "_")
        screenshot = out / f"{name}-{width}.png"
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        while not tools.events.empty():  # errors logged while the checker ran
            events.append(tools.events.get_nowait())
        findings[:0] = console_errors(events, session)
        return {
            "page": page,
            "width": width,
            "images": checked.get("images", 0),
            "height": checked.get("height"),
            "screenshot": str(
                screenshot.relative_to(ROOT) if screenshot.is_relative_to(ROOT) else screenshot
            ),
            "screenshot_cut_at": MAX_SCREENSHOT_HEIGHT
            if checked.get("height", 0) > MAX_SCREENSHOT_HEIGHT
            else None,
            "findings": findings,
        }
    finally:
        tools.send("Target.closeTarget", {"targetId": target})


def check_structure(tools: DevTools, base: str, pages: list[str]) -> list[dict[str, Any]]:
    """Open every page once at the desktop width in one tab; return the pages with findings."""
    target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    results = []
    try:
        tools.send("Page.enable", session=session)
        for page in pages:
            tools.send("Page.navigate", {"url": f"{base}/{page}"}, session=session)
            deadline = time.monotonic() + PAGE_TIMEOUT
            while True:
                event = tools.events.get(timeout=max(0.1, deadline - time.monotonic()))
                if event.get("method") == "_closed":
                    msg = "the browser quit"
                    raise RuntimeError(msg)
                if (
                    event.get("sessionId") == session
                    and event.get("method") == "Page.loadEventFired"
                ):
                    break
            result = tools.send(
                "Runtime.evaluate",
                {"expression": STRUCTURE, "returnByValue": True},
                session=session,
            )
            if "exceptionDetails" in result:
                msg = f"the structure check failed on {page}: {result['exceptionDetails']}"
                raise RuntimeError(msg)
            findings = result["result"]["value"]
            if findings:
                results.append({"page": page, "width": WIDTHS[0], "findings": findings})
    finally:
        tools.send("Target.closeTarget", {"targetId": target})
    return results


def structure_pages(html: Path) -> list[str]:
    """Every built page but the generated indexes and the highlighted source."""
    return sorted(
        path.relative_to(html).as_posix()
        for path in html.rglob("*.html")
        if "_modules" not in path.parts
        and "_static" not in path.parts
        and path.name not in STRUCTURE_SKIP
    )


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``folder`` on a free port of 127.0.0.1 from a background thread."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main(argv: list[str] | None = None) -> int:
    """Check the pages; print a summary and write report.json. Return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "docs/_build/html")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/_build/browser-check")
    parser.add_argument("--browser", help="Chromium executable (default: $CHROMIUM or PATH)")
    parser.add_argument(
        "--measured", type=Path, default=MEASURED, help="the measured figures (measured.toml)"
    )
    parser.add_argument("pages", nargs="*", help="pages to check instead of the default ones")
    args = parser.parse_args(argv)

    browser = find_browser(args.browser)
    if browser is None:
        print("browser check: no Chromium found (apt-get install chromium fonts-nanum)")
        return 2
    if not (args.html / "index.html").is_file():
        print(f"browser check: no built site in {args.html}; build the HTML docs first")
        return 1
    pages = list(args.pages) or list(REQUIRED_PAGES)
    notes = []
    if not args.pages:
        for page in OPTIONAL_PAGES:
            found = [page] if (args.html / page).is_file() else []
            found = found or sorted(
                path.relative_to(args.html).as_posix()
                for path in args.html.rglob(Path(page).name)
                if "_modules" not in path.parts
            )
            if found:
                pages.append(found[0])
            else:
                notes.append(f"{page} not built; skipped")
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()

    measured = measured_figures(args.measured)
    started = time.monotonic()
    server, base = serve(args.html)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="browser-check-") as profile:
        tools = DevTools(browser, profile)
        try:
            version = tools.send("Browser.getVersion", timeout=30)["product"]
            for page in pages:
                for width in WIDTHS:
                    if not (args.html / page).is_file():
                        results.append(
                            {
                                "page": page,
                                "width": width,
                                "findings": [{"kind": "missing", "message": "page not built"}],
                            }
                        )
                        continue
                    results.append(check_page(tools, base, page, width, args.out, measured))
            if not args.pages:
                every = structure_pages(args.html)
                results.extend(check_structure(tools, base, every))
                notes.append(f"structure checked on {len(every)} pages")
        except (TimeoutError, RuntimeError, queue.Empty) as error:
            print(f"browser check: {error}\n{tools.stderr_tail()}")
            return 1
        finally:
            tools.close()
            server.shutdown()
            server.server_close()

    for missing in QuietHandler.missing:
        notes.append(f"not found on the server: {missing}")
    failed = [result for result in results if result["findings"]]
    report = {
        "browser": version,
        "seconds": round(time.monotonic() - started, 1),
        "passed": not failed,
        "notes": notes,
        "pages": results,
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    for result in results:
        status = "FAIL" if result["findings"] else "ok"
        print(f"{status:4}  {result['page']} at {result['width']}px")
        for finding in result["findings"][:10]:
            detail = ", ".join(
                f"{key} {finding[key]}"
                for key in ("where", "right", "limit", "text", "src")
                if key in finding
            )
            print(
                f"      {finding['kind']}: {finding['message']}"
                + (f" ({detail})" if detail else "")
            )
        if len(result["findings"]) > 10:
            print(f"      ... {len(result['findings']) - 10} more in report.json")
    for note in notes:
        print(f"note: {note}")
    print(
        f"browser check: {len(results) - len(failed)}/{len(results)} page views passed "
        f"with {version} in {report['seconds']} s; screenshots and report.json in {args.out}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
