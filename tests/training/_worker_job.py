"""One worker of the two-worker tests (``tests/training/test_loops.py``), run as a script.

``python _worker_job.py SPEC`` where SPEC is JSON: ``config`` (a TrainConfig dict), ``run_dir``,
and optionally ``sleep`` (seconds per batch, to give a test time to kill a worker mid-epoch).
It trains on a small synthetic dataset (``tests.helpers.band_dataset``, the same on every worker)
and prints one line:
``RESULT {...}`` (the TrainResult's dict) or ``INTERRUPTED {...}`` (exit code 3).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import keras

# Run as a script (``python tests/training/_worker_job.py SPEC``): the checkout's root goes on
# sys.path so that the tests' helpers import as in the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import fashionkit
from tests.helpers import band_dataset


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
