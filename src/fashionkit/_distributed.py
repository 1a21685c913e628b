"""A training loop for ``tf.distribute.MultiWorkerMirroredStrategy``.

Keras 3's ``Model.fit`` fails under ``MultiWorkerMirroredStrategy`` ("Attempt to convert a value
(PerReplica...)", keras-team/keras#20585), while it works under ``MirroredStrategy``. For
``multi_worker`` fashionkit therefore drives the step itself with the strategy's own API
(``experimental_distribute_dataset``, ``strategy.run``, ``strategy.reduce``): the distributed
engine is still TensorFlow's, only the loop around it is ours. It keeps ``fit``'s contract that
matters here: a global batch size, Keras callbacks (including ``stop_training``), per-epoch
``loss``/``accuracy``/``val_loss``/``val_accuracy`` logs and a ``History``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fashionkit._pipeline import predict_in_batches
from fashionkit.evaluation import loss_and_accuracy


def fit_multi_worker(
    model: Any,
    strategy: Any,
    x: NDArray[np.float32],
    y: NDArray[Any],
    *,
    validation: tuple[NDArray[np.float32], NDArray[Any]],
    loss: Any,
    epochs: int,
    batch_size: int,
    seed: int,
    callbacks: list[Any],
    verbose: int,
) -> Any:
    """Train ``model`` (built in ``strategy.scope()``) and return its ``keras.callbacks.History``.

    ``batch_size`` is global: each of the ``num_replicas_in_sync`` replicas gets an equal share.
    The last incomplete batch of an epoch is dropped so that every replica steps in lockstep.
    ``loss`` must be a Keras loss built with ``reduction=None``.
    """
    import keras
    import tensorflow as tf

    one_hot = y.ndim == 2
    steps = len(x) // batch_size
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
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

    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history],
        add_history=False,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    x_val, y_val = validation
    for epoch in range(epochs):
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
        val_labels = y_val.argmax(axis=1) if one_hot else y_val
        val_loss, val_accuracy = loss_and_accuracy(predict_in_batches(model, x_val), val_labels)
        epoch_logs = {**logs, "val_loss": val_loss, "val_accuracy": val_accuracy}
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return history
