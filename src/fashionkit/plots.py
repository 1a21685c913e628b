"""Pictures of a run: learning curves, confusion matrix, confident mistakes, reliability.

Also what the network looks at (:func:`plot_explanations`, from :mod:`fashionkit.explain`) and
the picture of a learning-rate sweep (:func:`plot_learning_rate_sweep`). Every function
returns a matplotlib figure that Jupyter displays inline.

Needs the optional ``plot`` extra (``pip install "fashionkit[plot]"``, which brings matplotlib).
Figures are drawn with matplotlib's non-interactive Agg canvas, so no display is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit import _drawing
from fashionkit._io import atomic_write_bytes, check_parents, os_errors_as
from fashionkit._typing import PathLike
from fashionkit._validation import (
    ArrayLike,
    Constraint,
    Interval,
    NoneOr,
    check_images,
    check_labels,
    check_probabilities,
    check_same_length,
    params,
    shown,
)
from fashionkit.calibration import (
    BINS,
    DEFAULT_BINS,
    TEMPERATURE,
    apply_temperature,
    reliability_bins,
)
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.evaluation import EvaluationReport
from fashionkit.exceptions import InputValidationError, StorageError
from fashionkit.explain import Explanation, explain
from fashionkit.lr_finder import LearningRateRange
from fashionkit.results import EpochRecord
from fashionkit.runs import REPORT_PICTURES, Run, load_run
from fashionkit.sweep._study import StorageURL, StudyName

__all__ = [
    "check_plot_path",
    "plot_confident_mistakes",
    "plot_confusion_matrix",
    "plot_explanations",
    "plot_learning_curves",
    "plot_learning_rate_sweep",
    "plot_reliability_diagram",
    "save_figure",
    "write_report",
    "write_sweep_report",
]


_figure_class = _drawing.figure_class
_figure = _drawing.figure


@attrs.frozen
class _Figure(Constraint):
    """A matplotlib figure (anything with ``savefig`` and ``axes``, as ``Figure``).

    Checked by what it has rather than by class, so that matplotlib is not imported to check it.
    """

    def allows(self, value: object) -> bool:
        """Whether ``value`` looks like a matplotlib figure."""
        return callable(getattr(value, "savefig", None)) and hasattr(value, "axes")

    def describe(self) -> str:
        """``a matplotlib figure``."""
        return "a matplotlib figure (matplotlib.figure.Figure)"


#: How the functions declare their array parameters (checked inside).
_LABELS = ArrayLike("integer labels (N,)")
_PROBABILITIES = ArrayLike("probabilities (N, num_classes), each row summing to 1")


def _picture_format(target: Path) -> str:
    """The format a picture's name asks for (see :func:`check_plot_path`)."""
    suffix = target.suffix.lower()
    if suffix not in _drawing.PICTURE_FORMATS:
        named = (
            f"its name ends in {shown(target.suffix)}"
            if target.suffix
            else "its name has no suffix"
        )
        raise InputValidationError(
            f"Cannot write a picture to {target}: {named}. fashionkit writes the format the "
            f"suffix names: {', '.join(_drawing.PICTURE_FORMATS)} (PNG, JPEG, SVG or PDF)."
        )
    return _drawing.PICTURE_FORMATS[suffix]


@params()
def check_plot_path(path: PathLike) -> Path:
    """Check, before the work that a picture shows, that it can be drawn and written at ``path``.

    A picture is written in the format its name's suffix names: ``.png``, ``.jpg`` or
    ``.jpeg``, ``.svg`` or ``.pdf``; any other name is refused. Missing folders are created
    when the picture is written.

    Raises:
        FashionkitError: matplotlib is not installed.
        InputValidationError: The name's suffix names no picture format fashionkit writes.
        StorageError: ``path`` is a folder, or a parent of it is a file.
    """
    _figure_class()  # raises when matplotlib is missing
    target = Path(path)
    if target.is_dir():
        raise StorageError(f"Cannot write {target}: it is a folder; give a file name (.png).")
    _picture_format(target)
    check_parents(target)
    return target


