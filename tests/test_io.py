"""Tests of fashionkit._io: write errors in plain words, staged writes, directory locks."""

from __future__ import annotations

import errno
import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fashionkit
from fashionkit import _io
from fashionkit.exceptions import ConfigError, RunDirError, StorageError


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EDQUOT, "the disk is full"),
        (errno.EACCES, "permission denied"),
        (errno.EROFS, "read-only file system"),
        (errno.ENOTDIR, "a file stands where a folder is expected"),
        (errno.ENOENT, "does not exist"),
        (errno.EISDIR, "it is a folder"),
        (errno.EIO, "Input/output error"),
    ],
)
def test_os_error_message_names_the_path_and_the_cause(code: int, words: str) -> None:
    """It names the path and says in plain words what went wrong, for each common errno."""
    message = _io.os_error_message(OSError(code, os.strerror(code)), "run/model.keras")
    assert message.startswith("Cannot write run/model.keras: ")
    assert words in message


def test_os_errors_as_converts_and_keeps_errno() -> None:
    """It re-raises an OSError as the requested fashionkit error, keeping errno and the hint."""
    with (
        pytest.raises(RunDirError, match=r"disk is full.*resume later") as caught,
        _io.os_errors_as(RunDirError, "x", hint="resume later"),
    ):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert caught.value.errno == errno.ENOSPC
    assert isinstance(caught.value, OSError)
    assert isinstance(caught.value.__cause__, OSError)


def test_os_errors_as_lets_fashionkit_errors_through() -> None:
    """It leaves fashionkit's own errors (which may be OSErrors) unchanged."""
    original = StorageError("already explained")
    with pytest.raises(StorageError) as caught, _io.os_errors_as(RunDirError, "x"):
        raise original
    assert caught.value is original
    with pytest.raises(ConfigError), _io.os_errors_as(RunDirError, "x"):
        raise ConfigError("not an OSError at all")


def test_staged_publishes_with_normal_permissions(tmp_path: Path) -> None:
    """It renames the finished temporary file into place with umask permissions."""
    target = tmp_path / "sub" / "file.txt"
    _io.atomic_write_text(target, "hello")
    assert target.read_text(encoding="utf-8") == "hello"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.txt"]


