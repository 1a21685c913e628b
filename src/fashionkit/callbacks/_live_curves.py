"""A callback that redraws the learning curves in a notebook while the model trains."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import keras

from fashionkit import _drawing
from fashionkit._validation import params

#: The curves drawn: (panel title, training key, validation key).
_PANELS = (("loss", "loss", "val_loss"), ("accuracy", "accuracy", "val_accuracy"))


def _notebook_display() -> Callable[[bytes], None] | None:
    """A function that shows PNG bytes in one notebook output, updated in place.

    ``None`` outside a Jupyter kernel (a terminal, a script, IPython's shell, a test).
    """
    try:
        ipython: Any = importlib.import_module("IPython")
        shown: Any = importlib.import_module("IPython.display")
    except ImportError:
        return None
    shell = ipython.get_ipython()
    image, display = shown.Image, shown.display
    if shell is None or "IPKernelApp" not in getattr(shell, "config", {}):
        return None
    handle: list[Any] = []

    def show(png: bytes) -> None:
        if handle:
            handle[0].update(image(data=png, retina=True))
        else:
            handle.append(display(image(data=png, retina=True), display_id=True))

    return show


class LiveCurves(keras.callbacks.Callback):  # type: ignore[misc]
    """Redraw loss and accuracy, training and validation, after every epoch, in a notebook.

    In a Jupyter notebook the picture appears under the cell once the first epoch ends and is
    replaced in place after each later one (no flicker, no pile of pictures). Anywhere else (a
    terminal, a script, a test) it does nothing: the per-epoch line Keras prints stays what
    you read. :func:`fashionkit.train` adds it with ``live=True``; it also works with plain
    ``model.fit`` (which logs ``val_*`` when given validation data).

    Args:
        show: Where the PNG of each redraw goes; by default the notebook's output, or nowhere
            outside a notebook. Give a function to send the pictures elsewhere (a test does).

    Raises:
        ArgumentError: ``show`` is neither a function nor ``None``.
        FashionkitError: When active and matplotlib is not installed (``pip install
            "fashionkit[plot]"``); raised when training starts, not after its first epoch.

    Attributes:
        history: The logged values so far, per key.

    Example:
        >>> result = fashionkit.train(config, live=True)  # doctest: +SKIP
    """

    @params()
    def __init__(self, show: Callable[[bytes], None] | None = None) -> None:
        super().__init__()
        self._show = show if show is not None else _notebook_display()
        self.history: dict[str, list[float]] = {}
        self._epochs: list[int] = []

    @property
    def active(self) -> bool:
        """Whether the curves are drawn."""
        return self._show is not None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Reset the curves; check that matplotlib is there when there is somewhere to draw."""
        self.history = {}
        self._epochs = []
        if self.active:
            _drawing.figure_class()  # FashionkitError now rather than after the first epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Add the epoch's values and redraw."""
        if self._show is None:
            return
        self._epochs.append(epoch + 1)
        for _, *keys in _PANELS:
            for key in keys:
                value = (logs or {}).get(key)
                number = float(value) if isinstance(value, int | float) else math.nan
                self.history.setdefault(key, []).append(number)
        self._show(_drawing.figure_png(self._figure(), dpi=_drawing.SAVED_DPI))

    def _figure(self) -> Any:
        fig = _drawing.figure(9.0, 3.4)
        axes = fig.subplots(1, 2)
        for ax, (title, train_key, val_key) in zip(axes, _PANELS, strict=True):
            for key, label, style in ((train_key, "training", "-"), (val_key, "validation", "--")):
                values = self.history.get(key, [])
                _drawing.plot_series(ax, self._epochs, values, style, marker="o", label=label)
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend()
        last = self._epochs[-1] if self._epochs else 0
        total = (self.params or {}).get("epochs")
        fig.suptitle(f"epoch {last}" + (f" of {total}" if total else ""))
        return fig
