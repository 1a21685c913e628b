"""The first ten training images.

Step 1 of the tutorial draws the first ten training images with their class names. The arrays
of :func:`fashionkit.load_fashion_mnist` are ordinary NumPy arrays, so matplotlib draws them as
they are. Writes ``first-ten.png``.
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure

import fashionkit

#: Where the pictures go: ``docs/_generated`` of the repository unless told otherwise.
OUT = Path(
    os.environ.get(
        "FASHIONKIT_EXAMPLES_OUT", Path(__file__).resolve().parents[1] / "docs/_generated"
    )
)

data = fashionkit.load_fashion_mnist()

# Two rows of five, 7.5 inches wide: shown at its size in the documentation's column, with
# titles at 10 points; drawn at 200 dpi, so it stays sharp on HiDPI screens.
figure = Figure(figsize=(7.5, 3.6), layout="constrained")
for axis, image, label in zip(
    figure.subplots(2, 5).ravel(), data.train.images[:10], data.train.labels[:10], strict=True
):
    axis.imshow(image, cmap="gray_r")
    axis.set_title(data.class_names[label], fontsize=10)
    axis.axis("off")

OUT.mkdir(parents=True, exist_ok=True)
figure.savefig(OUT / "first-ten.png", dpi=200)
print(f"wrote {OUT / 'first-ten.png'}")
