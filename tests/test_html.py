"""Jupyter's rich display: configs, reports, results and calibrations as HTML tables."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np

import fashionkit
from fashionkit.calibration import calibrate
from fashionkit.evaluation import report_from_probabilities
from fashionkit.models import CNNConfig
from tests.helpers import sample_result


class _Cells(HTMLParser):
    """Collects the text of every table row as a list of cells, and the bold texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.bold: list[str] = []
        self._cell: list[str] | None = None
        self._in_bold = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "b":
            self._in_bold = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "b":
            self._in_bold = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_bold:
            self.bold.append(data)


def _parse(markup: str) -> _Cells:
    parser = _Cells()
    parser.feed(markup)
    return parser


def test_a_config_lists_every_field_exactly_and_bolds_the_changed_ones() -> None:
    """It lists every config field with its exact value and bolds only the changed ones."""
    config = fashionkit.TrainConfig(
        model=CNNConfig(filters=(8, 16)),
        optimizer=fashionkit.OptimizerConfig(learning_rate=0.00125),
        epochs=7,
    )
    parsed = _parse(config._repr_html_())
    cells = dict((row[0], row[1]) for row in parsed.rows)
    flat_keys = {
        f"{k}.{sub}" if isinstance(v, dict) else k
        for k, v in config.to_dict().items()
        for sub in (v if isinstance(v, dict) else [None])
    }
    assert set(cells) == flat_keys
    assert cells["epochs"] == "7"
    assert cells["optimizer.learning_rate"] == "0.00125"  # exact, not rounded
    assert cells["model.filters"] == "[8, 16]"
    assert cells["model.architecture"] == "'cnn'"
    assert "7" in parsed.bold
    assert "0.00125" in parsed.bold
    assert cells["batch_size"] not in parsed.bold  # a default stays plain


def test_a_nested_config_renders_alone() -> None:
    """It renders a LossConfig on its own, with its fields and its changed values in bold."""
    loss = fashionkit.LossConfig(encoding="one_hot", label_smoothing=0.1)
    parsed = _parse(loss._repr_html_())
    assert dict((r[0], r[1]) for r in parsed.rows) == {
        "encoding": "'one_hot'",
        "label_smoothing": "0.1",
    }
    assert parsed.bold == ["LossConfig", "'one_hot'", "0.1"]


def test_a_report_shows_per_class_metrics_and_the_confusion_matrix() -> None:
    """It shows escaped per-class metrics, the confusion matrix and the accuracy of a report."""
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    report = report_from_probabilities(
        probs, [0, 1, 1], split="demo", class_names=("<T-shirt>", "Bag")
    )
    markup = report._repr_html_()
    assert "<T-shirt>" not in markup  # escaped
    parsed = _parse(markup)
    assert parsed.rows[1] == ["<T-shirt>", "0.5000", "1.0000", "0.6667", "1"]
    assert parsed.rows[-1] == ["Bag", "1", "1"]  # one Bag taken for a T-shirt, one right
    assert parsed.rows[-3][1:] == ["<T-shirt>", "Bag"]
    assert "accuracy 0.6667" in markup


def test_a_result_shows_its_summary_and_every_epoch() -> None:
    """It shows a result's test accuracy and one row per epoch with its metrics."""
    result = sample_result()
    parsed = _parse(result._repr_html_())
    epochs = [row for row in parsed.rows if row and row[0].isdigit()]
    assert [row[0] for row in epochs] == ["1", "2"]
    assert epochs[1][4] == "0.8000"  # val_accuracy of epoch 2
    assert "test accuracy" in result._repr_html_()


def test_a_calibration_shows_before_and_after() -> None:
    """It shows ECE and loss before and after calibration, with validation's ECE lower after."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    probs = np.where(labels[:, None] == [0, 1], 0.99, 0.01)
    probs[:100] = probs[:100, ::-1]  # a quarter wrong at 99%
    parsed = _parse(calibrate(probs, labels)._repr_html_())
    assert parsed.rows[0] == ["split", "ECE before", "ECE after", "loss before", "loss after"]
    assert parsed.rows[1][0] == "validation"
    assert float(parsed.rows[1][1]) > float(parsed.rows[1][2])


def test_a_loaded_run_shows_its_reports_and_history(
    tiny_dataset: fashionkit.FashionMNIST, tmp_path: Path
) -> None:
    """It shows a loaded run's validation and test reports and one row per epoch."""
    fashionkit.train(
        fashionkit.TrainConfig(epochs=2, verbose=0), dataset=tiny_dataset, run_dir=tmp_path / "r"
    )
    markup = fashionkit.load_run(tmp_path / "r")._repr_html_()
    parsed = _parse(markup)
    assert [row[0] for row in parsed.rows if row and row[0].isdigit()] == ["1", "2"]
    assert "validation: accuracy" in markup
    assert "test: accuracy" in markup
