"""One worker of the two-worker tests (``tests/test_multi_worker.py``), run as a script.

``python _worker_job.py SPEC`` where SPEC is JSON: ``config`` (a TrainConfig dict), ``run_dir``,
and optionally ``sleep`` (seconds per batch, to give a test time to kill a worker mid-epoch).
It trains on a small synthetic dataset (the same on every worker) and prints one line:
``RESULT {...}`` (the TrainResult's dict) or ``INTERRUPTED {...}`` (exit code 3).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

import fashionkit


def dataset() -> fashionkit.FashionMNIST:
    """400/100 images whose classes are learnable (a bright band per class), seeded."""
    rng = np.random.default_rng(11)

    def make(n: int) -> fashionkit.Split:
        labels = np.arange(n, dtype=np.uint8) % 10
        images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 3, :] = 220
        return fashionkit.Split(images=images, labels=labels)

    source = fashionkit.DataSource(directory=Path("."), origin="argument", verified=False)
    return fashionkit.FashionMNIST(train=make(400), test=make(100), source=source)


class SlowBatches(keras.callbacks.Callback):  # type: ignore[misc]
    """Sleep after every batch (the arithmetic is unchanged; only the clock slows)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Sleep."""
        time.sleep(self.seconds)


def main() -> int:
    """Train one worker as the spec says and print its result."""
    spec = json.loads(sys.argv[1])
    config = fashionkit.TrainConfig.from_dict(spec["config"])
    callbacks = [SlowBatches(spec["sleep"])] if spec.get("sleep") else []
    try:
        result = fashionkit.train(
            config, dataset=dataset(), run_dir=spec["run_dir"], callbacks=callbacks
        )
    except fashionkit.TrainingInterrupted as exc:
        print("INTERRUPTED " + json.dumps({"completed": exc.completed_epochs}), flush=True)
        return 3
    print("RESULT " + json.dumps(result.to_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
