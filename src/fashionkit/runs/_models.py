"""Keras model files: saved whole or not at all, loaded with Keras's safe mode on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fashionkit._io import atomic_save_model, check_parents, os_errors_as
from fashionkit._messages import brief, shown
from fashionkit._typing import PathLike
from fashionkit._validation import KerasModel, params
from fashionkit.exceptions import InputValidationError, RunDirError, StorageError

__all__ = ["check_model_path", "load_model", "save_model"]


@params()
def check_model_path(path: PathLike) -> Path:
    """Check that a model can be saved at ``path``: a ``.keras`` name, not in a file.

    Missing folders are created when the model is saved.

    Raises:
        InputValidationError: The name does not end in ``.keras`` (Keras's format) or names a
            folder.
        StorageError: A parent of the path is a file.
    """
    target = Path(path)
    if target.suffix != ".keras" or target.is_dir():
        raise InputValidationError(
            f"{target}: a model is saved as a .keras file; give a file name ending in .keras."
        )
    check_parents(target)
    return target


@params(model=KerasModel())
def save_model(model: Any, path: PathLike) -> Path:
    """Save a Keras model atomically to a ``.keras`` file and return its path.

    Raises:
        InputValidationError: The name does not end in ``.keras``.
        StorageError: The file could not be written (nothing is left under its name).
    """
    target = check_model_path(path)
    with os_errors_as(StorageError, target):
        return atomic_save_model(model, target)


@params()
def load_model(path: PathLike) -> Any:
    """Load a ``.keras`` file with Keras's safe mode on; any failure names the file.

    Raises:
        RunDirError: The file is missing, or is not a loadable Keras model.
    """
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path} is missing: there is no model file there.")
    if path.suffix != ".keras":
        raise RunDirError(
            f"{path} is not a .keras model file (its suffix is {shown(path.suffix)})."
        )
    import keras

    import fashionkit._optimizers
    import fashionkit._schedules  # noqa: F401 - registers the schedule a checkpoint may hold

    try:
        # Safe mode refuses to deserialise code (lambdas) from the file.
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise RunDirError(f"{path} is corrupted or not a Keras model ({brief(exc)}).") from exc
