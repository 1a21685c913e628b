"""Locating, verifying and parsing the Fashion-MNIST files; the Split container."""

from __future__ import annotations

import gzip
import hashlib
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import fashionkit
from conftest import balanced_labels, idx_bytes, synthetic_images, write_idx_gz
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
    keras_cache_dir,
    load_fashion_mnist,
)
from fashionkit.exceptions import (
    ChecksumError,
    ConfigError,
    DataFormatError,
    DataNotFoundError,
    InputValidationError,
    LabelEncodingError,
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
