"""Pictures of a run: learning curves, confusion matrix, most confident mistakes, the report."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import fashionkit
from conftest import sample_result
from fashionkit.exceptions import FashionkitError, RunDirError

pytest.importorskip("matplotlib")

from fashionkit.plots import (
    plot_confident_mistakes,
    plot_confusion_matrix,
    plot_learning_curves,
    write_report,
)


def test_learning_curves_plot_training_and_validation_per_epoch() -> None:
    """It draws loss and accuracy, training and validation, against the epoch numbers."""
    history = sample_result().history
    fig = plot_learning_curves(history)
    loss_ax, accuracy_ax = fig.axes
    for ax, metric in ((loss_ax, "loss"), (accuracy_ax, "accuracy")):
        training, validation = ax.get_lines()
        assert list(training.get_xdata()) == [1, 2]
        assert list(training.get_ydata()) == [getattr(r, metric) for r in history]
        assert list(validation.get_ydata()) == [getattr(r, f"val_{metric}") for r in history]
        assert ax.get_title() == f"{metric} per epoch"


def test_confusion_matrix_plot_shows_the_counts_and_class_names() -> None:
    """It draws the report's matrix with class names on both axes and every count written."""
    report = sample_result().test
    fig = plot_confusion_matrix(report)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), report.confusion_matrix)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(report.class_names)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(report.class_names)
    assert len(ax.texts) == 100
    assert f"accuracy {report.accuracy:.4f}" in ax.get_title()


def test_confident_mistakes_are_the_wrong_predictions_with_the_highest_probability() -> None:
    """It shows the misclassified images in order of confidence, at most ``count`` of them."""
    labels = np.array([0, 1, 2, 3, 4])
    probabilities = np.full((5, 10), 0.0)
    probabilities[[0, 1, 2, 3, 4], [0, 5, 6, 7, 4]] = [0.9, 0.6, 0.99, 0.7, 0.8]
    images = np.zeros((5, 28, 28), np.uint8)
    fig = plot_confident_mistakes(images, labels, probabilities, fashionkit.CLASS_NAMES, count=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == [
        "true: Pullover\npredicted: Shirt\np = 0.990",
        "true: Dress\npredicted: Sneaker\np = 0.700",
    ]
    assert fig._suptitle.get_text() == "2 most confident mistakes of 3"


@pytest.fixture(scope="module")
def finished_run(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A completed two-epoch run directory on the tiny dataset."""
    run_dir = tmp_path_factory.mktemp("plots") / "run"
    config = fashionkit.TrainConfig(epochs=2, batch_size=16, verbose=0)
    fashionkit.train(config, dataset=tiny_dataset, run_dir=run_dir)
    return run_dir


def test_write_report_writes_three_pictures(
    finished_run: Path, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It writes learning curves, the confusion matrix and the confident mistakes as PNG."""
    paths = write_report(finished_run, dataset=tiny_dataset)
    assert paths == [
        finished_run / "learning_curves.png",
        finished_run / "confusion_matrix.png",
        finished_run / "confident_mistakes.png",
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 5000
    assert not list(finished_run.glob(".*.tmp")), "written atomically"


def test_write_report_of_a_folder_that_is_not_a_run_fails(tmp_path: Path) -> None:
    """It raises RunDirError before drawing anything."""
    with pytest.raises(RunDirError, match="not a run directory"):
        write_report(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_plots_without_matplotlib_ask_for_the_plot_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """It raises FashionkitError naming the plot extra when matplotlib cannot be imported."""
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(FashionkitError, match=r"pip install 'fashionkit\[plot\]'"):
        plot_learning_curves(sample_result().history)
