"""Run directories: everything a training run produced, written crash-safely, and read back.

:func:`load_run` reads a completed run as a :class:`Run`, checked once: the config, reports,
history and the models, and a :meth:`~Run.predictor` that predicts as the run did. Every
command that takes a run directory goes through it. :class:`RunWriter` is the training process
that writes one; :class:`RunFollower`, another worker of a multi-worker run, resumes from the
same folder without writing. :class:`RunLayout` is the one place that names the files.

Layout of a run directory (every file is written to a temporary name, flushed and renamed, or
appended a synced line at a time; each object has one JSON or TOML layout, written by
fashionkit's one serialisation layer and shown in the documentation's "File formats" page):

==================== =====================================================================
``config.toml``      the resolved :class:`~fashionkit.config.TrainConfig`; written first
``metrics.jsonl``    one line per epoch, flushed as the epoch ends: ``epoch``, ``seconds``,
                     every metric in the epoch's logs, and ``partial: true`` for an epoch
                     cut short; :meth:`~fashionkit.EpochRecord.from_logs` reads a line
``checkpoint/``      the latest epoch's full model while training runs (removed at the end)
``model.keras``      the final model
``best.keras``       the model of the best epoch by ``early_stopping.monitor`` (while training,
                     ``checkpoint/best-NNNN.keras``, named by ``checkpoint/state.json``);
                     absent when no validated epoch scored a finite value
``validation.json``  :class:`~fashionkit.EvaluationReport` of the validation split
``test.json``        :class:`~fashionkit.EvaluationReport` of the test split
``calibration.json`` :class:`~fashionkit.calibration.Calibration`: the temperature fitted on the
                     validation split (only with ``calibrate = true``); predictions and
                     exports of the run apply it
``tensorboard/``     TensorBoard logs (only with ``tensorboard = true``)
``environment.json`` library versions, Python, platform, devices, the CPU and its
                     instruction sets, oneDNN, the precision and why, seed
``summary.json``     :meth:`~fashionkit.TrainResult.to_dict`; written last, it marks the run
                     complete
``.lock``            the lock a training process holds on the folder, while it trains (it
                     records the process id, host and start time; removed when training
                     ends or fails, left only by a killed process, for the next to reuse)
``export/``          models exported with ``fashionkit export`` (by default)
``*.png``            the pictures of ``fashionkit report`` and ``fashionkit explain``
==================== =====================================================================
"""

from fashionkit.runs._follower import RunFollower as RunFollower
from fashionkit.runs._layout import REPORT_PICTURES as REPORT_PICTURES
from fashionkit.runs._layout import RunLayout as RunLayout
from fashionkit.runs._models import check_model_path as check_model_path
from fashionkit.runs._models import load_model as load_model
from fashionkit.runs._models import save_model as save_model
from fashionkit.runs._resume import same_training as same_training
from fashionkit.runs._run import Run as Run
from fashionkit.runs._run import load_run as load_run
from fashionkit.runs._writer import RunWriter as RunWriter

__all__ = [
    "REPORT_PICTURES",
    "Run",
    "RunFollower",
    "RunLayout",
    "RunWriter",
    "check_model_path",
    "load_model",
    "load_run",
    "same_training",
    "save_model",
]
