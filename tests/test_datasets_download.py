"""Downloads against a real HTTP server on 127.0.0.1: mirrors, checksums, cleanup."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import balanced_labels, synthetic_images, write_idx_gz
from fashionkit import datasets
from fashionkit.datasets import (
    CANONICAL_SHA256,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    download_file,
    load_fashion_mnist,
)
from fashionkit.exceptions import ChecksumError, DownloadError

NAME = "payload.bin"
PAYLOAD = bytes(range(256)) * 300  # 76,800 bytes: more than one 64 KiB read chunk
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@dataclass(frozen=True)
class Reply:
    """What the server answers for one path."""

    status: int = 200
    body: bytes = b""
    #: Content-Length to announce; larger than ``len(body)`` simulates a dropped connection.
    content_length: int | None = None
    #: Extra response headers, e.g. ``Location`` for a redirect.
    headers: tuple[tuple[str, str], ...] = ()
    #: Send the headers and body, then hang (until the test ends) instead of finishing.
    stall: bool = False


@dataclass
class FileServer:
    """A running HTTP server whose answers are configured per path."""

    url: str
    replies: dict[str, Reply] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    release: threading.Event = field(default_factory=threading.Event)

    def serve(self, path: str, reply: Reply) -> None:
        """Answer requests for ``path`` (e.g. ``/a/payload.bin``) with ``reply``."""
        self.replies[path] = reply


def _make_handler(server: FileServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests[self.path] += 1
            reply = server.replies.get(self.path, Reply(status=404, body=b"not found"))
            self.send_response(reply.status)
            length = len(reply.body) if reply.content_length is None else reply.content_length
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            for key, value in reply.headers:
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
            if reply.stall:
                server.release.wait(timeout=10)
            # HTTP/1.0: the connection closes after this response, mid-body when truncated.
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output quiet; requests are counted in do_GET."""

    return Handler


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    """A real ThreadingHTTPServer on 127.0.0.1 (free port), shut down after the test."""
    state = FileServer(url="")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # A short poll interval keeps shutdown() in the teardown fast.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 whose port nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _listing(directory: Path) -> list[str]:
    """Every entry in ``directory``, hidden ones included."""
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_file_saves_exact_bytes_and_no_temporary_file(
    file_server: FileServer, tmp_path: Path
) -> None:
    """It saves the served bytes under the real name and leaves no temporary file behind."""
    file_server.serve(f"/m/{NAME}", Reply(body=PAYLOAD))
    target = tmp_path / "data"

    path = download_file(
        NAME, target, sha256=PAYLOAD_SHA256, mirrors=[f"{file_server.url}/m/"], timeout=5
    )

    assert path == target / NAME
    assert path.read_bytes() == PAYLOAD
    assert _listing(target) == [NAME]
    assert file_server.requests[f"/m/{NAME}"] == 1


def test_download_file_accepts_a_mirror_without_trailing_slash(
    file_server: FileServer, tmp_path: Path
) -> None:
    """It appends the file name below a mirror path given without a trailing slash."""
    file_server.serve(f"/m/{NAME}", Reply(body=PAYLOAD))

    path = download_file(
        NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=[f"{file_server.url}/m"], timeout=5
    )

    assert path.read_bytes() == PAYLOAD
    assert file_server.requests == Counter({f"/m/{NAME}": 1})


def test_download_file_raises_checksum_error_on_wrong_bytes(
    file_server: FileServer, tmp_path: Path
) -> None:
    """It raises ChecksumError naming both digests and saves nothing when the bytes are wrong."""
    wrong = PAYLOAD[::-1]
    file_server.serve(f"/{NAME}", Reply(body=wrong))

    with pytest.raises(ChecksumError) as excinfo:
        download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=[file_server.url], timeout=5)

    message = str(excinfo.value)
    assert PAYLOAD_SHA256 in message
    assert hashlib.sha256(wrong).hexdigest() in message
    assert _listing(tmp_path) == []


