"""Predicting with a trained model: the predictor, and the functions over it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit._constants import CLASS_NAMES
from fashionkit._pipeline import model_layout, predict_in_batches
from fashionkit._validation import (
    CheckedBy,
    KerasModel,
    annotated_fields,
    check_images,
    check_probabilities,
    field_validator,
    params,
)
from fashionkit.calibration import TEMPERATURE, apply_temperature
from fashionkit.evaluation._evaluator import LABELS_OR_ROWS, Evaluator
from fashionkit.evaluation._report import BATCH_SIZE, CLASS_NAMES_RULE, EvaluationReport
from fashionkit.exceptions import InputValidationError
from fashionkit.preprocessing import IMAGES

__all__ = ["Prediction", "Predictor", "evaluate", "predict"]


@attrs.frozen(kw_only=True, eq=False, field_transformer=annotated_fields)
class Prediction:
    """Predicted classes of a batch of images.

    Attributes:
        classes: ``(N,)`` predicted class indices.
        names: Predicted class names, one per image.
        probabilities: ``(N, num_classes)`` softmax outputs (with ``tta``, the mean over each
            image and its mirror image; with a temperature other than 1, rescaled by it).
        tta: Whether flip test-time augmentation was used.
        temperature: The temperature applied to the probabilities (1.0: none).
    """

    classes: NDArray[np.intp]
    names: tuple[str, ...]
    probabilities: NDArray[np.float32]
    tta: bool = False
    temperature: float = attrs.field(default=1.0, validator=field_validator(TEMPERATURE))

    def __len__(self) -> int:
        return len(self.names)


def _names(class_names: Sequence[str]) -> tuple[str, ...]:
    """``Predictor.class_names``'s converter: checked, then a tuple (a str is refused whole)."""
    CLASS_NAMES_RULE.check(class_names, "Predictor.class_names")
    return tuple(class_names)


@attrs.frozen(kw_only=True, eq=False, field_transformer=annotated_fields)
class Predictor:
    """A trained model with the test-time augmentation and temperature it predicts with.

    Every prediction fashionkit makes as a run made it goes through one predictor:
    ``fashionkit evaluate``, ``predict`` and ``report`` get theirs from
    :meth:`fashionkit.runs.Run.predictor`, the scikit-learn estimator and
    :meth:`fashionkit.TrainResult.predictor` from the training result, and :func:`predict` and
    :func:`evaluate` build one from their arguments.

    Args:
        model: A trained ``keras.Model`` taking ``(784,)`` or ``(28, 28, 1)`` inputs, with a
            softmax output.
        tta: Flip test-time augmentation: average the probabilities of each image and its
            mirror image. Defaults to ``False``.
        temperature: Rescale the probabilities by this calibration temperature (the classes
            do not change). Defaults to 1.0 (as the model gives them).
        class_names: Names in label order. Defaults to
            :data:`~fashionkit.datasets.CLASS_NAMES`.

    Raises:
        ArgumentError: ``model`` is not a Keras model, ``tta`` is not a bool, the temperature
            is not a positive finite number, or the class names are not at least two strings.

    Example:
        >>> predictor = Predictor(model=result.model, tta=True)  # doctest: +SKIP
        >>> predictor.predict(data.test.images[:3]).names  # doctest: +SKIP
        ('Ankle boot', 'Pullover', 'Trouser')
    """

    model: Any = attrs.field(validator=field_validator(KerasModel()))
    tta: bool = False
    temperature: float = attrs.field(default=1.0, validator=field_validator(TEMPERATURE))
    class_names: tuple[str, ...] = attrs.field(
        default=CLASS_NAMES,
        converter=_names,
        validator=field_validator(CheckedBy("its converter, before it makes a tuple")),
    )

    @params(images=IMAGES, batch_size=BATCH_SIZE)
    def probabilities(self, images: object, *, batch_size: int = 256) -> NDArray[np.float32]:
        """The ``(N, num_classes)`` probabilities of the images, TTA and temperature applied.

        Raises:
            InputValidationError: As :meth:`predict`.
        """
        return self.predict(images, batch_size=batch_size).probabilities

    @params(images=IMAGES, batch_size=BATCH_SIZE)
    def predict(self, images: object, *, batch_size: int = 256) -> Prediction:
        """Classify one ``(28, 28)`` uint8 image or a batch ``(N, 28, 28)``.

        Args:
            images: uint8 pixels as loaded from Fashion-MNIST (or floats already in
                ``[0, 1]``); see :func:`~fashionkit.preprocessing.check_images`.
            batch_size: Images per forward pass. Defaults to 256.

        Returns:
            Class indices, names and probabilities.

        Raises:
            InputValidationError: Images of the wrong shape or dtype (nothing is resized), a
                model whose output does not match the class names, or one whose outputs are
                not probabilities (NaN, values outside ``[0, 1]``, or rows that do not sum to 1
                within 0.01: no softmax output).
        """
        names = self.class_names
        x = check_images(images, allow_float=True, nonempty=True)
        raw = predict_in_batches(
            self.model, x, layout=model_layout(self.model), batch_size=batch_size, tta=self.tta
        )
        if raw.size and raw.shape[1] != len(names):
            raise InputValidationError(
                f"The model predicts {raw.shape[1]} classes but {len(names)} class names were "
                f"given."
            )
        checked = check_probabilities(
            raw, rows=len(x), num_classes=len(names), name="the model's outputs"
        )
        classes = checked.argmax(axis=1) if len(x) else np.zeros(0, np.intp)  # before scaling
        return Prediction(
            classes=classes,
            names=tuple(names[int(c)] for c in classes),
            probabilities=apply_temperature(checked, self.temperature),
            tta=self.tta,
            temperature=self.temperature,
        )

    @params(images=IMAGES, labels=LABELS_OR_ROWS, batch_size=BATCH_SIZE)
    def evaluate(
        self, images: object, labels: object, *, split: str = "test", batch_size: int = 256
    ) -> EvaluationReport:
        """Evaluate on labelled images: the report :func:`evaluate` returns.

        Raises:
            InputValidationError: Bad images or labels, no images, different lengths, or
                outputs that are not probabilities.
        """
        evaluator = Evaluator(
            check_images(images, allow_float=True, nonempty=True),
            labels,
            split=split,
            class_names=self.class_names,
            batch_size=batch_size,
            tta=self.tta,
        )
        return evaluator(self.model, temperature=self.temperature)


