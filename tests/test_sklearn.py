"""The scikit-learn estimator: its parameters, validation, fitting, pickling and model selection."""

from __future__ import annotations

import inspect
import pickle
import re
from typing import Any

import attrs
import joblib
import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

import fashionkit
from fashionkit import sklearn as fk_sklearn
from fashionkit.config import AugmentConfig, OptimizerConfig, TrainConfig
from fashionkit.evaluation import predict
from fashionkit.exceptions import ConfigError, InputValidationError
from fashionkit.models import CNNConfig, LinearConfig, MLPConfig
from fashionkit.sklearn import PARAMETER_NAMES, FashionClassifier

#: A tiny, fast, silent config: the tutorial's one-layer network, 2 epochs.
QUICK: dict[str, Any] = {"model": LinearConfig(), "epochs": 2, "verbose": 0}


def band_images(labels: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Noisy dark uint8 images with a bright band whose position encodes the label (0..9)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, size=(len(labels), 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i, 2 * int(label) : 2 * int(label) + 3, :] = 230
    return images


@pytest.fixture(scope="module")
def bands() -> tuple[np.ndarray, np.ndarray]:
    """300 learnable images of 10 classes (30 each), shuffled."""
    labels = np.random.default_rng(1).permutation(np.arange(300) % 10)
    return band_images(labels), labels


@pytest.fixture(scope="module")
def fitted(bands: tuple[np.ndarray, np.ndarray]) -> FashionClassifier:
    """A classifier fitted once on ``bands``, shared by the tests that only read it."""
    return FashionClassifier(**QUICK).fit(*bands)


# --- scikit-learn's estimator checks ------------------------------------------------------------

_TABULAR = (
    "not applicable: the check fits tabular data (2 to 20 features of arbitrary floats), which "
    "is not 28x28 images, so fit refuses it before training"
)
#: The checks that cannot pass, and why. Every other check must pass, and these must fail
#: (strict xfail): a fix that makes one pass has to remove it from this list. The contract
#: these checks would test on images is tested below on image data.
EXPECTED_FAILED_CHECKS = {
    name: _TABULAR
    for name in (
        "check_classifier_data_not_an_array",
        "check_classifiers_classes",
        "check_classifiers_train",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_fit2d_predict1d",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_readonly_memmap_input",
        "check_supervised_y_2d",
    )
} | {
    "check_estimators_nan_inf": (
        "NaN and infinite X are refused, but the check then fits finite tabular data (3 "
        "features), which is not images"
    ),
    "check_estimators_empty_data_messages": (
        "X of 0 features is refused, but the check wants scikit-learn's wording 'while a "
        "minimum of N is required'; images need exactly 784 pixels, and the message says so"
    ),
    "check_dtype_object": (
        "the check expects an object array of floats (tabular, 10 features) to be accepted; "
        "fashionkit refuses object arrays"
    ),
    "check_parameters_default_constructible": (
        "the defaults of the nested parameters are TrainConfig's own frozen (immutable) attrs "
        "configs, a type the check does not know; they are stored unchanged (tested below)"
    ),
}


@parametrize_with_checks(
    [FashionClassifier(model=LinearConfig(), epochs=1, verbose=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
    xfail_strict=True,
)
def test_scikit_learn_estimator_checks(estimator: FashionClassifier, check: Any) -> None:
    """It passes every applicable scikit-learn check, and fails exactly the listed ones."""
    check(estimator)


# --- parameters ---------------------------------------------------------------------------------


def test_the_parameters_are_exactly_the_train_config_fields() -> None:
    """Its parameters are TrainConfig's fields, in order: a new field cannot be forgotten."""
    fields = tuple(f.name for f in attrs.fields(TrainConfig))
    assert fields == PARAMETER_NAMES
    assert tuple(FashionClassifier().get_params(deep=False)) == tuple(sorted(fields))
    assert tuple(inspect.signature(FashionClassifier).parameters) == fields


def test_the_defaults_are_train_config_defaults() -> None:
    """Every default equals TrainConfig's, and the default estimator's config is TrainConfig()."""
    defaults = TrainConfig()
    for name, parameter in inspect.signature(FashionClassifier).parameters.items():
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert parameter.default == getattr(defaults, name), name
    assert FashionClassifier().to_config() == defaults
    shallow = FashionClassifier().get_params(deep=False)
    assert shallow == {n: getattr(defaults, n) for n in PARAMETER_NAMES}


def test_parameters_are_stored_unchanged_and_converted_at_fit() -> None:
    """Names and mappings stay as given; to_config converts them as TrainConfig does."""
    data = {"validation_fraction": 0.1}
    clf = FashionClassifier(model="mlp", data=data)
    assert clf.get_params()["model"] == "mlp"
    assert clf.get_params()["data"] is data
    config = clf.to_config()
    assert config.model == MLPConfig()
    assert config.data.validation_fraction == 0.1


def test_get_and_set_params_round_trip() -> None:
    """set_params(**get_params()) is a no-op, and set_params takes whole nested configs."""
    clf = FashionClassifier(epochs=3, tta=True)
    params = clf.get_params()
    assert clf.set_params(**params).get_params() == params
    cnn = CNNConfig(filters=(8, 16))
    assert clf.set_params(model=cnn, batch_size=64) is clf
    assert clf.model is cnn
    assert clf.to_config() == TrainConfig(epochs=3, tta=True, model=cnn, batch_size=64)


def test_clone_keeps_the_parameters() -> None:
    """A clone is an unfitted estimator with equal parameters."""
    clf = FashionClassifier(model=MLPConfig(hidden_units=(16,)), optimizer={"name": "adam"})
    copy = clone(clf)
    assert copy is not clf
    assert copy.get_params() == clf.get_params()
    assert repr(copy) == repr(clf)


def test_set_params_sets_one_key_of_a_nested_config() -> None:
    """A name__key parameter evolves that config, keeping its other fields, in every form."""
    clf = FashionClassifier(optimizer=OptimizerConfig(name="adam"), model=CNNConfig())
    assert clf.set_params(optimizer__learning_rate=0.01, model__filters=[8]) is clf
    assert clf.optimizer == OptimizerConfig(name="adam", learning_rate=0.01)
    assert clf.model == CNNConfig(filters=(8,))
    data = {"validation_fraction": 0.1}
    clf.set_params(data=data, data__split_seed=3)  # whole first, then the key, as scikit-learn
    assert clf.data == {"validation_fraction": 0.1, "split_seed": 3}  # still a mapping
    assert data == {"validation_fraction": 0.1}  # the caller's mapping is not changed
    assert FashionClassifier(model="mlp").set_params(model__dropout=0.5).model == MLPConfig(
        dropout=0.5
    )


def test_a_nested_architecture_change_starts_from_its_defaults() -> None:
    """model__architecture to another architecture starts it afresh, whatever the key order."""
    clf = FashionClassifier(model=MLPConfig(hidden_units=(64,), dropout=0.5))
    clf.set_params(model__filters=(16,), model__architecture="cnn")
    assert clf.model == CNNConfig(filters=(16,))
    clf.set_params(model__architecture="cnn", model__kernel_size=5)  # the same: keeps filters
    assert clf.model == CNNConfig(filters=(16,), kernel_size=5)


def test_a_pipeline_reaches_the_nested_keys() -> None:
    """A Pipeline's step__name__key parameter sets one key of the estimator's nested config."""
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("clf", FashionClassifier())])
    pipe.set_params(clf__optimizer__learning_rate=0.02)
    assert pipe.named_steps["clf"].optimizer.learning_rate == 0.02
    assert pipe.get_params()["clf__optimizer__learning_rate"] == 0.02


def test_get_params_deep_lists_the_nested_keys_that_set_params_takes() -> None:
    """get_params(deep=True) adds every name__key; setting them all back changes nothing."""
    clf = FashionClassifier(model=CNNConfig(filters=(8,)), data={"stratify": True}, epochs=2)
    deep = clf.get_params(deep=True)
    shallow = clf.get_params(deep=False)
    assert shallow.items() <= deep.items()
    assert deep["model__architecture"] == "cnn"
    assert deep["model__filters"] == (8,)
    assert deep["optimizer__learning_rate"] == 0.001
    assert deep["data__stratify"] is True
    assert "data__split_seed" not in deep  # a mapping lists the keys it holds
    nested = {key for key in deep if "__" in key}
    expected = {f"model__{f.name}" for f in attrs.fields(CNNConfig)} | {"model__architecture"}
    assert {key for key in nested if key.startswith("model__")} == expected
    config = clf.to_config()
    assert clone(clf).set_params(**deep).to_config() == config
    assert clf.set_params(**deep).get_params(deep=True) == deep


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"optimizer__lr": 0.1}, ["optimizer__lr", "'lr'", "learning_rate", "momentum"]),
        ({"model__filters": (8,)}, ["model__filters", "LinearConfig", "allowed keys"]),
        ({"epochs__x": 1}, ["epochs__x", "epochs is a value, not a section"]),
        ({"optimiser__name": "adam"}, ["'optimiser'", "did you mean 'optimizer'", "epochs"]),
        ({"optimizer__learning_rate": -1.0}, ["optimizer__learning_rate", "must be a number"]),
        ({"epochs": 3, "model__architecture": "vit"}, ["No architecture named 'vit'"]),
    ],
    ids=[
        "unknown-key",
        "key-of-another-architecture",
        "below-a-value",
        "unknown-name",
        "bad-value",
        "unknown-architecture",
    ],
)
def test_a_bad_nested_key_raises_value_error_and_changes_nothing(
    params: dict[str, Any], words: list[str]
) -> None:
    """It raises a ValueError (ConfigError) naming the key and the valid ones; nothing is set."""
    clf = FashionClassifier(model=LinearConfig())
    before = clf.get_params(deep=False)
    with pytest.raises(ValueError, match=re.escape(words[0])) as raised:
        clf.set_params(**params)
    assert isinstance(raised.value, ConfigError)
    for word in words[1:]:
        assert word in str(raised.value)
    after = clf.get_params(deep=False)
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before)


