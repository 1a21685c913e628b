"""Explanations: saliency, SmoothGrad and Grad-CAM maps, their sanity checks, the picture and CLI.

The models train for a few seconds on the tiny synthetic dataset, whose classes are a bright
horizontal band at rows ``2c`` to ``2c + 2``: a trained model must look at the band.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import fashionkit
from fashionkit.exceptions import ArgumentError, InputValidationError
from fashionkit.explain import METHODS, Explanation, explain, feature_layers, grad_cam, saliency


def _trained(dataset: fashionkit.FashionMNIST, model: dict[str, Any]) -> Any:
    """``model`` trained for 6 epochs on the bands (Adam, batches of 16)."""
    config = fashionkit.TrainConfig(
        epochs=6,
        batch_size=16,
        verbose=0,
        model=model,
        optimizer={"name": "adam", "learning_rate": 0.003},
    )
    return fashionkit.train(config, dataset=dataset)


@pytest.fixture(scope="module")
def cnn(tiny_dataset: fashionkit.FashionMNIST) -> Any:
    """A small trained CNN (about 0.9 test accuracy on the bands)."""
    cnn = {"architecture": "cnn", "filters": [8, 16], "dense_units": 32, "dropout": 0.0}
    result = _trained(tiny_dataset, cnn)
    assert result.test.accuracy > 0.7
    return result.model


@pytest.fixture(scope="module")
def mlp(tiny_dataset: fashionkit.FashionMNIST) -> Any:
    """A small trained MLP."""
    return _trained(tiny_dataset, {"architecture": "mlp", "hidden_units": [32]}).model


def _images(tiny_dataset: fashionkit.FashionMNIST, n: int = 20) -> np.ndarray:
    return np.asarray(tiny_dataset.test.images[:n])


def _band_share(maps: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image: the map's mean on its class's band rows over its mean elsewhere."""
    shares = []
    for heat, label in zip(maps, labels, strict=True):
        rows = np.zeros(28, bool)
        rows[2 * int(label) : 2 * int(label) + 3] = True
        shares.append(heat[rows].mean() / max(heat[~rows].mean(), 1e-9))
    return np.asarray(shares)


@pytest.mark.parametrize("method", ["saliency", "smoothgrad", "grad_cam"])
def test_maps_have_one_28x28_map_per_image_in_0_1(
    cnn: Any, tiny_dataset: fashionkit.FashionMNIST, method: str
) -> None:
    """Each method returns float32 maps of the images' shape, each scaled to a peak of 1."""
    images = _images(tiny_dataset, 6)
    shown = explain(cnn, images, method=method)  # type: ignore[arg-type]
    assert isinstance(shown, Explanation)
    assert shown.method == method
    assert shown.maps.shape == (6, 28, 28)
    assert shown.maps.dtype == np.float32
    assert shown.maps.min() >= 0.0
    peaks = shown.maps.reshape(6, -1).max(axis=1)
    # Each map peaks at 1; a Grad-CAM map is all zero where no feature map speaks for the class.
    assert all(abs(p - 1) < 1e-6 or (p == 0 and method == "grad_cam") for p in peaks)
    assert np.count_nonzero(peaks) >= 3
    assert shown.probabilities.shape == (6, 10)
    assert shown.classes.tolist() == shown.predicted.tolist()  # the predicted class by default
    assert shown.score == "logit"  # fashionkit models end in a Dense softmax


