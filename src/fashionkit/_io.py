"""Atomic file writes: a reader never sees a half-written file under the final name."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the permissions of a normally created file, then rename it to ``path``.

    ``tempfile.mkstemp`` creates files readable by their owner only; a dataset file, a model or
    a report is meant to be as readable as any file the user creates.
    """
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


@contextmanager
def staged(path: Path, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``, then publish it there or delete it.

    On success the file is renamed to ``path``; on any failure, Ctrl-C included, it is deleted,
    so ``path`` is never left half-written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, sync it, then rename it into place."""
    with staged(path) as tmp, tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return path


def atomic_save_model(model: Any, path: Path) -> Path:
    """Save a Keras model atomically; the temporary file keeps the ``.keras`` suffix Keras needs."""
    with staged(path, suffix=".keras") as tmp:
        model.save(tmp)
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` as UTF-8, atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))
