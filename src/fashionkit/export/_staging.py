"""Writing beside the target: a staged name, published only once the export is checked.

An export is written under a hidden temporary name beside its target
(:func:`fashionkit._io.staged` for a file, :func:`~fashionkit._io.staged_directory` for a
SavedModel folder) and renamed into place only once checked. Like every writer of fashionkit's,
it holds the target's writer lock meanwhile and first removes what a killed writer of the same
target left (:func:`fashionkit._io.leftovers`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from fashionkit._constants import ExportFormat
from fashionkit._io import staged, staged_directory
from fashionkit.export._targets import SUFFIXES

__all__ = ["staging"]


def staging(target: Path, format: ExportFormat) -> AbstractContextManager[Path]:
    """A temporary path beside ``target``: a folder for a SavedModel, else a file of its suffix.

    On success the staged file or folder replaces ``target``; on any failure, Ctrl-C included,
    it is deleted and ``target`` is left as it was.
    """
    if format == "saved_model":
        return staged_directory(target)
    return staged(target, suffix=SUFFIXES[format])
