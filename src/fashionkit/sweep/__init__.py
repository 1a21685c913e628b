"""Hyperparameter sweeps on Optuna: a search space over TrainConfig, parallel and resumable.

A **search space** (:class:`SearchSpace`) is a base :class:`~fashionkit.config.TrainConfig`
(the fixed fields, or a preset) and a few **parameters** (:class:`Parameter`), each a dotted
config key (as ``fashionkit train --set`` takes them) with a range (linear or log, float or
integer) or a list of choices. It is written in TOML::

    [fixed]
    preset = "fast"          # optional: start from a preset, then the keys below
    epochs = 5
    validate_last_epochs = "none"  # every epoch (the presets validate the last only)

    [search."optimizer.learning_rate"]
    low = 1e-4
    high = 1e-2
    log = true

    [search.batch_size]
    choices = [64, 128, 256]

A space is checked when it is built: every key must be a config key and every range valid,
and the config at every corner of the space (each choice, each end of each range) is built,
so a sampled config cannot fail validation unless two parameters clash in its interior (then
that trial fails with the config's message).

:func:`sweep` runs the trials with Optuna: each trial samples the parameters, trains the
config with :func:`~fashionkit.train` into its own run directory under the sweep folder, and
is scored by its best validation accuracy; a pruner stops trials whose per-epoch validation
accuracy is poor (from the first validated epoch: :func:`sweep` warns when some trials
validate only their last epochs). The study lives in a database: SQLite in the sweep folder by
default, or any database URL Optuna supports, shared by workers on several machines. Workers
record a heartbeat; a trial whose worker died (even by ``SIGKILL``) is failed once its
heartbeat is stale and retried, resuming its run directory from its last checkpoint. Running
the same command again continues the study until the requested number of trials has finished.

**Where the study lives.** By default in SQLite, ``study.db`` in the sweep folder, which is for
one machine only (SQLite's locks are unsafe on network filesystems). To share a study with
workers on other machines, give :func:`sweep` a database URL Optuna supports
(``postgresql://user:pass@host/db``), or ``journal:PATH``: Optuna's journal file, for a study
shared through a file on a filesystem every worker mounts (NFS, say), with no server; a
relative path is relative to the working directory.

**The time budget.** ``sweep(timeout_seconds=...)`` is a wall-clock budget of the call: no
trial starts after it, and running trials stop at their next batch, are marked failed and
queued again, so that the next run resumes them from their last checkpoint. This is not
:class:`~fashionkit.callbacks.TimeBudget`, which ends ``fit`` early and keeps the run as
complete: a trial cut short that way would be scored on fewer epochs than the others and never
trained further.

The package is a front door over small rooms: the space language (``_space``), the sweep
folder's layout (``_folder``), the records of what was found (``_records``), the Optuna adapters
(``_study``: storage, heartbeat, pruner), the worker processes (``_worker``) and :func:`sweep`
itself (``_sweep``), which opens the study, runs the workers and collects the trials (its
arguments are declared with the parameter checks every public function has). The per-epoch
report to the pruner is a callback, in :mod:`fashionkit.callbacks`.
"""

from fashionkit.sweep import _study
from fashionkit.sweep._records import SweepResult as SweepResult
from fashionkit.sweep._records import TrialRecord as TrialRecord
from fashionkit.sweep._space import Parameter as Parameter
from fashionkit.sweep._space import SearchSpace as SearchSpace
from fashionkit.sweep._study import open_study as open_study
from fashionkit.sweep._sweep import sweep as sweep

#: The pruners :func:`sweep` offers.
PRUNERS: tuple[str, ...] = _study.PRUNERS

__all__ = [
    "PRUNERS",
    "Parameter",
    "SearchSpace",
    "SweepResult",
    "TrialRecord",
    "open_study",
    "sweep",
]
