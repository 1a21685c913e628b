"""The tutorial's scikit-learn baseline: logistic regression trained by SGD, cross-validated."""

from __future__ import annotations

import time
import warnings

import attrs

from fashionkit._validation import AnyOf, Interval, NoneOr, annotated_fields, params
from fashionkit.datasets import FashionMNIST, load_fashion_mnist
from fashionkit.exceptions import ConfigError
from fashionkit.preprocessing import check_labels, prepare_images

__all__ = ["BaselineResult", "baseline"]


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class BaselineResult:
    """Cross-validated accuracy of the SGD logistic-regression baseline.

    Attributes:
        fold_scores: Validation accuracy of each fold, in fold order.
        fit_times: Seconds each fold spent fitting.
        seconds: Wall-clock seconds of the whole cross-validation.
        n_samples: Number of training images used.
        folds: Number of folds.
    """

    fold_scores: tuple[float, ...]
    fit_times: tuple[float, ...]
    seconds: float
    n_samples: int
    folds: int

    @property
    def mean(self) -> float:
        """Mean validation accuracy over the folds."""
        return sum(self.fold_scores) / len(self.fold_scores)

    @property
    def std(self) -> float:
        """Population standard deviation of the fold accuracies."""
        m = self.mean
        return float((sum((s - m) ** 2 for s in self.fold_scores) / len(self.fold_scores)) ** 0.5)

    def __str__(self) -> str:
        folds = ", ".join(f"{s:.4f}" for s in self.fold_scores)
        return (
            f"SGD logistic regression, {self.folds}-fold CV on {self.n_samples} images: "
            f"mean accuracy {self.mean:.4f} (std {self.std:.4f}; folds {folds}) "
            f"in {self.seconds:.1f} s"
        )


@params(
    folds=Interval("int", ge=2),
    max_iter=Interval("int", ge=1),
    seed=Interval("int", ge=0, lt=2**32),
    # scikit-learn's n_jobs: -1 for every core, -2 for all but one, ...; 0 means nothing.
    n_jobs=NoneOr(AnyOf((Interval("int", ge=1), Interval("int", le=-1)))),
)
def baseline(
    dataset: FashionMNIST | None = None,
    *,
    folds: int = 5,
    max_iter: int = 5,
    seed: int = 42,
    n_jobs: int | None = -1,
) -> BaselineResult:
    """Cross-validate the tutorial's ``SGDClassifier`` logistic regression on the train split.

    This is step 3 of the tutorial: pixels scaled to ``[0, 1]`` and flattened to 784 features,
    ``SGDClassifier(loss="log_loss", max_iter=5, random_state=42)``, scored by
    ``cross_validate`` with 5 stratified folds. ``max_iter=5`` stops before convergence on
    purpose, as in the tutorial; scikit-learn's ``ConvergenceWarning`` is silenced for that
    reason only.

    Args:
        dataset: The data; loaded with :func:`~fashionkit.load_fashion_mnist` when omitted.
        folds: Number of cross-validation folds, at least 2. Defaults to 5.
        max_iter: Epochs of SGD per fit. Defaults to 5.
        seed: ``random_state`` of the classifier, from 0 to ``2**32 - 1``. Defaults to 42.
        n_jobs: Parallel fold fits, a non-zero integer or ``None``; ``-1`` uses every core.
            Defaults to ``-1``.

    Returns:
        Per-fold accuracies, their mean, and timings.

    Raises:
        ConfigError: ``folds`` above the size of the rarest class.
        ArgumentError: ``folds`` below 2, ``max_iter`` below 1, a negative ``seed``, ``n_jobs``
            0, or an argument of the wrong type (an ArgumentError is a ConfigError too).

    Example:
        >>> result = baseline()  # doctest: +SKIP
        >>> round(result.mean, 2)  # doctest: +SKIP
        0.81
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import cross_validate

    data = dataset if dataset is not None else load_fashion_mnist()
    smallest = min((c for c in data.train.class_counts if c), default=0)
    if folds > smallest:
        raise ConfigError(
            f"folds={folds} is more than the {smallest} images of the rarest class; stratified "
            f"cross-validation needs at least one image of each class per fold. Use fewer folds."
        )
    x = prepare_images(data.train.images, layout="flat")
    y = check_labels(data.train.labels)
    model = SGDClassifier(loss="log_loss", max_iter=max_iter, random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_validate(model, x, y, cv=folds, n_jobs=n_jobs)
    seconds = time.perf_counter() - start
    return BaselineResult(
        fold_scores=tuple(float(s) for s in scores["test_score"]),
        fit_times=tuple(float(t) for t in scores["fit_time"]),
        seconds=seconds,
        n_samples=len(y),
        folds=folds,
    )
