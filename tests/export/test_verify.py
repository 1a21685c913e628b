"""The parity check: an export that disagrees with Keras is not written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fashionkit.exceptions import ExportError
from fashionkit.export import (
    TOLERANCES,
    _exported,
    export_model,
)
from tests.helpers import EXPORT_FORMATS, EXPORT_NAMES, MIXED_TOLERANCE, export_options, small_mlp


def test_an_export_that_disagrees_with_keras_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It writes nothing and names the difference when an export disagrees with the Keras model."""
    real_load = _exported.load

    def off_by_a_little(path: Path, fmt: Any) -> Any:
        loaded = real_load(path, fmt)
        run = loaded._run
        loaded._run = lambda x: run(x) + 1e-3
        return loaded

    monkeypatch.setattr(_exported, "load", off_by_a_little)
    with pytest.raises(ExportError, match=r"differ from the Keras model's by 0\.001"):
        export_model(small_mlp(), tmp_path / "m.onnx", export_options("onnx"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_a_low_temperature_widens_the_tolerance(fmt: str, tmp_path: Path) -> None:
    """Dividing by T = 0.05 amplifies float32 rounding twenty-fold; the check allows for it."""
    rng = np.random.default_rng(3)
    real_like = rng.integers(0, 256, (256, 28, 28), dtype=np.uint8)
    result = export_model(
        small_mlp(),
        tmp_path / EXPORT_NAMES[fmt],
        export_options(fmt),
        temperature=0.05,
        check_images=real_like,
    )
    assert result.tolerance == pytest.approx(TOLERANCES[fmt] * 20)
    assert result.max_difference <= result.tolerance


def test_the_precision_difference_is_reported(mixed_model: Any, tmp_path: Path) -> None:
    """It reports the mixed-precision difference for a bfloat16 model and none for a float32 one."""
    result = export_model(mixed_model, tmp_path / "m.onnx", export_options("onnx"))
    assert result.precision_difference is not None
    assert 0 < result.precision_difference < MIXED_TOLERANCE
    assert "mixed-precision model by up to" in result.to_text()
    plain = export_model(small_mlp(), tmp_path / "p.onnx", export_options("onnx"))
    assert plain.precision_difference is None