def test_download_file_rejects_a_truncated_response(
    file_server: FileServer, tmp_path: Path
) -> None:
    """It raises DownloadError (not a checksum complaint) and saves nothing on a cut-off body."""
    file_server.serve(
        f"/{NAME}", Reply(body=PAYLOAD[: len(PAYLOAD) // 2], content_length=len(PAYLOAD))
    )

    with pytest.raises(DownloadError) as excinfo:
        download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=[file_server.url], timeout=5)

    assert not isinstance(excinfo.value, ChecksumError)
    assert f"connection closed after {len(PAYLOAD) // 2} of {len(PAYLOAD)}" in str(excinfo.value)
    assert file_server.requests[f"/{NAME}"] == 1
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("status", [404, 500])
def test_download_file_falls_back_to_the_next_mirror_on_error_status(
    file_server: FileServer, tmp_path: Path, status: int
) -> None:
    """It tries the second mirror when the first answers with an error status."""
    file_server.serve(f"/bad/{NAME}", Reply(status=status, body=b"nope"))
    file_server.serve(f"/good/{NAME}", Reply(body=PAYLOAD))
    mirrors = [f"{file_server.url}/bad/", f"{file_server.url}/good/"]

    path = download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=mirrors, timeout=5)

    assert path.read_bytes() == PAYLOAD
    assert file_server.requests == Counter({f"/bad/{NAME}": 1, f"/good/{NAME}": 1})
    assert _listing(tmp_path) == [NAME]


def test_download_file_falls_back_to_the_next_mirror_on_wrong_bytes(
    file_server: FileServer, tmp_path: Path
) -> None:
    """It tries the second mirror when the first delivers bytes with another digest."""
    file_server.serve(f"/bad/{NAME}", Reply(body=b"garbage"))
    file_server.serve(f"/good/{NAME}", Reply(body=PAYLOAD))
    mirrors = [f"{file_server.url}/bad/", f"{file_server.url}/good/"]

    path = download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=mirrors, timeout=5)

    assert path.read_bytes() == PAYLOAD
    assert file_server.requests == Counter({f"/bad/{NAME}": 1, f"/good/{NAME}": 1})
    assert _listing(tmp_path) == [NAME]


def test_download_file_names_every_failed_mirror(
    file_server: FileServer, closed_port_url: str, tmp_path: Path
) -> None:
    """It raises DownloadError naming every mirror URL tried when none delivers the file."""
    file_server.serve(f"/gone/{NAME}", Reply(status=404, body=b"not here"))
    file_server.serve(f"/broken/{NAME}", Reply(status=500, body=b"oops"))
    mirrors = [f"{file_server.url}/gone/", closed_port_url, f"{file_server.url}/broken/"]

    with pytest.raises(DownloadError) as excinfo:
        download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=mirrors, timeout=5)

    message = str(excinfo.value)
    for mirror in mirrors:
        assert mirror + NAME in message
    assert "404" in message
    assert "500" in message
    assert not isinstance(excinfo.value, ChecksumError)
    assert _listing(tmp_path) == []


def test_download_file_reports_download_error_when_mismatch_and_failure_mix(
    file_server: FileServer, tmp_path: Path
) -> None:
    """It raises DownloadError, not ChecksumError, when only some mirrors delivered wrong bytes."""
    file_server.serve(f"/wrong/{NAME}", Reply(body=b"garbage"))
    mirrors = [f"{file_server.url}/wrong/", f"{file_server.url}/missing/"]

    with pytest.raises(DownloadError) as excinfo:
        download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=mirrors, timeout=5)

    message = str(excinfo.value)
    assert f"{file_server.url}/wrong/{NAME}" in message
    assert f"{file_server.url}/missing/{NAME}" in message
    assert _listing(tmp_path) == []


def test_download_file_follows_a_redirect(file_server: FileServer, tmp_path: Path) -> None:
    """It follows an HTTP redirect from a mirror to the file's real location."""
    file_server.serve(
        f"/old/{NAME}",
        Reply(status=302, headers=(("Location", f"{file_server.url}/new/{NAME}"),)),
    )
    file_server.serve(f"/new/{NAME}", Reply(body=PAYLOAD))

    path = download_file(
        NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=[f"{file_server.url}/old/"], timeout=5
    )

    assert path.read_bytes() == PAYLOAD
    assert file_server.requests == Counter({f"/old/{NAME}": 1, f"/new/{NAME}": 1})
    assert _listing(tmp_path) == [NAME]


def test_download_file_refuses_a_redirect_to_a_local_file(
    file_server: FileServer, tmp_path: Path
) -> None:
    """It raises DownloadError and writes nothing when a mirror redirects to file://."""
    secret = tmp_path / "secret.bin"
    secret.write_bytes(PAYLOAD)  # would even pass the checksum if it were read
    file_server.serve(f"/{NAME}", Reply(status=302, headers=(("Location", secret.as_uri()),)))
    target = tmp_path / "data"

    with pytest.raises(DownloadError):
        download_file(NAME, target, sha256=PAYLOAD_SHA256, mirrors=[file_server.url], timeout=5)

    assert _listing(target) == []


