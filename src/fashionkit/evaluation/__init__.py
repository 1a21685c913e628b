"""Evaluating and using a trained model: typed reports, per-class metrics, predictions.

One implementation computes every metric fashionkit reports: :func:`report_from_probabilities`
turns softmax outputs and labels into an :class:`EvaluationReport` (the confusion matrix, then
precision, recall and F1 from it, and the loss). :class:`Evaluator` predicts one split in one
pass and builds that report; training uses it after every epoch for the ``val_*`` metrics
and at the end for the final reports, and :func:`evaluate` uses it on any labelled images.
:class:`Predictor` holds a model with the test-time augmentation and temperature it predicts
with; :func:`predict` and :func:`evaluate` build one from their arguments, and a run directory
gives the one its run used (:meth:`fashionkit.runs.Run.predictor`).

**The loss.** ``loss`` here, and so ``val_loss`` in training logs, is the mean categorical
cross-entropy of the predicted probabilities against the true labels, with probabilities
clipped to ``[1e-7, 1 - 1e-7]`` as Keras clips them and **without label smoothing**: it
measures the model, not the training objective, so it is comparable across loss configs.
With ``LossConfig(label_smoothing=s)`` the training ``loss`` Keras logs includes the smoothing
and is therefore higher than ``val_loss`` would be on the same data.
"""

from fashionkit.evaluation._evaluator import Evaluator as Evaluator
from fashionkit.evaluation._predict import Prediction as Prediction
from fashionkit.evaluation._predict import Predictor as Predictor
from fashionkit.evaluation._predict import evaluate as evaluate
from fashionkit.evaluation._predict import predict as predict
from fashionkit.evaluation._report import ClassMetrics as ClassMetrics
from fashionkit.evaluation._report import EvaluationReport as EvaluationReport
from fashionkit.evaluation._report import report_from_probabilities as report_from_probabilities

__all__ = [
    "ClassMetrics",
    "EvaluationReport",
    "Evaluator",
    "Prediction",
    "Predictor",
    "evaluate",
    "predict",
    "report_from_probabilities",
]
