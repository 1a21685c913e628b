"""One worker of the two-worker tests (``tests/test_multi_worker.py``), run as a script.

``python _worker_job.py SPEC`` where SPEC is JSON: ``config`` (a TrainConfig dict), ``run_dir``,
and optionally ``sleep`` (seconds per batch, to give a test time to kill a worker mid-epoch).
It trains on a small synthetic dataset (conftest's ``band_dataset``, the same on every worker)
and prints one line:
``RESULT {...}`` (the TrainResult's dict) or ``INTERRUPTED {...}`` (exit code 3).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import keras

import fashionkit
from conftest import band_dataset  # this script's folder, tests/, is on sys.path


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
            config,
            dataset=band_dataset(400, 100, seed=11, noise=60, band=220),
            run_dir=spec["run_dir"],
            callbacks=callbacks,
        )
    except fashionkit.TrainingInterrupted as exc:
        print("INTERRUPTED " + json.dumps({"completed": exc.completed_epochs}), flush=True)
        return 3
    print("RESULT " + json.dumps(result.to_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
