"""Fashion-MNIST on disk: locating, downloading, verifying and parsing the four IDX files.

All dataset file I/O of fashionkit lives in this module. It imports NumPy only: loading the
data never imports TensorFlow.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.client
import os
import ssl
import struct
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import CLASS_NAMES, CLASS_NAMES_KO, IMAGE_SHAPE, NUM_CLASSES
from fashionkit._io import converted, folder_lock, os_errors_as, staged
from fashionkit._messages import brief, shown
from fashionkit._typing import ImagesU8, LabelsU8, PathLike
from fashionkit._validation import (
    CheckedBy,
    Interval,
    annotated_fields,
    check_images,
    check_labels,
    check_same_length,
    field_validator,
    params,
)
from fashionkit.exceptions import (
    ChecksumError,
    ConfigError,
    DataFormatError,
    DataNotFoundError,
    DownloadError,
    StorageError,
)

__all__ = [
    "CANONICAL_SHA256",
    "CLASS_NAMES",
    "CLASS_NAMES_KO",
    "DATA_DIR_ENV",
    "MIRRORS",
    "NUM_CLASSES",
    "VERIFY_ENV",
    "DataSource",
    "FashionMNIST",
    "Split",
    "keras_cache_dir",
    "load_fashion_mnist",
]

TRAIN_IMAGES: Final = "train-images-idx3-ubyte.gz"
TRAIN_LABELS: Final = "train-labels-idx1-ubyte.gz"
TEST_IMAGES: Final = "t10k-images-idx3-ubyte.gz"
TEST_LABELS: Final = "t10k-labels-idx1-ubyte.gz"
_FILES: Final = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

#: SHA-256 of the canonical gzip files published by Zalando Research.
CANONICAL_SHA256: Final[dict[str, str]] = {
    TRAIN_IMAGES: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    TRAIN_LABELS: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    TEST_IMAGES: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    TEST_LABELS: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}

#: Mirrors of the canonical files, tried in this order.
MIRRORS: Final[tuple[str, ...]] = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)

#: Environment variable naming a folder that holds (or receives) the four files.
DATA_DIR_ENV: Final = "FASHIONKIT_DATA_DIR"
#: Environment variable that turns checksum verification of files on disk off (``0``) or on (``1``).
VERIFY_ENV: Final = "FASHIONKIT_VERIFY"

_IDX_UBYTE: Final = 0x08
_DOWNLOAD_LOCK: Final = ".fashionkit-download.lock"
_CHUNK: Final = 1 << 16
_TRUE_WORDS: Final = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS: Final = frozenset({"0", "false", "no", "off"})

Origin = Literal["argument", "environment", "keras_cache"]


def _read_only(array: object) -> NDArray[np.uint8]:
    """Return a read-only view, leaving the caller's own array writable."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


@attrs.frozen(kw_only=True, eq=False)
class Split:
    """One split of the dataset (train or test): images and their labels.

    The arrays are validated on construction (uint8 images ``(N, 28, 28)``, integer labels
    ``(N,)`` in ``0..9``, equal lengths) and exposed read-only; copy them
    (``split.images.copy()``) to modify.

    Attributes:
        images: ``(N, 28, 28)`` uint8 pixels, 0 (background) to 255.
        labels: ``(N,)`` uint8 class indices in ``0..9``.
    """

    images: ImagesU8 = attrs.field(
        converter=_read_only, validator=field_validator(CheckedBy("check_images, once built"))
    )
    labels: LabelsU8 = attrs.field(
        converter=_read_only, validator=field_validator(CheckedBy("check_labels, once built"))
    )

    def __attrs_post_init__(self) -> None:
        # Validate once here so every consumer of a Split can trust its arrays.
        images = check_images(self.images, name="Split.images")
        labels = check_labels(self.labels, name="Split.labels")
        check_same_length(images, labels, names="Split.images and Split.labels")
        object.__setattr__(self, "images", _read_only(images))
        object.__setattr__(self, "labels", _read_only(labels))

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def class_counts(self) -> tuple[int, ...]:
        """Number of images of each class, indexed by label.

        Example:
            >>> import numpy as np
            >>> split = Split(images=np.zeros((3, 28, 28), np.uint8),
            ...               labels=np.array([0, 2, 2], np.uint8))
            >>> split.class_counts
            (1, 0, 2, 0, 0, 0, 0, 0, 0, 0)
        """
        counts = np.bincount(self.labels, minlength=NUM_CLASSES)
        return tuple(int(c) for c in counts)


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class DataSource:
    """Where a :class:`FashionMNIST` came from and how it was checked.

    Attributes:
        directory: The folder the four files were read from.
        origin: How that folder was chosen: passed as ``data_dir`` (``"argument"``), named by
            :data:`DATA_DIR_ENV` (``"environment"``), or the Keras cache (``"keras_cache"``).
        verified: Whether every file's SHA-256 was checked against :data:`CANONICAL_SHA256`.
        downloaded: Names of the files that this load downloaded (empty when all were on disk).
    """

    directory: Path
    origin: Origin
    verified: bool
    downloaded: tuple[str, ...] = ()


