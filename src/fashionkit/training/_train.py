"""``fashionkit.train``: set up, run the loop, finish."""

from __future__ import annotations

import logging
import signal
import time
import warnings
from collections.abc import Sequence
from typing import Any

import attrs

from fashionkit._averaging import finalize_average
from fashionkit._typing import PathLike
from fashionkit._validation import Constraint, InstanceOf, NoneOr, SequenceOf, params
from fashionkit.calibration import Calibration, calibrate
from fashionkit.config import TrainConfig
from fashionkit.datasets import FashionMNIST
from fashionkit.evaluation import EvaluationReport
from fashionkit.exceptions import FashionkitWarning, TrainingInterrupted
from fashionkit.results import TrainResult
from fashionkit.training._loops import loop_for
from fashionkit.training._setup import TrainingSetup, prepare

logger = logging.getLogger("fashionkit")


@attrs.frozen
class _KerasCallback(Constraint):
    """A Keras callback: an instance with Keras's hooks (not a class, not a plain function)."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is an instance with the hooks ``fit`` calls on every callback."""
        hooks = ("set_model", "set_params", "on_epoch_end", "on_train_batch_end")
        return not isinstance(value, type) and all(hasattr(value, hook) for hook in hooks)

    def describe(self) -> str:
        """What is allowed."""
        return "a Keras callback (an instance of keras.callbacks.Callback)"


@params(
    config=NoneOr(
        InstanceOf((TrainConfig,), "a TrainConfig (from a dict: TrainConfig.from_dict(data))")
    ),
    callbacks=SequenceOf(
        _KerasCallback(),
        description="a list or tuple of Keras callbacks (instances of keras.callbacks.Callback)",
    ),
)
def train(
    config: TrainConfig | None = None,
    *,
    dataset: FashionMNIST | None = None,
    callbacks: Sequence[Any] = (),
    run_dir: PathLike | None = None,
    live: bool = False,
) -> TrainResult:
    """Train a model on Fashion-MNIST as ``config`` describes, and evaluate it.

    With no arguments it reproduces the tutorial: the one-layer softmax model, sparse labels,
    RMSprop, 5 epochs of batches of 32, the tutorial's 20% validation split (about 0.85
    validation accuracy). It loads and checks the data, holds out the validation split,
    seeds everything, places the model on the device the config asks for, trains it, and
    returns the validation and test reports with the model; with ``run_dir`` it also saves
    everything needed to resume, reload and export the run. SIGINT (Ctrl-C) and SIGTERM stop
    training at the next batch boundary and keep every completed epoch.

    Args:
        config: What to train; :class:`~fashionkit.config.TrainConfig()` when omitted. Its
            ``batch_size`` is the global batch, split among the replicas.
        dataset: The data; loaded with :func:`~fashionkit.load_fashion_mnist` when omitted.
        callbacks: Keras callbacks, run after fashionkit's own (so the epoch's ``val_*``
            metrics are already in the logs). Two hooks beyond Keras's reach them (see
            :mod:`fashionkit.callbacks`): ``set_context(context)`` receives the run's
            :class:`~fashionkit.callbacks.TrainingContext` before training starts, and
            ``on_result(result)`` the :class:`~fashionkit.TrainResult` once the final model is
            evaluated, before the run directory's results are written.
        run_dir: Folder to keep the run in (layout in :mod:`fashionkit.runs`): the config, a
            checkpoint after every epoch, the metrics log, the final model, the reports and the
            environment. If the folder holds an interrupted run of the same config, training
            resumes after its last completed epoch and ends at ``config.epochs``; each epoch's
            data order depends only on the seed and the epoch, so a resumed deterministic run
            ends with the same metrics as an uninterrupted one.
        live: In a Jupyter notebook, redraw the learning curves under the cell after every
            epoch (:class:`~fashionkit.callbacks.LiveCurves`, which needs the ``plot`` extra);
            elsewhere it changes nothing and the per-epoch line stays. Defaults to ``False``.

    Returns:
        The trained model, per-epoch history, validation and test reports, and timings.

    Raises:
        ArgumentError: ``config`` is not a TrainConfig (a dict, say), a callback is not a Keras
            callback instance, or another argument has the wrong type.
        DeviceError: The device config cannot be satisfied.
        RunDirError: ``run_dir`` is in use by another process, is a file, holds a different
            config, a completed run, or damaged files, or cannot be written.
        TrainingInterrupted: SIGINT or SIGTERM stopped training.
        ConfigError: ``config`` asks for TensorBoard logs without a run directory.
        FashionkitError: Loading or validating the data failed (see
            :func:`~fashionkit.load_fashion_mnist`).

    Example:
        >>> import fashionkit
        >>> result = fashionkit.train()  # doctest: +SKIP
        >>> round(result.validation.accuracy, 2)  # doctest: +SKIP
        0.85
    """
    started = time.perf_counter()
    idle = config.idle_patience if config is not None else None
    if idle is not None:
        warnings.warn(idle, FashionkitWarning, stacklevel=3)  # past params: train's caller
    setup = prepare(
        config if config is not None else TrainConfig(), dataset=dataset, run_dir=run_dir
    )
    wiring: _Wiring | None = None
    try:
        wiring = _wire_callbacks(setup, callbacks, live=live)
        fit_seconds = _loop(setup, wiring)
        _raise_if_interrupted(setup, wiring)
        return _finish(setup, wiring, fit_seconds=fit_seconds, started=started)
    finally:
        _close(setup, wiring)


