"""Pictures of a run: learning curves, confusion matrix, most confident mistakes, the report."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fashionkit
from fashionkit import _drawing
from fashionkit.exceptions import ArgumentError, FashionkitError, InputValidationError, RunDirError
from fashionkit.plots import (
    plot_confident_mistakes,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_reliability_diagram,
    save_figure,
    write_report,
)
from tests.helpers import SMALL, Faults, TinyRunFactory, copy_run, sample_result

pytest.importorskip("matplotlib")


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


def test_learning_curves_leave_out_a_validation_that_never_ran() -> None:
    """A run stopped before its first validated epoch has no validation line, nor legend entry."""
    import math

    import attrs

    history = [
        attrs.evolve(r, val_loss=math.nan, val_accuracy=math.nan) for r in sample_result().history
    ]
    fig = plot_learning_curves(history)
    for ax in fig.axes:
        (training,) = ax.get_lines()
        assert training.get_label() == "training"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training"]
    late = [history[0], sample_result().history[1]]  # validated after the last epoch only
    for ax in plot_learning_curves(late).axes:
        assert [line.get_label() for line in ax.get_lines()] == ["training", "validation"]


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
    top = np.array([0.9, 0.6, 0.99, 0.7, 0.8])
    probabilities = np.repeat(((1 - top) / 9)[:, np.newaxis], 10, axis=1)  # rows sum to 1
    probabilities[[0, 1, 2, 3, 4], [0, 5, 6, 7, 4]] = top
    images = np.zeros((5, 28, 28), np.uint8)
    fig = plot_confident_mistakes(images, labels, probabilities, fashionkit.CLASS_NAMES, count=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == [
        "true: Pullover\npredicted: Shirt\np = 0.990",
        "true: Dress\npredicted: Sneaker\np = 0.700",
    ]
    assert fig._suptitle.get_text() == "2 most confident mistakes of 3"


@pytest.mark.parametrize(
    ("probabilities", "words"),
    [
        (np.full((2, 10), 0.5), "row 0 sums to 5"),
        (np.full((2, 10), -0.1), "must lie in [0, 1]"),
        (np.full((2, 10), np.nan), "must be finite"),
        (np.full((2, 3), 1 / 3), "shape (2, 10)"),
    ],
    ids=["sum", "negative", "nan", "columns"],
)
def test_confident_mistakes_refuse_probabilities_that_are_not_distributions(
    probabilities: np.ndarray, words: str
) -> None:
    """It refuses rows that are not probability distributions before drawing anything."""
    images = np.zeros((2, 28, 28), np.uint8)
    with pytest.raises(InputValidationError) as info:
        plot_confident_mistakes(images, np.array([0, 1]), probabilities, fashionkit.CLASS_NAMES)
    assert words in str(info.value)


def test_confident_mistakes_refuse_images_and_labels_of_other_lengths() -> None:
    """It raises InputValidationError for two images with three labels, and a count below 1."""
    probabilities = np.full((3, 10), 0.1)
    with pytest.raises(InputValidationError, match="images and labels"):
        plot_confident_mistakes(
            np.zeros((2, 28, 28), np.uint8), [0, 1, 2], probabilities, fashionkit.CLASS_NAMES
        )
    with pytest.raises(ArgumentError, match=r"^count must be an integer >= 1; got 0"):
        plot_confident_mistakes(
            np.zeros((3, 28, 28), np.uint8), [0, 1, 2], probabilities, fashionkit.CLASS_NAMES,
            count=0,
        )  # fmt: skip


def test_explanations_need_one_title_and_one_label_per_image() -> None:
    """It refuses titles or labels that do not match the images in number, before drawing."""
    from fashionkit.explain import Explanation
    from fashionkit.plots import plot_explanations

    shown = Explanation(
        method="saliency",
        maps=np.zeros((2, 28, 28), np.float32),
        classes=np.zeros(2, np.int64),
        probabilities=np.full((2, 10), 0.1, np.float32),
    )
    images = np.zeros((2, 28, 28), np.uint8)
    names = fashionkit.CLASS_NAMES
    with pytest.raises(InputValidationError, match="2 images but 1 titles"):
        plot_explanations(images, shown, names, titles=["only one"])
    with pytest.raises(InputValidationError, match="images and labels"):
        plot_explanations(images, shown, names, labels=[0, 1, 2])
    with pytest.raises(ArgumentError, match=r"^columns must be an integer >= 1; got 0"):
        plot_explanations(images, shown, names, columns=0)
    figure = plot_explanations(images, shown, names, titles=["a", "b"], labels=[0, 1])
    assert len([ax for ax in figure.axes if ax.images]) == 4


def test_save_figure_refuses_what_is_not_a_figure(tmp_path: Path) -> None:
    """It raises ArgumentError for something that is not a figure, and writes nothing."""
    with pytest.raises(ArgumentError, match=r"^fig must be a matplotlib figure"):
        save_figure(b"png", tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []


def _figure() -> Any:
    """A small figure with one line."""
    import matplotlib.figure

    figure = matplotlib.figure.Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [1, 0])
    return figure


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("a.png", b"\x89PNG\r\n\x1a\n"),
        ("a.jpg", b"\xff\xd8\xff"),
        ("a.JPEG", b"\xff\xd8\xff"),
        ("a.pdf", b"%PDF-"),
        ("a.svg", b"<?xml"),
    ],
)
def test_pictures_are_written_in_the_format_their_suffix_names(
    name: str, starts: bytes, tmp_path: Path
) -> None:
    """The bytes written are the format the suffix names, not PNG under another name."""
    written = save_figure(_figure(), tmp_path / name)
    assert written == (tmp_path / name).resolve()
    assert written.read_bytes().startswith(starts)


@pytest.mark.parametrize("name", ["a.gif", "a.webp", "a", "a.png.txt"])
def test_a_suffix_that_names_no_picture_format_is_refused_before_drawing(
    name: str, tmp_path: Path
) -> None:
    """It raises InputValidationError listing the formats, and writes nothing."""
    with pytest.raises(InputValidationError, match=r"\.png.*\.jpg.*\.svg.*\.pdf"):
        save_figure(_figure(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_the_path_reported_is_the_resolved_one(tmp_path: Path) -> None:
    """A picture written through a symbolic link to a folder is reported in that folder."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    written = save_figure(_figure(), tmp_path / "link" / "c.png")
    assert written == real.resolve() / "c.png"
    assert written.is_file()


