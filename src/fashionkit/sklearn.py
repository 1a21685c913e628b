"""A scikit-learn classifier that trains with :func:`fashionkit.train`.

:class:`FashionClassifier` puts fashionkit's training behind scikit-learn's estimator API, so
that ``cross_validate``, ``GridSearchCV``, ``Pipeline`` and the other model-selection tools work
with fashionkit's networks. Its parameters are exactly the fields of
:class:`~fashionkit.config.TrainConfig`, with the same defaults (the tutorial's network); ``fit``
builds the config from them, so an invalid value fails there with the config's own
:class:`~fashionkit.exceptions.ConfigError` message, and trains as :func:`fashionkit.train`
does (augmentation, schedules, weight averaging, early stopping, test-time augmentation,
calibration).

Example:
    >>> from fashionkit.config import TrainConfig
    >>> from fashionkit.models import CNNConfig
    >>> from fashionkit.sklearn import FashionClassifier
    >>> clf = FashionClassifier(epochs=3, verbose=0)
    >>> clf.get_params()["epochs"], clf.get_params()["batch_size"]
    (3, 32)
    >>> clf.set_params(model=CNNConfig()).to_config().model.architecture
    'cnn'
    >>> FashionClassifier.from_config(TrainConfig(epochs=2)).epochs
    2
"""

from __future__ import annotations

import difflib
import tempfile
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import issparse  # type: ignore[import-untyped]
from sklearn.base import BaseEstimator, ClassifierMixin

from fashionkit._constants import CLASS_NAMES, NUM_CLASSES, PIXELS
from fashionkit._fields import ConfigBase
from fashionkit._messages import shown
from fashionkit._validation import CheckedBy, check_images, check_same_length, params
from fashionkit.config import (
    AugmentConfig,
    DataConfig,
    DeviceConfig,
    EarlyStoppingConfig,
    LossConfig,
    OptimizerConfig,
    TrainConfig,
    flatten,
    set_keys,
)
from fashionkit.datasets import DataSource, FashionMNIST, Split
from fashionkit.exceptions import ConfigError, InputValidationError
from fashionkit.models import ModelConfig
from fashionkit.models._registry import model_config_from
from fashionkit.runs import load_model, save_model
from fashionkit.training import train

__all__ = ["PARAMETER_NAMES", "FashionClassifier"]

#: The estimator's parameters, the names of :class:`~fashionkit.config.TrainConfig`'s fields in
#: their order.
PARAMETER_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in attrs.fields(TrainConfig))

#: The defaults of the parameters: TrainConfig's own (its nested configs are frozen, so one
#: instance can be shared as a default).
_DEFAULT: Final = TrainConfig()
#: How every parameter is declared: stored as given, checked when fit builds the TrainConfig
#: (scikit-learn's rule: ``__init__`` stores only).
_AT_FIT: Final = CheckedBy("TrainConfig's validators, at fit")
#: Images are checked inside by ``_images`` (``check_images``): in fit after the parameters
#: (a bad parameter is reported first, before any data), in predict after the fitted check
#: (``NotFittedError`` first, whatever ``X`` is).
_IMAGES: Final = CheckedBy("_images (check_images), after the parameters")
_IMAGES_ONCE_FITTED: Final = CheckedBy("_images (check_images), once fitted")
#: Images per forward pass in predict_proba (the Evaluator's default).
_PREDICT_BATCH: Final = 1024
#: Where the pickled state keeps the fitted model, as the bytes of a .keras file.
_MODEL_STATE: Final = "_model_keras_bytes"
#: The parameters that are nested configs, and their classes (``model``: the base class).
_NESTED: Final[dict[str, type[ConfigBase]]] = {
    name: kind
    for name, kind in typing.get_type_hints(TrainConfig).items()
    if isinstance(kind, type) and issubclass(kind, ConfigBase)
}


class FashionClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A scikit-learn classifier of 28x28 images, trained by :func:`fashionkit.train`.

    The parameters are the fields of :class:`~fashionkit.config.TrainConfig`, with its defaults
    (the tutorial's one-layer network, RMSprop, 5 epochs of batches of 32); see there for what
    each one does. They are stored as given, as scikit-learn requires: names and mappings that
    TrainConfig converts (``model="cnn"``, ``data={"validation_fraction": 0.1}``) are converted
    and validated by ``fit``, which raises the config's
    :class:`~fashionkit.exceptions.ConfigError` for an invalid value. A nested config is set
    whole (``set_params(model=CNNConfig(filters=(32, 64)))``,
    ``param_grid={"model": [LinearConfig(), MLPConfig()]}``) or one key at a time with
    scikit-learn's ``name__key`` syntax (``set_params(optimizer__learning_rate=0.01)``,
    ``param_grid={"model__filters": [(16,), (32,)]}``); see :meth:`set_params`.

    **Data.** ``X`` holds images: ``(N, 28, 28)``, flattened ``(N, 784)`` or ``(N, 28, 28, 1)``,
    as uint8 pixels 0..255 or floats in ``[0, 1]`` (validated by
    :func:`~fashionkit.preprocessing.check_images`). Training runs on uint8 pixels, so float
    images are rounded to the nearest of the 256 levels, in ``predict`` too: the images and the
    same images divided by 255 give the same predictions. ``y`` holds 2 to 10 labels of any
    kind (integers, strings, ...); they are encoded as ``0..k-1`` in the order of
    :attr:`classes_` and decoded by :meth:`predict`. The networks end in a 10-way softmax: with
    fewer classes the unused outputs are trained towards 0, and :meth:`predict_proba` returns
    the outputs of the ``k`` classes, divided by their sum.

    **Fitting** calls :func:`fashionkit.train` with the config and ``X, y`` as the training
    split of a :class:`~fashionkit.datasets.FashionMNIST`. As in ``train``, the share
    ``data.validation_fraction`` (20% by default) of ``X`` is held out to evaluate every epoch
    (for early stopping and the best epoch), so the network trains on the rest. There is no
    test split: :attr:`result_`'s ``test`` report covers 0 images (its accuracy and loss are
    NaN); score held-out data with ``score`` (accuracy), ``cross_validate`` or
    :func:`~fashionkit.evaluation.evaluate`. With ``calibrate=True`` the temperature is fitted
    on the held-out part, and :meth:`predict_proba` applies it. Nothing is written to disk:
    ``fit`` trains without a run directory, so there are no checkpoints to resume from, and
    ``tensorboard=True`` is a :class:`~fashionkit.exceptions.ConfigError` (train with
    :func:`fashionkit.train` and a ``run_dir`` for those). Training prints Keras's progress
    unless ``verbose=0``. As in ``train``, the device config takes effect before TensorFlow
    starts, so one process can use one device config.

    Fitted estimators pickle (the model travels as a ``.keras`` file's bytes), so
    ``cross_validate(..., n_jobs=2)`` works; each worker process then imports TensorFlow and
    trains on its own share of the cores.

    Attributes:
        classes_: The sorted distinct labels of ``y``.
        n_features_in_: Pixels per image, 784.
        model_: The trained ``keras.Model`` (10 softmax outputs).
        result_: The :class:`~fashionkit.results.TrainResult` of the fit: the config used,
            the history and the validation report.

    Example:
        >>> import numpy as np
        >>> from sklearn.model_selection import cross_validate
        >>> from fashionkit.sklearn import FashionClassifier
        >>> y = np.arange(200) % 2
        >>> X = np.zeros((200, 28, 28), np.uint8)
        >>> X[y == 1, :14] = 255  # class 1: the top half is white
        >>> clf = FashionClassifier(epochs=2, verbose=0)
        >>> scores = cross_validate(clf, X, y, cv=2)  # doctest: +SKIP
        >>> scores["test_score"].round(2)  # doctest: +SKIP
        array([1., 1.])
        >>> FashionClassifier(epochs=0).fit(X, y)
        Traceback (most recent call last):
        ...
        fashionkit.exceptions.ConfigError: TrainConfig.epochs must be an integer >= 1; got 0.
    """

    @params(**dict.fromkeys(PARAMETER_NAMES, _AT_FIT))
    def __init__(
        self,
        *,
        data: DataConfig | Mapping[str, Any] = _DEFAULT.data,
        model: ModelConfig | str | Mapping[str, Any] = _DEFAULT.model,
        loss: LossConfig | Mapping[str, Any] = _DEFAULT.loss,
        optimizer: OptimizerConfig | Mapping[str, Any] = _DEFAULT.optimizer,
        device: DeviceConfig | Mapping[str, Any] = _DEFAULT.device,
        epochs: int = _DEFAULT.epochs,
        batch_size: int = _DEFAULT.batch_size,
        seed: int = _DEFAULT.seed,
        verbose: int = _DEFAULT.verbose,
        time_budget_seconds: float | None = _DEFAULT.time_budget_seconds,
        deterministic: bool = _DEFAULT.deterministic,
        steps_per_execution: int = _DEFAULT.steps_per_execution,
        augment: AugmentConfig | Mapping[str, Any] = _DEFAULT.augment,
        early_stopping: EarlyStoppingConfig | Mapping[str, Any] = _DEFAULT.early_stopping,
        tta: bool = _DEFAULT.tta,
        tta_each_epoch: bool = _DEFAULT.tta_each_epoch,
        validate_last_epochs: int | None = _DEFAULT.validate_last_epochs,
        calibrate: bool = _DEFAULT.calibrate,
        tensorboard: bool = _DEFAULT.tensorboard,
    ) -> None:
        # Stored unchanged and unvalidated (scikit-learn's rule): fit validates.
        self.data = data
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.device = device
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.verbose = verbose
        self.time_budget_seconds = time_budget_seconds
        self.deterministic = deterministic
        self.steps_per_execution = steps_per_execution
        self.augment = augment
        self.early_stopping = early_stopping
        self.tta = tta
        self.tta_each_epoch = tta_each_epoch
        self.validate_last_epochs = validate_last_epochs
        self.calibrate = calibrate
        self.tensorboard = tensorboard

    @classmethod
    @params()
    def from_config(cls, config: TrainConfig) -> FashionClassifier:
        """Return an estimator whose parameters are the fields of ``config``.

        Example:
            >>> clf = FashionClassifier.from_config(TrainConfig(epochs=2, tta=True))
            >>> clf.epochs, clf.tta
            (2, True)
        """
        return cls(**{name: getattr(config, name) for name in PARAMETER_NAMES})

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the parameters; with ``deep``, also every key of the nested configs.

        With ``deep=True`` (scikit-learn's default) the result also holds a ``name__key`` entry
        for each key of each nested config: the fields of a config object (and a model
        config's ``architecture``), or the keys of a mapping; those are the keys that
        :meth:`set_params` and a ``param_grid`` take, and
        ``set_params(**get_params(deep=True))`` changes nothing. ``deep=False``, which
        ``clone`` uses, gives the parameters alone.

        Example:
            >>> params = FashionClassifier().get_params()
            >>> params["optimizer__learning_rate"], params["model__architecture"]
            (0.001, 'linear')
            >>> len(FashionClassifier().get_params(deep=False)) == len(PARAMETER_NAMES)
            True
        """
        params: dict[str, Any] = super().get_params(deep=False)
        if deep:
            for name in _NESTED:
                for key, value in _nested_items(name, params[name]):
                    params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params: Any) -> FashionClassifier:
        """Set parameters: whole ones, or one key of a nested config as ``name__key``.

        ``set_params(optimizer__learning_rate=0.01)`` changes one field of the optimizer
        config and keeps the others: a config object is evolved (its validators run again, so
        an invalid value raises here), a mapping gets the key, and an architecture's name
        becomes its config. ``model__architecture`` to another architecture starts that
        architecture from its defaults, and the other ``model__`` keys of the call apply on top,
        whatever their order. Whole parameters are set first, as given and unvalidated (fit
        validates them); then the nested keys, grouped by parameter. Nothing is changed when
        any key is refused.

        Returns:
            The estimator.

        Raises:
            ConfigError: A parameter that does not exist; a nested key the config does not
                have (the message names it and lists the keys there are), an invalid value
                for one, or a key below a value (``epochs__x``). ConfigError is a
                ``ValueError``, as scikit-learn's contract asks.

        Example:
            >>> clf = FashionClassifier(optimizer=OptimizerConfig(name="adam"))
            >>> clf.set_params(optimizer__learning_rate=0.01).optimizer
            OptimizerConfig(name='adam', learning_rate=0.01, ...)
            >>> clf.set_params(optimizer__lr=0.01)
            Traceback (most recent call last):
            ...
            fashionkit.exceptions.ConfigError: FashionClassifier parameter optimizer__lr: ...
        """
        if not params:
            return self
        values: dict[str, Any] = super().get_params(deep=False)
        nested: dict[str, list[tuple[tuple[str, ...], Any]]] = {}
        for key, value in params.items():
            name, sep, rest = key.partition("__")
            if name not in values:
                close = difflib.get_close_matches(name, PARAMETER_NAMES, n=1)
                hint = f" (did you mean {shown(close[0])}?)" if close else ""
                raise ConfigError(
                    f"Invalid parameter {shown(name)} for estimator FashionClassifier{hint}. Valid "
                    f"parameters are: {', '.join(PARAMETER_NAMES)}; a key of a nested config is "
                    f"written name__key, such as optimizer__learning_rate."
                )
            if sep:
                nested.setdefault(name, []).append((tuple(rest.split("__")), value))
            else:
                values[name] = value
        for name, changes in nested.items():
            values[name] = _with_keys(name, values[name], changes)
        for name in dict.fromkeys(key.partition("__")[0] for key in params):
            setattr(self, name, values[name])
        return self

    def _get_params_html(self, deep: bool = True, doc_link: str = "") -> Any:
        # scikit-learn's notebook display lists get_params(deep=True) and marks every name that
        # is not an __init__ argument as changed; the nested keys would all be marked so.
        return super()._get_params_html(False, doc_link)

    def to_config(self) -> TrainConfig:
        """Return the :class:`~fashionkit.config.TrainConfig` of the current parameters.

        Raises:
            ConfigError: A parameter is invalid; the message names the field.

        Example:
            >>> FashionClassifier(model="mlp").to_config().model.architecture
            'mlp'
        """
        return TrainConfig(**self.get_params(deep=False))

    @params(X=_IMAGES, y=CheckedBy("_encode_labels: 2 to 10 class labels, one per image"))
    def fit(self, X: object, y: object) -> FashionClassifier:  # noqa: N803 - scikit-learn's name
        """Train a new network on images ``X`` with labels ``y``, as :func:`fashionkit.train`.

        Args:
            X: Images, see the class documentation.
            y: 2 to 10 distinct labels of any kind, one per image.

        Returns:
            The estimator, fitted.

        Raises:
            ConfigError: A parameter is invalid (checked first, before any data), or
                ``tensorboard`` is on (fit has no run directory to write the logs into).
            InputValidationError: ``y`` is missing, not one label per image, has fewer than 2
                or more than 10 classes; or ``X`` is not images (see
                :func:`~fashionkit.preprocessing.check_images`); or too few images to hold out
                a validation split.
            DeviceError: The device config cannot be satisfied.
        """
        config = self.to_config()
        if config.tensorboard:
            raise ConfigError(
                "FashionClassifier(tensorboard=True): fit trains without a run directory, so the "
                "logs have nowhere to go. Leave tensorboard off, or train with "
                "fashionkit.train(config, run_dir=...) (FashionClassifier.to_config() gives the "
                "config)."
            )
        classes, encoded = _encode_labels(y)
        images = _images(X)
        check_same_length(images, encoded, names="X and y")
        empty = Split(images=np.zeros((0, *images.shape[1:]), np.uint8), labels=encoded[:0])
        dataset = FashionMNIST(
            train=Split(images=images, labels=encoded),
            test=empty,
            source=DataSource(directory=Path(), origin="argument", verified=False),
            class_names=_class_names(classes),
        )
        result = train(config, dataset=dataset)
        self.classes_ = classes
        self.n_features_in_ = PIXELS
        self.model_ = result.model
        self.result_ = result
        return self

    @params(X=_IMAGES_ONCE_FITTED)
    def predict_proba(self, X: object) -> NDArray[np.float64]:  # noqa: N803
        """Return the probability of each class for each image, columns in :attr:`classes_` order.

        The probabilities come from the training result's predictor
        (:meth:`fashionkit.TrainResult.predictor`), as the fit's reports were computed: with
        test-time augmentation when the fitted config has ``tta=True`` and with the fitted
        temperature when it has ``calibrate=True`` (see :mod:`fashionkit.calibration`). Before
        ``fit`` it raises scikit-learn's ``NotFittedError``, whatever ``X`` is.

        Args:
            X: Images, see the class documentation.

        Returns:
            ``(N, len(classes_))`` probabilities; each row sums to 1.

        Raises:
            InputValidationError: ``X`` is not images.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        prediction = self.result_.predictor().predict(_images(X), batch_size=_PREDICT_BATCH)
        probabilities = prediction.probabilities[:, : len(self.classes_)].astype(np.float64)
        total = probabilities.sum(axis=1, keepdims=True)
        # A row whose k outputs are all 0 (all mass on unused outputs) becomes uniform.
        uniform = np.full_like(probabilities, 1.0 / len(self.classes_))
        result: NDArray[np.float64] = np.divide(probabilities, total, out=uniform, where=total > 0)
        return result

    @params(X=_IMAGES_ONCE_FITTED)
    def predict(self, X: object) -> NDArray[Any]:  # noqa: N803
        """Return the most probable label of each image (a value of :attr:`classes_`).

        Before ``fit`` it raises scikit-learn's ``NotFittedError``.

        Raises:
            InputValidationError: ``X`` is not images.
        """
        probabilities = self.predict_proba(X)
        result: NDArray[Any] = self.classes_[probabilities.argmax(axis=1)]
        return result

    def __sklearn_tags__(self) -> Any:
        """Scikit-learn's tags: images of non-negative pixels, 2-d or 3-d; seeded fits."""
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.deterministic is False
        return tags

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the fitted Keras model as the bytes of a ``.keras`` file."""
        state: dict[str, Any] = dict(super().__getstate__())
        model = state.pop("model_", None)
        if model is not None:
            state[_MODEL_STATE] = _model_to_bytes(model)
            if state.get("result_") is not None:
                state["result_"] = attrs.evolve(state["result_"], model=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        data = state.pop(_MODEL_STATE, None)
        if data is not None:
            model = _model_from_bytes(data)
            state["model_"] = model
            if state.get("result_") is not None:
                state["result_"] = attrs.evolve(state["result_"], model=model)
        super().__setstate__(state)


def _nested_items(name: str, value: object) -> list[tuple[str, Any]]:
    """The keys and values the nested parameter ``name`` holds, for ``get_params(deep=True)``.

    Values are kept as the config holds them (tuples stay tuples).
    """
    data: Mapping[str, Any]
    if isinstance(value, ConfigBase) and attrs.has(type(value)):
        fields = attrs.asdict(typing.cast("attrs.AttrsInstance", value))  # tuples stay tuples
        data = {**type(value)._fixed_keys(), **fields}
    elif isinstance(value, Mapping):
        data = {key: item for key, item in value.items() if isinstance(key, str)}
    elif isinstance(value, str) and name == "model":  # an architecture's name
        data = {"architecture": value}
    else:
        return []
    return list(flatten(data, sep="__").items())


def _with_keys(name: str, current: object, changes: list[tuple[tuple[str, ...], Any]]) -> object:
    """The nested parameter ``name`` with keys of it changed, checked by its config class.

    A config (or an architecture's name) becomes the changed config; a mapping stays a
    mapping, with the keys set.
    """
    if name not in _NESTED:
        plain: object = None  # a value, which set_keys refuses to look into
    elif isinstance(current, ConfigBase):
        plain = current.to_dict()
    elif isinstance(current, Mapping):
        plain = dict(current)
    elif isinstance(current, str) and name == "model":
        plain = {"architecture": current}
    else:
        plain = current  # set_keys says it is a value
    data: dict[str, Any] = {name: plain}
    changed = [((name, *path), value) for path, value in changes]
    set_keys(data, changed, sep="__", context="FashionClassifier parameter ")
    try:
        config = (
            model_config_from(data[name])
            if name == "model"
            else _NESTED[name].from_dict(data[name])
        )
    except ConfigError as exc:
        keys = ", ".join("__".join(path) for path, _ in changed)
        raise type(exc)(f"FashionClassifier parameter {keys}: {exc}") from exc
    return data[name] if isinstance(current, Mapping) else config


def _encode_labels(y: object) -> tuple[NDArray[Any], NDArray[np.uint8]]:
    """The sorted classes of ``y`` and ``y`` as their indices ``0..k-1``."""
    if y is None:
        raise InputValidationError(
            "FashionClassifier requires y to be passed, but the target y is None: fit takes "
            "images X and one label per image y."
        )
    from sklearn.utils.multiclass import type_of_target

    try:
        labels = np.asarray(y)
        # Checked here, as type_of_target would warn when casting infinities.
        if labels.dtype.kind == "f" and not np.isfinite(labels).all():
            raise InputValidationError("Input y contains NaN or infinity; y must hold labels.")
        kind = type_of_target(labels, input_name="y")
    except (ValueError, TypeError) as exc:  # ragged, complex or otherwise unreadable targets
        if isinstance(exc, InputValidationError):
            raise
        raise InputValidationError(f"y cannot be read as class labels: {exc}") from exc
    if kind not in ("binary", "multiclass") or labels.ndim != 1:
        raise InputValidationError(
            f"Unknown label type: {shown(kind)} of shape {labels.shape}. y must hold one class "
            "label "
            f"per image (integers, strings, ...), 1-d; regression targets, one-hot or "
            f"multi-label rows are not accepted (use labels.argmax(axis=1) for one-hot rows)."
        )
    classes, encoded = np.unique(labels, return_inverse=True)
    if not 2 <= len(classes) <= NUM_CLASSES:
        listed = f": {shown(classes.tolist())}" if len(classes) <= 2 * NUM_CLASSES else ""
        raise InputValidationError(
            f"FashionClassifier needs 2 to {NUM_CLASSES} classes in y (its networks end in a "
            f"{NUM_CLASSES}-way softmax); got {len(classes)} class(es){listed}."
        )
    return classes, encoded.astype(np.uint8)


def _images(X: object) -> NDArray[np.uint8]:  # noqa: N803
    """``X`` validated as ``(N, 28, 28)`` images, floats rounded to uint8 pixels.

    Sparse matrices, tables of another width and negative values are refused first, in the
    words scikit-learn's own estimators use; everything else is
    :func:`~fashionkit.preprocessing.check_images`'s to judge.
    """
    if issparse(X):
        raise InputValidationError(
            "X is a sparse matrix; FashionClassifier takes dense images. Pass X.toarray()."
        )
    try:
        raw = np.asarray(X)
    except (ValueError, TypeError, OverflowError):
        raw = None  # check_images says what is wrong
    if raw is not None and raw.dtype.kind in "iuf":
        # NaN compares False here: check_images reports it.
        if raw.dtype.kind != "u" and bool((raw < 0).any()):
            raise InputValidationError(
                f"Negative values in data passed to X: pixels are uint8 0..255 or floats in "
                f"[0, 1]; got a minimum of {shown(raw[raw < 0].min())}."
            )
        if raw.ndim == 2 and raw.shape[1] != PIXELS:
            raise InputValidationError(
                f"X has {raw.shape[1]} feature(s) (shape={raw.shape}); FashionClassifier takes "
                f"28x28 images: (N, 28, 28), (N, 28, 28, 1) or flattened rows of {PIXELS} pixels."
            )
    images = check_images(X, name="X", allow_float=True)
    if images.dtype == np.uint8:
        return np.asarray(images, dtype=np.uint8)
    # Rounded in the input's precision, without a float64 copy of the whole set.
    pixels: NDArray[np.uint8] = np.rint(images * 255).astype(np.uint8)
    return pixels


def _class_names(classes: NDArray[Any]) -> tuple[str, ...]:
    """Names for the reports: Fashion-MNIST's for its labels 0..9, else the labels as text.

    The networks have 10 outputs, so there are always 10 names; outputs without a class are
    named ``unused <index>``.
    """
    if classes.dtype.kind in "iu" and classes.tolist() == list(range(NUM_CLASSES)):
        return CLASS_NAMES
    names = [str(c) for c in classes]
    return (*names, *(f"unused {i}" for i in range(len(names), NUM_CLASSES)))


def _model_to_bytes(model: Any) -> bytes:
    """The bytes of ``model`` saved as a ``.keras`` file."""
    with tempfile.TemporaryDirectory(prefix="fashionkit-") as folder:
        return save_model(model, Path(folder) / "estimator.keras").read_bytes()


def _model_from_bytes(data: bytes) -> Any:
    """The model saved by :func:`_model_to_bytes` (loaded with Keras's safe mode on)."""
    with tempfile.TemporaryDirectory(prefix="fashionkit-") as folder:
        path = Path(folder) / "estimator.keras"
        path.write_bytes(data)
        return load_model(path)