def test_staged_deletes_the_temporary_file_on_failure(tmp_path: Path) -> None:
    """It leaves neither the target nor a temporary file when the block fails."""
    target = tmp_path / "file.txt"

    def crash() -> None:
        with _io.staged(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("crash while writing")

    with pytest.raises(RuntimeError):
        crash()
    assert list(tmp_path.iterdir()) == []


_HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from fashionkit._io import DirectoryLock
    DirectoryLock(Path(sys.argv[1])).acquire()
    print("locked", flush=True)
    time.sleep(60)
    """
)


def _holder(directory: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(directory)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "locked"
    return child


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
def test_directory_lock_refuses_a_second_process_and_names_the_holder(tmp_path: Path) -> None:
    """It raises RunDirError naming the holding process while another process holds the lock."""
    child = _holder(tmp_path)
    try:
        assert _io.is_locked(tmp_path)
        with pytest.raises(RunDirError, match=rf"in use: process {child.pid} on "):
            _io.DirectoryLock(tmp_path).acquire()
        assert _io.is_locked(tmp_path)  # the refused process left the holder's file alone
    finally:
        child.kill()
        child.communicate()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
def test_directory_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    """It can be taken again at once after the holder dies by SIGKILL, and then removes the file."""
    child = _holder(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    assert (tmp_path / ".lock").is_file()  # a killed process cannot remove it
    assert not _io.is_locked(tmp_path)
    lock = _io.DirectoryLock(tmp_path)
    lock.acquire()
    assert f'"pid": {os.getpid()}' in (tmp_path / ".lock").read_text(encoding="utf-8")
    lock.release()
    assert not _io.is_locked(tmp_path)
    assert not (tmp_path / ".lock").exists()


@pytest.mark.xdist_group("processes")
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
def test_folder_lock_makes_processes_take_turns(tmp_path: Path) -> None:
    """It blocks a second process until the first leaves the critical section."""
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from fashionkit._io import folder_lock
        with folder_lock(Path(sys.argv[1]), "turns.lock"):
            start = time.time()
            time.sleep(0.8)
            print(start, time.time(), flush=True)
        """
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    spans = sorted(
        tuple(float(v) for v in child.communicate(timeout=60)[0].split()) for child in children
    )
    assert spans[0][1] <= spans[1][0] + 0.05  # the second entered after the first left


def test_a_lock_whose_holder_record_cannot_be_written_is_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It releases the lock it took when recording the holder fails (a full disk)."""

    def full(*args: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(os, "pwrite", full)
        with pytest.raises(OSError, match="No space left"):
            _io.DirectoryLock(tmp_path).acquire()
    assert not _io.is_locked(tmp_path)
    assert not (tmp_path / ".lock").exists()
    lock = _io.DirectoryLock(tmp_path)
    lock.acquire()
    lock.release()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
def test_directory_lock_removes_its_file_on_release(tmp_path: Path) -> None:
    """It removes the lock file when released, and the folder can be locked again."""
    lock = _io.DirectoryLock(tmp_path)
    lock.acquire()
    assert (tmp_path / ".lock").is_file()
    lock.release()
    assert list(tmp_path.iterdir()) == []
    lock.acquire()
    assert _io.is_locked(tmp_path)
    lock.release()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
@pytest.mark.parametrize("ending", [None, RuntimeError, KeyboardInterrupt])
def test_folder_lock_removes_its_file_however_the_block_ends(
    tmp_path: Path, ending: type[BaseException] | None
) -> None:
    """It removes the lock file when the block ends normally, by an error or by Ctrl-C."""
    path = tmp_path / "turns.lock"

    def block() -> None:
        with _io.folder_lock(tmp_path, path.name):
            assert path.is_file()
            if ending is not None:
                raise ending

    if ending is None:
        block()
    else:
        with pytest.raises(ending):
            block()
    assert not path.exists()


_COUNT_UNDER_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from fashionkit import _io
    from fashionkit.exceptions import RunDirError
    folder, kind, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    counter = folder / "counter.txt"

    def increment():
        value = int(counter.read_text())
        time.sleep(0.002)  # a second holder would read the same value and lose an update
        counter.write_text(str(value + 1))

    for _ in range(rounds):
        if kind == "wait":
            with _io.folder_lock(folder, "count.lock"):
                increment()
        else:
            lock = _io.DirectoryLock(folder)
            while True:
                try:
                    lock.acquire()
                    break
                except RunDirError:
                    time.sleep(0.0005)
            try:
                increment()
            finally:
                lock.release()
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
@pytest.mark.parametrize("kind", ["wait", "try"])
def test_lockers_that_remove_the_lock_file_still_exclude_each_other(
    tmp_path: Path, kind: str
) -> None:
    """It never lets two processes hold the lock at once while each removes the file on release."""
    (tmp_path / "counter.txt").write_text("0")
    processes, rounds = 4, 40
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _COUNT_UNDER_LOCK, str(tmp_path), kind, str(rounds)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0] * processes, errors
    assert (tmp_path / "counter.txt").read_text() == str(processes * rounds)  # no lost update
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter.txt"]  # no lock file left


# --- every writer cleans up after a writer of the same target that was killed ------------------

# A process that writes a file through one of fashionkit's writers and blocks just before the
# rename that would publish it, until the test kills it.
_KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from fashionkit import _io

    def stuck(tmp, path):
        print("staged", flush=True)
        sys.stdin.read()  # blocks until the test kills this process

    _io.publish = stuck
    target = Path(sys.argv[2])
    if sys.argv[1] == "config":
        import fashionkit
        fashionkit.TrainConfig(epochs=2).write_toml(target)
    elif sys.argv[1] == "picture":
        import matplotlib.figure
        from fashionkit.plots import save_figure
        save_figure(matplotlib.figure.Figure(), target)
    else:
        _io.atomic_write_text(target, "text")
    """
)


def _write_with(writer: str, target: Path) -> None:
    """The same writer as in _KILLED_WRITER, in this process."""
    if writer == "config":
        fashionkit.TrainConfig(epochs=2).write_toml(target)
    elif writer == "picture":
        import matplotlib.figure

        from fashionkit.plots import save_figure

        save_figure(matplotlib.figure.Figure(), target)
    else:
        _io.atomic_write_text(target, "text")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and POSIX file locks")
@pytest.mark.parametrize(
    ("writer", "name"), [("config", "run.toml"), ("picture", "curves.png"), ("text", "best.toml")]
)
def test_what_a_killed_writer_left_is_removed_by_the_next_writer(
    writer: str, name: str, tmp_path: Path
) -> None:
    """It removes the staged file a writer killed by SIGKILL left, and publishes the new one."""
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / name
    (folder / "mine.txt").write_text("a user's file", encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, writer, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], 120)
        assert ready
        assert child.stdout.readline().strip() == "staged"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    left = sorted(p.name for p in folder.iterdir())
    assert any(n.startswith(f".{name}.") and not n.endswith(".lock") for n in left), left
    _write_with(writer, target)
    assert sorted(p.name for p in folder.iterdir()) == sorted([name, "mine.txt"])
