"""Training: compiling models, and :func:`train`, which sets up, runs the loop and finishes.

:func:`train` reads as three steps, each in a module of its own:

- **Setup** (``_setup.prepare``): apply the device config (before TensorFlow initialises) and
  create the distribution strategy; open the run directory; load the data unless a dataset is
  given; hold out the validation split (by default the tutorial's, row for row); encode the
  labels for the loss; seed Python, NumPy and Keras (and turn on op determinism unless
  ``config.deterministic`` is off); create and compile the model in the strategy's scope under
  the configured precision, or restore it from the run directory.
- **Loop** (``_loops``): Keras's ``fit`` (or, for ``multi_worker``, fashionkit's own loop)
  with fashionkit's callbacks, then the user's, then the run directory's.
- **Finish** (``_train._finish``): merge the history, evaluate the final model on the
  validation and test splits, hand the result to every callback's ``on_result``, and write
  the run directory's results.

**Batches and workers.** ``config.batch_size`` is the global batch: with several replicas
(``mirrored`` or ``multi_worker``) each replica computes ``batch_size / replicas`` examples per
step, and an epoch has the same number of steps as on one device. Under ``multi_worker`` give
every worker the same run directory on a filesystem they all see: the chief (task ``chief``,
or worker 0) writes it, the others resume from its checkpoint and write nothing.

**Interrupting.** SIGINT (Ctrl-C) and SIGTERM during training stop it at the next batch
boundary: the epoch in progress is dropped, every completed epoch stays in the run directory,
and :class:`~fashionkit.exceptions.TrainingInterrupted` is raised; training again resumes. A
signal during the final evaluation and writing is noted and the run is finished (it takes
seconds). Under ``multi_worker`` a signal to any one worker stops every worker after the same
step (a time budget and a callback's ``stop_training`` too).
"""

from fashionkit.training._compile import aligned_steps_per_execution as aligned_steps_per_execution
from fashionkit.training._compile import compile_model as compile_model
from fashionkit.training._compile import create_training_model as create_training_model
from fashionkit.training._compile import make_loss as make_loss
from fashionkit.training._compile import make_optimizer as make_optimizer
from fashionkit.training._train import train as train

__all__ = [
    "aligned_steps_per_execution",
    "compile_model",
    "create_training_model",
    "make_loss",
    "make_optimizer",
    "train",
]
