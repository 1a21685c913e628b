"""fashionkit.datasets: locating, verifying, parsing and downloading the files; the Split container.

Downloads run against a real HTTP server on 127.0.0.1 (mirrors, checksums, cleanup), and several
processes load into one empty data folder at once.
"""

from __future__ import annotations

import collections
import errno
import gzip
import hashlib
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import fashionkit
from fashionkit import datasets
from fashionkit.datasets import (
    CANONICAL_SHA256,
    DATA_DIR_ENV,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    VERIFY_ENV,
    Split,
    download_file,
    keras_cache_dir,
    load_fashion_mnist,
)
from fashionkit.exceptions import (
    ChecksumError,
    ConfigError,
    DataFormatError,
    DataNotFoundError,
    DownloadError,
    InputValidationError,
    LabelEncodingError,
)
from tests.helpers import (
    Faults,
    balanced_labels,
    idx_bytes,
    serving,
    synthetic_images,
    write_idx_gz,
)

ALL_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)


def _write_synthetic(directory: Path, *, n_train: int, n_test: int) -> Path:
    """Write four valid synthetic files of the given sizes into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    write_idx_gz(directory / TRAIN_IMAGES, synthetic_images(n_train, seed=3))
    write_idx_gz(directory / TRAIN_LABELS, balanced_labels(n_train))
    write_idx_gz(directory / TEST_IMAGES, synthetic_images(n_test, seed=4))
    write_idx_gz(directory / TEST_LABELS, balanced_labels(n_test))
    return directory


# --- loading synthetic files ------------------------------------------------------------------


def test_load_returns_read_only_uint8_arrays_of_the_right_shape(synthetic_dir: Path) -> None:
    """It loads the four files into read-only uint8 arrays with the shapes on disk."""
    data = load_fashion_mnist(synthetic_dir, verify=False, download=False)

    assert data.train.images.shape == (50, 28, 28)
    assert data.train.labels.shape == (50,)
    assert data.test.images.shape == (20, 28, 28)
    assert data.test.labels.shape == (20,)
    for array in (data.train.images, data.train.labels, data.test.images, data.test.labels):
        assert array.dtype == np.uint8
        assert not array.flags.writeable
    np.testing.assert_array_equal(data.train.images, synthetic_images(50))
    np.testing.assert_array_equal(data.test.images, synthetic_images(20, seed=1))
    np.testing.assert_array_equal(data.train.labels, balanced_labels(50))
    assert len(data.train) == 50
    assert len(data.test) == 20
    assert data.num_classes == 10


@pytest.mark.parametrize("attribute", ["images", "labels"])
def test_loaded_arrays_reject_writes(synthetic_dir: Path, attribute: str) -> None:
    """It raises ValueError when code tries to write into a loaded array."""
    data = load_fashion_mnist(synthetic_dir, verify=False, download=False)
    array = getattr(data.train, attribute)

    with pytest.raises(ValueError, match="read-only"):
        array[0] = 1


def test_load_reports_class_counts(synthetic_dir: Path) -> None:
    """It counts the images of each class in both splits."""
    data = load_fashion_mnist(synthetic_dir, verify=False, download=False)

    assert data.train.class_counts == (5,) * 10
    assert data.test.class_counts == (2,) * 10


def test_load_describes_its_source(synthetic_dir: Path) -> None:
    """It records the folder, that it came from the argument, unverified, nothing downloaded."""
    data = load_fashion_mnist(synthetic_dir, verify=False, download=False)

    assert data.source.directory == synthetic_dir
    assert data.source.origin == "argument"
    assert data.source.verified is False
    assert data.source.downloaded == ()


def test_load_accepts_a_string_path(synthetic_dir: Path) -> None:
    """It accepts the folder as a str as well as a Path."""
    data = load_fashion_mnist(str(synthetic_dir), verify=False, download=False)

    assert data.source.directory == synthetic_dir
    assert data.train.images.shape == (50, 28, 28)


def test_load_expands_a_tilde_in_data_dir(
    synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It expands ~ in data_dir to the home folder."""
    monkeypatch.setenv("HOME", str(synthetic_dir.parent))

    data = load_fashion_mnist(f"~/{synthetic_dir.name}", verify=False, download=False)

    assert data.source.directory == synthetic_dir
    assert len(data.train) == 50


