"""Calibrated probabilities: temperature scaling and the expected calibration error.

A network trained to low loss is often over-confident: among the images it labels with 99%
confidence, fewer than 99% are right. **Temperature scaling** fixes that with one number
fitted after training: the probabilities ``p`` become ``softmax(log(p) / T)``, which for a
softmax output is the same as dividing its logits by ``T``. ``T > 1`` softens over-confident
outputs, ``T < 1`` sharpens timid ones; the arg-max, and so the accuracy, does not change
(fashionkit takes the classes from the model's own probabilities, so that not even rounding
can move a near tie).
``T`` is chosen to minimise the cross-entropy on held-out images (the validation split), so
the test split stays an honest judge.

The **expected calibration error** (ECE) measures the gap: the images are put into
``bins`` equal-width bins by their top probability (the confidence), and ECE is the mean over
bins of ``|accuracy - confidence|`` weighted by the share of images in the bin. A perfectly
calibrated model has ECE 0.

Everything here works on plain arrays; :func:`fashionkit.train` with
``TrainConfig(calibrate=True)`` fits the temperature after training and stores it in the run
directory (``calibration.json``), and :func:`~fashionkit.predict`, :func:`~fashionkit.evaluate`
and the exported models apply it.

Example:
    >>> import numpy as np
    >>> probs = np.array([[0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.99, 0.01]])
    >>> labels = np.array([0, 1, 1, 0])  # three right out of four, each at 99%
    >>> round(expected_calibration_error(probs, labels), 2)
    0.24
    >>> t = fit_temperature(probs, labels)
    >>> t > 1  # over-confident: the fitted temperature softens the outputs
    True
    >>> softened = apply_temperature(probs, t)
    >>> round(float(softened[0, 0]), 2)  # close to the true 3-in-4
    0.75
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from fashionkit import _html, _schema
from fashionkit._validation import (
    ArrayLike,
    InstanceOf,
    Interval,
    annotated_fields,
    check_labels,
    check_probabilities,
    field_validator,
    params,
)
from fashionkit.exceptions import InputValidationError
from fashionkit.preprocessing import LABELS

__all__ = [
    "DEFAULT_BINS",
    "Calibration",
    "CalibrationScores",
    "ReliabilityBins",
    "apply_temperature",
    "calibrate",
    "check_temperature",
    "expected_calibration_error",
    "fit_temperature",
    "reliability_bins",
]

#: Confidence bins of the expected calibration error and the reliability diagram.
DEFAULT_BINS = 15

# The search range of the fitted temperature; a fit at either end is reported as it is.
_MIN_TEMPERATURE = 0.05
_MAX_TEMPERATURE = 20.0
# log() of a probability that rounded to 0 in float32: the smallest normal float32.
_TINY = float(np.finfo(np.float32).tiny)
_EPSILON = 1e-7  # Keras's clip value for probabilities in cross-entropy


#: What a temperature is (1.0 leaves the probabilities as they are).
TEMPERATURE = Interval("number", gt=0)
#: What a number of confidence bins is.
BINS = Interval("int", ge=1, le=1000)
#: What ``probabilities`` parameters accept (checked inside by ``check_probabilities``).
PROBABILITIES = ArrayLike("probabilities (N, num_classes), each row summing to 1")
#: A measured figure (a loss, an accuracy, an ECE): NaN where it is undefined, as without images.
METRIC = InstanceOf(
    (int, float, np.integer, np.floating), "a number (NaN where undefined, as without images)"
)


@params(temperature=TEMPERATURE)
def check_temperature(temperature: object) -> float:
    """Return ``temperature`` as a float, or raise if it is not a positive finite number.

    Raises:
        ArgumentError: Not a finite number greater than 0 (1.0 leaves the probabilities as
            they are).

    Example:
        >>> check_temperature(2)
        2.0
    """
    return float(temperature)  # type: ignore[arg-type]  # a real number, as declared


def _shape(values: object) -> tuple[int, ...]:
    try:
        return tuple(np.asarray(values).shape)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise InputValidationError(
            f"probabilities must be an array of shape (N, num_classes); got {error}"
        ) from None


def _arrays(probabilities: object, labels: object) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """Validate probabilities ``(N, C)`` and integer labels ``(N,)`` that go with them.

    Every row must be a probability distribution (see ``check_probabilities``): finite, within
    ``[0, 1]`` and summing to 1 within 0.01.
    """
    shape = _shape(probabilities)
    if len(shape) != 2 or shape[1] < 2:
        raise InputValidationError(
            f"probabilities must have shape (N, num_classes) with at least two classes; got "
            f"shape {shape}."
        )
    y = check_labels(labels, num_classes=shape[1]).astype(np.intp)
    probs = check_probabilities(probabilities, rows=len(y), num_classes=shape[1])
    return probs, y


@params(probabilities=PROBABILITIES, temperature=TEMPERATURE)
def apply_temperature(probabilities: object, temperature: float) -> NDArray[np.float32]:
    """Rescale softmax outputs by a temperature: ``softmax(log(p) / temperature)``.

    Rows keep their arg-max. A temperature of exactly 1.0 returns the probabilities unchanged
    (as float32), so an uncalibrated model's reports do not move by a rounding error.

    Args:
        probabilities: ``(N, num_classes)`` softmax outputs: each row in ``[0, 1]`` and summing
            to 1 (within 0.01, which float16 and bfloat16 outputs keep).
        temperature: A finite number greater than 0.

    Returns:
        ``(N, num_classes)`` float32 probabilities whose rows sum to 1.

    Raises:
        InputValidationError: Probabilities not of shape ``(N, C)``, with NaN, infinite or
            negative values, values above 1 or rows that do not sum to 1 (logits or sigmoid
            scores, for example).
        ArgumentError: A temperature that is not a positive finite number.

    Example:
        >>> apply_temperature([[0.8, 0.2]], 2.0).round(3)
        array([[0.667, 0.333]], dtype=float32)
    """
    t = float(temperature)
    shape = _shape(probabilities)
    if len(shape) != 2:
        raise InputValidationError(
            f"probabilities must have shape (N, num_classes); got shape {shape}."
        )
    probs = check_probabilities(probabilities, rows=shape[0], num_classes=shape[1])
    if t == 1.0:
        return probs.astype(np.float32)
    return _softmax(_log(probs) / t).astype(np.float32)


def _log(probs: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.log(np.maximum(probs, _TINY))
    return out


def _softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def mean_cross_entropy(probs: NDArray[np.float64], y: NDArray[Any]) -> float:
    """The loss every report gives: mean cross-entropy against integer labels.

    Probabilities (already validated) are clipped to ``[1e-7, 1 - 1e-7]`` as Keras clips them;
    NaN without images. See :mod:`fashionkit.evaluation`.
    """
    if not len(y):
        return float("nan")
    picked = np.clip(probs[np.arange(len(y)), y], _EPSILON, 1.0 - _EPSILON)
    return float(-np.log(picked).mean())


@params(probabilities=PROBABILITIES, labels=LABELS)
def fit_temperature(probabilities: object, labels: object) -> float:
    """The temperature that minimises the cross-entropy of ``probabilities`` on ``labels``.

    The cross-entropy of ``softmax(log(p) * b)`` is convex in ``b = 1 / T``, and its slope is
    ``mean(E_q[log p] - log p_label)``; the slope's root is found by bisection on ``b``
    (100 halvings), within temperatures from 0.05 to 20. Deterministic, no random start.

    Args:
        probabilities: ``(N, num_classes)`` softmax outputs of held-out images (never the
            images the calibrated model will be judged on); each row sums to 1.
        labels: ``(N,)`` integer labels.

    Returns:
        The temperature, a float in ``[0.05, 20]``.

    Raises:
        InputValidationError: Probabilities that are not one distribution per row (the wrong
            shape, NaN, infinite or negative values, values above 1, rows that do not sum to 1
            within 0.01), labels out of range or of another length, or no images.

    Example:
        >>> import numpy as np
        >>> probs = np.array([[0.6, 0.4], [0.6, 0.4], [0.4, 0.6], [0.6, 0.4]])
        >>> fit_temperature(probs, [0, 0, 1, 0]) < 1  # always right but timid: sharpen
        True
    """
    probs, y = _arrays(probabilities, labels)
    if not len(y):
        raise InputValidationError("fit_temperature needs at least one image; got none.")
    logp = _log(probs)
    picked = logp[np.arange(len(y)), y]

    def slope(b: float) -> float:
        q = _softmax(logp * b)
        return float(((q * logp).sum(axis=1) - picked).mean())

    low, high = 1.0 / _MAX_TEMPERATURE, 1.0 / _MIN_TEMPERATURE
    if slope(low) >= 0:
        return _MAX_TEMPERATURE
    if slope(high) <= 0:
        return _MIN_TEMPERATURE
    for _ in range(100):
        middle = 0.5 * (low + high)
        if slope(middle) < 0:
            low = middle
        else:
            high = middle
    return float(1.0 / (0.5 * (low + high)))


@attrs.frozen(kw_only=True, eq=False, field_transformer=annotated_fields)
class ReliabilityBins:
    """Accuracy against confidence in equal-width confidence bins: a reliability diagram.

    Attributes:
        edges: ``bins + 1`` bin edges from 0 to 1.
        counts: Images whose confidence (top probability) falls in each bin.
        confidence: Mean confidence of each bin (NaN for an empty bin).
        accuracy: Share of each bin's images classified correctly (NaN for an empty bin).
    """

    edges: NDArray[np.float64]
    counts: NDArray[np.int64]
    confidence: NDArray[np.float64]
    accuracy: NDArray[np.float64]

    @property
    def ece(self) -> float:
        """The expected calibration error of these bins (NaN without images)."""
        total = int(self.counts.sum())
        if not total:
            return float("nan")
        filled = self.counts > 0
        gaps = np.abs(self.accuracy[filled] - self.confidence[filled])
        return float((gaps * self.counts[filled]).sum() / total)


@params(probabilities=PROBABILITIES, labels=LABELS, bins=BINS)
def reliability_bins(
    probabilities: object, labels: object, *, bins: int = DEFAULT_BINS
) -> ReliabilityBins:
    """Group images by confidence into ``bins`` equal-width bins; see :class:`ReliabilityBins`.

    A confidence exactly on an edge belongs to the bin below it, as in the usual definition
    (bins ``(0, 1/B], (1/B, 2/B], ...``).

    Raises:
        InputValidationError: Probabilities that are not one distribution per row (the wrong
            shape, NaN, infinite or negative values, values above 1, rows that do not sum to 1
            within 0.01), labels out of range or of another length, or bad ``bins``.

    Example:
        >>> rb = reliability_bins([[0.95, 0.05], [0.3, 0.7]], [0, 0], bins=2)
        >>> rb.counts.tolist(), rb.accuracy.tolist()
        ([0, 2], [nan, 0.5])
    """
    n_bins = int(bins)
    probs, y = _arrays(probabilities, labels)
    confidence = probs.max(axis=1) if len(y) else np.zeros(0)
    correct = (probs.argmax(axis=1) == y) if len(y) else np.zeros(0, bool)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.ceil(confidence * n_bins).astype(np.intp) - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, weights=confidence, minlength=n_bins) / counts
        accuracy = np.bincount(which, weights=correct.astype(float), minlength=n_bins) / counts
    return ReliabilityBins(edges=edges, counts=counts, confidence=mean_conf, accuracy=accuracy)


@params(probabilities=PROBABILITIES, labels=LABELS, bins=BINS)
def expected_calibration_error(
    probabilities: object, labels: object, *, bins: int = DEFAULT_BINS
) -> float:
    """The expected calibration error (ECE) with ``bins`` equal-width confidence bins.

    Args:
        probabilities: ``(N, num_classes)`` softmax outputs: each row in ``[0, 1]`` and summing
            to 1 (within 0.01).
        labels: ``(N,)`` integer labels.
        bins: Number of bins. Defaults to 15, the usual choice.

    Returns:
        The ECE, from 0 (calibrated) up to 1; NaN without images.

    Raises:
        InputValidationError: Probabilities that are not one distribution per row (the wrong
            shape, NaN, infinite or negative values, values above 1, rows that do not sum to 1
            within 0.01), labels out of range or of another length, or bad ``bins``.

    Example:
        >>> expected_calibration_error([[0.9, 0.1], [0.9, 0.1]], [0, 1])  # 50% right at 90%
        0.4
    """
    return reliability_bins(probabilities, labels, bins=bins).ece


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class CalibrationScores:
    """Calibration of one split before and after temperature scaling.

    Attributes:
        split: The split's name.
        ece_before: Expected calibration error of the model's own probabilities.
        ece_after: Expected calibration error after temperature scaling.
        loss_before: Cross-entropy (as reports compute it) before.
        loss_after: Cross-entropy after.
    """

    split: str
    ece_before: float = attrs.field(validator=field_validator(METRIC))
    ece_after: float = attrs.field(validator=field_validator(METRIC))
    loss_before: float = attrs.field(validator=field_validator(METRIC))
    loss_after: float = attrs.field(validator=field_validator(METRIC))


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class Calibration:
    """A fitted temperature and what it did; a run directory keeps it as ``calibration.json``.

    Attributes:
        temperature: Divide the logits by this (see :func:`apply_temperature`).
        bins: Confidence bins of the ECE figures.
        fitted_on: The split the temperature was fitted on (``"validation"``).
        scores: Before/after figures of the fitted split and of any split scored later
            (training adds the test split).
    """

    temperature: float = attrs.field(validator=field_validator(TEMPERATURE))
    bins: int = attrs.field(default=DEFAULT_BINS, validator=field_validator(BINS))
    fitted_on: str = "validation"
    scores: tuple[CalibrationScores, ...] = ()

    @params(probabilities=PROBABILITIES, labels=LABELS)
    def score(self, probabilities: object, labels: object, *, split: str) -> Calibration:
        """Return a copy with the before/after figures of one more split added.

        Raises:
            InputValidationError: Probabilities that are not one distribution per row (as
                :func:`expected_calibration_error` checks them), or bad labels.
        """
        return attrs.evolve(
            self,
            scores=(
                *self.scores,
                _scores(probabilities, labels, self.temperature, split=split, bins=self.bins),
            ),
        )

    @params()
    def scores_of(self, split: str) -> CalibrationScores | None:
        """The figures of ``split``, or ``None`` if it was not scored."""
        return next((s for s in self.scores if s.split == split), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the layout of ``calibration.json``."""
        data: dict[str, Any] = _schema.to_data(self)
        return data

    @classmethod
    @params()
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            KeyError, TypeError, ValueError: Missing or malformed fields (a temperature that
                is not above 0 or bins outside 1..1000 among them).
        """
        return _schema.from_data(data, cls)

    def to_text(self) -> str:
        """One line per scored split: ECE and loss before → after."""
        lines = [f"temperature {self.temperature:.4f} (fitted on {self.fitted_on})"]
        for s in self.scores:
            lines.append(
                f"{s.split}: ECE {s.ece_before:.4f} -> {s.ece_after:.4f}, "
                f"loss {s.loss_before:.4f} -> {s.loss_after:.4f}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        """The temperature and each split's ECE and loss before and after, as HTML."""
        return _html.caption(self.to_text().splitlines()[0]) + _html.table(
            ["split", "ECE before", "ECE after", "loss before", "loss after"],
            (
                (s.split, s.ece_before, s.ece_after, s.loss_before, s.loss_after)
                for s in self.scores
            ),
            row_header=True,
        )


