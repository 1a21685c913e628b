"""The sweep's progress line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import sweep_space

optuna = pytest.importorskip("optuna")


def test_the_progress_line_estimates_the_time_left_from_this_run_s_pace() -> None:
    """N of M, the best, and the time left: this run's seconds per finished trial times the rest."""
    from fashionkit.sweep._worker import progress_line

    line = progress_line(
        "trial 7 complete", done=8, total=10, best="best 0.9 (trial 2)",
        seconds=300.0, finished_here=3,
    )  # fmt: skip
    # Five trials were finished by an earlier run: the pace is 100 s a trial, two are left.
    assert line == "trial 7 complete; 8 of 10 finished, best 0.9 (trial 2), about 3 min 20 s left"
    assert progress_line(
        "x", done=5, total=5, best="b", seconds=10.0, finished_here=5
    ).endswith("5 of 5 finished, b, done")  # fmt: skip
    # Before a trial finishes here there is no pace: no estimate rather than a wrong one.
    assert "left" not in progress_line("x", done=2, total=5, best="b", seconds=9.0, finished_here=0)
    hours = progress_line("x", done=1, total=3, best="b", seconds=4000.0, finished_here=1)
    assert hours.endswith("about 2 h 13 min left")


def test_the_progress_bar_is_drawn_only_for_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A terminal gets a bar before the line; a pipe or a file gets the plain line."""
    from fashionkit.sweep import _worker

    bar = _worker.progress_line(
        "x", done=3, total=4, best="b", seconds=None, finished_here=0, bar=True
    )
    assert bar.startswith("[###############.....]  75% x; 3 of 4 finished")
    assert not _worker._is_terminal()  # pytest captures stdout: not a terminal
    monkeypatch.setattr(_worker, "_is_terminal", lambda: True)

    class Study:
        best_value = 0.5

        class best_trial:  # noqa: N801 (Optuna's attribute name)
            number = 1

        def get_trials(self, deepcopy: bool = False) -> list[Any]:
            return []

    job = _worker.Job(
        space=sweep_space(), folder=Path("."), url="", study_name="s", trials=4, pruner="none",
        deadline=None, heartbeat=1.0, progress=True, dataset=None,
    )  # fmt: skip
    _worker._progress(job, Study(), 0, "complete")
    assert capsys.readouterr().out.startswith("[....................]   0% trial 0 complete")
