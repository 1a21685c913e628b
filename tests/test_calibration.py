"""Temperature scaling and the expected calibration error, on arrays and through train()."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import fashionkit
from fashionkit.calibration import (
    Calibration,
    apply_temperature,
    calibrate,
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
)
from fashionkit.evaluation import report_from_probabilities
from fashionkit.exceptions import InputValidationError, RunDirError
from tests.helpers import CALIBRATED_LINEAR, SMALL, TinyRunFactory, copy_run


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def over_confident(n: int = 4000, *, factor: float = 3.0, seed: int = 0) -> tuple:
    """Labels drawn from softmax(z) (calibrated), and the probabilities softmax(factor * z).

    A model that reports softmax(factor * z) is over-confident by exactly ``factor``: the
    temperature that calibrates it is ``factor``.
    """
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 1.5, size=(n, 10))
    true = _softmax(z)
    labels = np.array([rng.choice(10, p=row) for row in true])
    return _softmax(factor * z), labels


def test_ece_of_a_hand_computed_case() -> None:
    """It gives ECE 0.15 and the expected bin counts, accuracy and confidence on a worked case."""
    # Bin (0.6, 0.8]: two images at 0.7, one right -> gap 0.2; bin (0.8, 1]: two at 0.9, both
    # right -> gap 0.1. ECE = (2 * 0.2 + 2 * 0.1) / 4 = 0.15.
    probs = np.array([[0.7, 0.3], [0.3, 0.7], [0.9, 0.1], [0.1, 0.9]])
    labels = np.array([0, 0, 0, 1])
    assert expected_calibration_error(probs, labels, bins=5) == pytest.approx(0.15)
    bins = reliability_bins(probs, labels, bins=5)
    assert bins.counts.tolist() == [0, 0, 0, 2, 2]
    assert bins.accuracy[3] == pytest.approx(0.5)
    assert bins.confidence[4] == pytest.approx(0.9)


def test_confidence_on_an_edge_goes_to_the_bin_below() -> None:
    """It puts a confidence lying exactly on a bin edge into the bin below that edge."""
    bins = reliability_bins(np.array([[0.5, 0.5], [1.0, 0.0]]), np.array([0, 0]), bins=2)
    assert bins.counts.tolist() == [1, 1]


def test_a_perfectly_calibrated_sample_has_small_ece() -> None:
    """It gives an ECE under 0.03 for probabilities that are calibrated by construction."""
    probs, labels = over_confident(factor=1.0)
    assert expected_calibration_error(probs, labels) < 0.03


def test_fit_recovers_the_over_confidence_factor() -> None:
    """It fits a temperature within 10% of the over-confidence factor, for 3.0 and for 0.5."""
    probs, labels = over_confident(factor=3.0)
    assert fit_temperature(probs, labels) == pytest.approx(3.0, rel=0.1)
    probs, labels = over_confident(factor=0.5)
    assert fit_temperature(probs, labels) == pytest.approx(0.5, rel=0.1)


def test_calibrate_lowers_ece_and_loss_on_held_out_images() -> None:
    """It lowers ECE below 0.03 and the loss on held-out images, and keeps the scores per split."""
    fit_probs, fit_labels = over_confident(seed=0)
    new_probs, new_labels = over_confident(seed=1)
    calibration = calibrate(fit_probs, fit_labels).score(new_probs, new_labels, split="test")
    test = calibration.scores_of("test")
    assert test is not None
    assert test.ece_before > 0.1
    assert test.ece_after < 0.03
    assert test.loss_after < test.loss_before
    assert calibration.scores_of("validation") is not None
    assert calibration.scores_of("other") is None
    assert "test: ECE" in calibration.to_text()


def test_apply_temperature_keeps_the_argmax_and_normalises() -> None:
    """It keeps the argmax, sums rows to 1 in float32, changes nothing at 1.0 and divides logits."""
    probs, _ = over_confident(n=200)
    for t in (0.3, 1.0, 2.5):
        out = apply_temperature(probs, t)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out.argmax(axis=1), probs.argmax(axis=1))
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    # Exactly 1.0 changes nothing (beyond the cast to float32).
    np.testing.assert_array_equal(apply_temperature(probs, 1.0), probs.astype(np.float32))
    # The temperature divides the logits.
    z = np.array([[2.0, 0.0, -1.0]])
    np.testing.assert_allclose(apply_temperature(_softmax(z), 2.0), _softmax(z / 2), rtol=1e-6)


def test_zero_probabilities_stay_finite() -> None:
    """It keeps zero probabilities finite under a temperature, with the top class above 0.99."""
    out = apply_temperature(np.array([[1.0, 0.0, 0.0]]), 4.0)
    assert np.isfinite(out).all()
    assert out[0, 0] > 0.99


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "2", None])
def test_bad_temperatures_are_refused(bad: object) -> None:
    """It refuses zero, negative, NaN, infinite, bool, string and None temperatures."""
    with pytest.raises(InputValidationError, match="temperature must be"):
        apply_temperature(np.array([[0.5, 0.5]]), bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("probs", "labels", "match"),
    [
        (np.array([0.5, 0.5]), [0], "shape"),
        (np.array([[0.5, 0.7]]) * 2, [0], r"\[0, 1\]"),
        (np.array([[0.5, 0.5]]), [2], "label"),
        (np.zeros((0, 3)), [], "at least one image"),
    ],
)
def test_bad_arrays_are_refused(probs: np.ndarray, labels: list, match: str) -> None:
    """It refuses a 1-d array, values outside [0, 1], an out-of-range label and an empty array."""
    with pytest.raises(InputValidationError, match=match):
        fit_temperature(probs, labels)


# Every public function that takes probabilities from a user, called with the labels [0, 1].
_TAKES_PROBABILITIES = {
    "calibrate": lambda p: calibrate(p, [0, 1]),
    "fit_temperature": lambda p: fit_temperature(p, [0, 1]),
    "expected_calibration_error": lambda p: expected_calibration_error(p, [0, 1]),
    "reliability_bins": lambda p: reliability_bins(p, [0, 1]),
    "apply_temperature": lambda p: apply_temperature(p, 2.0),
    "apply_temperature-1": lambda p: apply_temperature(p, 1.0),
    "Calibration.score": lambda p: Calibration(temperature=2.0).score(p, [0, 1], split="test"),
    "report_from_probabilities": lambda p: report_from_probabilities(
        p, [0, 1], split="x", class_names=("a", "b")
    ),
    "report_from_probabilities-T": lambda p: report_from_probabilities(
        p, [0, 1], split="x", class_names=("a", "b"), temperature=2.0
    ),
}

_NOT_DISTRIBUTIONS = {
    "sum-above-1": ([[0.9, 0.1], [0.7, 0.7]], "each row of probabilities must sum to 1"),
    "sum-below-1": ([[0.9, 0.1], [0.3, 0.3]], "row 1 sums to 0.6"),
    "all-zero-row": ([[0.0, 0.0], [0.3, 0.7]], "row 0 sums to 0,"),
    "negative": ([[1.2, -0.2], [0.3, 0.7]], "must lie in [0, 1]; got values from -0.2"),
    "logits": ([[3.0, -1.0], [0.5, 2.0]], "These look like logits"),
    "nan": ([[np.nan, 0.5], [0.3, 0.7]], "must be finite; row 0 holds NaN"),
    "inf": ([[0.5, 0.5], [np.inf, 0.0]], "must be finite; row 1 holds NaN or infinity"),
    "3-d": (np.full((2, 2, 1), 0.5), "shape"),
    "1-d": ([0.5, 0.5], "shape"),
}


@pytest.mark.parametrize("bad", list(_NOT_DISTRIBUTIONS), ids=list(_NOT_DISTRIBUTIONS))
@pytest.mark.parametrize("call", list(_TAKES_PROBABILITIES), ids=list(_TAKES_PROBABILITIES))
def test_every_entry_point_refuses_what_is_not_a_distribution(call: str, bad: str) -> None:
    """It raises InputValidationError saying what is wrong, wherever probabilities go in."""
    probs, words = _NOT_DISTRIBUTIONS[bad]
    with pytest.raises(InputValidationError) as info:
        _TAKES_PROBABILITIES[call](np.asarray(probs, dtype=np.float64))
    assert words in str(info.value)


@pytest.mark.parametrize("call", list(_TAKES_PROBABILITIES), ids=list(_TAKES_PROBABILITIES))
def test_every_entry_point_accepts_bfloat16_rounded_softmax(call: str) -> None:
    """It accepts softmax outputs rounded to bfloat16, as a mixed-precision model gives them."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    probs = np.array([[0.998, 0.002], [0.0037, 0.9963]], np.float32)
    rounded = probs.astype(ml_dtypes.bfloat16).astype(np.float32)
    assert abs(float(rounded[0].sum()) - 1) > 1e-3  # rounding moved the sum by 0.002
    _TAKES_PROBABILITIES[call](rounded)


