"""Keras callbacks shipped with fashionkit, and the context :func:`fashionkit.train` gives them.

Importing this subpackage imports Keras. Each callback stores its arguments in ``__init__``
and resets its run state in ``on_train_begin``, so one instance can serve several ``fit``
calls. Pass them to :func:`fashionkit.train` (or to ``model.fit`` directly).

Under :func:`fashionkit.train`, two hooks beyond Keras's own reach every callback that defines
them, fashionkit's and the user's alike (plain ``model.fit`` calls neither):

- ``set_context(context)`` receives the run's :class:`TrainingContext` before training
  starts: the config, the validation evaluator, the epoch training resumes from, and a way to
  report why it stopped training;
- ``on_result(result)`` receives the run's :class:`~fashionkit.TrainResult` once the final
  model is evaluated, before the run directory's results are written: the history, the final
  validation and test reports, the best epoch and whether its weights were restored.
  :class:`TensorBoardLogger` writes the final confusion matrix and ends its HParams session
  there.
"""

from fashionkit.callbacks._checkpoint import EpochCheckpoint as EpochCheckpoint
from fashionkit.callbacks._context import TrainingContext as TrainingContext
from fashionkit.callbacks._hparams import config_hparams as config_hparams
from fashionkit.callbacks._live_curves import LiveCurves as LiveCurves
from fashionkit.callbacks._metrics_logger import JSONLinesLogger as JSONLinesLogger
from fashionkit.callbacks._tensorboard import TensorBoardLogger as TensorBoardLogger
from fashionkit.callbacks._time_budget import TimeBudget as TimeBudget
from fashionkit.callbacks._validation_report import ValidationReport as ValidationReport

__all__ = [
    "EpochCheckpoint",
    "JSONLinesLogger",
    "LiveCurves",
    "TensorBoardLogger",
    "TimeBudget",
    "TrainingContext",
    "ValidationReport",
    "config_hparams",
]