def _loop(setup: TrainingSetup, wiring: _Wiring) -> float:
    """Train the remaining epochs; return the seconds spent fitting."""
    logger.info("device: %s", setup.placement)
    if setup.run is not None and setup.run.stop_reason is not None:
        # The checkpoint was written when training stopped (early stopping, a time budget)
        # and the process ended before the results: finish without training on.
        wiring.context.stop_reason = setup.run.stop_reason
        finalize_average(setup.model)
        return 0.0
    return loop_for(setup).run(setup, wiring.callbacks)


def _close(setup: TrainingSetup, wiring: _Wiring | None) -> None:
    """Restore the signal handlers, close the TensorBoard writers and the run directory.

    Also when fit raised and ``on_train_end`` never ran.
    """
    if wiring is not None:
        wiring.signals.restore()
        if wiring.tensorboard is not None:
            wiring.tensorboard.close()
    if setup.run is not None:
        setup.run.close()


@attrs.frozen(kw_only=True, eq=False)
class _Wiring:
    callbacks: list[Any]
    context: Any  # fashionkit.callbacks.TrainingContext (imports Keras)
    records: Any  # fashionkit.callbacks._record_epochs.RecordEpochs
    signals: Any  # fashionkit.callbacks._stop_on_signal.StopOnSignal
    best: Any  # fashionkit.callbacks._keep_best.KeepBest
    # The run directory's fashionkit.callbacks.TensorBoardLogger, or None: train() closes its
    # writers when fit raises (on_train_end does not run then).
    tensorboard: Any


def _wire_callbacks(setup: TrainingSetup, user: Sequence[Any], *, live: bool = False) -> _Wiring:
    """Fashionkit's callbacks, then the user's, then the records, live curves, log, checkpoint."""
    from fashionkit.callbacks import TimeBudget, TrainingContext
    from fashionkit.callbacks._evaluate_each_epoch import EvaluateEachEpoch
    from fashionkit.callbacks._keep_best import KeepBest
    from fashionkit.callbacks._record_epochs import RecordEpochs
    from fashionkit.callbacks._reseed import ReseedEachEpoch
    from fashionkit.callbacks._stop_on_signal import StopOnSignal

    config = setup.config
    context = TrainingContext(
        config=config,
        validation=setup.epoch_validation,
        initial_epoch=setup.initial_epoch,
        run_dir=setup.run.path if setup.run is not None else None,
    )
    records = RecordEpochs()
    # Under multi_worker the loop passes a signal to every worker, which all stop at one step.
    signals = StopOnSignal(context)
    run_dir = setup.run
    best = KeepBest(
        config.early_stopping,
        directory=run_dir.checkpoint_folder if run_dir is not None else None,
        resumed=run_dir.state.best if run_dir is not None and run_dir.state is not None else None,
    )
    own: list[Any] = [
        signals,
        ReseedEachEpoch(config.seed),
        EvaluateEachEpoch(setup.epoch_validation, first_epoch=config.first_validated_epoch),
        best,
    ]
    if config.time_budget_seconds is not None:
        own.append(TimeBudget(config.time_budget_seconds))
    # The records and the log come after the user's callbacks, so that they keep what those
    # added to the logs; the checkpoint comes last, so that a checkpointed epoch has its line.
    run = setup.run.callbacks() if setup.run is not None else []
    curves: list[Any] = []
    if live:
        from fashionkit.callbacks import LiveCurves

        curves.append(LiveCurves())
    everything = [*own, *user, records, *curves, *run]
    for callback in everything:
        set_context = getattr(callback, "set_context", None)
        if callable(set_context):
            set_context(context)
    from fashionkit.callbacks import TensorBoardLogger

    board = next((c for c in run if isinstance(c, TensorBoardLogger)), None)
    return _Wiring(
        callbacks=everything,
        context=context,
        records=records,
        signals=signals,
        best=best,
        tensorboard=board,
    )