def test_bad_bins_are_refused() -> None:
    """It raises InputValidationError naming bins when bins is zero."""
    with pytest.raises(InputValidationError, match="bins"):
        expected_calibration_error([[0.5, 0.5]], [0], bins=0)


def test_calibration_round_trips_and_rejects_a_bad_temperature() -> None:
    """It round-trips a Calibration through JSON and refuses a negative temperature in from_dict."""
    calibration = calibrate(*over_confident(n=300))
    assert Calibration.from_dict(json.loads(json.dumps(calibration.to_dict()))) == calibration
    data = calibration.to_dict()
    data["temperature"] = -1.0
    with pytest.raises(InputValidationError):
        Calibration.from_dict(data)


def test_reports_carry_ece_and_the_temperature() -> None:
    """It puts ECE and the temperature on reports, and reads older reports with the defaults."""
    probs, labels = over_confident(n=500)
    plain = report_from_probabilities(probs, labels, split="x")
    assert plain.temperature == 1.0
    assert plain.ece == pytest.approx(expected_calibration_error(probs, labels))
    scaled = report_from_probabilities(probs, labels, split="x", temperature=3.0)
    assert scaled.temperature == 3.0
    assert scaled.accuracy == plain.accuracy
    assert scaled.ece is not None
    assert scaled.ece < plain.ece
    assert scaled.loss < plain.loss
    assert "temperature 3.0000" in scaled.to_text()
    # Reports written before the fields existed read back with the defaults.
    old = plain.to_dict()
    del old["ece"], old["temperature"]
    back = fashionkit.EvaluationReport.from_dict(old)
    assert back.ece is None
    assert back.temperature == 1.0