@params(
    model=KerasModel(),
    images=IMAGES,
    class_names=CLASS_NAMES_RULE,
    batch_size=BATCH_SIZE,
    temperature=TEMPERATURE,
)
def predict(
    model: Any,
    images: object,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    batch_size: int = 256,
    tta: bool = False,
    temperature: float = 1.0,
) -> Prediction:
    """Classify one ``(28, 28)`` uint8 image or a batch ``(N, 28, 28)``.

    Args:
        model: A trained ``keras.Model`` taking ``(784,)`` or ``(28, 28, 1)`` inputs.
        images: uint8 pixels as loaded from Fashion-MNIST (or floats already in ``[0, 1]``).
        class_names: Names to report, in label order. Defaults to
            :data:`~fashionkit.datasets.CLASS_NAMES`.
        batch_size: Images per forward pass. Defaults to 256.
        tta: Flip test-time augmentation: average the probabilities of each image and its mirror
            image. Defaults to ``False``.
        temperature: Rescale the probabilities by this temperature (a calibrated run's
            :attr:`Calibration.temperature <fashionkit.calibration.Calibration.temperature>`);
            the classes do not change. Defaults to 1.0 (as the model gives them).

    Returns:
        Class indices, names and probabilities.

    Raises:
        InputValidationError: Images of the wrong shape or dtype (nothing is resized), a model
            whose output does not match ``class_names``, or one whose outputs are not
            probabilities (NaN, values outside ``[0, 1]``, or rows that do not sum to 1 within
            0.01: no softmax output).
        ArgumentError: An argument of the wrong type or range: no Keras model, a temperature
            that is not a positive finite number, fewer than two class names, a batch size
            below 1.

    Example:
        >>> result = fashionkit.train()  # doctest: +SKIP
        >>> predict(result.model, data.test.images[0]).names  # doctest: +SKIP
        ('Ankle boot',)
    """
    predictor = Predictor(
        model=model, tta=tta, temperature=temperature, class_names=tuple(class_names)
    )
    return predictor.predict(images, batch_size=batch_size)


@params(
    model=KerasModel(),
    images=IMAGES,
    labels=LABELS_OR_ROWS,
    class_names=CLASS_NAMES_RULE,
    batch_size=BATCH_SIZE,
    temperature=TEMPERATURE,
)
def evaluate(
    model: Any,
    images: object,
    labels: object,
    *,
    split: str = "test",
    class_names: Sequence[str] = CLASS_NAMES,
    batch_size: int = 256,
    tta: bool = False,
    temperature: float = 1.0,
) -> EvaluationReport:
    """Evaluate a model on labelled images and return a typed report.

    Args:
        model: A trained ``keras.Model`` with a softmax output.
        images: uint8 images ``(N, 28, 28)`` (see :func:`~fashionkit.preprocessing.check_images`).
        labels: Integer labels ``(N,)`` or one-hot rows ``(N, 10)``.
        split: Name recorded in the report. Defaults to ``"test"``.
        class_names: Names in label order. Defaults to :data:`~fashionkit.datasets.CLASS_NAMES`.
        batch_size: Images per forward pass. Defaults to 256.
        tta: Flip test-time augmentation: average the probabilities of each image and its mirror
            image; the report records it. Defaults to ``False``.
        temperature: Rescale the probabilities by this temperature before scoring (see
            :mod:`fashionkit.calibration`); the report records it. Defaults to 1.0.

    Returns:
        Loss, accuracy, expected calibration error, per-class precision/recall/F1 and the
        confusion matrix.

    Raises:
        InputValidationError: Bad images or labels, different lengths, or a model whose outputs
            are not probabilities (see :func:`predict`).
        ArgumentError: An argument of the wrong type or range (see :func:`predict`).

    Example:
        >>> report = evaluate(model, data.test.images, data.test.labels)  # doctest: +SKIP
        >>> print(report.to_text())  # doctest: +SKIP
    """
    predictor = Predictor(
        model=model, tta=tta, temperature=temperature, class_names=tuple(class_names)
    )
    return predictor.evaluate(images, labels, split=split, batch_size=batch_size)
