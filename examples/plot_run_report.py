"""The pictures of a run: learning curves, confusion matrix, mistakes, reliability.

Trains the tutorial's model for its five epochs, quietly, with temperature scaling
(``calibrate=True``) into a temporary run directory, then draws the run's pictures with
:func:`fashionkit.plots.write_report`, as ``fashionkit report RUN_DIR`` does. Writes
``learning-curves.png``, ``confusion-matrix.png``, ``confident-mistakes.png``,
``mistakes-explained.png`` and ``reliability.png``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import fashionkit
from fashionkit.plots import write_report

#: Where the pictures go: ``docs/_generated`` of the repository unless told otherwise.
OUT = Path(
    os.environ.get(
        "FASHIONKIT_EXAMPLES_OUT", Path(__file__).resolve().parents[1] / "docs/_generated"
    )
)

data = fashionkit.load_fashion_mnist()
config = fashionkit.TrainConfig(epochs=5, verbose=0, calibrate=True)

with tempfile.TemporaryDirectory() as tmp:
    run = Path(tmp) / "run"
    result = fashionkit.train(config, dataset=data, run_dir=run)
    print(result.summary())
    OUT.mkdir(parents=True, exist_ok=True)
    for path in write_report(run, dataset=data):
        # learning_curves.png -> learning-curves.png
        target = OUT / path.name.replace("_", "-")
        shutil.copyfile(path, target)
        print(f"wrote {target}")
