"""File writes and locks: every file fashionkit writes goes through this module.

A reader never sees a half-written file under its final name: whole files are written to a
temporary name beside the target, flushed, synced and renamed (:func:`staged`); log lines are
appended and synced one at a time (``fashionkit._jsonl``). :func:`os_error_message` turns the
operating system's errors into one sentence that names the path and says what to do, and
:class:`DirectoryLock` keeps two processes from writing one run directory at once (its lock
file, like :func:`folder_lock`'s, is removed when the lock is released).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

if sys.platform != "win32":  # POSIX file locks; on Windows run directories are not locked
    import fcntl

from fashionkit.exceptions import FashionkitError, RunDirError, StorageError

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
_NOT_A_FOLDER = (errno.ENOTDIR, errno.EEXIST)


def check_parents(target: Path) -> None:
    """Refuse a path under a file (missing folders are fine: writes create them).

    Raises:
        StorageError: A parent of ``target`` is a file.
    """
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise StorageError(
                    f"Cannot write {target}: {parent} is a file, not a folder. Choose another path."
                )
            return


def os_error_message(exc: OSError, path: Path | str, *, action: str = "write") -> str:
    """One sentence for an OSError: the path, what went wrong in plain words, what to do.

    Example:
        >>> import errno
        >>> os_error_message(OSError(errno.ENOSPC, "No space left on device"), "model.keras")
        'Cannot write model.keras: the disk is full (No space left on device). Free some ...'
    """
    reason = exc.strerror or str(exc)
    if exc.errno in _FULL:
        return (
            f"Cannot {action} {path}: the disk is full ({reason}). Free some space and try again."
        )
    if exc.errno in _DENIED:
        return (
            f"Cannot {action} {path}: permission denied or read-only file system ({reason}). "
            f"Choose a folder you can write to, or change its permissions."
        )
    if exc.errno in _NOT_A_FOLDER:
        return (
            f"Cannot {action} {path}: a file stands where a folder is expected ({reason}). Move "
            f"the file away or choose another folder."
        )
    if exc.errno == errno.ENOENT:
        return f"Cannot {action} {path}: it does not exist ({reason})."
    if exc.errno == errno.EISDIR:
        return f"Cannot {action} {path}: it is a folder, not a file ({reason})."
    return f"Cannot {action} {path}: {reason}."


@contextmanager
def os_errors_as(
    error: type[StorageError],
    path: Path | str,
    *,
    action: str = "write",
    hint: str = "",
) -> Iterator[None]:
    """Re-raise an OSError inside the block as ``error`` with :func:`os_error_message`.

    fashionkit's own errors pass through unchanged; the new error keeps the operating system's
    ``errno``. ``hint`` is appended to the message (say what state the files are left in).
    """
    try:
        yield
    except FashionkitError:
        raise
    except OSError as exc:
        raise converted(exc, error, path, action=action, hint=hint) from exc


def converted(
    exc: OSError, error: type[StorageError], path: Path | str, *, action: str, hint: str = ""
) -> StorageError:
    """``exc`` as ``error``, worded by :func:`os_error_message`, keeping its ``errno``."""
    new = error(f"{os_error_message(exc, path, action=action)} {hint}".strip())
    new.errno = exc.errno
    return new


def in_use_message(directory: Path) -> str:
    """What a process that finds ``directory`` locked by another one is told."""
    return (
        f"{directory} is in use: {describe_holder(directory)} is training into it. Wait for it "
        f"to finish (or stop it), or choose another run directory."
    )


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


# tempfile's names: the prefix, eight characters of this set, the suffix.
_RANDOM = "[a-z0-9_]{8}"


def leftovers(path: Path, *, suffix: str | None = None) -> list[Path]:
    """What killed writers of ``path`` left beside it: its own staged names, nothing else.

    With ``suffix``, the files :func:`staged` names ``.NAME.<8 random>SUFFIX``; without, the
    folders :func:`staged_directory` names ``.NAME.<8 random>.tmp`` (the new one) and
    ``.NAME.<pid>.<ns>.old`` (the old one, renamed aside during the swap). Only entries whose
    whole name matches count, only of that kind (files or folders), never a symbolic link.
    """
    folder = path.parent
    if not folder.is_dir():
        return []
    name = re.escape(path.name)
    if suffix is not None:
        pattern = re.compile(rf"\.{name}\.{_RANDOM}{re.escape(suffix)}")
    else:
        pattern = re.compile(rf"\.{name}\.({_RANDOM}\.tmp|\d+\.\d+\.old)")
    return [
        entry
        for entry in sorted(folder.iterdir())
        if pattern.fullmatch(entry.name)
        and not entry.is_symlink()
        and (entry.is_file() if suffix is not None else entry.is_dir())
    ]


@contextmanager
def _writing(path: Path, *, suffix: str | None) -> Iterator[None]:
    """Hold ``path``'s writer lock (``.NAME.lock`` beside it) and remove earlier leftovers.

    A writer killed mid-write (``SIGKILL``, a power cut) leaves its staged file or folder; the
    next writer of the same target removes it (:func:`leftovers`), under the lock, so that it
    never removes what a live writer is writing. Without locks (Windows) nothing is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        yield
        return
    with folder_lock(path.parent, f".{path.name}.lock"):
        for entry in leftovers(path, suffix=suffix):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        yield


