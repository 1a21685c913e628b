"""Developer tasks: ``nox -s tests``, ``typecheck``, ``layers``, ``lint``, ``docs``, ``bench``."""

from __future__ import annotations

import os
import shutil

import nox

nox.options.sessions = ["lint", "typecheck", "layers", "tests", "docs"]
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite, doctests of the package included (pass pytest options after --)."""
    session.install("-e", ".[dev,plot,export,sweep]")
    session.run("pytest", *(session.posargs or ["-n", "2", "--doctest-modules", "src", "tests"]))


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Check the package with mypy --strict."""
    session.install("-e", ".[dev]")
    session.run("mypy", *(session.posargs or ["--strict", "src/fashionkit"]))


@nox.session(python=PYTHON)
def layers(session: nox.Session) -> None:
    """Check the import-layer contracts in pyproject.toml (no cycles, imports point one way)."""
    session.install("-e", ".[dev]")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff."""
    session.install("ruff")
    targets = session.posargs or [
        "src",
        "tests",
        "noxfile.py",
        "docs/conf.py",
        "docs/_ext",
        "docs/_tools",
        "bench",
        "examples",
    ]
    session.run("ruff", "check", *targets)
    session.run("ruff", "format", "--check", *targets)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the HTML docs (warnings are errors), run their doctests, check them in a browser."""
    session.install("-e", ".[docs,plot,export,sweep]")
    session.run("rm", "-rf", "docs/_build", external=True)
    session.run(
        "sphinx-build", "-n", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )
    session.run("sphinx-build", "-n", "-W", "-b", "doctest", "docs", "docs/_build/doctest")
    # Render the key pages in headless Chromium (screenshots in docs/_build/browser-check);
    # without a browser, warn and skip rather than fail.
    browsers = ("chromium", "chromium-headless-shell", "chrome-headless-shell", "google-chrome")
    if os.environ.get("CHROMIUM") or any(shutil.which(name) for name in browsers):
        session.run("python", "docs/_tools/browser_check.py")
    else:
        session.warn("browser check skipped: no Chromium (apt-get install chromium fonts-nanum)")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the benchmarks in bench/ (slow; not part of the default sessions)."""
    session.install("-e", ".", "scikit-learn")
    session.run("python", "bench/run.py", *(session.posargs or ["--repeat", "3", "--presets"]))
    # Not run here (about an hour on two idle cores): time to accuracy of every preset and
    # three plain-Keras references over three seeds, by hand with matplotlib for its plot:
    #   python bench/time_to_accuracy.py --out bench-results
