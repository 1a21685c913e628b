"""Pictures of a run: learning curves, the confusion matrix, the most confident mistakes.

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

from fashionkit._io import atomic_write_bytes, os_errors_as
from fashionkit._typing import PathLike
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.evaluation import EvaluationReport, predict
from fashionkit.exceptions import FashionkitError, StorageError
from fashionkit.results import EpochRecord
from fashionkit.runs import load_run

__all__ = [
    "plot_confident_mistakes",
    "plot_confusion_matrix",
    "plot_learning_curves",
    "write_report",
]


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise FashionkitError(
            "Plots need matplotlib: install the plot extra with pip install 'fashionkit[plot]'."
        ) from exc
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


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
    fig = _figure(9, 8)
    ax = fig.subplots()
    matrix = np.asarray(report.confusion_matrix)
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ticks = range(len(report.class_names))
    ax.set_xticks(ticks, report.class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, report.class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{report.split} confusion matrix (accuracy {report.accuracy:.4f})")
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in ticks:
        for j in ticks:
            ax.text(
                j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                color="white" if matrix[i, j] > threshold else "black",
            )  # fmt: skip
    return fig


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