def test_download_file_gives_up_on_a_stalled_mirror_after_the_timeout(
    file_server: FileServer, tmp_path: Path
) -> None:
    """It raises DownloadError within about the timeout when a mirror stops sending."""
    file_server.serve(
        f"/{NAME}",
        Reply(body=PAYLOAD[:1000], content_length=len(PAYLOAD), stall=True),
    )

    start = time.monotonic()
    with pytest.raises(DownloadError) as excinfo:
        download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=[file_server.url], timeout=0.3)
    elapsed = time.monotonic() - start

    assert elapsed < 2
    assert "timed out" in str(excinfo.value)
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("mirror", ["file:///tmp/", "ftp://127.0.0.1/pub/"])
def test_download_file_rejects_non_http_mirrors(tmp_path: Path, mirror: str) -> None:
    """It raises DownloadError for a mirror that is not http or https and writes nothing."""
    with pytest.raises(DownloadError) as excinfo:
        download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=[mirror], timeout=5)

    assert mirror + NAME in str(excinfo.value)
    assert _listing(tmp_path) == []


def test_download_file_rejects_an_empty_mirror_list(tmp_path: Path) -> None:
    """It raises DownloadError naming the file when no mirror is given."""
    target = tmp_path / "data"

    with pytest.raises(DownloadError, match=NAME):
        download_file(NAME, target, sha256=PAYLOAD_SHA256, mirrors=[], timeout=5)

    assert _listing(target) == []