def test_clone_keeps_a_nested_key() -> None:
    """A clone of an estimator with a nested key set has the same evolved config."""
    clf = FashionClassifier(**QUICK).set_params(
        optimizer__learning_rate=0.01, augment__flip="random"
    )
    copy = clone(clf)
    assert copy.optimizer == OptimizerConfig(learning_rate=0.01)
    assert copy.augment == AugmentConfig(flip="random")
    assert copy.get_params() == clf.get_params()


def test_fit_trains_with_a_nested_key(bands: tuple[np.ndarray, np.ndarray]) -> None:
    """A nested key set with set_params is the one fit trains with."""
    clf = FashionClassifier(**QUICK).set_params(
        optimizer__learning_rate=0.005, model__architecture="mlp", model__hidden_units=(16,)
    )
    clf.fit(*bands)
    assert clf.result_.config.optimizer.learning_rate == 0.005
    assert clf.result_.config.model == MLPConfig(hidden_units=(16,))
    assert clf.score(*bands) > 0.5


def test_from_config_and_to_config_round_trip() -> None:
    """from_config takes every field of a config, and to_config gives it back."""
    config = TrainConfig(
        model=CNNConfig(),
        optimizer=OptimizerConfig(name="adamw", schedule="one_cycle", ema_momentum=0.99),
        augment=AugmentConfig(translate=2, flip="alternate"),
        epochs=7,
        tta=True,
    )
    assert FashionClassifier.from_config(config).to_config() == config


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"epochs": 0},
        {"optimizer": {"name": "adamm"}},
        {"model": "no-such-architecture"},
        {"loss": {"label_smoothing": 0.1}},
        {"batch_size": "32"},
        {"tta": 1},
    ],
    ids=lambda params: next(iter(params)),
)
def test_bad_parameters_fail_at_fit_with_the_config_message(params: dict[str, Any]) -> None:
    """Construction accepts anything; fit raises TrainConfig's ConfigError before any data."""
    clf = FashionClassifier(**params)
    with pytest.raises(ConfigError) as expected:
        TrainConfig(**params)
    with pytest.raises(ConfigError) as raised:
        clf.fit(None, None)  # the config is checked first
    assert str(raised.value) == str(expected.value)