@attrs.frozen(kw_only=True, eq=False, field_transformer=annotated_fields)
class FashionMNIST:
    """The Fashion-MNIST dataset: train and test splits plus class metadata.

    Returned by :func:`load_fashion_mnist`; build one yourself from arrays for experiments.

    Attributes:
        train: The 60,000 training images and labels.
        test: The 10,000 test images and labels.
        source: Where the files were read from and whether they were verified.
        class_names: English class names, indexed by label.
        class_names_ko: Korean class names, indexed by label.
    """

    train: Split
    test: Split
    source: DataSource
    class_names: tuple[str, ...] = CLASS_NAMES
    class_names_ko: tuple[str, ...] = CLASS_NAMES_KO

    @property
    def num_classes(self) -> int:
        """Number of classes (10)."""
        return len(self.class_names)


def keras_cache_dir() -> Path:
    """Return the folder where ``keras.datasets.fashion_mnist.load_data()`` caches the files.

    That is ``$KERAS_HOME/datasets/fashion-mnist`` when :envvar:`KERAS_HOME` is set, otherwise
    ``~/.keras/datasets/fashion-mnist``.
    """
    home = os.environ.get("KERAS_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".keras"
    return base / "datasets" / "fashion-mnist"


def _env_verify() -> bool:
    raw = os.environ.get(VERIFY_ENV)
    if raw is None or raw.strip() == "":
        return True
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ConfigError(
        f"{VERIFY_ENV} must be one of 1/true/yes/on or 0/false/no/off; got {shown(raw)}. "
        f"Unset it to verify checksums (the default)."
    )


def _resolve_directory(data_dir: PathLike | None) -> tuple[Path, Origin]:
    if data_dir is not None:
        return Path(data_dir).expanduser(), "argument"
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser(), "environment"
    return keras_cache_dir(), "keras_cache"


@params(timeout=Interval("number", gt=0))
def load_fashion_mnist(
    data_dir: PathLike | None = None,
    *,
    verify: bool | None = None,
    download: bool = True,
    mirrors: Sequence[str] = MIRRORS,
    timeout: float = 30.0,
) -> FashionMNIST:
    """Load Fashion-MNIST, downloading and verifying the files as needed.

    The folder is chosen in this order: ``data_dir`` when given; else the folder named by the
    :envvar:`FASHIONKIT_DATA_DIR` environment variable; else the Keras cache (see
    :func:`keras_cache_dir`), so files that ``keras.datasets.fashion_mnist.load_data()``
    already fetched are reused. Files missing from that folder are downloaded into it from
    ``mirrors``, tried in turn; every download is checked against the canonical SHA-256 and
    only then moved into place, so a wrong or truncated download never lands on disk.

    Files already on disk are verified too, unless ``verify=False``. Turn verification off only
    for copies you trust that are known to differ from the canonical bytes, such as a re-split
    made for offline use; the result's :attr:`DataSource.verified` then says ``False``.

    Args:
        data_dir: Folder holding, or to receive, the four ``.gz`` files.
        verify: Check files on disk against :data:`CANONICAL_SHA256`. ``None`` (the default)
            reads :envvar:`FASHIONKIT_VERIFY` (``0`` turns it off) and otherwise verifies.
            Downloads are always verified.
        download: Download missing files. With ``False`` a missing file raises
            :class:`~fashionkit.exceptions.DataNotFoundError`. Defaults to ``True``.
        mirrors: Base URLs to download from, tried in order (a list or tuple, never one
            string). Defaults to :data:`MIRRORS`.
        timeout: Seconds to wait for a mirror to answer, more than 0. Defaults to 30.

    Returns:
        The dataset, with read-only uint8 arrays.

    Raises:
        ChecksumError: A file's digest differs from the canonical one.
        DataFormatError: A file is not a valid IDX file of the expected shape.
        DataNotFoundError: A file is missing and ``download`` is ``False``.
        DownloadError: No mirror could deliver a missing file.
        StorageError: A file cannot be read, or a download cannot be written into the folder
            (permission denied, disk full); nothing half-written is left.
        ConfigError: :envvar:`FASHIONKIT_VERIFY` holds an unrecognised value.
        ArgumentError: An argument of the wrong type, such as one URL string as ``mirrors``,
            or a ``timeout`` that is not a number above 0.

    Example:
        >>> data = load_fashion_mnist(verify=False)  # doctest: +SKIP
        >>> data.train.images.shape, data.test.labels.shape  # doctest: +SKIP
        ((60000, 28, 28), (10000,))
    """
    directory, origin = _resolve_directory(data_dir)
    do_verify = _env_verify() if verify is None else verify
    missing = _missing_files(directory, origin, download=download)
    if missing:
        missing = _download_missing(directory, missing, mirrors=mirrors, timeout=timeout)
    arrays = {
        name: _read_verified(directory / name, verify=do_verify or name in missing)
        for name in _FILES
    }
    train = _make_split(arrays, TRAIN_IMAGES, TRAIN_LABELS)
    test = _make_split(arrays, TEST_IMAGES, TEST_LABELS)
    source = DataSource(
        directory=directory, origin=origin, verified=do_verify, downloaded=tuple(missing)
    )
    return FashionMNIST(train=train, test=test, source=source)


def _missing_files(directory: Path, origin: Origin, *, download: bool) -> list[str]:
    """The files ``directory`` lacks; an error if it is a file, or if they may not be fetched."""
    if directory.exists() and not directory.is_dir():
        raise DataNotFoundError(
            f"{directory} is a file, but the Fashion-MNIST data folder must be a folder holding "
            f"the four .gz files. Pass the folder that contains them"
            + (f" (it was chosen by {origin}: {DATA_DIR_ENV})." if origin == "environment" else ".")
        )
    missing = [name for name in _FILES if not (directory / name).is_file()]
    if missing and not download:
        raise DataNotFoundError(
            f"Fashion-MNIST files missing from {directory}: {', '.join(missing)}. "
            f"Pass download=True, or copy the files there (or point {DATA_DIR_ENV} at a folder "
            f"that has them)."
        )
    return missing


def _download_missing(
    directory: Path, missing: list[str], *, mirrors: Sequence[str], timeout: float
) -> list[str]:
    """Download the missing files into ``directory``; return those this process downloaded."""
    with os_errors_as(StorageError, directory, action="create the data folder"):
        directory.mkdir(parents=True, exist_ok=True)
    # Processes loading into one empty folder take turns: the later ones find the files.
    with (
        os_errors_as(StorageError, directory / _DOWNLOAD_LOCK, action="lock"),
        folder_lock(directory, _DOWNLOAD_LOCK),
    ):
        # Another process may have fetched some while this one waited for the lock.
        missing = [name for name in missing if not (directory / name).is_file()]
        for name in missing:
            download_file(
                name, directory, sha256=CANONICAL_SHA256[name], mirrors=mirrors, timeout=timeout
            )
    return missing


def _make_split(arrays: dict[str, NDArray[np.uint8]], images: str, labels: str) -> Split:
    x, y = arrays[images], arrays[labels]
    if x.shape[0] != y.shape[0]:
        raise DataFormatError(
            f"{images} holds {x.shape[0]} images but {labels} holds {y.shape[0]} labels; "
            f"the two files belong to different datasets. Replace them with a matching pair."
        )
    return Split(images=x, labels=y)


# A mirror's failures (HTTP error status, refused connection, timeout, TLS) are OSErrors too;
# they must reach download_file, which then tries the next mirror. Only errors of the folder
# (full, read-only, not a folder) are the folder's fault.
_NETWORK_ERRORS: Final = (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError)
_STORAGE_ERRNOS: Final = frozenset(
    {
        errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS,
        errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.EIO, errno.ENOENT,
    }
)  # fmt: skip


@contextmanager
def _writing(destination: Path) -> Iterator[None]:
    """File-system errors while saving a download are the folder's fault, not the mirror's."""
    try:
        yield
    except _NETWORK_ERRORS:
        raise
    except OSError as exc:
        if exc.errno not in _STORAGE_ERRNOS:
            raise
        raise converted(
            exc,
            StorageError,
            destination,
            action="save the download",
            hint="Nothing was left there.",
        ) from exc


def _read_verified(path: Path, *, verify: bool) -> NDArray[np.uint8]:
    with os_errors_as(StorageError, path, action="read"):
        raw = path.read_bytes()
    if verify:
        expected = CANONICAL_SHA256[path.name]
        actual = hashlib.sha256(raw).hexdigest()
        if actual != expected:
            raise ChecksumError(
                f"{path} does not have the canonical SHA-256 (expected {expected}, got {actual}). "
                f"Delete it so that it is downloaded again, or, if it is a copy you trust that is "
                f"known to differ (such as a re-split), load with verify=False."
            )
    kind: Literal["images", "labels"] = "images" if "images" in path.name else "labels"
    return parse_idx_gz(raw, name=str(path), kind=kind)


def parse_idx_gz(data: bytes, *, name: str, kind: Literal["images", "labels"]) -> NDArray[np.uint8]:
    """Decompress and parse one gzip-compressed IDX file of Fashion-MNIST.

    Args:
        data: The bytes of the ``.gz`` file.
        name: The file's name, for error messages.
        kind: ``"images"`` expects a 3-d ``(N, 28, 28)`` file, ``"labels"`` a 1-d ``(N,)``
            file with values in ``0..9``.

    Returns:
        A read-only uint8 array.

    Raises:
        DataFormatError: The bytes are not gzip, are truncated, have the wrong magic number or
            dimensions, or labels outside ``0..9``.
    """
    try:
        payload = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(
            f"{name} is not a complete gzip file ({exc}). It is probably a truncated or "
            f"interrupted download: delete it and load again."
        ) from exc
    expected_ndim = 3 if kind == "images" else 1
    if len(payload) < 4:
        raise DataFormatError(f"{name} is too short ({len(payload)} bytes) to be an IDX file.")
    zero, dtype_code, ndim = payload[:2], payload[2], payload[3]
    if zero != b"\x00\x00" or dtype_code != _IDX_UBYTE:
        raise DataFormatError(
            f"{name} does not start with an IDX unsigned-byte magic number "
            f"(expected 00 00 08 0{expected_ndim}, got {payload[:4].hex(' ')}). "
            f"It is not a Fashion-MNIST {kind} file."
        )
    if ndim != expected_ndim:
        raise DataFormatError(
            f"{name} has {ndim} dimensions; Fashion-MNIST {kind} files have {expected_ndim}. "
            f"Check that the images and labels files were not swapped."
        )
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DataFormatError(f"{name} ends inside its header: the file is truncated.")
    dims = struct.unpack(f">{ndim}I", payload[4:header])
    if kind == "images" and dims[1:] != IMAGE_SHAPE:
        raise DataFormatError(
            f"{name} holds images of {dims[1]}x{dims[2]} pixels; Fashion-MNIST images are 28x28."
        )
    expected_bytes = int(np.prod(dims, dtype=np.int64))
    found = len(payload) - header
    if found != expected_bytes:
        raise DataFormatError(
            f"{name} declares shape {tuple(dims)} ({expected_bytes} bytes of data) but holds "
            f"{found} bytes: the file is truncated or corrupt. Delete it and load again."
        )
    array = np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(dims)
    if kind == "labels" and array.size and int(array.max()) >= NUM_CLASSES:
        raise DataFormatError(
            f"{name} holds label {int(array.max())}; Fashion-MNIST labels are 0 to 9."
        )
    return array


def download_file(
    name: str,
    directory: Path,
    *,
    sha256: str,
    mirrors: Sequence[str] = MIRRORS,
    timeout: float = 30.0,
) -> Path:
    """Download ``name`` from the first mirror that delivers the expected bytes.

    The file is streamed into a hidden temporary file in ``directory``, hashed on the way,
    and renamed to ``directory / name`` only when its SHA-256 matches. On any failure,
    including :class:`KeyboardInterrupt`, the temporary file is removed, so ``directory``
    never holds a partial or wrong file under the real name.

    Args:
        name: File name, appended to each mirror's base URL.
        directory: Destination folder, created if needed.
        sha256: Expected hex digest of the file.
        mirrors: Base URLs (``http`` or ``https``) tried in order.
        timeout: Seconds to wait for each connection and read.

    Returns:
        The path of the verified file.

    Raises:
        ChecksumError: Every mirror that answered delivered bytes with another digest.
        DownloadError: A mirror could not be reached or failed, and none delivered the file.
        StorageError: The file cannot be written into ``directory`` (permission denied, disk
            full); nothing is left there.
    """
    if not mirrors:
        raise DownloadError(f"{name} is missing and no mirror was given to download it from.")
    with os_errors_as(StorageError, directory, action="create the data folder"):
        directory.mkdir(parents=True, exist_ok=True)
    destination = directory / name
    failures: list[str] = []
    mismatches = 0
    for mirror in mirrors:
        url = mirror if mirror.endswith("/") else mirror + "/"
        url = urllib.parse.urljoin(url, name)
        try:
            _fetch(url, destination, sha256=sha256, timeout=timeout)
        except ChecksumError as exc:
            mismatches += 1
            failures.append(f"{url}: {exc}")
        except StorageError:
            raise  # the folder, not the mirror, is at fault: another mirror would not help
        except (OSError, http.client.HTTPException, ValueError) as exc:
            failures.append(f"{url}: {brief(exc)}")
        else:
            return destination
    detail = "\n  ".join(failures)
    if mismatches == len(mirrors):
        raise ChecksumError(
            f"Every mirror delivered a {name} that does not match the canonical SHA-256; "
            f"nothing was saved.\n  {detail}"
        )
    raise DownloadError(
        f"Could not download {name} from any mirror; nothing was saved.\n  {detail}\n"
        f"Check the network connection, or put the four Fashion-MNIST files into a folder "
        f"yourself and pass it as data_dir (or set {DATA_DIR_ENV})."
    )


def _fetch(url: str, destination: Path, *, sha256: str, timeout: float) -> None:
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"only http and https mirrors are supported, not {shown(scheme)}")
    # staged() publishes the file only if this block ends normally and deletes it otherwise
    # (Ctrl-C included): a short or wrong download never appears under the real name.
    with _writing(destination), staged(destination, suffix=".part") as tmp:
        digest = hashlib.sha256()
        received = 0
        with _writing(destination):
            out = tmp.open("wb")
        with out, urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - scheme checked above
            announced = resp.headers.get("Content-Length")
            while chunk := resp.read(_CHUNK):
                with _writing(destination):
                    out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
            with _writing(destination):
                out.flush()
                os.fsync(out.fileno())
        # http.client ends a chunked read quietly when the server closes early; a short body is
        # a failed transfer, not wrong content, so report it as such.
        if announced is not None and announced.isdigit() and received != int(announced):
            raise DownloadError(
                f"connection closed after {received} of {announced} announced bytes"
            )
        actual = digest.hexdigest()
        if actual != sha256:
            raise ChecksumError(f"SHA-256 mismatch: expected {sha256}, got {actual}")
