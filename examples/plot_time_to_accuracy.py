"""Time to accuracy of the presets, from the measured benchmark.

Redraws the figure of ``bench/time_to_accuracy.py`` with the benchmark's own functions, from
the rows that ``docs/measured.toml`` names for each preset on the AMD EPYC with AVX2 and FMA
only (2 cores, float32), and the plain-Keras references measured beside ``fast``'s rows:
test accuracy after each epoch against fit seconds, mean and spread over seeds. Nothing is
trained here; the figure shows only the presets as they are now. Writes ``time-to-accuracy.png``.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Where the pictures go: ``docs/_generated`` of the repository unless told otherwise.
OUT = Path(os.environ.get("FASHIONKIT_EXAMPLES_OUT", ROOT / "docs/_generated"))
#: The kind of CPU whose rows the figure shows.
KIND = "avx2"

sys.path.insert(0, str(ROOT / "bench"))
import time_to_accuracy  # noqa: E402  (the benchmark script, not an installed module)


def read_rows(path: Path) -> list[dict[str, object]]:
    """The JSON lines of one measured file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


measured = tomllib.loads((ROOT / "docs/measured.toml").read_text(encoding="utf-8"))
rows: list[dict[str, object]] = []
for name, preset in measured["presets"].items():
    for run in preset["runs"]:
        if run["kind"] != KIND:
            continue
        found = read_rows(ROOT / run["rows"])
        rows += [row for row in found if row["entry"] == name]
        if name == "fast":  # the references were measured in the same run
            rows += [row for row in found if str(row["entry"]).startswith("reference:")]
OUT.mkdir(parents=True, exist_ok=True)
if not time_to_accuracy.plot(time_to_accuracy.summarise(rows), OUT / "time-to-accuracy.png"):
    sys.exit("matplotlib is needed to draw time-to-accuracy.png")
print(f"wrote {OUT / 'time-to-accuracy.png'}")