BAD_IMAGES = (
    "floats above 1",
    "int64",
    "negative",
    "10 features",
    "1-d",
    "32x32",
    "sparse",
    "NaN",
    "strings",
)


def test_tensorboard_is_refused_as_fit_has_no_run_directory(
    bands: tuple[np.ndarray, np.ndarray],
) -> None:
    """It refuses tensorboard=True with a ConfigError that says to use train(run_dir=...)."""
    with pytest.raises(ConfigError, match=r"tensorboard=True.*run_dir"):
        FashionClassifier(**QUICK, tensorboard=True).fit(*bands)


def _bad_images(images: np.ndarray) -> dict[str, Any]:
    flat = images.reshape(len(images), -1)
    with_nan = images.astype(np.float64) / 255
    with_nan[0, 0, 0] = np.nan
    return {
        "floats above 1": images.astype(np.float64),
        "int64": images.astype(np.int64),
        "negative": flat.astype(np.float64) / 255 - 0.5,
        "10 features": flat[:, :10],
        "1-d": flat[0],
        "32x32": np.zeros((len(images), 32, 32), np.uint8),
        "sparse": sparse.csr_matrix(flat),
        "NaN": with_nan,
        "strings": np.full((len(images), 784), "a"),
    }


@pytest.mark.parametrize("kind", BAD_IMAGES)
def test_bad_images_raise_input_validation_error(
    kind: str, bands: tuple[np.ndarray, np.ndarray], fitted: FashionClassifier
) -> None:
    """It refuses what is not images in fit and predict, with InputValidationError."""
    images, labels = bands
    bad = _bad_images(images)[kind]
    with pytest.raises(InputValidationError):
        FashionClassifier(**QUICK).fit(bad, labels[: bad.shape[0]] if bad.ndim > 1 else labels)
    with pytest.raises(InputValidationError):
        fitted.predict(bad)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (None, "requires y to be passed"),
        (np.zeros(300), r"got 1 class\(es\)"),
        (np.arange(300) % 11, "got 11 class"),
        (np.linspace(0, 1, 300), "Unknown label type: 'continuous'"),
        (np.eye(10)[np.arange(300) % 10], "Unknown label type"),
        (np.arange(299) % 10, "same length"),
        (np.full(300, np.nan), "NaN"),
    ],
    ids=["none", "one class", "11 classes", "continuous", "one-hot", "short", "nan"],
)
def test_bad_labels_raise_input_validation_error(
    labels: Any, message: str, bands: tuple[np.ndarray, np.ndarray]
) -> None:
    """It refuses missing labels, 1 or more than 10 classes, and non-class targets."""
    with pytest.raises(InputValidationError, match=message):
        FashionClassifier(**QUICK).fit(bands[0], labels)


