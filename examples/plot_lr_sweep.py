"""The learning-rate finder's sweep.

:func:`fashionkit.find_learning_rate` trains a fresh model for a hundred batches while the
learning rate grows geometrically, and suggests a rate from where the smoothed loss falls
fastest. :func:`fashionkit.plots.plot_learning_rate_sweep` draws the loss against the rate.
Writes ``lr-sweep.png``.
"""

from __future__ import annotations

import os
from pathlib import Path

import fashionkit
from fashionkit.lr_finder import RangeTestOptions
from fashionkit.plots import plot_learning_rate_sweep

#: Where the pictures go: ``docs/_generated`` of the repository unless told otherwise.
OUT = Path(
    os.environ.get(
        "FASHIONKIT_EXAMPLES_OUT", Path(__file__).resolve().parents[1] / "docs/_generated"
    )
)

data = fashionkit.load_fashion_mnist()
options = RangeTestOptions(min_lr=1e-5, max_lr=1.0, steps=100)
sweep = fashionkit.find_learning_rate(fashionkit.TrainConfig(verbose=0), options, dataset=data)
print(sweep.reason)

OUT.mkdir(parents=True, exist_ok=True)
plot_learning_rate_sweep(sweep, OUT / "lr-sweep.png")
print(f"wrote {OUT / 'lr-sweep.png'}")
