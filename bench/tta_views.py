"""Which test-time views help: a preset's model scored with flips and one-pixel shifts.

Usage: ``python bench/tta_views.py [--preset fast] [--set KEY=VALUE ...] [--seeds 42 43 44]``.

Each seed trains the preset (``--set`` applied as ``fashionkit train --set`` applies it) in a
fresh process, then scores the validation and test splits with the mean probabilities of
several sets of views of each image:

- ``plain``: the image;
- ``flip``: the image and its mirror image (what ``tta = true`` does);
- ``flip+x1``: those and both shifted one pixel left and right (6 views);
- ``flip+xy1``: those and both shifted one pixel up and down (10 views);
- ``flip+x1 w2``: ``flip+x1`` with the two unshifted views counted twice.

A shifted image is padded with zeros. Output: one JSON line per seed with the fit seconds and
the accuracy of each set of views on each split. Only the validation columns choose; the test
columns are for the record.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = """
import json, sys
import numpy as np
import fashionkit
from fashionkit.preprocessing import prepare_images
from fashionkit.presets import get_preset
from fashionkit.training._setup import run_split  # the split train() holds out

preset, seed, settings = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
config = get_preset(preset).with_overrides(*settings, ("seed", seed), ("verbose", 0))
data = fashionkit.load_fashion_mnist()
result = fashionkit.train(config, dataset=data)
split = run_split(config, data)


def shifted(images, dy, dx):
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    return padded[:, 1 + dy : 29 + dy, 1 + dx : 29 + dx]


def probabilities(images):
    x = prepare_images(images, layout=config.layout)
    return result.model.predict(x, batch_size=1000, verbose=0)


row = {"preset": preset, "settings": settings, "seed": seed, "fit_seconds": result.fit_seconds}
splits = {
    "validation": (split.validation_images, split.validation_labels),
    "test": (data.test.images, data.test.labels),
}
for name, (images, labels) in splits.items():
    mirrored = images[:, :, ::-1]
    plain, flipped = probabilities(images), probabilities(mirrored)
    across = [probabilities(shifted(v, 0, d)) for v in (images, mirrored) for d in (-1, 1)]
    down = [probabilities(shifted(v, d, 0)) for v in (images, mirrored) for d in (-1, 1)]
    views = {
        "plain": [plain],
        "flip": [plain, flipped],
        "flip+x1": [plain, flipped, *across],
        "flip+xy1": [plain, flipped, *across, *down],
        "flip+x1 w2": [plain, plain, flipped, flipped, *across],
    }
    for view, probs in views.items():
        hits = np.mean(probs, axis=0).argmax(axis=1) == labels
        row[f"{name} {view}"] = round(float(hits.mean()), 4)
print(json.dumps(row), flush=True)
"""


def main() -> None:
    """Train each seed in a fresh process and print its row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--seeds", nargs="*", type=int, default=[42, 43, 44])
    args = parser.parse_args()
    for seed in args.seeds:
        child = [sys.executable, "-c", _CHILD, args.preset, str(seed), json.dumps(args.set)]
        subprocess.run(child, check=True)


if __name__ == "__main__":
    main()
