"""Export staging: nothing partial written, leftovers of a killed export removed."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fashionkit.exceptions import ExportError
from fashionkit.export import (
    _formats,
    export_model,
    load_exported,
)
from tests.helpers import EXPORT_NAMES, export_options, small_mlp


def test_a_failed_export_writes_nothing_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It leaves no partial files and keeps the old export when a SavedModel or ONNX write fails."""
    model = small_mlp()
    for fmt in ("saved_model", "onnx"):
        out = tmp_path / EXPORT_NAMES[fmt]
        export_model(model, out, export_options(fmt))
        before = sorted(p.name for p in tmp_path.iterdir())

        def broken(serving: Any, tmp: Path, options: Any, representative: Any) -> None:
            (tmp / "partial" if tmp.is_dir() else tmp).write_bytes(b"half")
            raise ExportError("converter crashed half-way")

        monkeypatch.setattr(_formats, "write", broken)
        with pytest.raises(ExportError, match="half-way"):
            export_model(model, out, export_options(fmt))
        monkeypatch.undo()
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # no leftovers
        assert load_exported(out).predict(np.zeros((2, 28, 28), np.uint8)).shape == (2, 10)


# A process that stages its export and then blocks until it is killed.
_KILLED_EXPORT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import fashionkit
    from fashionkit.export import ExportOptions, _formats, export_model

    def stuck(serving, tmp, options, representative):
        (tmp / "partial" if tmp.is_dir() else tmp).write_bytes(b"half")
        print("staged", flush=True)
        sys.stdin.read()  # blocks until the test kills this process

    _formats.write = stuck
    model = fashionkit.create_model(fashionkit.MLPConfig(hidden_units=(16,)))
    export_model(model, Path(sys.argv[1]), ExportOptions(format=sys.argv[2]))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and POSIX file locks")
@pytest.mark.parametrize("fmt", ["saved_model", "tflite"])
def test_what_a_killed_export_left_is_removed_by_the_next_one(fmt: str, tmp_path: Path) -> None:
    """It removes what an export killed by SIGKILL mid-write left, and writes the export."""
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / EXPORT_NAMES[fmt]
    model = small_mlp()
    export_model(
        model, target, export_options(fmt)
    )  # an earlier export, which the killed one replaced
    with (tmp_path / "child.log").open("w") as log:
        child = subprocess.Popen(
            [sys.executable, "-c", _KILLED_EXPORT, str(target), fmt],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert child.stdout is not None
            ready, _, _ = select.select([child.stdout], [], [], 300)
            assert ready, "the child did not stage its export in time"
            assert child.stdout.readline().strip() == "staged", (tmp_path / "child.log").read_text()
            left = sorted(p.name for p in folder.iterdir() if p.name != target.name)
            assert any(name.startswith(f".{target.name}.") for name in left), left
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert len(list(folder.iterdir())) > 1  # the killed process could not clean up
    result = export_model(model, target, export_options(fmt))
    assert result.path == target.resolve()
    assert sorted(p.name for p in folder.iterdir()) == [target.name]
    assert load_exported(target).predict(np.zeros((2, 28, 28), np.uint8)).shape == (2, 10)


@pytest.mark.parametrize(
    ("fmt", "removed", "kept"),
    [
        (
            "tflite",
            [".m.tflite.abcd_123.tflite"],
            [
                ".m.tflite.abcd_123.tmp",  # another staging's suffix
                ".m.tflite.abc.tflite",  # not tempfile's eight characters
                ".n.tflite.abcd_123.tflite",  # another target's
                "m.tflite.abcd_123.tflite",  # not hidden
                ".m.tflite.abcd_123.tflite.bak",
                ".m.tflite.lock2",
            ],
        ),
        (
            "saved_model",
            [".saved.abcd_123.tmp/", ".saved.4242.1234567890.old/"],
            [
                ".saved.wxyz_123.tmp",  # a file where staging makes folders
                ".saved.x.1234567890.old/",
                ".saved.abcd_12.tmp/",
                ".saved_model.abcd_123.tmp/",
                "saved.abcd_123.tmp/",
            ],
        ),
    ],
)
def test_only_the_target_s_own_staged_names_are_removed(
    fmt: str, removed: list[str], kept: list[str], tmp_path: Path
) -> None:
    """It removes the names its staging makes for this target, and leaves anything else alone."""
    folder = tmp_path / "out"
    folder.mkdir()
    for name in [*removed, *kept]:
        if name.endswith("/"):
            (folder / name).mkdir()
            (folder / name / "variables.index").write_bytes(b"x")
        else:
            (folder / name).write_bytes(b"x")
    (tmp_path / "elsewhere.tflite").write_bytes(b"mine")
    link = f".{EXPORT_NAMES[fmt]}.abcd_999.{'tmp' if fmt == 'saved_model' else 'tflite'}"
    (folder / link).symlink_to(tmp_path / "elsewhere.tflite")  # a link: never ours
    export_model(small_mlp(), folder / EXPORT_NAMES[fmt], export_options(fmt))
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([EXPORT_NAMES[fmt], link, *(name.rstrip("/") for name in kept)])
    assert (tmp_path / "elsewhere.tflite").read_bytes() == b"mine"