@params()
def plot_learning_curves(history: Sequence[EpochRecord]) -> Any:
    """Loss and accuracy per epoch, training and validation, side by side.

    Args:
        history: One record per epoch, such as :attr:`fashionkit.TrainResult.history` or
            :attr:`fashionkit.runs.Run.history`.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    fig = _figure(8, 3.6)
    epochs = [h.epoch for h in history]
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        for prefix, style, label in (("", "o-", "training"), ("val_", "s--", "validation")):
            values = [getattr(h, f"{prefix}{metric}") for h in history]
            _drawing.plot_series(ax, epochs, values, style, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{metric} per epoch")
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    return fig


@params()
def plot_confusion_matrix(report: EvaluationReport) -> Any:
    """The confusion matrix of a report as a heat map with class names and counts.

    Drawn by scikit-learn's ``sklearn.metrics.ConfusionMatrixDisplay`` on a 9 x 8 inch
    figure, titled with the split and the accuracy; the same picture
    :class:`~fashionkit.callbacks.TensorBoardLogger` writes to TensorBoard.

    Args:
        report: The report whose :attr:`~fashionkit.EvaluationReport.confusion_matrix` to draw.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        FashionkitError: matplotlib is not installed.
    """
    return _drawing.confusion_matrix_figure(
        report.confusion_matrix,
        report.class_names,
        title=f"{report.split} confusion matrix (accuracy {report.accuracy:.4f})",
    )


@params(
    images=ArrayLike("uint8 images (N, 28, 28)"),
    labels=_LABELS,
    probabilities=_PROBABILITIES,
    count=Interval("int", ge=1),
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
        probabilities: ``(N, num_classes)`` softmax outputs: each row in ``[0, 1]`` and summing
            to 1 (within 0.01).
        class_names: Names in label order.
        count: How many mistakes to show, at most. Defaults to 16.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        InputValidationError: Images that are not ``(N, 28, 28)`` uint8, labels out of range
            or not one per image, or probabilities that are not one distribution per row for
            each label (the wrong shape, NaN, infinite or negative values, values above 1,
            rows that do not sum to 1).
        ArgumentError: ``count`` is not a positive integer.
        FashionkitError: matplotlib is not installed.
    """
    pixels = check_images(images)
    labels = check_labels(labels, num_classes=len(class_names))
    check_same_length(pixels, labels, names="images and labels")
    probabilities = check_probabilities(
        probabilities, rows=len(labels), num_classes=len(class_names)
    )
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    chosen = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    columns = 4
    rows = max(1, -(-len(chosen) // columns))
    fig = _figure(2.2 * columns, 2.5 * rows)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, index in zip(axes, chosen, strict=False):
        ax.imshow(pixels[index], cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(
            f"true: {class_names[int(labels[index])]}\n"
            f"predicted: {class_names[int(predicted[index])]}\n"
            f"p = {confidence[index]:.3f}",
            fontsize=8,
        )
    fig.suptitle(f"{len(chosen)} most confident mistakes of {len(wrong)}")
    return fig


@params(
    images=ArrayLike("images (N, 28, 28), uint8 or floats in [0, 1]"),
    labels=NoneOr(_LABELS),
    columns=Interval("int", ge=1),
)
def plot_explanations(
    images: object,
    explanation: Explanation,
    class_names: Sequence[str],
    *,
    labels: NDArray[np.integer[Any]] | None = None,
    titles: Sequence[str] | None = None,
    columns: int = 4,
) -> Any:
    """Each image beside its map of what the model looked at (from :mod:`fashionkit.explain`).

    Every image gets two panels: the image, and the image in gray under its map (``inferno``:
    bright where the pixels mattered most for the explained class).

    Args:
        images: The ``(N, 28, 28)`` images the explanation was computed on: uint8, or floats
            in ``[0, 1]``.
        explanation: What :func:`fashionkit.explain.explain` (or ``saliency``/``grad_cam``)
            returned for them.
        class_names: Names in label order.
        labels: The true labels, to show beside the prediction; optional.
        titles: A first title line per image (a file name, say), its last 30 characters shown
            when longer; optional.
        columns: Images per row. Defaults to 4.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        InputValidationError: Bad images or labels, or images, explanation, labels and titles
            that differ in number.
        ArgumentError: ``columns`` is not a positive integer.
        FashionkitError: matplotlib is not installed.
    """
    images = check_images(images, allow_float=True)
    brightest = 1.0 if images.dtype.kind == "f" else 255
    if len(images) != len(explanation):
        raise InputValidationError(
            f"{len(images)} images but {len(explanation)} maps: draw the images the "
            f"explanation was computed on."
        )
    if labels is not None:
        labels = check_labels(labels, num_classes=len(class_names))
        check_same_length(images, labels, names="images and labels")
    if titles is not None and len(titles) != len(images):
        raise InputValidationError(
            f"{len(images)} images but {len(titles)} titles: give one title per image."
        )
    count = len(images)
    columns = min(columns, count or 1)
    rows = max(1, -(-count // columns))
    fig = _figure(2.2 * columns, 2.0 * rows)
    axes = np.atleast_2d(fig.subplots(rows, 2 * columns)).reshape(rows, 2 * columns)
    for ax in axes.ravel():
        ax.axis("off")
    confidence = explanation.probabilities.max(axis=1)
    for i in range(count):
        row, col = divmod(i, columns)
        left, right = axes[row, 2 * col], axes[row, 2 * col + 1]
        left.imshow(images[i], cmap="gray_r", vmin=0, vmax=brightest)
        right.imshow(images[i], cmap="gray", vmin=0, vmax=brightest, alpha=0.45)
        right.imshow(explanation.maps[i], cmap="inferno", vmin=0, vmax=1, alpha=0.7)
        lines = [_tail(titles[i], _TITLE_CHARACTERS)] if titles is not None else []
        predicted = int(explanation.predicted[i])
        lines.append(f"{class_names[predicted]} (p = {confidence[i]:.2f})")
        if labels is not None:
            lines.append(f"true: {class_names[int(labels[i])]}")
        if int(explanation.classes[i]) != predicted:
            lines.append(f"map for: {class_names[int(explanation.classes[i])]}")
        left.set_title("\n".join(lines), fontsize=8, loc="left")
    method = explanation.method.replace("_", "-")
    where = f", layer {explanation.layer}" if explanation.layer else ""
    fig.suptitle(f"What the model looked at ({method}{where})")
    return fig


#: How many characters of an image's title fit above its 2.2-inch panel pair at 8 points.
_TITLE_CHARACTERS = 30


def _tail(text: str, limit: int) -> str:
    """``text``, or its last characters after an ellipsis when longer than ``limit``.

    A file path keeps its file name, the part that tells images apart; the whole title would
    widen the panel past the figure and collapse the layout.
    """
    return text if len(text) <= limit else "\u2026" + text[-(limit - 1) :]


@params()
def plot_learning_rate_sweep(sweep: LearningRateRange, path: PathLike | None = None) -> Any:
    """The loss of a learning-rate sweep against the rate, with the suggested rate marked.

    The rate axis is logarithmic. Each batch's loss is drawn faintly, the smoothed loss as a
    line; vertical lines mark the suggestion (dashed) and a tenth of the rate at the lowest
    smoothed loss (dotted). Without a suggestion, the title says so (the sweep's
    :attr:`~fashionkit.lr_finder.LearningRateRange.reason` says why). The loss axis reaches
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


@params(probabilities=_PROBABILITIES, labels=_LABELS, temperature=NoneOr(TEMPERATURE), bins=BINS)
def plot_reliability_diagram(
    probabilities: object,
    labels: object,
    *,
    temperature: float | None = None,
    bins: int = DEFAULT_BINS,
    title: str = "Reliability diagram",
) -> Any:
    """Accuracy against confidence in equal-width confidence bins, before and after scaling.

    The left panel draws each bin's accuracy as a bar at its confidence range, the gap to its
    mean confidence, and the diagonal a calibrated model follows; the right panel the share of
    images in each bin. With ``temperature``, the rescaled probabilities
    (:func:`~fashionkit.calibration.apply_temperature`) are drawn beside the model's own. The
    legend gives each one's expected calibration error.

    Args:
        probabilities: ``(N, num_classes)`` softmax outputs; each row sums to 1.
        labels: ``(N,)`` integer labels.
        temperature: A fitted temperature to compare with, or ``None``.
        bins: Confidence bins. Defaults to 15.
        title: The figure's title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        InputValidationError: Probabilities that are not one distribution per row (the wrong
            shape, NaN, infinite or negative values, values above 1, rows that do not sum to 1
            within 0.01), bad labels, ``bins`` or temperature.
        FashionkitError: matplotlib is not installed.

    Example:
        >>> import numpy as np
        >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
        >>> fig = plot_reliability_diagram(probs, [0, 1, 1, 0], temperature=2.0)  # doctest: +SKIP
    """
    curves = [("model", reliability_bins(probabilities, labels, bins=bins))]
    if temperature is not None:
        scaled = apply_temperature(probabilities, temperature)
        curves.append((f"T = {temperature:.3g}", reliability_bins(scaled, labels, bins=bins)))
    fig = _figure(8.4, 4)
    diagram, counts = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    width = 1.0 / bins
    colours = ("tab:blue", "tab:orange")
    for k, (name, rb) in enumerate(curves):
        share = width / len(curves)
        left = rb.edges[:-1] + k * share
        filled = rb.counts > 0
        diagram.bar(
            left[filled], rb.accuracy[filled], width=share, align="edge", alpha=0.75,
            color=colours[k], edgecolor="white", label=f"{name}: ECE {rb.ece:.4f}",
        )  # fmt: skip
        diagram.plot(rb.confidence[filled], rb.accuracy[filled], "o", color=colours[k], ms=3)
        counts.bar(
            left, rb.counts / max(int(rb.counts.sum()), 1), width=share, align="edge",
            color=colours[k], alpha=0.75, label=name,
        )  # fmt: skip
    diagram.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="calibrated")
    diagram.set_xlim(0, 1)
    diagram.set_ylim(0, 1)
    diagram.set_xlabel("confidence (top probability)")
    diagram.set_ylabel("accuracy")
    diagram.set_title(title)
    diagram.legend(loc="upper left")
    counts.set_xlim(0, 1)
    counts.set_yscale("log")
    counts.set_xlabel("confidence (top probability)")
    counts.set_ylabel("share of images (log scale)")
    counts.set_title("images per bin")
    counts.legend(loc="upper left")
    return fig


@params(fig=_Figure())
def save_figure(fig: Any, path: PathLike) -> Path:
    """Write a figure at ``path``, whole or not at all (missing folders are created).

    The format is the one the name's suffix names: PNG (``.png``), JPEG (``.jpg``,
    ``.jpeg``), SVG (``.svg``) or PDF (``.pdf``); any other name is refused. The picture is
    drawn at 200 pixels per inch, twice the figure's own 100 dpi, so that it stays sharp on
    HiDPI screens: show it at half its pixel size (a 9-inch-wide figure as 900 pixels) for the
    text sizes it was designed with.

    Returns:
        The path written, resolved (a folder that is a symbolic link is followed).

    Raises:
        InputValidationError: The name's suffix names no picture format fashionkit writes.
        StorageError: The file cannot be written (nothing half-written is left).
    """
    target = Path(path)
    data = _drawing.figure_bytes(fig, format=_picture_format(target), dpi=_drawing.SAVED_DPI)
    with os_errors_as(StorageError, target):
        return atomic_write_bytes(target, data).resolve()


_save = save_figure


@params()
def write_report(run: Run | PathLike, *, dataset: FashionMNIST | None = None) -> list[Path]:
    """Draw the pictures of a completed run and write them as PNG into its directory.

    Writes ``learning_curves.png``, ``confusion_matrix.png`` (test split),
    ``confident_mistakes.png``, ``mistakes_explained.png`` (the eight most confident mistakes
    beside what the model looked at, :func:`fashionkit.explain.explain`) and
    ``reliability.png`` (test split; they need the images, so the dataset is loaded with
    :func:`~fashionkit.load_fashion_mnist` when not given). The test probabilities come from
    the run's predictor (:meth:`fashionkit.runs.Run.predictor`), as the run's reports were
    computed: with its flip TTA and its calibration temperature; the reliability diagram
    shows the model's own probabilities and, for a calibrated run, the calibrated ones beside
    them.

    Args:
        run: A run read with :func:`~fashionkit.load_run`, or its directory.
        dataset: The data whose test split is drawn; loaded when not given.

    Returns:
        The paths written.

    Raises:
        RunDirError: The run directory is incomplete or damaged.
        StorageError: A picture cannot be written (nothing half-written is left).
        FashionkitError: matplotlib is not installed.
    """
    record = run if isinstance(run, Run) else load_run(run)
    data = dataset if dataset is not None else load_fashion_mnist()
    images, labels = np.asarray(data.test.images), np.asarray(data.test.labels)
    raw = record.predictor(calibrated=False).probabilities(images)
    calibrated = record.calibration is not None
    probabilities = apply_temperature(raw, record.temperature) if calibrated else raw
    names = record.test.class_names
    pictures = {
        "learning_curves": plot_learning_curves(record.history),
        "confusion_matrix": plot_confusion_matrix(record.test),
        "confident_mistakes": plot_confident_mistakes(images, labels, probabilities, names),
        "mistakes_explained": _explained_mistakes(record.model, data, probabilities, names),
        "reliability": plot_reliability_diagram(
            raw,
            labels,
            temperature=record.temperature if calibrated else None,
            title=f"Reliability diagram, test split ({record.config.model.architecture})",
        ),
    }
    return [_save(pictures[name], record.layout.picture(name)) for name in REPORT_PICTURES]


def _explained_mistakes(
    model: Any, data: FashionMNIST, probabilities: NDArray[np.floating[Any]], names: Sequence[str]
) -> Any:
    """The eight most confident test mistakes beside the maps of the class the model chose."""
    labels = np.asarray(data.test.labels)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    chosen = wrong[np.argsort(-probabilities.max(axis=1)[wrong], kind="stable")][:8]
    if not len(chosen):
        fig = _figure(6.0, 1.2)
        fig.suptitle("No mistakes on the test split: nothing to explain")
        return fig
    images = np.asarray(data.test.images)[chosen]
    shown = explain(model, images, classes=predicted[chosen])
    return plot_explanations(images, shown, names, labels=labels[chosen])


@params(storage=NoneOr(StorageURL()), study_name=StudyName())
def write_sweep_report(
    folder: PathLike, *, storage: str | None = None, study_name: str = "fashionkit"
) -> list[Path]:
    """Draw a sweep's pictures with Optuna's matplotlib plots and write them into its folder.

    Writes ``history.png`` (each trial's best validation accuracy and the best so far),
    ``intermediate.png`` (every trial's validation accuracy per epoch: where pruning cut
    trials short) and, once two trials have completed, ``importances.png`` (how much each
    parameter explains the validation accuracy, by Optuna's fANOVA evaluator).

    Args:
        folder: A sweep folder written by :func:`fashionkit.sweep.sweep`.
        storage: The study's database URL or ``journal:PATH``; defaults to the folder's
            ``study.db``.
        study_name: The study's name. Defaults to ``"fashionkit"``.

    Returns:
        The paths written.

    Raises:
        ArgumentError: ``storage`` is not a database URL or ``journal:PATH``, or
            ``study_name`` is blank.
        RunDirError: ``folder`` is not a sweep folder, or its study cannot be found.
        StorageError: A picture cannot be written.
        FashionkitError: matplotlib or Optuna is not installed.
    """
    from fashionkit.sweep._pictures import write_sweep_pictures

    _figure_class()  # fails early without matplotlib
    return write_sweep_pictures(Path(folder), storage, study_name, save=_save)
