"""Fuzzing with Hypothesis: random input may only ever raise fashionkit's own errors.

One module for the fuzzers of several modules (the IDX parser, configs, array checks,
prediction), so that their shared settings live in one place. Example counts stay small enough
for CI; run with ``--hypothesis-seed`` or more examples locally to dig deeper.
"""

from __future__ import annotations

import contextlib
import gzip
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fashionkit
from fashionkit.datasets import parse_idx_gz
from fashionkit.exceptions import FashionkitError
from tests.helpers import idx_bytes

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_fashionkit_errors(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call; a fashionkit error is a valid answer, any other exception fails the test."""
    with contextlib.suppress(FashionkitError):
        call(*args, **kwargs)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["images", "labels"]))
def test_random_bytes_into_the_idx_parser(data: bytes, kind: str) -> None:
    """It rejects random bytes with DataFormatError, never another exception."""
    only_fashionkit_errors(parse_idx_gz, data, name="fuzz.gz", kind=kind)


@FUZZ
@given(
    st.sampled_from(["images", "labels"]),
    st.integers(0, 255),
    st.lists(st.integers(0, 2**32 - 1), max_size=4),
    st.binary(max_size=200),
)
def test_random_headers_into_the_idx_parser(
    kind: str, ndim: int, dims: list[int], payload: bytes
) -> None:
    """It rejects any IDX header that does not match its data, huge dimensions included."""
    header = bytes([0, 0, 8, ndim]) + b"".join(struct.pack(">I", d) for d in dims)
    only_fashionkit_errors(parse_idx_gz, gzip.compress(header + payload), name="f", kind=kind)


@FUZZ
@given(st.data())
def test_mutated_valid_files_into_the_idx_parser(data: st.DataObject) -> None:
    """It parses or rejects a valid file with random bytes flipped, cut or appended."""
    raw = bytearray(
        gzip.compress(idx_bytes(np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28) % 251))
    )
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(raw) - 1))
        raw[where] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    tail = data.draw(st.binary(max_size=20))
    only_fashionkit_errors(parse_idx_gz, bytes(raw[:cut]) + tail, name="f", kind="images")


_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
_VALUES = st.recursive(
    _LEAVES,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=6,
)
_KEYS = st.sampled_from(
    [
        "data", "model", "loss", "optimizer", "device", "epochs", "batch_size", "seed",
        "verbose", "time_budget_seconds", "deterministic", "steps_per_execution",
    ]
) | st.text(max_size=4) | st.integers()  # fmt: skip
_SECTION_KEYS = st.sampled_from(
    [
        "architecture", "dropout", "filters", "hidden_units", "kernel_size", "name",
        "learning_rate", "encoding", "label_smoothing", "accelerator", "gpus", "layout",
        "stratify", "validation_fraction", "precision", "strategy", "virtual_cpus",
        "jit_compile",
    ]
)  # fmt: skip


@FUZZ
@given(st.dictionaries(_KEYS, _VALUES | st.dictionaries(_SECTION_KEYS, _VALUES), max_size=5))
def test_random_mappings_into_train_config(data: dict[Any, Any]) -> None:
    """It builds a valid TrainConfig or raises ConfigError, for any mapping."""
    try:
        config = fashionkit.TrainConfig.from_dict(data)
    except fashionkit.ConfigError:
        return
    assert fashionkit.TrainConfig.from_dict(config.to_dict()) == config


@FUZZ
@given(st.text(max_size=200))
def test_random_text_as_a_toml_config(text: str) -> None:
    """It reads any text as a config or raises ConfigError."""
    from fashionkit import _schema

    with contextlib.suppress(fashionkit.ConfigError):
        fashionkit.TrainConfig.from_dict(_schema.parse_toml(text, source="fuzz.toml"))


_ARRAYS = hnp.arrays(
    dtype=hnp.scalar_dtypes() | st.just(np.dtype(np.uint8)),
    shape=st.sampled_from(
        [
            (),
            (3,),
            (2, 2),
            (28, 28),
            (2, 28, 28),
            (2, 784),
            (1, 28, 28, 1),
            (0, 28, 28),
            (2, 10),
            (3, 5, 7),
        ]
    ),
)


@FUZZ
@given(_ARRAYS)
def test_random_arrays_into_the_array_functions(array: np.ndarray) -> None:
    """It validates arrays of any dtype, shape and value (NaN, inf, huge) without crashing."""
    for call, kwargs in [
        (fashionkit.check_images, {}),
        (fashionkit.check_images, {"allow_float": True}),
        (fashionkit.prepare_images, {}),
        (fashionkit.prepare_images, {"layout": "image"}),
        (fashionkit.scale, {}),
        (fashionkit.check_labels, {}),
        (fashionkit.encode_labels, {}),
        (fashionkit.encode_labels, {"encoding": "one_hot"}),
        (fashionkit.check_targets, {"encoding": "sparse"}),
        (fashionkit.check_targets, {"encoding": "one_hot"}),
    ]:
        only_fashionkit_errors(call, array, **kwargs)
    only_fashionkit_errors(fashionkit.train_validation_split, array, array)
    only_fashionkit_errors(
        fashionkit.evaluation.report_from_probabilities, array, np.zeros(2, np.uint8), split="f"
    )


@pytest.fixture(scope="module")
def tiny_model() -> Any:
    """A compiled one-layer model (no training needed to exercise input checks)."""
    return fashionkit.create_training_model(fashionkit.TrainConfig())


def test_random_arrays_into_predict_and_evaluate(tiny_model: Any) -> None:
    """It predicts or rejects random arrays and labels, raising only fashionkit's errors."""

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_ARRAYS, _ARRAYS)
    def check(images: np.ndarray, labels: np.ndarray) -> None:
        only_fashionkit_errors(fashionkit.predict, tiny_model, images)
        only_fashionkit_errors(fashionkit.evaluate, tiny_model, images, labels)

    check()