def test_predict_and_evaluate_apply_the_temperature() -> None:
    """It applies the temperature in predict and evaluate, keeps the classes, and refuses zero."""
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    model.layers[0].set_weights([np.random.default_rng(0).normal(0, 0.3, (784, 10)), np.zeros(10)])
    images = np.random.default_rng(1).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    plain = fashionkit.predict(model, images)
    hot = fashionkit.predict(model, images, temperature=0.5)
    np.testing.assert_allclose(
        hot.probabilities, apply_temperature(plain.probabilities, 0.5), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_array_equal(hot.classes, plain.classes)
    assert hot.temperature == 0.5
    labels = np.arange(20) % 10
    report = fashionkit.evaluate(model, images, labels, temperature=0.5)
    assert report.temperature == 0.5
    with pytest.raises(InputValidationError, match="temperature"):
        fashionkit.predict(model, images, temperature=0)


def test_train_with_calibrate_fits_stores_and_applies(
    tiny_dataset: fashionkit.FashionMNIST, tiny_run: TinyRunFactory
) -> None:
    """It fits a temperature in train, applies it to the reports and stores it for load_run."""
    trained = tiny_run(CALIBRATED_LINEAR)  # TrainConfig(verbose=0, epochs=3, calibrate=True)
    run, result = trained.path, trained.result
    assert run is not None
    assert result is not None
    calibration = result.calibration
    assert calibration is not None
    assert result.validation.temperature == calibration.temperature
    assert result.test.temperature == calibration.temperature
    validation = calibration.scores_of("validation")
    assert validation is not None
    assert validation.loss_after <= validation.loss_before + 1e-9  # fitted to minimise it
    test_scores = calibration.scores_of("test")
    assert test_scores is not None
    assert result.test.ece == pytest.approx(test_scores.ece_after)
    # Stored in the run directory and read back by load_run.
    record = fashionkit.load_run(run)
    assert record.calibration == calibration
    assert record.temperature == calibration.temperature
    assert json.loads((run / "summary.json").read_text())["calibration"]["temperature"] == (
        calibration.temperature
    )
    # The stored test report is the calibrated evaluation of the stored model.
    again = fashionkit.evaluate(
        record.model,
        tiny_dataset.test.images,
        tiny_dataset.test.labels,
        temperature=record.temperature,
    )
    assert again.loss == pytest.approx(result.test.loss, rel=1e-5)
    assert "calibrated: temperature" in result.summary()


def test_train_without_calibrate_writes_no_calibration(tiny_run: TinyRunFactory) -> None:
    """It writes no calibration.json without calibrate, and the temperature stays 1.0."""
    trained = tiny_run(SMALL)  # a finished tiny run: calibrate is off by default
    run, result = trained.path, trained.result
    assert run is not None
    assert result is not None
    assert result.calibration is None
    assert result.test.temperature == 1.0
    assert result.test.ece is not None
    assert not (run / "calibration.json").exists()
    assert fashionkit.load_run(run).temperature == 1.0


def test_a_damaged_calibration_file_is_named(tiny_run: TinyRunFactory, tmp_path: Path) -> None:
    """It names calibration.json when the file holds a temperature that is not a number."""
    calibrated = tiny_run(CALIBRATED_LINEAR).path
    assert calibrated is not None
    run = copy_run(calibrated, tmp_path)
    (run / "calibration.json").write_text('{"temperature": "hot"}')
    with pytest.raises(RunDirError, match=r"calibration\.json"):
        fashionkit.load_run(run)


def test_a_temperature_never_moves_a_near_tie() -> None:
    """The classes come from the model's probabilities, not from the rounded rescaled ones."""
    tie = np.float32(0.45)
    above = np.nextafter(tie, np.float32(1))
    probs = np.array([[tie, above, 1 - tie - above]], dtype=np.float32)
    report = report_from_probabilities(
        probs, [1], split="x", class_names=("a", "b", "c"), temperature=20.0
    )
    assert report.accuracy == 1.0


def test_calibration_records_check_their_fields() -> None:
    """It raises ArgumentError naming the field for a bad temperature or bins, and keeps NaN ECE."""
    with pytest.raises(
        fashionkit.ArgumentError, match=r"^Calibration\.temperature must be a number > 0"
    ):
        Calibration(temperature=0.0)
    with pytest.raises(
        fashionkit.ArgumentError, match=r"^Calibration\.bins must be an integer >= 1"
    ):
        Calibration(temperature=1.5, bins=15.0)  # type: ignore[arg-type]
    empty = Calibration(temperature=1.5).score(np.zeros((0, 2)), [], split="test")
    scores = empty.scores_of("test")
    assert scores is not None
    assert np.isnan(scores.ece_before)  # no images: the ECE is undefined, not an error


def test_bins_given_as_a_float_are_refused() -> None:
    """It raises ArgumentError naming bins for 15.0 rather than using a float as a count."""
    with pytest.raises(
        fashionkit.ArgumentError, match=r"^bins must be an integer >= 1 and <= 1000; got 15\.0\."
    ):
        calibrate([[0.6, 0.4], [0.3, 0.7]], [0, 1], bins=15.0)  # type: ignore[arg-type]
