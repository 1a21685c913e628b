"""A sweep's pictures, drawn by Optuna's matplotlib plots in fashionkit's words.

:func:`fashionkit.plots.write_sweep_report` is the public door; it hands over how a figure
is saved (atomically, as PNG for HiDPI screens), so that every picture fashionkit writes is
saved one way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fashionkit.exceptions import RunDirError
from fashionkit.sweep._folder import SPACE
from fashionkit.sweep._study import open_study

#: How a figure is written: ``save(figure, path)`` returns the path written.
Save = Callable[[Any, Path], Path]


def write_sweep_pictures(
    directory: Path, storage: str | None, study_name: str, *, save: Save
) -> list[Path]:
    """Write ``history.png``, ``intermediate.png`` and ``importances.png`` into ``directory``.

    ``importances.png`` once two trials have completed (fANOVA needs two values).

    Raises:
        RunDirError: ``directory`` is not a sweep folder, its study cannot be found, or no
            trial has completed.
        StorageError: A picture cannot be written.
    """
    if not (directory / SPACE).is_file():
        raise RunDirError(f"{directory} is not a sweep folder: it has no {SPACE}.")
    study = open_study(directory, storage=storage, study_name=study_name)
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if not complete:
        raise RunDirError(
            f"The sweep in {directory} has no completed trial yet: there is nothing to draw. "
            f"Run the sweep until a trial completes."
        )
    importances = len(complete) >= 2 and any(len(t.params) for t in complete)
    return [
        _write_picture(directory / name, draw, labels, save)
        for name, draw, labels in _drawings(study, importances=importances)
    ]


#: A sweep picture: its file name, how Optuna draws it, and its title and axis labels.
_SweepDrawing = tuple[str, Callable[[], Any], tuple[str, str, str]]


def _drawings(study: Any, *, importances: bool) -> list[_SweepDrawing]:
    """The pictures of a sweep, with the title and axis labels each gets in fashionkit's words.

    Optuna's defaults name its own terms ("Objective Value", ...).
    """
    import optuna.visualization.matplotlib as optuna_plots

    drawings: list[_SweepDrawing] = [
        ("history.png", lambda: optuna_plots.plot_optimization_history(
            study, target_name="best validation accuracy"),
         ("Each trial's best validation accuracy, and the best so far", "trial",
          "best validation accuracy")),
        ("intermediate.png", lambda: optuna_plots.plot_intermediate_values(study),
         ("Validation accuracy after each epoch, one line per trial (pruned trials stop early)",
          "epoch", "validation accuracy")),
    ]  # fmt: skip
    if importances:
        drawings.append(
            ("importances.png", lambda: optuna_plots.plot_param_importances(
                study, target_name="best validation accuracy"),
             ("How much of the validation accuracy each parameter explains (fANOVA)",
              "importance (share of the variance explained)", "parameter"))
        )  # fmt: skip
    return drawings


def _write_picture(
    path: Path, draw: Callable[[], Any], labels: tuple[str, str, str], save: Save
) -> Path:
    """Draw one sweep picture with Optuna, give it fashionkit's labels, and write it at ``path``."""
    import warnings

    import matplotlib.pyplot as plt

    title, xlabel, ylabel = labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        axes: Any = draw()
    ax = axes.flat[0] if isinstance(axes, np.ndarray) else axes
    fig: Any = ax.figure
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if path.name == "intermediate.png" and ax.get_legend() is not None:
        ax.get_legend().remove()  # one entry per trial: the lines speak for themselves
    fig.set_size_inches(8, 4.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a layout that cannot fit every label still draws
        fig.tight_layout()  # long dotted parameter names need the room on the left
    try:
        return save(fig, path)
    finally:
        plt.close(fig)