@pytest.fixture
def finished_run(tiny_run: TinyRunFactory, tmp_path: Path) -> Path:
    """A copy of a finished tiny run (the report writes into the run directory)."""
    return copy_run(tiny_run(SMALL).path, tmp_path)


def test_write_report_writes_five_pictures(
    finished_run: Path, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It writes curves, confusion matrix, mistakes (plain and explained), reliability as PNG."""
    paths = write_report(finished_run, dataset=tiny_dataset)
    assert paths == [
        finished_run / "learning_curves.png",
        finished_run / "confusion_matrix.png",
        finished_run / "confident_mistakes.png",
        finished_run / "mistakes_explained.png",
        finished_run / "reliability.png",
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


def _legend(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_reliability_diagram_shows_the_model_and_the_temperature() -> None:
    """Bars at each filled bin's accuracy, the ECE of each curve in the legend."""
    from fashionkit.calibration import apply_temperature, expected_calibration_error

    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.3, 0.7], [0.85, 0.15]])
    labels = np.array([0, 1, 1, 0])
    fig = plot_reliability_diagram(probs, labels, temperature=2.0, bins=10)
    diagram, counts = fig.axes
    before = expected_calibration_error(probs, labels, bins=10)
    after = expected_calibration_error(apply_temperature(probs, 2.0), labels, bins=10)
    assert _legend(diagram) == [
        "calibrated",
        f"model: ECE {before:.4f}",
        f"T = 2: ECE {after:.4f}",
    ]
    # The model's bars come first: bin (0.6, 0.7] holds the 0.7 (right), bin (0.8, 0.9] the
    # 0.9 (wrong) and the 0.85 (right), bin (0.9, 1] the 0.95 (right).
    model_bars = [(round(p.get_x(), 2), p.get_height()) for p in diagram.patches[:3]]
    assert model_bars == [(0.6, 1.0), (0.8, 0.5), (0.9, 1.0)]
    assert len(counts.patches) == 20  # ten bins per curve


