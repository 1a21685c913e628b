"""Keras callbacks shipped with fashionkit.

Importing this subpackage imports Keras. Each callback stores its arguments in ``__init__``
and resets its run state in ``on_train_begin``, so one instance can serve several ``fit``
calls. Pass them to :func:`fashionkit.train` (or to ``model.fit`` directly).
"""

from fashionkit.callbacks._checkpoint import EpochCheckpoint as EpochCheckpoint
from fashionkit.callbacks._metrics_logger import JSONLinesLogger as JSONLinesLogger
from fashionkit.callbacks._time_budget import TimeBudget as TimeBudget
from fashionkit.callbacks._validation_report import ValidationReport as ValidationReport

__all__ = ["EpochCheckpoint", "JSONLinesLogger", "TimeBudget", "ValidationReport"]
