"""Pictures of a run: learning curves, the confusion matrix, the most confident mistakes.

Also the picture of a learning-rate sweep (:func:`plot_learning_rate_sweep`).

Needs the optional ``plot`` extra (``pip install "fashionkit[plot]"``, which brings matplotlib).
Figures are drawn with matplotlib's non-interactive Agg canvas, so no display is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit import _drawing
from fashionkit._io import atomic_write_bytes, check_parents, os_errors_as
from fashionkit._typing import PathLike
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.evaluation import EvaluationReport, predict
from fashionkit.exceptions import FashionkitError, StorageError
from fashionkit.lr_finder import LearningRateSweep
from fashionkit.results import EpochRecord
from fashionkit.runs import load_run

__all__ = [
    "check_plot_path",
    "plot_confident_mistakes",
    "plot_confusion_matrix",
    "plot_learning_curves",
    "plot_learning_rate_sweep",
    "write_report",
]


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise FashionkitError(
            "Plots need matplotlib: install the plot extra with pip install 'fashionkit[plot]'."
        ) from exc
    return Figure


def _figure(width: float, height: float) -> Any:
    return _figure_class()(figsize=(width, height), dpi=100, layout="constrained")


def check_plot_path(path: PathLike) -> Path:
    """Check, before the work that a picture shows, that it can be drawn and written at ``path``.

    Missing folders are created when the picture is written.

    Raises:
        FashionkitError: matplotlib is not installed.
        StorageError: ``path`` is a folder, or a parent of it is a file.
    """
    _figure_class()  # raises when matplotlib is missing
    target = Path(path)
    if target.is_dir():
        raise StorageError(f"Cannot write {target}: it is a folder; give a file name (.png).")
    check_parents(target)
    return target


def plot_learning_curves(history: Sequence[EpochRecord]) -> Any:
    """Loss and accuracy per epoch, training and validation, side by side.

    Args:
        history: One record per epoch, such as :attr:`fashionkit.TrainResult.history` or
            :attr:`fashionkit.RunRecord.history`.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    fig = _figure(10, 4)
    epochs = [h.epoch for h in history]
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        ax.plot(epochs, [getattr(h, metric) for h in history], "o-", label="training")
        ax.plot(epochs, [getattr(h, f"val_{metric}") for h in history], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{metric} per epoch")
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


def plot_confusion_matrix(report: EvaluationReport) -> Any:
    """The confusion matrix of a report as a heat map with class names and counts."""
    return _drawing.confusion_matrix_figure(
        report.confusion_matrix,
        report.class_names,
        title=f"{report.split} confusion matrix (accuracy {report.accuracy:.4f})",
    )


def plot_confident_mistakes(
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    probabilities: NDArray[np.floating[Any]],
    class_names: Sequence[str],
    *,
    count: int = 16,
) -> Any:
    """A grid of the misclassified images the model was most sure about.

    Args:
        images: ``(N, 28, 28)`` uint8 images.
        labels: ``(N,)`` true labels.
        probabilities: ``(N, num_classes)`` model outputs.
        class_names: Names in label order.
        count: How many mistakes to show, at most. Defaults to 16.
    """
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    chosen = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    columns = 4
    rows = max(1, -(-len(chosen) // columns))
    fig = _figure(2.4 * columns, 2.7 * rows)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, index in zip(axes, chosen, strict=False):
        ax.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(
            f"true: {class_names[int(labels[index])]}\n"
            f"predicted: {class_names[int(predicted[index])]}\n"
            f"p = {confidence[index]:.3f}",
            fontsize=8,
        )
    fig.suptitle(f"{len(chosen)} most confident mistakes of {len(wrong)}")
    return fig


def plot_learning_rate_sweep(sweep: LearningRateSweep, path: PathLike | None = None) -> Any:
    """The loss of a learning-rate sweep against the rate, with the suggested rate marked.

    The rate axis is logarithmic. Each batch's loss is drawn faintly, the smoothed loss as a
    line; vertical lines mark the suggestion (dashed) and a tenth of the rate at the lowest
    smoothed loss (dotted). Without a suggestion, the title says so (the sweep's
    :attr:`~fashionkit.lr_finder.LearningRateSweep.reason` says why). The loss axis reaches
    from the lowest loss to the highest smoothed loss, so a diverging batch does not flatten
    the rest of the curve.

    Args:
        sweep: What :func:`~fashionkit.lr_finder.find_learning_rate` returned.
        path: Write the picture here as PNG, atomically, when given. Defaults to ``None``.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        FashionkitError: matplotlib is not installed.
        StorageError: The picture cannot be written (nothing half-written is left).
    """
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    rates = np.asarray(sweep.rates, dtype=np.float64)
    raw = _finite_or_nan(sweep.losses)
    smoothed = _finite_or_nan(sweep.smoothed_losses)
    ax.plot(rates, raw, color="C0", alpha=0.3, linewidth=1, label="loss per batch")
    ax.plot(rates, smoothed, color="C0", linewidth=2, label="smoothed loss")
    if sweep.suggestion is not None and sweep.minimum_rate is not None:
        ax.axvline(
            sweep.suggestion, color="C2", linestyle="--", label=f"suggestion {sweep.suggestion:.3g}"
        )
        tenth = sweep.minimum_rate / 10
        ax.axvline(tenth, color="C1", linestyle=":", label=f"minimum's rate / 10: {tenth:.3g}")
        ax.set_title(f"learning-rate sweep: suggested rate {sweep.suggestion:.3g}")
    else:
        ax.set_title("learning-rate sweep: no suggestion")
    # From the lowest loss to the highest smoothed one: a diverging batch is cut off.
    every = np.concatenate([raw, smoothed])
    every, curve = every[np.isfinite(every)], smoothed[np.isfinite(smoothed)]
    if curve.size:
        low, high = float(every.min()), float(curve.max())
        margin = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
        ax.set_ylim(low - margin, high + margin)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    if path is not None:
        _save(fig, Path(path))
    return fig


def _finite_or_nan(values: Sequence[float]) -> NDArray[np.float64]:
    """``values`` as an array with infinities replaced by NaN (matplotlib leaves gaps)."""
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, np.nan)


def _save(fig: Any, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    with os_errors_as(StorageError, path):
        return atomic_write_bytes(path, buffer.getvalue())


def write_report(run_dir: PathLike, *, dataset: FashionMNIST | None = None) -> list[Path]:
    """Draw the three pictures of a completed run and write them as PNG into its directory.

    Writes ``learning_curves.png``, ``confusion_matrix.png`` (test split) and
    ``confident_mistakes.png`` (test split; needs the images, so the dataset is loaded with
    :func:`~fashionkit.load_fashion_mnist` when not given).

    Returns:
        The paths written.

    Raises:
        RunDirError: The run directory is incomplete or damaged.
        StorageError: A picture cannot be written (nothing half-written is left).
        FashionkitError: matplotlib is not installed.
    """
    record = load_run(run_dir)
    data = dataset if dataset is not None else load_fashion_mnist()
    probabilities = predict(record.model, data.test.images).probabilities
    directory = Path(run_dir)
    return [
        _save(plot_learning_curves(record.history), directory / "learning_curves.png"),
        _save(plot_confusion_matrix(record.test), directory / "confusion_matrix.png"),
        _save(
            plot_confident_mistakes(
                np.asarray(data.test.images), np.asarray(data.test.labels), probabilities,
                record.test.class_names,
            ),
            directory / "confident_mistakes.png",
        ),
    ]  # fmt: skip