def _scores(
    probabilities: object, labels: object, temperature: float, *, split: str, bins: int
) -> CalibrationScores:
    probs, y = _arrays(probabilities, labels)
    after = apply_temperature(probs, temperature).astype(np.float64)
    return CalibrationScores(
        split=split,
        ece_before=expected_calibration_error(probs, y, bins=bins),
        ece_after=expected_calibration_error(after, y, bins=bins),
        loss_before=mean_cross_entropy(probs, y),
        loss_after=mean_cross_entropy(after, y),
    )


@params(probabilities=PROBABILITIES, labels=LABELS, bins=BINS)
def calibrate(
    probabilities: object, labels: object, *, split: str = "validation", bins: int = DEFAULT_BINS
) -> Calibration:
    """Fit a temperature on held-out probabilities and score it there.

    Args:
        probabilities: ``(N, num_classes)`` softmax outputs of the held-out split; each row
            sums to 1.
        labels: ``(N,)`` integer labels.
        split: Name of the split, recorded as :attr:`Calibration.fitted_on`.
        bins: Confidence bins of the ECE figures. Defaults to 15.

    Returns:
        The temperature with the split's ECE and loss before and after.

    Raises:
        InputValidationError: Probabilities that are not one distribution per row (the wrong
            shape, NaN, infinite or negative values, values above 1, rows that do not sum to 1
            within 0.01), labels out of range or of another length, bad ``bins``, or no
            images.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = rng.integers(0, 2, 1000)
        >>> right = rng.random(1000) < 0.8  # 80% right, each at 99% confidence
        >>> top = np.where(right, labels, 1 - labels)
        >>> probs = np.where(top[:, None] == [0, 1], 0.99, 0.01)
        >>> c = calibrate(probs, labels)
        >>> s = c.scores_of("validation")
        >>> s.ece_before > 0.15 > 0.02 > s.ece_after
        True
    """
    temperature = fit_temperature(probabilities, labels)
    return Calibration(temperature=temperature, bins=int(bins), fitted_on=split).score(
        probabilities, labels, split=split
    )
