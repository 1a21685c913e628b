"""The training loops: Keras's ``fit``, and a loop for ``MultiWorkerMirroredStrategy``.

Both take the :class:`~fashionkit.training._setup.TrainingSetup` and the full callback list,
drive the epochs from ``setup.initial_epoch`` to ``config.epochs``, and call the callbacks
with Keras's hooks; validation is one of those callbacks, so both loops log the same
``val_*`` metrics.
"""

from __future__ import annotations

import signal as _signal
import time
from typing import Any, Protocol

from fashionkit.exceptions import ConfigError
from fashionkit.training._compile import make_loss
from fashionkit.training._setup import TrainingSetup, summed_over_replicas


class TrainingLoop(Protocol):
    """Runs the epochs of a prepared training and returns the seconds it took."""

    def run(self, setup: TrainingSetup, callbacks: list[Any]) -> float:
        """Train ``setup.model`` in place with ``callbacks``; return wall-clock seconds."""
        ...


class KerasFitLoop:
    """``model.fit`` on the uint8 input pipeline, shuffled per (seed, epoch)."""

    def run(self, setup: TrainingSetup, callbacks: list[Any]) -> float:
        """Fit for the remaining epochs."""
        config = setup.config
        batches = setup.batches()
        start = time.perf_counter()
        setup.model.fit(
            batches,
            epochs=config.epochs,
            initial_epoch=setup.initial_epoch,
            steps_per_epoch=setup.steps_per_epoch,
            callbacks=callbacks,
            verbose=config.verbose,
            shuffle=False,  # epoch_batches shuffles, by seed and epoch
        )
        return time.perf_counter() - start


class MultiWorkerLoop:
    """A custom loop for ``tf.distribute.MultiWorkerMirroredStrategy``.

    Keras 3's ``Model.fit`` fails under ``MultiWorkerMirroredStrategy`` ("Attempt to convert a
    value (PerReplica...)", keras-team/keras#20585), while it works under
    ``MirroredStrategy``. This loop drives the step itself with the strategy's own API
    (``distribute_datasets_from_function``, ``strategy.run``, ``strategy.reduce``): the
    distributed engine is still TensorFlow's, only the loop around it is ours. It keeps
    ``fit``'s contract that matters here:

    - **The global batch.** Every worker builds the same epoch of batches as ``fit`` does on one
      machine (:func:`~fashionkit._pipeline.epoch_batches`: the order and the augmentation are
      drawn from the seed and the epoch) and trains on its own slice of each batch, one slice
      per replica; the loss is averaged over the global batch, so a step is the single-machine
      step. The last incomplete batch of an epoch is dropped, so that every replica steps in
      lockstep.
    - **Stopping together.** A worker that wants to stop (a signal, a time budget, a callback's
      ``stop_training``) says so in the next step's all-reduce, and every worker stops after
      that same step; the requests are exchanged once more after each epoch's callbacks, so an
      epoch-end decision (early stopping) is taken by all or none.
    - Keras callbacks with per-epoch ``loss``/``accuracy`` logs.
    """

    def run(self, setup: TrainingSetup, callbacks: list[Any]) -> float:
        """Train for the remaining epochs."""
        import keras

        config, model, strategy = setup.config, setup.model, setup.strategy
        batch_size = config.batch_size
        steps, replicas = _steps_and_replicas(setup)
        train_step = _distributed_step(setup)
        agree = summed_over_replicas(strategy)
        stops = _Stops(model, callbacks)
        callback_list = keras.callbacks.CallbackList(
            callbacks,
            add_history=False,
            add_progbar=config.verbose != 0,
            model=model,
            verbose=config.verbose,
            epochs=config.epochs,
            steps=steps,
        )
        start = time.perf_counter()
        model.stop_training = False
        callback_list.on_train_begin()
        for epoch in range(setup.initial_epoch, config.epochs):
            distributed = strategy.distribute_datasets_from_function(
                lambda context, epoch=epoch: _worker_batches(
                    setup, context, epoch=epoch, steps=steps, replicas=replicas
                )
            )
            callback_list.on_epoch_begin(epoch)
            total_loss, total_hits, seen = 0.0, 0.0, 0
            logs: dict[str, Any] = {}
            for step, batch in enumerate(distributed):
                callback_list.on_train_batch_begin(step)
                batch_loss, hits, asked = train_step(batch, stops.wants())
                total_loss += float(batch_loss)
                total_hits += float(hits)
                seen += batch_size
                logs = {"loss": total_loss / (step + 1), "accuracy": total_hits / seen}
                callback_list.on_train_batch_end(step, logs)
                # The requests made before this step: every worker breaks after this same step.
                if stops.agreed(asked, epoch=epoch, cut_short=step + 1 < steps):
                    break
            callback_list.on_epoch_end(epoch, logs)
            if stops.agreed(agree(stops.wants()), epoch=epoch, cut_short=False):
                break
        # Keras's fit ends the same way: with weight averaging, the model keeps the average.
        model.optimizer.finalize_variable_values(model.trainable_variables)
        callback_list.on_train_end()
        return time.perf_counter() - start