# --- folder resolution ------------------------------------------------------------------------


def test_explicit_data_dir_beats_the_environment_variable(
    synthetic_dir: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It reads from data_dir even when FASHIONKIT_DATA_DIR names another complete folder."""
    other = _write_synthetic(tmp_path_factory.mktemp("env"), n_train=30, n_test=10)
    monkeypatch.setenv(DATA_DIR_ENV, str(other))

    data = load_fashion_mnist(synthetic_dir, verify=False, download=False)

    assert data.source.directory == synthetic_dir
    assert data.source.origin == "argument"
    assert len(data.train) == 50


def test_environment_variable_beats_the_keras_cache(
    clean_env: None, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It reads from FASHIONKIT_DATA_DIR even when the Keras cache holds the files too."""
    _write_synthetic(keras_cache_dir(), n_train=30, n_test=10)
    env_dir = _write_synthetic(tmp_path_factory.mktemp("env"), n_train=40, n_test=20)
    monkeypatch.setenv(DATA_DIR_ENV, str(env_dir))

    data = load_fashion_mnist(verify=False, download=False)

    assert data.source.directory == env_dir
    assert data.source.origin == "environment"
    assert len(data.train) == 40


def test_keras_cache_is_used_when_nothing_else_is_set(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It falls back to $KERAS_HOME/datasets/fashion-mnist when neither folder is given."""
    keras_home = tmp_path / "my-keras"
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    cache = _write_synthetic(keras_home / "datasets" / "fashion-mnist", n_train=30, n_test=10)

    data = load_fashion_mnist(verify=False, download=False)

    assert data.source.directory == cache
    assert data.source.origin == "keras_cache"
    assert len(data.train) == 30
    assert len(data.test) == 10


def test_empty_environment_variable_is_ignored(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It treats an empty FASHIONKIT_DATA_DIR as unset and uses the Keras cache."""
    _write_synthetic(keras_cache_dir(), n_train=30, n_test=10)
    monkeypatch.setenv(DATA_DIR_ENV, "")

    data = load_fashion_mnist(verify=False, download=False)

    assert data.source.origin == "keras_cache"


def test_keras_cache_dir_honours_keras_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It puts the cache under $KERAS_HOME when that variable is set."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))

    assert keras_cache_dir() == tmp_path / "kh" / "datasets" / "fashion-mnist"


def test_keras_cache_dir_defaults_to_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It puts the cache under ~/.keras when KERAS_HOME is not set."""
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    assert keras_cache_dir() == tmp_path / ".keras" / "datasets" / "fashion-mnist"


# --- verification -----------------------------------------------------------------------------


def test_verification_is_on_by_default(clean_env: None, synthetic_dir: Path) -> None:
    """It raises ChecksumError naming the file and both digests for non-canonical files."""
    path = synthetic_dir / TRAIN_IMAGES
    actual = hashlib.sha256(path.read_bytes()).hexdigest()

    with pytest.raises(ChecksumError) as excinfo:
        load_fashion_mnist(synthetic_dir, download=False)

    message = str(excinfo.value)
    assert str(path) in message
    assert CANONICAL_SHA256[TRAIN_IMAGES] in message
    assert actual in message
    assert isinstance(excinfo.value, OSError)


def test_explicit_verify_true_overrides_the_environment(
    clean_env: None, synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It verifies when verify=True even though FASHIONKIT_VERIFY=0."""
    monkeypatch.setenv(VERIFY_ENV, "0")

    with pytest.raises(ChecksumError, match=TRAIN_IMAGES):
        load_fashion_mnist(synthetic_dir, verify=True, download=False)


@pytest.mark.parametrize("value", ["0", "false", "No", " off "])
def test_verify_environment_variable_turns_verification_off(
    clean_env: None, synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """It skips verification when FASHIONKIT_VERIFY holds a false word."""
    monkeypatch.setenv(VERIFY_ENV, value)

    data = load_fashion_mnist(synthetic_dir, download=False)

    assert data.source.verified is False
    assert len(data.train) == 50


@pytest.mark.parametrize("value", ["1", "yes", "TRUE", ""])
def test_verify_environment_variable_can_keep_verification_on(
    clean_env: None, synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """It verifies when FASHIONKIT_VERIFY holds a true word or is empty."""
    monkeypatch.setenv(VERIFY_ENV, value)

    with pytest.raises(ChecksumError):
        load_fashion_mnist(synthetic_dir, download=False)


def test_unknown_verify_value_raises_config_error(
    clean_env: None, synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It raises ConfigError quoting the value when FASHIONKIT_VERIFY is not a yes/no word."""
    monkeypatch.setenv(VERIFY_ENV, "maybe")

    with pytest.raises(ConfigError, match="FASHIONKIT_VERIFY") as excinfo:
        load_fashion_mnist(synthetic_dir, download=False)

    assert "'maybe'" in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


# --- missing files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing", [(TEST_LABELS,), (TRAIN_IMAGES, TEST_IMAGES), ALL_FILES], ids=["one", "two", "all"]
)
def test_missing_files_without_download_raise_data_not_found(
    synthetic_dir: Path, missing: tuple[str, ...]
) -> None:
    """It raises DataNotFoundError naming exactly the missing files when download=False."""
    for name in missing:
        (synthetic_dir / name).unlink()

    with pytest.raises(DataNotFoundError) as excinfo:
        load_fashion_mnist(synthetic_dir, verify=False, download=False)

    message = str(excinfo.value)
    for name in ALL_FILES:
        assert (name in message) == (name in missing)
    assert isinstance(excinfo.value, FileNotFoundError)


def test_missing_folder_without_download_raises_data_not_found(tmp_path: Path) -> None:
    """It raises DataNotFoundError naming the folder when it does not exist."""
    folder = tmp_path / "nowhere"

    with pytest.raises(DataNotFoundError, match=str(folder)):
        load_fashion_mnist(folder, verify=False, download=False)

    assert not folder.exists()


# --- parse errors -----------------------------------------------------------------------------


def _gz(payload: bytes) -> bytes:
    return gzip.compress(payload)


def _not_gzip(directory: Path) -> str:
    rng = np.random.default_rng(11)
    (directory / TRAIN_IMAGES).write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    return TRAIN_IMAGES


def _truncated_gzip(directory: Path) -> str:
    raw = (directory / TRAIN_IMAGES).read_bytes()
    (directory / TRAIN_IMAGES).write_bytes(raw[: len(raw) // 2])
    return TRAIN_IMAGES


def _wrong_magic(directory: Path) -> str:
    payload = bytearray(idx_bytes(synthetic_images(50)))
    payload[2] = 0x0D  # IDX float32 instead of unsigned byte
    (directory / TRAIN_IMAGES).write_bytes(_gz(bytes(payload)))
    return TRAIN_IMAGES


def _images_are_labels(directory: Path) -> str:
    write_idx_gz(directory / TRAIN_IMAGES, balanced_labels(50))
    return TRAIN_IMAGES


def _labels_are_images(directory: Path) -> str:
    write_idx_gz(directory / TRAIN_LABELS, synthetic_images(50))
    return TRAIN_LABELS


def _images_32x32(directory: Path) -> str:
    images = np.zeros((20, 32, 32), dtype=np.uint8)
    write_idx_gz(directory / TEST_IMAGES, images)
    return TEST_IMAGES


def _truncated_payload(directory: Path) -> str:
    payload = idx_bytes(synthetic_images(50))
    (directory / TRAIN_IMAGES).write_bytes(_gz(payload[: -5 * 28 * 28]))
    return TRAIN_IMAGES


def _extra_payload(directory: Path) -> str:
    payload = idx_bytes(balanced_labels(20))
    (directory / TEST_LABELS).write_bytes(_gz(payload + b"\x00\x01"))
    return TEST_LABELS


def _header_cut(directory: Path) -> str:
    payload = idx_bytes(balanced_labels(20))
    (directory / TEST_LABELS).write_bytes(_gz(payload[:6]))
    return TEST_LABELS


def _too_short(directory: Path) -> str:
    (directory / TEST_LABELS).write_bytes(_gz(b"\x00\x00"))
    return TEST_LABELS


def _label_ten(directory: Path) -> str:
    labels = balanced_labels(50)
    labels[17] = 10
    write_idx_gz(directory / TRAIN_LABELS, labels)
    return TRAIN_LABELS


def _count_mismatch(directory: Path) -> str:
    write_idx_gz(directory / TRAIN_LABELS, balanced_labels(40))
    return TRAIN_LABELS


CORRUPTIONS: dict[str, Callable[[Path], str]] = {
    "not-gzip": _not_gzip,
    "truncated-gzip": _truncated_gzip,
    "wrong-magic": _wrong_magic,
    "images-ndim-1": _images_are_labels,
    "labels-ndim-3": _labels_are_images,
    "images-32x32": _images_32x32,
    "count-larger-than-data": _truncated_payload,
    "data-longer-than-declared": _extra_payload,
    "header-cut": _header_cut,
    "too-short": _too_short,
    "label-10": _label_ten,
    "image-label-count-mismatch": _count_mismatch,
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_invalid_files_raise_data_format_error_naming_the_file(
    synthetic_dir: Path, corrupt: Callable[[Path], str]
) -> None:
    """It raises DataFormatError, an OSError, naming the bad file."""
    bad_name = corrupt(synthetic_dir)

    with pytest.raises(DataFormatError) as excinfo:
        load_fashion_mnist(synthetic_dir, verify=False, download=False)

    assert isinstance(excinfo.value, OSError)
    assert bad_name in str(excinfo.value)


@pytest.mark.parametrize(
    ("corrupt", "fragment"),
    [
        (_wrong_magic, "00 00 0d 03"),
        (_images_are_labels, "1 dimensions"),
        (_labels_are_images, "3 dimensions"),
        (_images_32x32, "32x32"),
        (_truncated_payload, "holds 35280 bytes"),
        (_label_ten, "label 10"),
        (_count_mismatch, "holds 40 labels"),
    ],
    ids=["magic", "ndim-1", "ndim-3", "32x32", "short-data", "label-10", "count-mismatch"],
)
def test_data_format_error_explains_what_is_wrong(
    synthetic_dir: Path, corrupt: Callable[[Path], str], fragment: str
) -> None:
    """It says in the DataFormatError message what was found in the file."""
    corrupt(synthetic_dir)

    with pytest.raises(DataFormatError, match=fragment):
        load_fashion_mnist(synthetic_dir, verify=False, download=False)


def test_count_mismatch_names_both_files(synthetic_dir: Path) -> None:
    """It names the images file and the labels file when their counts differ."""
    _count_mismatch(synthetic_dir)

    with pytest.raises(DataFormatError) as excinfo:
        load_fashion_mnist(synthetic_dir, verify=False, download=False)

    assert TRAIN_IMAGES in str(excinfo.value)
    assert TRAIN_LABELS in str(excinfo.value)


def test_parse_idx_gz_reads_a_valid_labels_file() -> None:
    """It parses a gzip IDX labels file into a read-only uint8 (N,) array."""
    labels = balanced_labels(30)

    array = datasets.parse_idx_gz(_gz(idx_bytes(labels)), name="x.gz", kind="labels")

    np.testing.assert_array_equal(array, labels)
    assert array.dtype == np.uint8
    assert not array.flags.writeable


def test_parse_idx_gz_reads_an_empty_file() -> None:
    """It parses an IDX file that declares zero items into an empty array."""
    payload = bytes([0, 0, 8, 3]) + struct.pack(">3I", 0, 28, 28)

    array = datasets.parse_idx_gz(_gz(payload), name="empty.gz", kind="images")

    assert array.shape == (0, 28, 28)


# --- the real data ----------------------------------------------------------------------------


@pytest.mark.integration
def test_real_data_has_fashion_mnist_shapes(real_data: fashionkit.FashionMNIST) -> None:
    """It loads 60,000 train and 10,000 test uint8 images of 28x28 with matching labels."""
    assert real_data.train.images.shape == (60000, 28, 28)
    assert real_data.train.labels.shape == (60000,)
    assert real_data.test.images.shape == (10000, 28, 28)
    assert real_data.test.labels.shape == (10000,)
    for array in (
        real_data.train.images,
        real_data.train.labels,
        real_data.test.images,
        real_data.test.labels,
    ):
        assert array.dtype == np.uint8
        assert not array.flags.writeable


@pytest.mark.integration
def test_real_data_is_balanced(real_data: fashionkit.FashionMNIST) -> None:
    """It finds exactly 6,000 train and 1,000 test images per class."""
    assert real_data.train.class_counts == (6000,) * 10
    assert real_data.test.class_counts == (1000,) * 10


@pytest.mark.integration
def test_real_images_look_like_fashion_mnist(real_data: fashionkit.FashionMNIST) -> None:
    """It yields pixels spanning 0..255 with a mostly dark background, as Fashion-MNIST."""
    images = real_data.test.images
    assert int(images.min()) == 0
    assert int(images.max()) == 255
    assert 60 < float(images.mean()) < 80  # Fashion-MNIST's mean pixel is about 72.9


@pytest.mark.integration
def test_shared_images_fail_verification(shared_data_dir: Path) -> None:
    """It raises ChecksumError for the re-split images file when loading with verification."""
    with pytest.raises(ChecksumError) as excinfo:
        load_fashion_mnist(shared_data_dir, verify=True, download=False)

    message = str(excinfo.value)
    assert str(shared_data_dir / TRAIN_IMAGES) in message
    assert CANONICAL_SHA256[TRAIN_IMAGES] in message


@pytest.mark.integration
@pytest.mark.parametrize("name", [TRAIN_IMAGES, TEST_IMAGES])
def test_each_shared_images_file_is_not_canonical(shared_data_dir: Path, name: str) -> None:
    """It rejects each re-split images file on its own with a ChecksumError naming it."""
    with pytest.raises(ChecksumError, match=name):
        datasets._read_verified(shared_data_dir / name, verify=True)


@pytest.mark.integration
@pytest.mark.parametrize(("name", "count"), [(TRAIN_LABELS, 60000), (TEST_LABELS, 10000)])
def test_shared_label_files_verify(shared_data_dir: Path, name: str, count: int) -> None:
    """It accepts the canonical label files with verification on."""
    labels = datasets._read_verified(shared_data_dir / name, verify=True)

    assert labels.shape == (count,)
    assert labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [count // 10] * 10


# --- Split ------------------------------------------------------------------------------------


def test_split_rejects_one_hot_labels() -> None:
    """It raises LabelEncodingError for one-hot (N, 10) labels."""
    one_hot = np.eye(10, dtype=np.uint8)[balanced_labels(10)]

    with pytest.raises(LabelEncodingError, match="one-hot"):
        Split(images=synthetic_images(10), labels=one_hot)


def test_split_rejects_mismatched_lengths() -> None:
    """It raises InputValidationError when images and labels differ in length."""
    with pytest.raises(InputValidationError, match="same length"):
        Split(images=synthetic_images(10), labels=balanced_labels(9))


@pytest.mark.parametrize(
    "labels",
    [np.array([0, 1, 10]), np.array([0, -1, 2]), np.array([0.0, 1.0, 2.0])],
    ids=["too-large", "negative", "float"],
)
def test_split_rejects_invalid_labels(labels: np.ndarray) -> None:
    """It raises InputValidationError for labels out of range or not integers."""
    with pytest.raises(InputValidationError):
        Split(images=synthetic_images(3), labels=labels)


def test_split_rejects_non_uint8_images() -> None:
    """It raises InputValidationError for float images."""
    with pytest.raises(InputValidationError, match="uint8"):
        Split(images=np.zeros((3, 28, 28), np.float32), labels=balanced_labels(3))


def test_split_leaves_the_callers_arrays_writable() -> None:
    """It exposes read-only arrays without making the caller's own arrays read-only."""
    images = synthetic_images(4)
    labels = balanced_labels(4)

    split = Split(images=images, labels=labels)

    assert images.flags.writeable
    assert labels.flags.writeable
    images[0, 0, 0] = 7
    labels[0] = 3
    assert not split.images.flags.writeable
    assert not split.labels.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        split.images[0, 0, 0] = 1


def test_split_converts_integer_labels_to_uint8() -> None:
    """It stores int64 labels as uint8 and counts them."""
    split = Split(images=synthetic_images(3), labels=np.array([0, 2, 2], dtype=np.int64))

    assert split.labels.dtype == np.uint8
    assert split.class_counts == (1, 0, 2, 0, 0, 0, 0, 0, 0, 0)


# --- declared parameters ----------------------------------------------------------------------


def test_one_mirror_given_as_a_string_is_refused_before_any_download(tmp_path: Path) -> None:
    """It raises ArgumentError naming mirrors, instead of trying each letter of the URL."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^mirrors must be a list or tuple") as info:
        load_fashion_mnist(tmp_path / "empty", mirrors="https://example.invalid/")
    assert "got 'https://example.invalid/'" in str(info.value)
    assert not (tmp_path / "empty").exists()  # refused before the folder was touched


@pytest.mark.parametrize("timeout", [0, -1.0, float("inf"), "30", None])
def test_a_timeout_that_is_not_a_positive_number_is_refused(
    tmp_path: Path, timeout: object
) -> None:
    """It raises ArgumentError naming timeout for 0, a negative, infinite, str or None value."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^timeout must be a number > 0"):
        load_fashion_mnist(tmp_path, timeout=timeout)  # type: ignore[arg-type]


def test_a_data_source_refuses_an_unknown_origin() -> None:
    """It raises ArgumentError naming DataSource.origin and the origins it knows."""
    with pytest.raises(fashionkit.ArgumentError, match=r"^DataSource\.origin must be one of"):
        fashionkit.DataSource(directory=Path(), origin="web", verified=True)  # type: ignore[arg-type]


@pytest.fixture
def one_file_server() -> Iterator[tuple[str, bytes]]:
    """A local HTTP server answering every GET with the same bytes."""
    body = b"fashion" * 1000
    with serving(lambda name: body) as (url, _):
        yield url, body


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_a_download_that_cannot_be_saved_leaves_nothing(
    one_file_server: tuple[str, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    """It raises StorageError (not a mirror failure) and leaves no file; a retry succeeds."""
    from fashionkit.datasets import download_file

    url, body = one_file_server
    digest = hashlib.sha256(body).hexdigest()
    faults = Faults(1, code)
    with monkeypatch.context() as patch:
        faults.install(patch)
        with pytest.raises(fashionkit.StorageError, match="Cannot save the download") as caught:
            download_file("f.gz", tmp_path, sha256=digest, mirrors=[url, url])
    assert caught.value.errno == code
    assert faults.writes == ["publish " + f"{tmp_path.name}/f.gz"]  # the second mirror unused
    assert list(tmp_path.iterdir()) == []
    assert download_file("f.gz", tmp_path, sha256=digest, mirrors=[url]).read_bytes() == body


_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], collections.Counter[str]]]:
    """A local mirror of four small synthetic files, counting the requests for each."""
    source = tmp_path / "mirror"
    source.mkdir()
    write_idx_gz(source / _NAMES[0], synthetic_images(60))
    write_idx_gz(source / _NAMES[1], balanced_labels(60))
    write_idx_gz(source / _NAMES[2], synthetic_images(20, seed=1))
    write_idx_gz(source / _NAMES[3], balanced_labels(20))
    digests = {n: hashlib.sha256((source / n).read_bytes()).hexdigest() for n in _NAMES}
    with serving(lambda name: (source / name).read_bytes()) as (url, hits):
        yield url, digests, hits


_LOAD = textwrap.dedent(
    """
    import json, sys
    import fashionkit.datasets as ds
    url, folder, digests = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    ds.CANONICAL_SHA256.update(digests)  # the mirror serves synthetic files
    data = ds.load_fashion_mnist(folder, mirrors=[url])
    print(len(data.train), len(data.test), data.source.verified)
    """
)


def test_parallel_loads_into_an_empty_folder_download_each_file_once(
    mirror: tuple[str, dict[str, str], collections.Counter[str]], tmp_path: Path
) -> None:
    """It lets three processes load at once: all succeed, one copy of each file, no lock file."""
    url, digests, hits = mirror
    folder = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASHIONKIT_")}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _LOAD, url, str(folder), json.dumps(digests)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert out.split() == ["60", "20", "True"]
    assert dict(hits) == dict.fromkeys(_NAMES, 1)
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(_NAMES)  # no temporary file, and the download lock file is removed
    for name in _NAMES:
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digests[name]


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
