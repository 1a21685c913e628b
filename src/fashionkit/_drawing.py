"""Low-level drawing: figures, the confusion-matrix picture, and PNG bytes.

A bottom layer beside :mod:`fashionkit._io`: it imports only :mod:`fashionkit.exceptions` (and
matplotlib and scikit-learn lazily, when drawing), so that both :mod:`fashionkit.plots` and the
callbacks, which may not import ``plots``, draw the same pictures. Figures are built on
matplotlib's non-interactive Agg canvas, never by ``pyplot`` (scikit-learn's
``ConfusionMatrixDisplay`` imports it, but draws on the axes it is given): no display and no
global figure state.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from fashionkit.exceptions import FashionkitError, InputValidationError

#: The eight bytes every PNG file starts with.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

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


def plot_series(
    ax: Any, x: Sequence[float], values: Sequence[float], *args: Any, **kwargs: Any
) -> bool:
    """Plot ``values`` against ``x`` on ``ax`` unless every value is NaN; says whether it did.

    A series with no number at all (the validation of a run stopped before its first validated
    epoch) would leave an empty entry in the legend: it is left out instead.
    """
    if all(np.isnan(float(v)) for v in values):
        return False
    ax.plot(x, values, *args, **kwargs)
    return True


def confusion_matrix_figure(matrix: ArrayLike, class_names: Sequence[str], *, title: str) -> Any:
    """A confusion matrix drawn by scikit-learn's ``ConfusionMatrixDisplay``: 900 x 800 pixels.

    The one drawing of a confusion matrix in fashionkit, used by
    :func:`fashionkit.plots.plot_confusion_matrix` and for the TensorBoard image: a heat map
    in matplotlib's ``Blues`` with a colour bar, rows true classes and columns predicted ones,
    each cell showing its count (in white on the darker half of the scale), the class names on
    both axes, and ``title``.

    Args:
        matrix: ``(n, n)`` counts, ``n = len(class_names)``.
        class_names: Names in label order.
        title: The figure's title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        FashionkitError: matplotlib is not installed.
    """
    fig = figure(9, 8)  # raises when matplotlib is missing, before scikit-learn draws
    from sklearn.metrics import ConfusionMatrixDisplay

    ax = fig.subplots()
    display = ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(class_names))
    display.plot(ax=ax, cmap="Blues", xticks_rotation=45, text_kw={"fontsize": 8})
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return fig


#: The picture formats fashionkit writes, by file name suffix (lower case): the format the
#: suffix names, as matplotlib writes it.
PICTURE_FORMATS: dict[str, str] = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".svg": "svg",
    ".pdf": "pdf",
}


def figure_bytes(fig: Any, *, format: str = "png", dpi: float | None = None) -> bytes:
    """Render a matplotlib figure on an Agg canvas and return it in ``format``.

    Args:
        fig: The figure.
        format: One of :data:`PICTURE_FORMATS`' values. Defaults to ``"png"``.
        dpi: Pixels per inch. Defaults to the figure's own (``figure(9, 8)``: 900 x 800
            pixels); :data:`SAVED_DPI` draws it for HiDPI screens (1800 x 1600).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas: Any = FigureCanvasAgg(fig)  # also becomes fig.canvas
    buffer = io.BytesIO()
    canvas.print_figure(buffer, format=format, dpi=dpi if dpi is not None else fig.dpi)
    return buffer.getvalue()


def figure_png(fig: Any, *, dpi: float | None = None) -> bytes:
    """Render a matplotlib figure as PNG bytes (see :func:`figure_bytes`)."""
    return figure_bytes(fig, format="png", dpi=dpi)


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
