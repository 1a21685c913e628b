"""RecordEpochs: the records of the last fit, timed per epoch."""

from __future__ import annotations

import fashionkit
from fashionkit.callbacks._record_epochs import RecordEpochs
from tests.helpers import plain_fit


def test_record_epochs_keeps_the_last_fit_only(tiny_dataset: fashionkit.FashionMNIST) -> None:
    """It forgets the records of an earlier fit and times every epoch."""
    records = RecordEpochs()
    plain_fit(tiny_dataset, [records], epochs=3)
    assert [r.epoch for r in records.records] == [1, 2, 3]
    plain_fit(tiny_dataset, [records], epochs=1)
    assert [r.epoch for r in records.records] == [1]
    assert records.records[0].seconds is not None
    assert records.records[0].seconds > 0
    assert records.records[0].accuracy >= 0
