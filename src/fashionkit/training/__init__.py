"""Training: compiling models, and :func:`train`, which sets up, runs the loop and finishes.

:func:`train` reads as three steps, each in a module of its own: ``_setup.prepare`` (devices,
run directory, data, split, targets, seeds, model), a training loop from ``_loops`` (Keras's
``fit``, or the multi-worker loop), and ``_train._finish`` (history, final reports, results).
"""

from fashionkit.results import EpochRecord as EpochRecord
from fashionkit.results import TrainResult as TrainResult
from fashionkit.training._compile import aligned_steps_per_execution as aligned_steps_per_execution
from fashionkit.training._compile import build_model as build_model
from fashionkit.training._compile import compile_model as compile_model
from fashionkit.training._compile import create_training_model as create_training_model
from fashionkit.training._compile import make_loss as make_loss
from fashionkit.training._compile import make_optimizer as make_optimizer
from fashionkit.training._train import train as train

__all__ = [
    "EpochRecord",
    "TrainResult",
    "aligned_steps_per_execution",
    "build_model",
    "compile_model",
    "create_training_model",
    "make_loss",
    "make_optimizer",
    "train",
]
