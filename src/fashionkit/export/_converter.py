"""Keras's ``Model.export``, which every format's writer calls, and the converters' chatter."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fashionkit._io import sync_tree
from fashionkit._messages import brief
from fashionkit.exceptions import ExportError

__all__ = ["INSTALL", "keras_export", "quiet"]

#: What to do when a converter or a runtime of the ``export`` extra is missing.
INSTALL = 'install the export extra: pip install "fashionkit[export]"'


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the converters' and runtimes' own deprecation chatter (not errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def keras_export(serving: Any, tmp: Path, keras_format: str, **options: Any) -> None:
    """``serving.export(tmp, format=keras_format, **options)``, then every file synced.

    Raises:
        ExportError: The converter failed (the message names Keras's error).
    """
    try:
        with quiet():
            serving.export(str(tmp), format=keras_format, verbose=False, **options)
    except Exception as exc:  # converters raise many types
        raise ExportError(
            f"Keras could not export the model to {keras_format} ({brief(exc)})."
        ) from exc
    sync_tree(tmp)
