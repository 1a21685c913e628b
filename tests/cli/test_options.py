"""The options the commands share: counts that cannot work are usage errors."""

from __future__ import annotations

import pytest

from fashionkit import cli


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["predict", "run", "x.png", "--top", "0"], "expected a positive integer"),
        (["predict", "run", "x.png", "--top", "x"], "expected a positive integer"),
        (["baseline", "--folds", "-1"], "expected a positive integer"),
        (["baseline", "--jobs", "0"], "expected a non-zero integer"),
    ],
)
def test_bad_counts_are_usage_errors(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """It rejects counts that cannot work as usage errors (status 2), before doing anything."""
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2
    assert words in capsys.readouterr().err
