"""The training loops: Keras's ``fit``, and a loop for ``MultiWorkerMirroredStrategy``.

Both take the :class:`~fashionkit.training._setup.TrainingSetup` and the full callback list,
drive the epochs from ``setup.initial_epoch`` to ``config.epochs``, and call the callbacks
with Keras's hooks; validation is one of those callbacks, so both loops log the same
``val_*`` metrics.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from fashionkit.exceptions import ConfigError
from fashionkit.preprocessing import prepare_images
from fashionkit.training._compile import make_loss
from fashionkit.training._setup import TrainingSetup


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
    (``experimental_distribute_dataset``, ``strategy.run``, ``strategy.reduce``): the
    distributed engine is still TensorFlow's, only the loop around it is ours. It keeps
    ``fit``'s contract that matters here: a global batch size (each replica gets an equal
    share; the last incomplete batch of an epoch is dropped so every replica steps in lockstep),
    Keras callbacks with ``stop_training``, and per-epoch ``loss``/``accuracy`` logs.
    """

    def run(self, setup: TrainingSetup, callbacks: list[Any]) -> float:
        """Train for the remaining epochs."""
        import keras
        import tensorflow as tf

        config, model, strategy = setup.config, setup.model, setup.strategy
        x = prepare_images(setup.train_images, layout=setup.layout)
        y = setup.train_targets
        batch_size = config.batch_size
        loss = make_loss(config.loss, reduction=None)
        one_hot = y.ndim == 2
        steps = len(x) // batch_size
        if steps == 0:
            raise ConfigError(
                f"batch_size={batch_size} is larger than the {len(x)} training images; the "
                f"multi-worker loop drops incomplete batches, so nothing would be trained. Use a "
                f"smaller batch size."
            )
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        dataset = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True)
            .batch(batch_size, drop_remainder=True)
            .with_options(options)
        )
        distributed = strategy.experimental_distribute_dataset(dataset)
        optimizer = model.optimizer
        with strategy.scope():
            optimizer.build(model.trainable_variables)
        scales_loss = hasattr(optimizer, "scale_loss")

        def replica_step(xb: Any, yb: Any) -> tuple[Any, Any]:
            with tf.GradientTape() as tape:
                probs = model(xb, training=True)
                per_example = loss(yb, probs)
                batch_loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch_size)
                scaled = optimizer.scale_loss(batch_loss) if scales_loss else batch_loss
            grads = tape.gradient(scaled, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            truth = tf.argmax(yb, axis=1) if one_hot else tf.cast(yb, tf.int64)
            hits = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(probs, axis=1), truth), tf.float32))
            return batch_loss, hits

        def distributed_step(batch: Any) -> tuple[Any, Any]:
            batch_loss, hits = strategy.run(replica_step, args=batch)
            return (
                strategy.reduce(tf.distribute.ReduceOp.SUM, batch_loss, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, hits, axis=None),
            )

        train_step = tf.function(distributed_step)
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
            callback_list.on_epoch_begin(epoch)
            total_loss, total_hits, seen = 0.0, 0.0, 0
            logs: dict[str, Any] = {}
            for step, batch in enumerate(distributed):
                callback_list.on_train_batch_begin(step)
                batch_loss, hits = train_step(batch)
                total_loss += float(batch_loss)
                total_hits += float(hits)
                seen += batch_size
                logs = {"loss": total_loss / (step + 1), "accuracy": total_hits / seen}
                callback_list.on_train_batch_end(step, logs)
                if model.stop_training:
                    break
            callback_list.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        # Keras's fit ends the same way: with weight averaging, the model keeps the average.
        optimizer.finalize_variable_values(model.trainable_variables)
        callback_list.on_train_end()
        return time.perf_counter() - start


def loop_for(setup: TrainingSetup) -> TrainingLoop:
    """The loop that suits the setup's strategy."""
    if setup.placement.strategy == "multi_worker":
        return MultiWorkerLoop()
    return KerasFitLoop()