def _steps_and_replicas(setup: TrainingSetup) -> tuple[int, int]:
    """Complete batches per epoch, and the replicas.

    Raises:
        ConfigError: No batch is complete, or the batch does not split evenly over the
            replicas.
    """
    batch_size = setup.config.batch_size
    steps = len(setup.train_images) // batch_size
    if steps == 0:
        raise ConfigError(
            f"batch_size={batch_size} is larger than the {len(setup.train_images)} training "
            f"images; the multi-worker loop drops incomplete batches, so nothing would be "
            f"trained. Use a smaller batch size."
        )
    replicas = int(setup.strategy.num_replicas_in_sync)
    if batch_size % replicas:
        raise ConfigError(
            f"batch_size={batch_size} does not split evenly over the {replicas} replicas "
            f"of the multi-worker strategy; use a multiple of {replicas}."
        )
    return steps, replicas


def _distributed_step(setup: TrainingSetup) -> Any:
    """The compiled training step: each replica's slice, the loss over the global batch.

    It takes a batch and this worker's stop requests, and returns the global batch's summed
    loss and hits and every worker's summed requests.
    """
    import tensorflow as tf

    config, model, strategy = setup.config, setup.model, setup.strategy
    batch_size = config.batch_size
    loss = make_loss(config.loss, reduction=None)
    one_hot = setup.train_targets.ndim == 2
    optimizer = model.optimizer
    with strategy.scope():
        optimizer.build(model.trainable_variables)
    scales_loss = hasattr(optimizer, "scale_loss")

    def replica_step(xb: Any, yb: Any, wants: Any) -> tuple[Any, Any, Any]:
        with tf.GradientTape() as tape:
            probs = model(xb, training=True)
            per_example = loss(yb, probs)
            batch_loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch_size)
            scaled = optimizer.scale_loss(batch_loss) if scales_loss else batch_loss
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        truth = tf.argmax(yb, axis=1) if one_hot else tf.cast(yb, tf.int64)
        hits = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(probs, axis=1), truth), tf.float32))
        return batch_loss, hits, tf.identity(wants)

    def distributed_step(batch: Any, wants: Any) -> tuple[Any, Any, Any]:
        batch_loss, hits, asked = strategy.run(replica_step, args=(*batch, wants))
        total = tf.distribute.ReduceOp.SUM
        return (
            strategy.reduce(total, batch_loss, axis=None),
            strategy.reduce(total, hits, axis=None),
            strategy.reduce(total, asked, axis=None),
        )

    return tf.function(distributed_step)


def _worker_batches(
    setup: TrainingSetup, context: Any, *, epoch: int, steps: int, replicas: int
) -> Any:
    """This worker's share of epoch ``epoch``: one slice of every global batch per replica.

    Every worker builds the whole epoch as one machine would (same order, same augmentation)
    and keeps its replicas' consecutive slices of each batch.
    """
    import tensorflow as tf

    per_replica = setup.config.batch_size // replicas
    local = replicas // context.num_input_pipelines  # the replicas of this worker
    first = context.input_pipeline_id * local * per_replica
    width = local * per_replica

    def slices(x: Any, y: Any) -> Any:
        x = tf.reshape(x[first : first + width], (local, per_replica, *x.shape[1:]))
        y = tf.reshape(y[first : first + width], (local, per_replica, *y.shape[1:]))
        return tf.data.Dataset.from_tensor_slices((x, y))

    return setup.batches(first_epoch=epoch, epochs=epoch + 1).take(steps).flat_map(slices)


#: The requests one worker passes to the others: [stop, stopped by a signal].
_NO_REQUEST = (0.0, 0.0)


class _Stops:
    """This worker's stop requests, and what it does when the workers agree to stop."""

    def __init__(self, model: Any, callbacks: list[Any]) -> None:
        from fashionkit.callbacks._stop_on_signal import StopOnSignal

        self.model = model
        self.signals = next((c for c in callbacks if isinstance(c, StopOnSignal)), None)

    def wants(self) -> Any:
        """This worker's requests, as the tensor the step all-reduces."""
        import tensorflow as tf

        signalled = self.signals is not None and self.signals.received is not None
        stop = bool(self.model.stop_training) or signalled
        return tf.constant([float(stop), float(signalled)], dtype=tf.float32)

    def agreed(self, asked: Any, *, epoch: int, cut_short: bool) -> bool:
        """Whether any worker asked to stop; if so, stop here too and say why."""
        stop, signalled = (float(v) for v in asked.numpy())
        if stop <= 0:
            return False
        self.model.stop_training = True
        signals = self.signals
        if signals is None:
            return True
        context = signals.context
        if not cut_short and context.partial_epoch == epoch + 1:
            # Asked for during the epoch's last step, which every worker then finished.
            context.partial_epoch = None
        if signals.received is not None:
            signals.record(cut_short=cut_short)
        elif signalled > 0 and context.interrupted_by is None:
            context.interrupted_by = int(_signal.SIGTERM)
            context.stop_reason = None
            context.record_stop(
                f"interrupted by a signal to another worker during epoch {epoch + 1}",
                epoch=epoch + 1,
                cut_short=cut_short,
            )
        elif context.stop_reason is None:
            context.record_stop(
                f"another worker stopped training during epoch {epoch + 1} (its time budget or "
                f"a callback)",
                epoch=epoch + 1,
                cut_short=cut_short,
            )
        return True


def loop_for(setup: TrainingSetup) -> TrainingLoop:
    """The loop that suits the setup's strategy."""
    if setup.placement.strategy == "multi_worker":
        return MultiWorkerLoop()
    return KerasFitLoop()
