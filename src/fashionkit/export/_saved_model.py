"""TensorFlow SavedModel: a folder, served by TensorFlow (``serve`` endpoint)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit.export._converter import keras_export

__all__ = ["runner", "write"]


def write(serving: Any, tmp: Path) -> None:
    """Write ``serving`` as a SavedModel into the empty folder ``tmp``."""
    keras_export(serving, tmp, "tf_saved_model")


def runner(path: Path) -> Callable[[NDArray[np.uint8]], Any]:
    """A function from uint8 images to probabilities, run by TensorFlow."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    return lambda x: loaded.serve(tf.constant(x)).numpy()