def test_auto_chooses_grad_cam_for_convolutions_and_saliency_for_dense_models(
    cnn: Any, mlp: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """The CNN is explained with Grad-CAM on its last convolution, the MLP with saliency."""
    images = _images(tiny_dataset, 4)
    assert explain(cnn, images).method == "grad_cam"
    assert explain(cnn, images).layer == feature_layers(cnn)[-1]
    assert explain(mlp, images).method == "saliency"
    assert feature_layers(mlp) == ()


def test_a_trained_model_looks_at_the_band_that_marks_the_class(
    cnn: Any, mlp: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """Grad-CAM and SmoothGrad put more weight on the class's band than on the rest."""
    images, labels = _images(tiny_dataset), np.asarray(tiny_dataset.test.labels[:20])
    cam = grad_cam(cnn, images, classes=labels)
    assert np.median(_band_share(cam.maps, labels)) > 1.5
    smooth = saliency(mlp, images, classes=labels, smooth=10)
    assert np.median(_band_share(smooth.maps, labels)) > 1.2


def test_the_same_call_gives_the_same_maps(cnn: Any, tiny_dataset: fashionkit.FashionMNIST) -> None:
    """Maps are deterministic; SmoothGrad's noise follows its seed."""
    images = _images(tiny_dataset, 5)
    np.testing.assert_array_equal(grad_cam(cnn, images).maps, grad_cam(cnn, images).maps)
    np.testing.assert_array_equal(saliency(cnn, images).maps, saliency(cnn, images).maps)
    first = saliency(cnn, images, smooth=4, seed=1).maps
    np.testing.assert_array_equal(first, saliency(cnn, images, smooth=4, seed=1).maps)
    assert not np.array_equal(first, saliency(cnn, images, smooth=4, seed=2).maps)


def test_maps_depend_on_the_weights(cnn: Any, tiny_dataset: fashionkit.FashionMNIST) -> None:
    """The model randomisation check: re-initialised weights give clearly different maps."""
    images = _images(tiny_dataset, 10)
    keras.utils.set_random_seed(3)
    random = keras.models.clone_model(cnn)  # same architecture, fresh weights
    for method in ("grad_cam", "saliency"):
        trained = explain(cnn, images, method=method).maps  # type: ignore[arg-type]
        fresh = explain(random, images, method=method).maps  # type: ignore[arg-type]
        correlations = [
            np.corrcoef(a.ravel(), b.ravel())[0, 1]
            for a, b in zip(trained, fresh, strict=True)
            if a.std() > 0 and b.std() > 0
        ]
        assert np.mean(correlations) < 0.8, method


def test_another_class_gives_another_map(cnn: Any, tiny_dataset: fashionkit.FashionMNIST) -> None:
    """Asking for a class other than the predicted one explains that class instead."""
    images = _images(tiny_dataset, 4)
    own = grad_cam(cnn, images)
    other = grad_cam(cnn, images, classes=(own.predicted + 5) % 10)
    assert other.classes.tolist() == ((own.predicted + 5) % 10).tolist()
    assert not np.allclose(own.maps, other.maps)
    assert grad_cam(cnn, images, classes=3).classes.tolist() == [3, 3, 3, 3]


def test_bad_arguments_are_refused_with_what_is_allowed(
    cnn: Any, mlp: Any, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """Dense models for Grad-CAM, unknown layers, classes, methods and non-models are named."""
    images = _images(tiny_dataset, 3)
    with pytest.raises(InputValidationError, match="use saliency"):
        grad_cam(mlp, images)
    with pytest.raises(InputValidationError, match="choose one of"):
        grad_cam(cnn, images, layer="dense")
    with pytest.raises(InputValidationError, match=r"classes must lie in 0\.\.9"):
        saliency(cnn, images, classes=[0, 1, 10])
    with pytest.raises(InputValidationError, match="one class index per image"):
        saliency(cnn, images, classes=[0, 1])
    with pytest.raises(ArgumentError, match="method must be one of"):
        explain(cnn, images, method="lime")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="smooth"):
        saliency(cnn, images, smooth=-1)
    with pytest.raises(ArgumentError, match=r"^model must be a Keras model \(keras\.Model\)"):
        explain(object(), images)
    with pytest.raises(ArgumentError, match=r"^model must be a Keras model"):
        feature_layers("cnn")
    with pytest.raises(ArgumentError, match=r"^batch_size must be an integer >= 1; got 0"):
        grad_cam(cnn, images, batch_size=0)
    with pytest.raises(ArgumentError, match=r"^noise must be a number > 0 and <= 1; got 2"):
        saliency(cnn, images, smooth=2, noise=2)
    with pytest.raises(ArgumentError, match=r"^images must be uint8 images .*; got None"):
        explain(cnn, None)
    with pytest.raises(ArgumentError, match=r"^layer must be a str or None; got 3"):
        grad_cam(cnn, images, layer=3)  # type: ignore[arg-type]
    with pytest.raises(InputValidationError):
        explain(cnn, np.zeros((2, 27, 27), np.uint8))
    assert set(METHODS) == {"auto", "saliency", "smoothgrad", "grad_cam"}


def test_an_explanation_checks_its_fields() -> None:
    """It raises ArgumentError for an unknown method or score, or maps that are not an array."""
    maps = np.zeros((1, 28, 28), np.float32)
    fields: dict[str, Any] = {
        "method": "saliency",
        "maps": maps,
        "classes": np.zeros(1, np.int64),
        "probabilities": np.full((1, 10), 0.1, np.float32),
    }
    assert Explanation(**fields).names() == ("T-shirt/top",)
    with pytest.raises(ArgumentError, match=r"^Explanation\.method must be one of 'saliency'"):
        Explanation(**{**fields, "method": "lime"})
    with pytest.raises(ArgumentError, match=r"^Explanation\.score must be one of 'logit'"):
        Explanation(**{**fields, "score": "prob"})
    with pytest.raises(ArgumentError, match=r"^Explanation\.maps must be a NumPy array"):
        Explanation(**{**fields, "maps": maps.tolist()})
    with pytest.raises(ArgumentError, match=r"^class_names must be a list or tuple"):
        Explanation(**fields).names("T-shirt")


def test_the_picture_and_the_command_line(
    cnn: Any,
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """plot_explanations draws two panels per image; fashionkit explain writes the PNG."""
    pytest.importorskip("matplotlib")
    from fashionkit.cli import main
    from fashionkit.plots import plot_explanations

    images = _images(tiny_dataset, 3)
    shown = explain(cnn, images)
    figure = plot_explanations(images, shown, fashionkit.CLASS_NAMES, labels=[0, 1, 2])
    assert len([ax for ax in figure.axes if ax.images]) == 6
    with pytest.raises(InputValidationError, match="3 maps"):
        plot_explanations(images[:2], shown, fashionkit.CLASS_NAMES)

    model_path = tmp_path / "model.keras"
    cnn.save(model_path)
    npy = tmp_path / "three.npy"
    np.save(npy, images)
    assert main(["explain", str(model_path), str(npy), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["method"] == "grad_cam"
    assert len(printed["images"]) == 3
    [picture] = [Path(p) for p in printed["pictures"]]
    assert picture == (tmp_path / "explanations.png").resolve()
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_many_images_are_drawn_sixteen_to_a_picture_with_progress(
    mlp: Any,
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """17 images give two pictures, NAME_1 and NAME_2, listed in order; progress is on stderr."""
    pytest.importorskip("matplotlib")
    from fashionkit.cli import main

    model_path = tmp_path / "model.keras"
    mlp.save(model_path)
    npy = tmp_path / "many.npy"
    np.save(npy, _images(tiny_dataset, 17))
    out = tmp_path / "pages" / "why.png"
    out.parent.mkdir()
    assert main(["explain", str(model_path), str(npy), "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert printed["pictures"] == [str((out.parent / f"why_{k}.png").resolve()) for k in (1, 2)]
    assert len(printed["images"]) == 17
    assert sorted(p.name for p in out.parent.iterdir()) == ["why_1.png", "why_2.png"]
    assert "explained 16 of 17 images" in captured.err
    assert "explained 17 of 17 images" in captured.err


def test_no_images_are_refused_by_the_function_and_the_command(
    mlp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty batch is an InputValidationError, and the command exits 1 writing nothing."""
    from fashionkit.cli import main

    empty = np.zeros((0, 28, 28), np.uint8)
    with pytest.raises(InputValidationError, match="at least one 28x28 image"):
        explain(mlp, empty)
    model_path = tmp_path / "model.keras"
    mlp.save(model_path)
    npy = tmp_path / "empty.npy"
    np.save(npy, empty)
    assert main(["explain", str(model_path), str(npy)]) == 1
    assert "at least one 28x28 image" in capsys.readouterr().err
    assert not (tmp_path / "explanations.png").exists()
