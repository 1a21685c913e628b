"""Setting a run up: the validation rows held out of the training images."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

import fashionkit
from tests.helpers import SMALL, TinyRunFactory


def test_train_holds_out_the_tutorials_validation_rows(
    tiny_run: TinyRunFactory, tiny_dataset: fashionkit.FashionMNIST
) -> None:
    """It validates on the rows train_test_split(test_size=0.2, random_state=42) holds out."""
    result = tiny_run(SMALL, run_dir=False).result
    labels = np.asarray(tiny_dataset.train.labels)
    _, held = train_test_split(np.arange(len(labels)), test_size=0.2, random_state=42)
    support = [m.support for m in result.validation.per_class]
    assert support == np.bincount(labels[held], minlength=10).tolist()