@contextmanager
def staged(path: Path, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``, then publish it there or delete it.

    On success the file is renamed to ``path``; on any failure, Ctrl-C included, it is deleted,
    so ``path`` is never left half-written. What an earlier writer of ``path`` left when it
    was killed is removed first (see :func:`leftovers`).
    """
    with _writing(path, suffix=suffix):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            publish(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def sync_tree(root: Path) -> None:
    """Flush every file under ``root`` (or ``root`` itself, a file) to the disk."""
    paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def staged_directory(path: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``, then swap it into place or delete it.

    On success the folder's files are synced and it is renamed to ``path``; a folder already
    there is first renamed aside and deleted only after the swap, so ``path`` never holds a
    mixture of old and new files. On any failure, Ctrl-C included, the temporary folder is
    deleted and ``path`` is left as it was. What an earlier writer of ``path`` left when it
    was killed is removed first (see :func:`leftovers`).
    """
    with _writing(path, suffix=None):
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            yield tmp
            sync_tree(tmp)
            os.chmod(tmp, 0o777 & ~_umask())
            _swap(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _swap(tmp: Path, path: Path) -> None:
    """Rename the folder ``tmp`` to ``path``; a folder there is renamed aside, then deleted."""
    old = None
    if path.exists():
        # A fresh name beside it (not created: a rename onto an empty folder is refused on some
        # systems); the old folder waits there until the new one is in place.
        old = path.parent / f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.old"
        os.rename(path, old)
    try:
        os.rename(tmp, path)
    except BaseException:
        if old is not None:
            os.rename(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (it may be gone or replaced)."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _lock_file(path: Path, *, wait: bool) -> int:
    """Open the lock file ``path`` (creating it), lock it exclusively and return the descriptor.

    The process that releases a lock removes its file first (:func:`_unlock_file`), so a
    process that opened the file before that, and waited for it or was about to lock it, may
    get the lock of a file that no longer has the name, while a third process creates and
    locks a new one. So after locking, the descriptor is checked to be the file named ``path``
    still; if it is not, the name is opened again.

    Raises:
        BlockingIOError: ``wait`` is false and another process holds the lock.
        OSError: The file cannot be created or opened.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _same_file(fd, path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # removed by its last holder after this process opened it: open it again


def _unlock_file(fd: int, path: Path) -> None:
    """Remove the lock file ``path`` while its lock on ``fd`` is still held, then release it.

    Removing before unlocking is what makes the removal safe (see :func:`_lock_file`). A file
    that cannot be removed (the folder became read-only, say) stays, harmlessly: the next
    process locks it as before.
    """
    try:
        with suppress(OSError):
            if _same_file(fd, path):
                path.unlink()
    finally:
        os.close(fd)  # closing releases the lock


class DirectoryLock:
    """An exclusive lock on a folder, held by this process until :meth:`release` or its death.

    It is the operating system's advisory lock (``flock``) on a file named ``.lock`` in the
    folder, so it is released however the process ends, ``SIGKILL`` included. The file also
    records who holds the lock (process id, host, start time) for the message the next process
    gets. :meth:`release` removes it, safely for a process that is taking the lock at the same
    moment (see :func:`_lock_file`); a process killed by ``SIGKILL`` leaves it, harmlessly, and
    the next holder removes it in turn.

    Args:
        directory: The folder to lock; it must exist.
    """

    NAME = ".lock"

    def __init__(self, directory: Path) -> None:
        self.path = directory / self.NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`~fashionkit.exceptions.RunDirError` naming its holder."""
        if sys.platform == "win32" or self._fd is not None:
            return
        try:
            fd = _lock_file(self.path, wait=False)
        except BlockingIOError:
            raise RunDirError(in_use_message(self.path.parent)) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
        except BaseException:
            _unlock_file(fd, self.path)
            raise
        self._fd = fd

    def release(self) -> None:
        """Release the lock and remove its file (nothing happens if it is not held)."""
        if self._fd is not None and sys.platform != "win32":
            _unlock_file(self._fd, self.path)
        self._fd = None


@contextmanager
def folder_lock(directory: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock file ``name`` in ``directory``, waiting for other holders.

    For short critical sections shared by processes (several loads downloading into one empty
    cache folder take turns, and the later ones find the files already there). The file is
    removed when the block ends, however it ends, safely for the processes waiting for it
    (see :func:`_lock_file`).
    """
    if sys.platform == "win32":
        yield
        return
    path = directory / name
    fd = _lock_file(path, wait=True)
    try:
        yield
    finally:
        _unlock_file(fd, path)


def is_locked(directory: Path) -> bool:
    """Whether another process holds :class:`DirectoryLock` on ``directory`` right now."""
    path = directory / DirectoryLock.NAME
    if sys.platform == "win32" or not path.is_file():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def describe_holder(directory: Path) -> str:
    """``process 1234 on host, since 12:00:01``, as the lock file records it."""
    try:
        holder = json.loads((directory / DirectoryLock.NAME).read_text(encoding="utf-8"))
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder["since"])))
        return f"process {int(holder['pid'])} on {holder['host']} (since {since})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