def _raise_if_interrupted(setup: TrainingSetup, wiring: _Wiring) -> None:
    """After a signal, report the completed epochs instead of finishing the run."""
    context = wiring.context
    if context.interrupted_by is None:
        return
    name = signal.Signals(context.interrupted_by).name
    kept = [r for r in wiring.records.records if not context.discards(r.epoch)]
    completed = setup.initial_epoch + len(kept)
    if completed >= setup.config.epochs:  # nothing left to train: finish the run
        context.stop_reason = None
        return
    where = (
        f"{setup.run.path} keeps every completed epoch: train the same config into it again to "
        f"resume."
        if setup.run is not None
        else "nothing was saved (train with a run directory to be able to resume)."
    )
    raise TrainingInterrupted(
        f"Training stopped by {name} after {completed} of {setup.config.epochs} epoch(s); {where}",
        signal_number=context.interrupted_by,
        completed_epochs=completed,
        run_dir=setup.run.path if setup.run is not None else None,
    )


def _restore_best(setup: TrainingSetup, wiring: _Wiring) -> bool:
    """With ``early_stopping.restore_best``, put the best epoch's weights into the model."""
    best = wiring.context.best
    if not setup.config.early_stopping.restore_best or best is None:
        return False
    weights = wiring.best.best_weights
    if weights is None:  # the best epoch ran before a resume: read its model
        weights = setup.run.best_weights() if setup.run is not None else None
        if weights is None:
            return False
    setup.model.set_weights(weights)
    return True


def _final_reports(
    setup: TrainingSetup,
) -> tuple[EvaluationReport, EvaluationReport, Calibration | None]:
    """The final validation and test reports; with ``calibrate``, fit the temperature first.

    The temperature is fitted on the validation split's probabilities (with TTA when the
    config uses it, as the reports are computed), then both reports are computed from the
    rescaled probabilities; the calibration record keeps both splits' ECE before and after.
    """
    model = setup.model
    val_probs = setup.validation.probabilities(model)
    if not setup.config.calibrate:
        return setup.validation.report(val_probs), setup.test(model), None
    test_probs = setup.test.probabilities(model)
    calibration = calibrate(val_probs, setup.validation.labels, split="validation").score(
        test_probs, setup.test.labels, split="test"
    )
    t = calibration.temperature
    logger.info("calibration: %s", calibration.to_text().replace("\n", "; "))
    return (
        setup.validation.report(val_probs, temperature=t),
        setup.test.report(test_probs, temperature=t),
        calibration,
    )


def _finish(
    setup: TrainingSetup, wiring: _Wiring, *, fit_seconds: float, started: float
) -> TrainResult:
    """Merge the history, evaluate the final model, hand the result to the callbacks, write it.

    Every callback that defines ``on_result(result)`` receives the result before the run
    directory's results are written.
    """
    context = wiring.context
    earlier = setup.run.history if setup.run is not None else ()
    now = tuple(
        attrs.evolve(r, partial=True) if r.epoch == context.partial_epoch else r
        for r in wiring.records.records
    )
    history = (*earlier, *now)
    stop_reason = context.stop_reason
    completed = sum(1 for r in history if not r.partial)
    if completed >= setup.config.epochs and not any(r.partial for r in history):
        stop_reason = None  # every epoch ran (a budget spent on the very last batch)
    elif stop_reason is None and completed < setup.config.epochs:
        stop_reason = f"a callback stopped training after epoch {completed}"
    restored = _restore_best(setup, wiring)
    best = context.best
    validation, test, calibration = _final_reports(setup)
    result = TrainResult(
        model=setup.model,
        config=setup.config,
        history=history,
        validation=validation,
        test=test,
        placement=setup.placement,
        fit_seconds=fit_seconds,
        total_seconds=time.perf_counter() - started,
        stop_reason=stop_reason,
        run_dir=setup.run.path if setup.run is not None else None,
        resumed_from_epoch=setup.initial_epoch,
        best_epoch=best.epoch if best is not None else None,
        restored_best=restored,
        calibration=calibration,
    )
    for callback in wiring.callbacks:  # the TensorBoard logger's confusion matrix and session end
        on_result = getattr(callback, "on_result", None)
        if callable(on_result):
            on_result(result)
    if setup.run is not None:
        setup.run.write_results(result)
    return result
