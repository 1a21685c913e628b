"""Muon for convolution kernels (a Keras object: import it lazily).

Keras's ``Muon`` orthogonalises the updates of 2-D weights only and gives every other weight
to AdamW; in a small CNN that leaves its convolutions on AdamW and puts its largest dense
layer on Muon. :class:`ConvMuon` does the opposite: each convolution kernel's update is
orthogonalised as a ``(height * width * in_channels, filters)`` matrix, and the dense layers,
biases and batch-normalisation weights stay on AdamW.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="fashionkit")
class ConvMuon(keras.optimizers.Muon):  # type: ignore[misc]
    """Muon on 4-D convolution kernels, AdamW on every other weight.

    It takes Keras's ``Muon`` arguments; ``learning_rate`` and ``weight_decay`` apply to both
    parts (the Muon update is scaled to an AdamW-sized step, as Keras scales it).
    """

    def _should_use_adamw(self, variable: Any) -> bool:
        return len(variable.shape) != 4

    def _muon_update_step(self, gradient: Any, variable: Any, lr: Any, m: Any) -> None:
        shape = variable.shape
        self.assign_add(m, ops.add(gradient, m * (self.momentum - 1)))
        g = ops.add(gradient, self.momentum * m) if self.nesterov else m
        matrix = ops.reshape(g, (-1, shape[-1]))
        update = self.zeropower_via_newtonschulz5(matrix, self.ns_steps)
        self.assign_sub(variable, ops.reshape(self.lr_adjust(lr * update), shape))