def test_predicting_before_fit_raises_not_fitted_error() -> None:
    """It raises scikit-learn's NotFittedError from predict(_proba), before looking at X."""
    clf = FashionClassifier()
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(NotFittedError):
        clf.predict_proba("not even images")


# --- fitting and predicting ---------------------------------------------------------------------


def test_fit_learns_the_classes(
    fitted: FashionClassifier, bands: tuple[np.ndarray, np.ndarray]
) -> None:
    """A fitted classifier has classes_, n_features_in_, model_ and result_, and scores well."""
    images = bands[0]
    assert fitted.classes_.tolist() == list(range(10))
    assert fitted.n_features_in_ == 784
    assert fitted.model_ is fitted.result_.model
    assert fitted.result_.config == TrainConfig(**QUICK)
    assert fitted.result_.epochs_completed == 2
    assert fitted.result_.validation.class_names == fashionkit.CLASS_NAMES
    assert fitted.result_.validation.n_samples == 60  # the config's 20% held out
    assert fitted.result_.test.n_samples == 0  # no test split
    test_images = band_images(np.arange(100) % 10, seed=5)
    assert fitted.score(test_images, np.arange(100) % 10) > 0.9
    probabilities = fitted.predict_proba(images)
    assert probabilities.shape == (300, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert fitted.predict(images).tolist() == probabilities.argmax(axis=1).tolist()


def test_fit_calls_train_with_the_config_and_x_as_the_training_split(
    monkeypatch: pytest.MonkeyPatch, bands: tuple[np.ndarray, np.ndarray]
) -> None:
    """It fits with fashionkit.train: the config, X and y as the train split, no test split."""
    calls: list[tuple[TrainConfig, fashionkit.FashionMNIST]] = []
    real_train = fk_sklearn.train

    def spy(config: TrainConfig, *, dataset: fashionkit.FashionMNIST) -> Any:
        calls.append((config, dataset))
        return real_train(config, dataset=dataset)

    monkeypatch.setattr(fk_sklearn, "train", spy)
    images, labels = bands
    letters = np.array(list("abcdefghij"))[labels]
    clf = FashionClassifier(**QUICK, augment={"flip": "random"}, tta=True, calibrate=True)
    clf.fit(images, letters)
    ((config, dataset),) = calls
    assert config == clf.to_config()
    assert config.augment.flip == "random"
    np.testing.assert_array_equal(dataset.train.images, images)
    np.testing.assert_array_equal(dataset.train.labels, labels)  # "a".."j" encoded as 0..9
    assert len(dataset.test) == 0
    assert dataset.class_names == tuple("abcdefghij")
    # predict_proba is evaluation.predict on the fitted model, with the fitted config's TTA and
    # temperature.
    clf.set_params(tta=False, calibrate=False)  # parameters take effect at the next fit only
    assert clf.result_.calibration is not None
    temperature = clf.result_.calibration.temperature
    expected = predict(clf.model_, images, tta=True, temperature=temperature).probabilities
    np.testing.assert_allclose(clf.predict_proba(images), expected, rtol=1e-5, atol=1e-6)
    assert set(clf.predict(images)) <= set("abcdefghij")


def test_string_labels_with_fewer_than_ten_classes(bands: tuple[np.ndarray, np.ndarray]) -> None:
    """String labels come back from predict; predict_proba has one column per class."""
    images, labels = bands
    keep = labels < 3
    names = np.array(["boot", "shirt", "bag"])[labels[keep]]
    clf = FashionClassifier(**QUICK).fit(images[keep], names)
    assert clf.classes_.tolist() == ["bag", "boot", "shirt"]
    assert clf.result_.validation.class_names[:4] == ("bag", "boot", "shirt", "unused 3")
    probabilities = clf.predict_proba(images[keep])
    assert probabilities.shape == (keep.sum(), 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (clf.predict(images[keep]) == names).mean() > 0.9
    assert clf.score(images[keep], names) > 0.9


def test_float_and_flat_images_predict_like_uint8_images(
    fitted: FashionClassifier, bands: tuple[np.ndarray, np.ndarray]
) -> None:
    """Images divided by 255, flattened or with a channel axis give the same probabilities."""
    images = bands[0][:50]
    expected = fitted.predict_proba(images)
    for variant in (images / 255.0, (images / 255.0).astype(np.float32), images.reshape(50, 784)):
        np.testing.assert_array_equal(fitted.predict_proba(variant), expected)
    np.testing.assert_array_equal(fitted.predict_proba(images[..., np.newaxis]), expected)
    # No images is refused, as scikit-learn's own estimators refuse 0 samples.
    with pytest.raises(InputValidationError, match="at least one 28x28 image"):
        fitted.predict_proba(images[:0])


# --- the contract of the checks that need tabular data, on images -------------------------------


def test_fit_returns_self_and_leaves_the_parameters_alone(
    bands: tuple[np.ndarray, np.ndarray],
) -> None:
    """It returns itself from fit and changes no parameter (deeply compared)."""
    clf = FashionClassifier(**QUICK, data={"validation_fraction": 0.25})
    before = joblib.hash(clf.get_params())
    images = bands[0].copy()
    images.flags.writeable = False  # read-only input is fine
    assert clf.fit(images, bands[1]) is clf
    assert joblib.hash(clf.get_params()) == before
    assert clf.result_.validation.n_samples == 75
    public = [k for k in vars(clf) if not k.startswith("_") and k not in PARAMETER_NAMES]
    assert all(k.endswith("_") for k in public)


def test_predicting_changes_nothing_and_is_invariant_to_order_and_subsets(
    fitted: FashionClassifier, bands: tuple[np.ndarray, np.ndarray]
) -> None:
    """It leaves __dict__ as it was when predicting; rows do not influence each other."""
    images = np.asfortranarray(bands[0].reshape(300, 784))
    before = dict(vars(fitted))
    probabilities = fitted.predict_proba(images)
    fitted.predict(images)
    assert vars(fitted).keys() == before.keys()
    assert all(vars(fitted)[key] is value for key, value in before.items())
    order = np.random.default_rng(0).permutation(300)
    np.testing.assert_allclose(fitted.predict_proba(images[order]), probabilities[order])
    np.testing.assert_allclose(fitted.predict_proba(images[7:12]), probabilities[7:12], atol=1e-6)


def test_fitting_twice_gives_the_same_model(
    fitted: FashionClassifier, bands: tuple[np.ndarray, np.ndarray]
) -> None:
    """Fits are seeded (and deterministic by default): a refit of a clone predicts the same."""
    again = clone(fitted).fit(*bands)
    np.testing.assert_allclose(
        again.predict_proba(bands[0]), fitted.predict_proba(bands[0]), atol=1e-6
    )


def test_pickling_keeps_the_model_and_the_result(bands: tuple[np.ndarray, np.ndarray]) -> None:
    """A pickled classifier (schedule, weight averaging, TTA) predicts the same after loading."""
    clf = FashionClassifier(
        **QUICK,
        optimizer=OptimizerConfig(name="adam", schedule="cosine", ema_momentum=0.9),
        tta=True,
    ).fit(*bands)
    copy = pickle.loads(pickle.dumps(clf))  # noqa: S301 - our own bytes
    assert copy.get_params() == clf.get_params()
    assert copy.classes_.tolist() == clf.classes_.tolist()
    assert copy.result_.model is copy.model_
    assert copy.result_.history == clf.result_.history
    np.testing.assert_allclose(copy.predict_proba(bands[0]), clf.predict_proba(bands[0]))
    unfitted = pickle.loads(pickle.dumps(FashionClassifier(epochs=3)))  # noqa: S301
    assert unfitted.get_params() == FashionClassifier(epochs=3).get_params()


# --- model selection ----------------------------------------------------------------------------


def test_cross_validate_gives_sane_scores(bands: tuple[np.ndarray, np.ndarray]) -> None:
    """3-fold cross-validation of the separable bands scores above 0.9 on every fold."""
    scores = cross_validate(FashionClassifier(**QUICK), *bands, cv=3)
    assert len(scores["test_score"]) == 3
    assert scores["test_score"].min() > 0.9


def test_grid_search_over_epochs(bands: tuple[np.ndarray, np.ndarray]) -> None:
    """GridSearchCV searches a TrainConfig field and refits the best value."""
    search = GridSearchCV(FashionClassifier(**QUICK), param_grid={"epochs": [1, 2]}, cv=2)
    search.fit(*bands)
    assert search.best_params_["epochs"] in (1, 2)
    assert search.cv_results_["mean_test_score"].min() > 0.5
    assert search.best_estimator_.result_.config.epochs == search.best_params_["epochs"]
    assert search.score(*bands) > 0.9


def test_grid_search_over_a_nested_key(bands: tuple[np.ndarray, np.ndarray]) -> None:
    """GridSearchCV searches one key of a nested config and refits the best value."""
    rates = [0.0005, 0.005]
    search = GridSearchCV(
        FashionClassifier(**{**QUICK, "epochs": 1}),
        param_grid={"optimizer__learning_rate": rates},
        cv=2,
    )
    search.fit(*bands)
    assert [p["optimizer__learning_rate"] for p in search.cv_results_["params"]] == rates
    best = search.best_params_["optimizer__learning_rate"]
    assert best in rates
    assert search.best_estimator_.result_.config.optimizer.learning_rate == best
    assert search.best_estimator_.optimizer == OptimizerConfig(learning_rate=best)
