"""Low-level drawing: the confusion-matrix picture, PNG bytes, and a picture without matplotlib.

A bottom layer beside :mod:`fashionkit._io`: it imports only :mod:`fashionkit.exceptions` (and
matplotlib lazily, when drawing), so that both :mod:`fashionkit.plots` and the callbacks, which
may not import ``plots``, draw the same pictures. Figures are built on matplotlib's
non-interactive Agg canvas, never through ``pyplot``: no display and no global figure state.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fashionkit.exceptions import FashionkitError, InputValidationError

#: The eight bytes every PNG file starts with.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The ends of the fallback heat map's colour ramp: the lightest and darkest blues of
# matplotlib's "Blues" colour map, which the matplotlib picture uses.
_LIGHT = np.array([247, 251, 255], dtype=np.float64)
_DARK = np.array([8, 48, 107], dtype=np.float64)


_INLINE_FIGURE: list[Any] = []  # the class, made once on first use

#: Pixels per inch of the pictures fashionkit writes and shows in notebooks: twice the figures'
#: own 100 dpi, so that they stay sharp on HiDPI screens when shown at the figure's size (a
#: 9 x 8 inch figure is a 1800 x 1600 pixel file, meant to be shown 900 pixels wide).
SAVED_DPI = 200


def figure_class() -> Any:
    """A ``matplotlib.figure.Figure`` subclass that displays itself inline in Jupyter.

    Its ``_repr_png_`` renders it on an Agg canvas at :data:`SAVED_DPI` and asks for half that
    size on the page, so a notebook shows a returned figure as a sharp picture (on HiDPI
    screens too) without ``%matplotlib inline`` and without pyplot.

    Raises:
        FashionkitError: matplotlib is not installed; the message names the ``plot`` extra.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise FashionkitError(
            "Plots need matplotlib: install the plot extra with pip install 'fashionkit[plot]'."
        ) from exc
    if _INLINE_FIGURE and issubclass(_INLINE_FIGURE[0], Figure):
        return _INLINE_FIGURE[0]

    class InlineFigure(Figure):
        """A figure that Jupyter displays as a PNG."""

        def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
            png = figure_png(self, dpi=SAVED_DPI)
            width, height = png_size(png)
            return png, {"width": width // 2, "height": height // 2}

    _INLINE_FIGURE[:] = [InlineFigure]
    return InlineFigure


def can_draw() -> bool:
    """Whether matplotlib can be imported (the ``plot`` extra is installed)."""
    try:
        figure_class()
    except FashionkitError:
        return False
    return True


def figure(width: float, height: float) -> Any:
    """A new ``width`` x ``height`` inch figure at 100 dpi with the constrained layout.

    Raises:
        FashionkitError: matplotlib is not installed.
    """
    return figure_class()(figsize=(width, height), dpi=100, layout="constrained")


def confusion_matrix_figure(matrix: ArrayLike, class_names: Sequence[str], *, title: str) -> Any:
    """A confusion matrix as a heat map with class names and counts: 900 x 800 pixels.

    Rows are true classes, columns predicted ones; each cell shows its count, in white on the
    darker half of the colour scale.

    Args:
        matrix: ``(n, n)`` counts, ``n = len(class_names)``.
        class_names: Names in label order.
        title: The figure's title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        FashionkitError: matplotlib is not installed.
    """
    fig = figure(9, 8)
    ax = fig.subplots()
    counts = np.asarray(matrix)
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    threshold = counts.max() / 2 if counts.size else 0
    for i in ticks:
        for j in ticks:
            ax.text(
                j, i, str(counts[i, j]), ha="center", va="center", fontsize=8,
                color="white" if counts[i, j] > threshold else "black",
            )  # fmt: skip
    return fig


def figure_png(fig: Any, *, dpi: float | None = None) -> bytes:
    """Render a matplotlib figure on an Agg canvas and return it as PNG bytes.

    Args:
        fig: The figure.
        dpi: Pixels per inch. Defaults to the figure's own (``figure(9, 8)``: 900 x 800
            pixels); :data:`SAVED_DPI` draws it for HiDPI screens (1800 x 1600).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas: Any = FigureCanvasAgg(fig)  # also becomes fig.canvas
    buffer = io.BytesIO()
    canvas.print_figure(buffer, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return buffer.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """The ``(width, height)`` in pixels of a PNG image, read from its header.

    Raises:
        InputValidationError: ``png`` is not PNG data.

    Example:
        >>> png_size(PNG_SIGNATURE + struct.pack(">I4sII", 13, b"IHDR", 900, 800))
        (900, 800)
    """
    if len(png) < 24 or not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise InputValidationError("not a PNG image: its header is missing or damaged.")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def confusion_matrix_heatmap(matrix: ArrayLike, *, cell: int = 32) -> NDArray[np.uint8]:
    """A confusion matrix as RGB pixels, without matplotlib: one square block per cell.

    Each row is divided by its sum (so a cell is the share of the true class predicted as the
    column's class, 0 for a class with no examples), and the share is shown on a ramp from
    near-white (0) to dark blue (1), the ends of matplotlib's ``Blues``. There are no labels:
    rows and columns are in label order, true classes down, predicted classes across.

    Args:
        matrix: ``(n, n)`` non-negative counts.
        cell: Side of one cell's block in pixels. Defaults to 32.

    Returns:
        ``(n * cell, n * cell, 3)`` uint8 pixels.

    Example:
        >>> pixels = confusion_matrix_heatmap([[3, 1], [0, 2]], cell=2)
        >>> pixels.shape
        (4, 4, 3)
        >>> pixels[0, 0].tolist(), pixels[0, 2].tolist(), pixels[2, 2].tolist()
        ([68, 99, 144], [187, 200, 218], [8, 48, 107])
    """
    counts = np.asarray(matrix, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    colours = _LIGHT + shares[..., np.newaxis] * (_DARK - _LIGHT)
    pixels = np.rint(colours).astype(np.uint8)
    return np.repeat(np.repeat(pixels, cell, axis=0), cell, axis=1)
