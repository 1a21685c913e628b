"""A small hyperparameter sweep and its three pictures.

:func:`fashionkit.sweep.sweep` searches a space of MLP configs with Optuna (eight trials of four
epochs on 6,000 training images, so that it takes seconds; the median pruner stops poor trials
early), and :func:`fashionkit.plots.write_sweep_report` draws the sweep, as ``fashionkit report
SWEEP_DIR`` does. Writes ``sweep-history.png`` (each trial's best validation accuracy and the
best so far), ``sweep-intermediate.png`` (validation accuracy per epoch: where pruning cut
trials short) and ``sweep-importances.png`` (how much each parameter explains). Needs the
``sweep`` extra as well as ``plot``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import fashionkit
from fashionkit.plots import write_sweep_report
from fashionkit.sweep import Parameter, SearchSpace, sweep

#: Where the pictures go: ``docs/_generated`` of the repository unless told otherwise.
OUT = Path(
    os.environ.get(
        "FASHIONKIT_EXAMPLES_OUT", Path(__file__).resolve().parents[1] / "docs/_generated"
    )
)

data = fashionkit.load_fashion_mnist()
small = fashionkit.FashionMNIST(
    train=fashionkit.Split(images=data.train.images[:6000], labels=data.train.labels[:6000]),
    test=fashionkit.Split(images=data.test.images[:1000], labels=data.test.labels[:1000]),
    source=data.source,
)
space = SearchSpace(
    base=fashionkit.TrainConfig(model="mlp", epochs=4, batch_size=64, verbose=0),
    params=(
        Parameter(key="optimizer.learning_rate", low=1e-4, high=1e-2, log=True),
        Parameter(key="model.dropout", low=0.0, high=0.4),
        Parameter(key="model.hidden_units", choices=([64], [256], [256, 128])),
    ),
)

with tempfile.TemporaryDirectory() as tmp:
    result = sweep(space, Path(tmp) / "sweep", trials=8, dataset=small, seed=0)
    if result.best is not None:
        print(f"best: trial {result.best.number}, validation accuracy {result.best.value:.4f}")
    OUT.mkdir(parents=True, exist_ok=True)
    for path in write_sweep_report(Path(tmp) / "sweep"):
        target = OUT / f"sweep-{path.name}"  # history.png -> sweep-history.png
        shutil.copyfile(path, target)
        print(f"wrote {target}")
