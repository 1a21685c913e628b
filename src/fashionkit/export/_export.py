"""The two front doors: :func:`export_model` for a Keras model, :func:`export_run` for a run.

Both check their inputs once, then hand over to one export step: build the serving graph,
write it under a staged name, load it back with its runtime, check it, and publish it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import ExportSource
from fashionkit._io import os_errors_as
from fashionkit._messages import shown
from fashionkit._typing import PathLike
from fashionkit._validation import ArrayLike, Interval, KerasModel, NoneOr, params
from fashionkit.config import TrainConfig
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.exceptions import ArgumentError, StorageError
from fashionkit.export import _exported, _formats, _verify
from fashionkit.export._options import DEFAULT_REPRESENTATIVE_SIZE, ExportOptions
from fashionkit.export._result import ExportResult, size_of
from fashionkit.export._serving import serving_for
from fashionkit.export._staging import staging
from fashionkit.export._targets import check_target
from fashionkit.runs import Run, load_run
from fashionkit.training._setup import run_split

__all__ = ["export_model", "export_run"]

_IMAGES = ArrayLike("uint8 images (N, 28, 28)")


@params(
    model=KerasModel(),
    temperature=Interval("number", gt=0.0),
    check_images=NoneOr(_IMAGES),
    check_labels=NoneOr(ArrayLike("integer labels (N,), one per check image")),
    representative_images=NoneOr(_IMAGES),
)
def export_model(
    model: Any,
    path: PathLike,
    options: ExportOptions | None = None,
    *,
    tta: bool = False,
    temperature: float = 1.0,
    check_images: object | None = None,
    check_labels: object | None = None,
    representative_images: object | None = None,
) -> ExportResult:
    """Export a Keras model for serving; see :mod:`fashionkit.export` for what is inside.

    Args:
        model: A trained fashionkit ``keras.Model`` (``(784,)`` or ``(28, 28, 1)`` inputs).
        path: A folder for ``saved_model``; a ``.tflite`` or ``.onnx`` file name otherwise.
            Missing folders are created; a previous export there is replaced.
        options: The format, quantization and accuracy check; defaults to
            ``ExportOptions()``, a float32 SavedModel.
        tta: Put flip test-time augmentation into the graph. Defaults to ``False``.
        temperature: Put this calibration temperature into the graph. Defaults to 1.0.
        check_images: ``(N, 28, 28)`` uint8 images for the check against the Keras model;
            by default 64 fixed random images (the extremes 0 and 255 among them).
        check_labels: The ``N`` true labels of ``check_images``: the check then also compares
            accuracies (``options.max_accuracy_loss``). Required when ``options`` checks the
            accuracy (:attr:`ExportOptions.checks_accuracy`: quantized, say).
        representative_images: ``(N, 28, 28)`` uint8 images that calibrate an int8 model's
            activation ranges (a few hundred training images); required with
            ``quantize="int8"`` and refused otherwise.

    Returns:
        The resolved path, size, latency, time and the check's largest difference (and
        accuracies).

    Raises:
        ArgumentError: A bad argument, or arguments that contradict ``options`` (labels
            missing for an accuracy check, representative images without int8).
        InputValidationError: Bad images, labels or model input shape; or a path whose name
            contradicts the format (a ``tflite`` or ``onnx`` path not ending in ``.tflite``
            or ``.onnx``; a ``saved_model`` folder named like a model file).
        StorageError: The path is under a file, a symbolic link, or a folder of other files.
        ExportError: The converter is missing or failed; a float32 export differs from the
            Keras model by more than :data:`TOLERANCES`; or its accuracy is more than
            ``max_accuracy_loss`` below the Keras model's (nothing is written then).

    Example:
        >>> onnx = ExportOptions(format="onnx")
        >>> result = export_model(model, "model.onnx", onnx)  # doctest: +SKIP
        >>> result.max_difference, result.tolerance  # doctest: +SKIP
        (8.940697e-08, 1e-05)
        >>> small = export_model(  # doctest: +SKIP
        ...     model, "model-int8.tflite", ExportOptions(format="tflite", quantize="int8"),
        ...     check_images=data.test.images, check_labels=data.test.labels,
        ...     representative_images=data.train.images[:500],
        ... )
        >>> small.reference_accuracy, small.accuracy  # doctest: +SKIP
        (0.925, 0.9241)
    """
    settings = options if options is not None else ExportOptions()
    arrays = _checked_arrays(settings, check_images, check_labels, representative_images)
    target = check_target(path, settings.format)
    return _export(model, target, settings, *arrays, tta=tta, temperature=float(temperature))


def _checked_arrays(
    options: ExportOptions,
    check_images: object | None,
    check_labels: object | None,
    representative_images: object | None,
) -> tuple[NDArray[np.uint8], NDArray[np.int64] | None, NDArray[np.uint8] | None]:
    """The check images, their labels and the calibration images, checked against the options.

    Raises:
        ArgumentError: An array the options ask for is missing, or one they exclude is given.
        InputValidationError: An array of the wrong shape, dtype or values.
    """
    wanted = (
        "A quantized export"
        if options.quantize is not None
        else "An export with check_accuracy=True"
    )
    rules = (
        (
            options.checks_accuracy and check_labels is None,
            f"{wanted} is checked by its accuracy: give check_labels with check_images (the "
            f"test split, say).",
        ),
        (
            check_labels is not None and options.check_accuracy is False,
            "check_labels are the labels of an accuracy check, and the options say "
            "check_accuracy=False; give one or the other.",
        ),
        (
            check_labels is not None and check_images is None,
            "check_labels needs the check_images they label.",
        ),
        (
            options.quantize == "int8" and representative_images is None,
            "quantize='int8' needs representative_images: (N, 28, 28) uint8 images like the "
            "ones the model will see (a few hundred training images), to calibrate the "
            "activation ranges.",
        ),
        (
            options.quantize != "int8" and representative_images is not None,
            f"representative_images calibrate an int8 model; give them with quantize='int8' "
            f"only (got quantize={shown(options.quantize)}).",
        ),
        (
            options.representative_size is not None,
            "representative_size is how many of a run's training images export_run draws; "
            "export_model calibrates on representative_images as given. Leave it None.",
        ),
    )
    for broken, message in rules:
        if broken:
            raise ArgumentError(message)
    sample = _verify.check_sample(check_images)
    labels = _verify.check_labels(check_labels, len(sample)) if check_labels is not None else None
    representative = (
        _verify.check_batch(representative_images, "representative_images")
        if representative_images is not None
        else None
    )
    return sample, labels, representative


@params()
def export_run(
    run: Run | PathLike,
    options: ExportOptions | None = None,
    *,
    which: ExportSource | None = None,
    out: PathLike | None = None,
    dataset: FashionMNIST | None = None,
) -> ExportResult:
    """Export a completed run's model, with the run's TTA and calibration inside.

    Args:
        run: A :class:`~fashionkit.runs.Run` (:func:`~fashionkit.runs.load_run`), or a run
            directory, which is loaded (and so checked) after the options and ``out``.
        options: The format, quantization and accuracy check; defaults to
            ``ExportOptions()``, a float32 SavedModel. With an accuracy check
            (:attr:`ExportOptions.checks_accuracy`) the export is checked on the test split;
            an int8 model is calibrated on ``options.representative_size`` images drawn (with
            the run's seed) from the run's training part of the split, never from its
            validation or test images.
        which: ``"final"`` exports ``model.keras``, the model training ended with; ``"best"``
            exports ``best.keras``, the best epoch's. Defaults to the one the run ended with
            (:attr:`Run.ended_with <fashionkit.runs.Run.ended_with>`). Recorded in the result.
        out: Where to write; defaults to the run's ``export/saved_model``,
            ``export/model.tflite`` or ``export/model.onnx`` (a quantized model's name says
            its quantization: ``export/model-int8.tflite``).
        dataset: The data of the accuracy check and the calibration; loaded with
            :func:`~fashionkit.load_fashion_mnist` when needed and not given. Refused without
            an accuracy check.

    Returns:
        What was written where, from which model, and the check's largest difference (and,
        with an accuracy check, the test accuracies). The path is resolved, so a run whose
        ``export/`` is a symbolic link reports the folder it points to.

    Raises:
        ArgumentError: A bad argument; ``dataset`` without an accuracy check; more
            ``representative_size`` images than the run's training part holds.
        InputValidationError, StorageError: ``out`` cannot take the format (as
            :func:`export_model` checks it), refused before the run is read.
        RunDirError: Not a completed run directory (still training, or interrupted), or its
            model or calibration file is missing or damaged; or ``which="best"`` for a
            calibrated run that did not end with its best weights.
        DataNotFoundError, ChecksumError, DataFormatError, DownloadError: The data cannot be
            loaded (see :func:`~fashionkit.load_fashion_mnist`).
        ExportError: As :func:`export_model`.

    Example:
        >>> print(export_run("runs/cnn", ExportOptions(format="tflite")))  # doctest: +SKIP
        exported tflite to /home/me/runs/cnn/export/model.tflite (0.42 MB, 2.1 s, ...
        >>> int8 = ExportOptions(format="tflite", quantize="int8")
        >>> print(export_run("runs/cnn", int8, which="best"))  # doctest: +SKIP
        exported tflite (int8) to /home/me/runs/cnn/export/model-int8.tflite (0.12 MB, ...
    """
    settings = options if options is not None else ExportOptions()
    if dataset is not None and not settings.checks_accuracy:
        raise ArgumentError(
            "dataset is the data of the accuracy check and the int8 calibration; give it with "
            "options that check the accuracy (quantize, or check_accuracy=True)."
        )
    target = check_target(out, settings.format) if out is not None else None
    loaded = run if isinstance(run, Run) else load_run(run)
    source: ExportSource = which if which is not None else loaded.ended_with
    if target is None:
        default = loaded.layout.export_path(settings.format, settings.quantize)
        target = check_target(default, settings.format)
    temperature = loaded.temperature_for(source)
    model = loaded.load_model(source)
    arrays = _run_arrays(loaded.config, settings, dataset)
    return _export(
        model, target, settings, *arrays, tta=loaded.tta, temperature=temperature, which=source
    )


def _run_arrays(
    config: TrainConfig, options: ExportOptions, dataset: FashionMNIST | None
) -> tuple[NDArray[np.uint8], NDArray[np.int64] | None, NDArray[np.uint8] | None]:
    """A run's check images, their labels and the int8 calibration images, as options ask.

    Without an accuracy check: the fixed check images, no labels. With one: the test split;
    for int8, also a sample of the run's training part, drawn with the run's seed.
    """
    if not options.checks_accuracy:
        return _verify.check_sample(None), None, None
    data = dataset if dataset is not None else load_fashion_mnist()
    images = np.ascontiguousarray(data.test.images, dtype=np.uint8)
    labels = np.asarray(data.test.labels, dtype=np.int64)
    if options.quantize != "int8":
        return images, labels, None
    pool = np.asarray(run_split(config, data).train_images, dtype=np.uint8)
    size = options.representative_size
    if size is not None and size > len(pool):
        raise ArgumentError(
            f"ExportOptions.representative_size {size} is more than the run's {len(pool)} "
            f"training images; give at most {len(pool)}, or None for all of them."
        )
    size = size if size is not None else min(DEFAULT_REPRESENTATIVE_SIZE, len(pool))
    chosen = np.random.default_rng(config.seed).choice(len(pool), size, replace=False)
    return images, labels, np.ascontiguousarray(pool[np.sort(chosen)])


def _export(
    model: Any,
    target: Path,
    options: ExportOptions,
    sample: NDArray[np.uint8],
    labels: NDArray[np.int64] | None,
    representative: NDArray[np.uint8] | None,
    *,
    tta: bool,
    temperature: float,
    which: ExportSource | None = None,
) -> ExportResult:
    """Build, write under a staged name, load back, check and publish; every input checked."""
    started = time.perf_counter()
    serving = serving_for(model, sample, tta=tta, temperature=temperature)
    with os_errors_as(StorageError, target), staging(target, options.format) as tmp:
        _formats.write(serving.model, tmp, options, representative)
        loaded = _exported.load(tmp, options.format)
        checked = _verify.verify(loaded, serving, sample, labels, options, temperature)
        size = size_of(tmp)
    return ExportResult(
        path=target,
        format=options.format,
        size_bytes=size,
        seconds=time.perf_counter() - started,
        tta=tta,
        temperature=temperature,
        max_difference=checked.max_difference,
        tolerance=checked.tolerance,
        check_images=len(sample),
        precision_difference=serving.precision_difference,
        which=which,
        quantize=options.quantize,
        latency_ms=checked.latency_ms,
        accuracy=checked.accuracy,
        reference_accuracy=checked.reference_accuracy,
        max_accuracy_loss=options.max_accuracy_loss if labels is not None else None,
        representative_images=len(representative) if representative is not None else None,
        integer_output=options.integer_output,
    )