def test_the_reliability_diagram_without_temperature_has_one_curve() -> None:
    """It draws only the model's curve (ECE 0.6) beside the calibrated line without temperature."""
    fig = plot_reliability_diagram(np.array([[0.6, 0.4], [0.2, 0.8]]), [0, 0], bins=5)
    assert _legend(fig.axes[0]) == ["calibrated", "model: ECE 0.6000"]  # gaps 0.4 and 0.8


def test_figures_display_inline_as_png_at_half_their_pixels() -> None:
    """Jupyter calls _repr_png_ on a returned figure: a 2x PNG shown at the figure's size."""
    fig = plot_reliability_diagram(np.array([[0.6, 0.4]]), [0], bins=5)
    png, shown = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = _drawing.png_size(png)
    inches = fig.get_size_inches()
    assert (width, height) == (round(inches[0] * 200), round(inches[1] * 200))
    assert shown == {"width": width // 2, "height": height // 2}


def test_saved_pictures_are_drawn_for_hidpi_screens(tmp_path: Path) -> None:
    """save_figure writes 200 pixels per inch: twice the figure's own 100 dpi."""
    fig = plot_reliability_diagram(np.array([[0.6, 0.4]]), [0], bins=5)
    path = save_figure(fig, tmp_path / "sub" / "reliability.png")
    inches = fig.get_size_inches()
    assert _drawing.png_size(path.read_bytes()) == (round(inches[0] * 200), round(inches[1] * 200))
    assert fig.dpi == 100  # the figure itself is unchanged: its text sizes stay as designed


@pytest.mark.parametrize(
    "draw",
    [
        lambda: plot_reliability_diagram(np.array([[0.6, 0.4]]), [0], temperature=2.0),
        lambda: plot_learning_curves([]),
    ],
    ids=["reliability", "learning-curves"],
)
def test_figures_fit_a_page_column_without_shrinking_their_text_past_reading(draw: Any) -> None:
    """At most 9 inches wide, so a 736-pixel column shows them at 80% or more of their size."""
    assert draw().get_size_inches()[0] <= 9


def test_a_fault_while_writing_pictures_leaves_no_partial_png(
    tiny_run: TinyRunFactory,
    tiny_dataset: fashionkit.FashionMNIST,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It raises StorageError from write_report and leaves no half-written picture."""
    pytest.importorskip("matplotlib")
    from fashionkit.plots import write_report

    run_dir = copy_run(tiny_run(SMALL).path, tmp_path)
    faults = Faults(2, errno.ENOSPC)
    faults.install(monkeypatch)
    with pytest.raises(fashionkit.StorageError, match="the disk is full"):
        write_report(run_dir, dataset=tiny_dataset)
    assert not [p.name for p in run_dir.glob(".*png*")]
    assert (run_dir / "learning_curves.png").is_file()  # the first picture was complete
    assert not (run_dir / "confusion_matrix.png").exists()


def test_long_titles_keep_their_end_and_the_layout(tmp_path: Path) -> None:
    """A long file path as a title is cut to its end; the picture is drawn without collapsing."""
    import warnings

    from fashionkit.explain import Explanation
    from fashionkit.plots import plot_explanations

    images = np.zeros((3, 28, 28), np.uint8)
    shown = Explanation(
        method="saliency",
        layer=None,
        maps=np.zeros((3, 28, 28), np.float32),
        classes=np.zeros(3, np.int64),
        probabilities=np.full((3, 10), 0.1, np.float32),
    )
    titles = [f"/{'very-long-folder/' * 12}image-{i}.npy" for i in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a collapsed constrained layout warns
        figure = plot_explanations(images, shown, fashionkit.CLASS_NAMES, titles=titles)
        save_figure(figure, tmp_path / "e.png")
    left = [ax.get_title(loc="left") for ax in figure.axes if ax.get_title(loc="left")]
    drawn = [title.splitlines()[0] for title in left]
    assert drawn == [f"\u2026{t[-29:]}" for t in titles]
    assert all(d.endswith(f"image-{i}.npy") for i, d in enumerate(drawn))
