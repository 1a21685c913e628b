"""Time to accuracy of the presets, from the measured benchmark.

Redraws the figure of ``bench/time_to_accuracy.py`` from its measured rows
(``bench/measured/time_to_accuracy.jsonl``) with the benchmark's own functions: test accuracy
after each epoch against fit seconds, mean and spread over seeds. Nothing is trained here; the
rows were measured on the project's machine. Writes ``time-to-accuracy.png``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Where the pictures go: ``docs/_generated`` of the repository unless told otherwise.
OUT = Path(os.environ.get("FASHIONKIT_EXAMPLES_OUT", ROOT / "docs/_generated"))

sys.path.insert(0, str(ROOT / "bench"))
import time_to_accuracy  # noqa: E402  (the benchmark script, not an installed module)

rows = [
    json.loads(line)
    for line in (ROOT / "bench/measured/time_to_accuracy.jsonl").read_text().splitlines()
    if line.strip()
]
OUT.mkdir(parents=True, exist_ok=True)
if not time_to_accuracy.plot(time_to_accuracy.summarise(rows), OUT / "time-to-accuracy.png"):
    sys.exit("matplotlib is needed to draw time-to-accuracy.png")
print(f"wrote {OUT / 'time-to-accuracy.png'}")
