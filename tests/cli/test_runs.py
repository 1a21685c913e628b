"""The commands that read a run or a model: ``evaluate``, ``predict``, ``explain``, ``report``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit.cli import main
from fashionkit.runs import load_model
from tests.helpers import (
    DROPOUT_MLP,
    TinyRunFactory,
    copy_run,
    run_cli,
    synthetic_images,
)


@pytest.fixture(scope="module")
def run_dir(synthetic_data_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory trained by `fashionkit train --run-dir` on the synthetic files."""
    path = tmp_path_factory.mktemp("cli") / "run"
    assert (
        main(["train", *synthetic_data_args, "--epochs", "2", "--quiet", "--run-dir", str(path)])
        == 0
    )
    return path


def test_evaluate_accepts_a_run_directory(
    run_dir: Path, synthetic_data_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It evaluates the model of a run directory and prints the text table."""
    assert main(["evaluate", str(run_dir), *synthetic_data_args]) == 0
    out = capsys.readouterr().out
    assert out.startswith("test: accuracy")
    assert "20 images" in out


def test_evaluate_and_predict_follow_the_runs_tta_unless_told(
    synthetic_data_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It evaluates as the run did (tta from its config); --tta and --no-tta override that."""
    run = tmp_path / "tta-run"
    argv = ["train", *synthetic_data_args, "--epochs", "1", "--quiet", "--set", "tta=true"]
    assert main([*argv, "--run-dir", str(run)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), *synthetic_data_args, "--json"]) == 0
    as_run = json.loads(capsys.readouterr().out)
    assert as_run["tta"] is True
    assert as_run == json.loads((run / "test.json").read_text(encoding="utf-8"))
    assert main(["evaluate", str(run), *synthetic_data_args, "--json", "--no-tta"]) == 0
    assert json.loads(capsys.readouterr().out)["tta"] is False
    model_file = str(run / "model.keras")
    assert main(["evaluate", model_file, *synthetic_data_args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tta"] is False
    assert main(["evaluate", model_file, *synthetic_data_args, "--json", "--tta"]) == 0
    assert json.loads(capsys.readouterr().out) == as_run
    npy = tmp_path / "one.npy"
    np.save(npy, synthetic_images(1, seed=3))
    assert main(["predict", str(run), str(npy), "--json", "--top", "10"]) == 0
    rows = json.loads(capsys.readouterr().out)[0]["predictions"]
    probabilities = {p["class"]: p["probability"] for p in rows}
    expected = fashionkit.predict(load_model(run / "model.keras"), np.load(npy), tta=True)
    for i, name in enumerate(fashionkit.CLASS_NAMES):
        assert probabilities[name] == pytest.approx(float(expected.probabilities[0, i]), abs=1e-6)


def test_evaluate_missing_model_file_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It reports a missing model file instead of a Keras traceback."""
    assert main(["evaluate", str(tmp_path / "nope.keras")]) == 1
    assert "No model file" in capsys.readouterr().err


def _png(path: Path, array: np.ndarray) -> Path:
    import tensorflow as tf

    path.write_bytes(tf.io.encode_png(array).numpy())
    return path


def test_predict_classifies_png_and_npy_files(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It prints the top classes with probabilities for PNG files and .npy batches."""
    images = synthetic_images(4, seed=5)
    png = _png(tmp_path / "one.png", images[3][..., np.newaxis])
    npy = tmp_path / "batch.npy"
    np.save(npy, images[:2])
    assert main(["predict", str(run_dir), str(png), str(npy), "--json", "--top", "2"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in rows] == [str(png), f"{npy}[0]", f"{npy}[1]"]
    expected = fashionkit.predict(load_model(run_dir / "model.keras"), images[[3, 0, 1]])
    for row, name, probs in zip(rows, expected.names, expected.probabilities, strict=True):
        assert len(row["predictions"]) == 2
        top = row["predictions"][0]
        assert top["class"] == name
        assert top["class_ko"] == fashionkit.CLASS_NAMES_KO[fashionkit.CLASS_NAMES.index(name)]
        assert top["probability"] == pytest.approx(float(probs.max()), abs=1e-6)
        assert top["probability"] >= row["predictions"][1]["probability"]


def _saved(path: Path, array: np.ndarray) -> Path:
    np.save(path, array)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _png(p / "big.png", np.zeros((32, 32, 1), np.uint8)), "28x28"),
        (lambda p: _png(p / "rgb.png", np.zeros((28, 28, 3), np.uint8)), "grayscale"),
        (lambda p: (p / "x.jpg").write_bytes(b"x") and p / "x.jpg", "only .png and .npy"),
        (
            lambda p: (np.save(p / "w.npy", np.zeros((28, 27), np.uint8)), p / "w.npy")[1],
            "(28, 27)",
        ),
        (lambda p: p / "missing.png", "does not exist"),
        (lambda p: _saved(p / "empty.npy", np.zeros((0, 28, 28), np.uint8)), "at least one"),
    ],
    ids=["too-big", "colour", "jpeg", "wrong-shape", "missing", "empty-npy"],
)
def test_predict_rejects_images_it_cannot_use(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    """It refuses wrong sizes, colour images and unknown files with a clear message."""
    path = make(tmp_path)
    assert main(["predict", str(run_dir), str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fashionkit predict: error:")
    assert message in err


def test_report_writes_five_pictures_into_the_run(
    run_dir: Path,
    synthetic_data_args: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It writes the five PNG pictures of a run and names each."""
    pytest.importorskip("matplotlib")
    import shutil

    copy = Path(shutil.copytree(run_dir, tmp_path / "run"))
    assert main(["report", str(copy), *synthetic_data_args]) == 0
    out = capsys.readouterr().out.splitlines()
    names = [
        "learning_curves.png",
        "confusion_matrix.png",
        "confident_mistakes.png",
        "mistakes_explained.png",
        "reliability.png",
    ]
    assert out == [f"wrote {copy / name}" for name in names]
    for name in names:
        assert (copy / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _gray_png(path: Path, *, depth: int = 8) -> Path:
    """A 28x28 grayscale PNG of black pixels with ``depth`` bits per pixel, written by hand."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", 28, 28, depth, 0, 0, 0, 0)
    pixels = zlib.compress(bytes(1 + 28 * depth // 8) * 28)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def _damaged_png(path: Path) -> Path:
    """An 8-bit grayscale PNG header followed by bytes that are not PNG chunks."""
    path.write_bytes(_gray_png(path).read_bytes()[:33] + b"junk")
    return path


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda p: _gray_png(p, depth=16),
            "is a 16-bit grayscale PNG (1 channel, colour type 0); fashionkit reads",
        ),
        (_damaged_png, "is not a readable PNG image (its header is valid but its image data"),
    ],
    ids=["16-bit", "damaged"],
)
def test_predict_names_an_image_file_it_cannot_use(
    make: object, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It exits with status 1 and one line naming the PNG file and what is accepted."""
    image = make(tmp_path / "photo.png")  # type: ignore[operator]
    status, err = run_cli(["predict", str(tmp_path), str(image)], capsys)
    assert status == 1
    assert err.startswith(f"fashionkit predict: error: {image} {words}")
    assert len(err.strip().splitlines()) == 1
    assert "function_node" not in err


# --- every command that reads a run, on the same damaged run directories ---------------------


def _missing(run: Path) -> None:
    shutil.rmtree(run)


def _locked(run: Path) -> None:
    from fashionkit._io import DirectoryLock

    lock = DirectoryLock(run)
    lock.acquire()  # released when the test's copy is deleted; another descriptor sees it held
    _HELD_LOCKS.append(lock)


def _unfinished(run: Path) -> None:
    (run / "summary.json").unlink()


def _bad_config(run: Path) -> None:
    (run / "config.toml").write_text("epochs = 'many'\n", encoding="utf-8")


def _truncated_model(run: Path) -> None:
    model = run / "model.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])


def _missing_best(run: Path) -> None:
    (run / "best.keras").unlink()


_HELD_LOCKS: list[Any] = []
DAMAGES: dict[str, Callable[[Path], None]] = {
    "missing": _missing,
    "locked": _locked,
    "unfinished": _unfinished,
    "bad config": _bad_config,
    "truncated model": _truncated_model,
    "missing best": _missing_best,
}
#: Every command that takes a run directory, with the arguments it needs besides the run.
COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "evaluate": lambda run, image: ["evaluate", str(run)],
    "predict": lambda run, image: ["predict", str(run), str(image)],
    "explain": lambda run, image: ["explain", str(run), str(image), "--out", f"{image}.png"],
    "report": lambda run, image: ["report", str(run)],
    "export": lambda run, image: ["export", str(run), "--format", "tflite"],
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_every_command_gives_the_same_one_line_error_for_a_damaged_run(
    damage: str,
    tiny_run: TinyRunFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It refuses the same damaged run in evaluate, predict, explain, report and export alike."""
    from fashionkit.cli import main

    finished = tiny_run(DROPOUT_MLP).path
    assert finished is not None
    run = copy_run(finished, tmp_path)
    image = tmp_path / "one.npy"
    np.save(image, np.zeros((28, 28), np.uint8))
    DAMAGES[damage](run)
    errors = {}
    try:
        for command, argv in COMMANDS.items():
            assert main(argv(run, image)) == 1, command
            err = capsys.readouterr().err
            assert len(err.strip().splitlines()) == 1, err
            prefix = f"fashionkit {command}: error: "
            assert err.startswith(prefix), err
            errors[command] = err.removeprefix(prefix)
    finally:
        while _HELD_LOCKS:
            _HELD_LOCKS.pop().release()
    assert len(set(errors.values())) == 1, errors
    assert str(run) in next(iter(errors.values()))