def test_download_file_removes_temporary_file_on_keyboard_interrupt(
    file_server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It lets KeyboardInterrupt through and leaves no temporary file in the folder."""
    file_server.serve(f"/{NAME}", Reply(body=PAYLOAD))
    started: list[int] = []

    def interrupted_fsync(fd: int) -> None:
        # The body has been written to the temporary file by now: it must be cleaned up.
        started.append(fd)
        assert [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
        raise KeyboardInterrupt

    monkeypatch.setattr("fashionkit.datasets.os.fsync", interrupted_fsync)

    with pytest.raises(KeyboardInterrupt):
        download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=[file_server.url], timeout=5)

    assert started
    assert _listing(tmp_path) == []


def test_download_file_keeps_an_existing_file_when_the_download_fails(
    file_server: FileServer, tmp_path: Path
) -> None:
    """It leaves a file already under the real name untouched when the new bytes are wrong."""
    existing = tmp_path / NAME
    existing.write_bytes(b"previous content")
    file_server.serve(f"/{NAME}", Reply(body=b"wrong"))

    with pytest.raises(ChecksumError):
        download_file(NAME, tmp_path, sha256=PAYLOAD_SHA256, mirrors=[file_server.url], timeout=5)

    assert existing.read_bytes() == b"previous content"
    assert _listing(tmp_path) == [NAME]


def test_load_fashion_mnist_does_not_download_files_already_present(
    synthetic_dir: Path, closed_port_url: str
) -> None:
    """It makes no request when all four files are on disk, even with download=True."""
    data = load_fashion_mnist(
        synthetic_dir, verify=False, download=True, mirrors=[closed_port_url], timeout=5
    )

    assert data.source.downloaded == ()
    assert len(data.train) == 50


def test_load_fashion_mnist_raises_download_error_for_unreachable_mirrors(
    clean_env: None, closed_port_url: str, tmp_path: Path
) -> None:
    """It raises DownloadError naming the first missing file when no mirror answers."""
    target = tmp_path / "data"

    with pytest.raises(DownloadError) as excinfo:
        load_fashion_mnist(target, mirrors=[closed_port_url], timeout=5)

    assert closed_port_url + TRAIN_IMAGES in str(excinfo.value)
    assert _listing(target) == []


@pytest.mark.parametrize(
    "reply",
    [Reply(status=403, body=b"forbidden"), Reply(body=PAYLOAD)],
    ids=["refused", "wrong-bytes"],
)
def test_a_failed_download_leaves_no_lock_file(
    clean_env: None, file_server: FileServer, tmp_path: Path, reply: Reply
) -> None:
    """It removes its download lock file when the mirror refuses a file or sends other bytes."""
    for name in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS):
        file_server.serve(f"/fm/{name}", reply)
    target = tmp_path / "data"

    with pytest.raises((DownloadError, ChecksumError)):
        load_fashion_mnist(target, mirrors=[f"{file_server.url}/fm/"], timeout=5)

    assert file_server.requests[f"/fm/{TRAIN_IMAGES}"] == 1
    assert _listing(target) == []


def test_ctrl_c_during_a_download_leaves_no_lock_file(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It removes its download lock file when Ctrl-C stops a download it holds the lock for."""
    target = tmp_path / "data"
    held: list[bool] = []

    def interrupted(name: str, directory: Path, **kwargs: object) -> Path:
        held.append((directory / datasets._DOWNLOAD_LOCK).is_file())
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets, "download_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_fashion_mnist(target, mirrors=["http://127.0.0.1:9/"], timeout=5)

    assert held == [True]  # the lock was taken for the download
    assert _listing(target) == []


def test_a_successful_download_leaves_only_the_four_files(
    clean_env: None, file_server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It leaves exactly the four data files, and no lock file, after downloading them."""
    arrays = {
        TRAIN_IMAGES: synthetic_images(30),
        TRAIN_LABELS: balanced_labels(30),
        TEST_IMAGES: synthetic_images(10, seed=1),
        TEST_LABELS: balanced_labels(10),
    }
    for name, array in arrays.items():
        body = write_idx_gz(tmp_path / name, array).read_bytes()
        monkeypatch.setitem(CANONICAL_SHA256, name, hashlib.sha256(body).hexdigest())
        file_server.serve(f"/fm/{name}", Reply(body=body))
    target = tmp_path / "data"

    data = load_fashion_mnist(target, mirrors=[f"{file_server.url}/fm/"], timeout=5)

    assert data.source.downloaded == (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
    assert len(data.train) == 30
    assert _listing(target) == sorted(arrays)


@pytest.mark.integration
def test_load_fashion_mnist_refuses_non_canonical_downloaded_images(
    clean_env: None, file_server: FileServer, shared_data_dir: Path, tmp_path: Path
) -> None:
    """It raises ChecksumError for the re-split images and never saves an images file."""
    for name in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS):
        file_server.serve(f"/fm/{name}", Reply(body=(shared_data_dir / name).read_bytes()))
    target = tmp_path / "downloaded"

    with pytest.raises(ChecksumError) as excinfo:
        load_fashion_mnist(target, mirrors=[f"{file_server.url}/fm/"], timeout=5)

    assert TRAIN_IMAGES in str(excinfo.value)
    assert file_server.requests[f"/fm/{TRAIN_IMAGES}"] == 1
    remaining = _listing(target)
    assert not [name for name in remaining if "images" in name]
    # Only verified label files may have landed; nothing else (no temporary files).
    assert set(remaining) <= {TRAIN_LABELS, TEST_LABELS}


@pytest.mark.integration
def test_load_fashion_mnist_downloads_missing_canonical_labels(
    file_server: FileServer, shared_data_dir: Path, tmp_path: Path
) -> None:
    """It downloads and verifies only the missing files and records them in the source."""
    for name in (TRAIN_LABELS, TEST_LABELS):
        body = (shared_data_dir / name).read_bytes()
        assert hashlib.sha256(body).hexdigest() == CANONICAL_SHA256[name]
        file_server.serve(f"/fm/{name}", Reply(body=body))
    for name in (TRAIN_IMAGES, TEST_IMAGES):
        shutil.copyfile(shared_data_dir / name, tmp_path / name)

    data = load_fashion_mnist(tmp_path, verify=False, mirrors=[f"{file_server.url}/fm/"], timeout=5)

    assert data.source.downloaded == (TRAIN_LABELS, TEST_LABELS)
    assert data.source.verified is False
    assert file_server.requests == Counter({f"/fm/{TRAIN_LABELS}": 1, f"/fm/{TEST_LABELS}": 1})
    assert data.train.labels.shape == (60000,)
    assert data.test.labels.shape == (10000,)
    for name in (TRAIN_LABELS, TEST_LABELS):
        assert (tmp_path / name).read_bytes() == (shared_data_dir / name).read_bytes()
    assert _listing(tmp_path) == sorted([TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS])


@pytest.mark.integration
def test_loaders_of_one_folder_take_turns_downloading(
    file_server: FileServer, shared_data_dir: Path, tmp_path: Path
) -> None:
    """It downloads each missing file once when two loaders fill the same folder at once."""
    for name in (TRAIN_LABELS, TEST_LABELS):
        file_server.serve(f"/fm/{name}", Reply(body=(shared_data_dir / name).read_bytes()))
    for name in (TRAIN_IMAGES, TEST_IMAGES):
        shutil.copyfile(shared_data_dir / name, tmp_path / name)
    loaded: list[int] = []

    def load() -> None:
        data = load_fashion_mnist(
            tmp_path, verify=False, mirrors=[f"{file_server.url}/fm/"], timeout=5
        )
        loaded.append(len(data.train.labels))

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert loaded == [60000, 60000]
    assert file_server.requests == Counter({f"/fm/{TRAIN_LABELS}": 1, f"/fm/{TEST_LABELS}": 1})
