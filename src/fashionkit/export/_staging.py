"""Writing beside the target: a lock per target, a staged name, and a killed export's leftovers.

An export is written under a hidden temporary name beside its target
(:func:`fashionkit._io.staged` for a file, :func:`~fashionkit._io.staged_directory` for a
SavedModel folder) and renamed into place only once checked. A process killed in the middle
(``SIGKILL``, a power cut) leaves that staged file or folder behind, and a SavedModel folder
killed during its swap leaves the old folder renamed aside. The next export to the same target
removes them before it writes; it holds a lock on the target meanwhile (a hidden
``.NAME.lock`` beside it, removed when the export ends), so it never removes what a live
export is writing.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fashionkit._constants import ExportFormat
from fashionkit._io import folder_lock, staged, staged_directory
from fashionkit.export._targets import SUFFIXES

__all__ = ["leftovers", "staging"]

# tempfile's names: the prefix, eight characters of this set, the suffix.
_RANDOM = "[a-z0-9_]{8}"


def _patterns(target: Path, format: ExportFormat) -> list[re.Pattern[str]]:
    """The names :func:`staging` gives its temporary files or folders for ``target``."""
    name = re.escape(target.name)
    if format == "saved_model":
        return [
            re.compile(rf"\.{name}\.{_RANDOM}\.tmp"),  # staged_directory's new folder
            re.compile(rf"\.{name}\.\d+\.\d+\.old"),  # the old folder, renamed aside
        ]
    return [re.compile(rf"\.{name}\.{_RANDOM}{re.escape(SUFFIXES[format])}")]


def leftovers(target: Path, format: ExportFormat) -> list[Path]:
    """What killed exports to ``target`` left beside it: its own staged names, nothing else.

    Only entries whose whole name matches the target's staged pattern count, and only of the
    kind staging makes (folders for a SavedModel, files otherwise; never a symbolic link).
    """
    folder = target.parent
    if not folder.is_dir():
        return []
    patterns = _patterns(target, format)
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink() or not any(p.fullmatch(entry.name) for p in patterns):
            continue
        if entry.is_dir() if format == "saved_model" else entry.is_file():
            found.append(entry)
    return found


@contextmanager
def staging(target: Path, format: ExportFormat) -> Iterator[Path]:
    """Yield a temporary path beside ``target``, then publish it there or delete it.

    The target's lock is held throughout; once it is taken, earlier exports' leftovers
    (:func:`leftovers`) are removed. On success the staged file or folder replaces
    ``target``; on any failure, Ctrl-C included, it is deleted and ``target`` is left as it
    was.

    Raises:
        OSError: A file cannot be created, removed or renamed (the caller words it).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(target.parent, f".{target.name}.lock"):
        for entry in leftovers(target, format):
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        stage = (
            staged_directory(target)
            if format == "saved_model"
            else staged(target, suffix=SUFFIXES[format])
        )
        with stage as tmp:
            yield tmp
