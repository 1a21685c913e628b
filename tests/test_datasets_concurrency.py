"""Several processes loading into one empty data folder at once."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import balanced_labels, serving, synthetic_images, write_idx_gz

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
