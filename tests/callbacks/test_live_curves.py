"""LiveCurves: learning curves redrawn in a notebook after every epoch."""

from __future__ import annotations

from typing import Any

import pytest

import fashionkit
from fashionkit.exceptions import (
    ArgumentError,
    ConfigError,
)
from tests.helpers import small_config

# --- live curves -----------------------------------------------------------------------------


def test_live_curves_redraw_after_every_epoch(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """With somewhere to show them, the curves are redrawn once per epoch as a PNG."""
    pytest.importorskip("matplotlib")
    from fashionkit.callbacks import LiveCurves

    pictures: list[bytes] = []
    live = LiveCurves(show=pictures.append)
    result = fashionkit.train(small_config(epochs=3), dataset=tiny_dataset, callbacks=[live])
    assert live.active
    assert len(pictures) == 3
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pictures)
    assert live.history["val_accuracy"] == [r.val_accuracy for r in result.history]
    assert len(live.history["loss"]) == 3


def test_live_curves_do_nothing_outside_a_notebook(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """In a test (no Jupyter kernel) train(live=True) trains as usual and draws nothing."""
    from fashionkit.callbacks import LiveCurves

    assert not LiveCurves().active
    assert not LiveCurves(show=None).active
    result = fashionkit.train(small_config(epochs=1), dataset=tiny_dataset, live=True)
    assert len(result.history) == 1
    with pytest.raises(ConfigError, match="live"):
        fashionkit.train(small_config(epochs=1), dataset=tiny_dataset, live="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [42, "inline", b"png"])
def test_live_curves_refuse_a_show_that_cannot_be_called(bad: Any) -> None:
    """It raises ArgumentError when created, not at the end of the first epoch."""
    from fashionkit.callbacks import LiveCurves

    with pytest.raises(ArgumentError, match=r"^show must be a callable or None; got "):
        LiveCurves(show=bad)


def test_live_curves_update_one_notebook_output_in_place(
    tiny_dataset: fashionkit.FashionMNIST, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a Jupyter kernel the first epoch displays the picture and later ones update it."""
    pytest.importorskip("matplotlib")
    import sys
    import types

    events: list[str] = []

    class Handle:
        def update(self, image: Any) -> None:
            events.append("update")

    def display(image: Any, display_id: bool = False) -> Handle:
        assert display_id
        events.append("display")
        return Handle()

    class Shell:
        def __init__(self) -> None:
            self.config = {"IPKernelApp": {}}

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: Shell()  # type: ignore[attr-defined]
    shown = types.ModuleType("IPython.display")
    shown.Image = lambda data, retina=False: data  # type: ignore[attr-defined]
    shown.display = display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", shown)
    fashionkit.train(small_config(epochs=3), dataset=tiny_dataset, live=True)
    assert events == ["display", "update", "update"]
