"""Time to accuracy: test accuracy after every epoch against seconds of fit, over seeds.

Usage: ``python bench/time_to_accuracy.py [--presets NAME ...] [--seeds 3] [--set KEY=VALUE ...]
[--no-references] [--out DIR] [--max-epochs N]``.

Entries: every preset named by ``--presets`` (default: all of
:func:`fashionkit.presets.list_presets`; ``--presets`` with no name runs none), trained through
``fashionkit.train(config, callbacks=[...])`` with ``--set`` applied as ``fashionkit train
--preset NAME --set ...`` applies it; and, unless ``--no-references``, two plain-Keras
references that use fashionkit only to load the arrays:

- ``reference:tutorial``: the tutorial's code: pixels / 255 flattened to 784,
  ``train_test_split(test_size=0.2, random_state=42)``, ``Dense(10, softmax)``, Keras's
  default RMSprop, sparse categorical cross-entropy, 5 epochs of 32;
- ``reference:tf-classification``: TensorFlow's "basic classification" tutorial: pixels / 255,
  ``Flatten``, ``Dense(128, relu)``, ``Dense(10)`` logits, Adam, ``SparseCategoricalCrossentropy
  (from_logits=True)``, 10 epochs of 32, trained on the same 80% (the other 20% validates);
  its test accuracy is that of the softmax of the logits.

Each (seed, entry) trains in a fresh process; seeds are 42, 43, ... (``--seeds``, default 3),
the outer loop, so that drifts of the machine hit every entry alike. A preset's seed is its
``seed`` (``data.split_seed`` stays 42); a reference calls ``keras.utils.set_random_seed``.
After every epoch one callback records:

- ``fit_seconds``: from the start of ``fit`` (``on_train_begin``) to the end of the epoch, minus
  the time the callback itself spent in earlier epochs: each entry's own per-epoch validation
  (fashionkit's evaluator; Keras's ``validation_data``) counts, as it does in a user's ``fit``;
  this benchmark's test evaluation does not;
- ``validation_accuracy``: the epoch's ``val_accuracy`` log;
- ``test_accuracy``: the model evaluated on the 10,000 test images (fashionkit's
  :func:`~fashionkit.evaluation.report_from_probabilities` computes it for every entry).

Output: one JSON line per (entry, seed, epoch) on stdout, with the keys ``entry``, ``kind``
(``preset`` or ``reference``), ``seed``, ``epoch``, ``fit_seconds``, ``validation_accuracy``,
``test_accuracy`` and ``test_tta`` (whether the test evaluation used test-time augmentation);
a summary table on stderr. With ``--out DIR``: ``time_to_accuracy.jsonl`` (rewritten after
every process, so a long run keeps what it measured), ``time_to_accuracy.md`` (per entry: fit
seconds, validation and test accuracy after the last epoch, mean ± standard deviation over
seeds, and the first epoch at which the mean test accuracy reaches 0.85, 0.90, 0.92 and 0.94,
with the mean fit seconds then) and ``time_to_accuracy.png`` (needs matplotlib: mean test
accuracy against mean fit seconds, ± one standard deviation shaded), each written to a
temporary file beside it and renamed into place.

The whole benchmark (three presets, two references, three seeds: 15 processes) takes about 15
to 20 minutes on two idle CPU cores, two thirds of it the ``accurate`` preset, and several
times that on a busy machine. ``--max-epochs N`` caps every entry's
epochs, for smoke tests only: it shortens the learning-rate schedules too, so its figures are
not comparable with a full run.

Data: wherever :func:`fashionkit.load_fashion_mnist` finds it (``$FASHIONKIT_DATA_DIR``, ...).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from fashionkit.cli import _positive

HERE = Path(__file__).resolve()
FIRST_SEED = 42
THRESHOLDS = (0.85, 0.90, 0.92, 0.94)
PLOT_LINES = (0.92, 0.94)
#: The references, their epochs and a description for the table.
REFERENCES: dict[str, tuple[int, str]] = {
    "reference:tutorial": (
        5,
        "The tutorial's Keras code: Dense(10, softmax) on pixels / 255, RMSprop, 5 epochs of 32.",
    ),
    "reference:tf-classification": (
        10,
        "TensorFlow's basic classification: Flatten, Dense(128, relu), Dense(10) logits, Adam, "
        "10 epochs of 32.",
    ),
}
JSONL, MARKDOWN, PLOT = "time_to_accuracy.jsonl", "time_to_accuracy.md", "time_to_accuracy.png"

Row = dict[str, Any]


# -- the child: one entry, one seed, in a fresh process ------------------------------------------


def _emit(row: Row) -> None:
    print(json.dumps(row), flush=True)


def _epoch_clock(test_accuracy: Callable[[Any], float], *, tta: bool) -> Any:
    """The per-epoch callback; Keras is imported here, in the child, never by the parent."""
    import keras

    class EpochClock(keras.callbacks.Callback):  # type: ignore[misc]
        """Emit fit seconds (without this callback's own time), validation and test accuracy."""

        def __init__(self) -> None:
            super().__init__()
            self.test_accuracy = test_accuracy
            self.tta = tta

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.started = time.perf_counter()
            self.excluded = 0.0

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            now = time.perf_counter()
            fit_seconds = now - self.started - self.excluded
            if logs is None or "val_accuracy" not in logs:
                raise RuntimeError(
                    f"EpochClock needs the epoch's val_accuracy in the logs; got keys "
                    f"{sorted(logs or {})}. Train with validation data."
                )
            _emit({
                "epoch": epoch + 1,
                "fit_seconds": fit_seconds,
                "validation_accuracy": float(logs["val_accuracy"]),
                "test_accuracy": self.test_accuracy(self.model),
                "test_tta": self.tta,
            })  # fmt: skip
            self.excluded += time.perf_counter() - now

    return EpochClock()


def _run_preset(spec: dict[str, Any]) -> None:
    import fashionkit
    from fashionkit.cli import _train_config, build_parser

    config = _train_config(build_parser().parse_args(["train", *spec["flags"]]))
    data = fashionkit.load_fashion_mnist()
    # Test-time augmentation, when the config asks for it and fashionkit.evaluate offers it, so
    # that the test accuracy is measured as the library's own reports measure it.
    wants_tta = bool(getattr(config, "tta", False))
    tta = wants_tta and "tta" in inspect.signature(fashionkit.evaluate).parameters
    if wants_tta and not tta:
        _emit({"note": "config.tta is on but fashionkit.evaluate takes no tta: tested without"})
    options: dict[str, Any] = {"tta": True} if tta else {}

    # With weight averaging (config.optimizer.ema_momentum) fashionkit evaluates, keeps and
    # saves the averaged weights; the test accuracy is measured on them too, swapped in for the
    # evaluation as fashionkit's own per-epoch validation does.
    from fashionkit._averaging import averaged_weights

    def test_accuracy(model: Any) -> float:
        images, labels = data.test.images, data.test.labels
        with averaged_weights(model):
            return fashionkit.evaluate(model, images, labels, batch_size=1024, **options).accuracy

    fashionkit.train(config, dataset=data, callbacks=[_epoch_clock(test_accuracy, tta=tta)])


def _softmax(logits: Any) -> Any:
    import numpy as np

    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _run_reference(spec: dict[str, Any]) -> None:
    import keras
    import numpy as np
    from sklearn.model_selection import train_test_split

    import fashionkit
    from fashionkit.evaluation import report_from_probabilities

    keras.utils.set_random_seed(spec["seed"])
    data = fashionkit.load_fashion_mnist()
    tutorial = spec["entry"] == "reference:tutorial"
    shape = (28 * 28,) if tutorial else (28, 28)
    train_scaled = (data.train.images / 255.0).reshape(-1, *shape)
    test_scaled = (data.test.images / 255.0).reshape(-1, *shape)
    train_scaled, val_scaled, train_target, val_target = train_test_split(
        train_scaled, data.train.labels, test_size=0.2, random_state=42
    )
    if tutorial:
        model = keras.Sequential([keras.Input(shape), keras.layers.Dense(10, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        to_probabilities: Callable[[Any], Any] = np.asarray
    else:
        model = keras.Sequential([
            keras.Input(shape),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ])  # fmt: skip
        model.compile(
            optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        to_probabilities = _softmax

    def test_accuracy(trained: Any) -> float:
        outputs = trained.predict(test_scaled, batch_size=1024, verbose=0)
        probabilities = to_probabilities(outputs)
        return report_from_probabilities(probabilities, data.test.labels, split="test").accuracy

    model.fit(
        train_scaled,
        train_target,
        epochs=spec["epochs"],
        batch_size=32,
        validation_data=(val_scaled, val_target),
        verbose=0,
        callbacks=[_epoch_clock(test_accuracy, tta=False)],
    )


# -- the parent: plan, run, summarise --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Entry:
    """One thing to measure: a preset with its flags, or a reference."""

    name: str
    kind: str
    epochs: int
    description: str
    flags: tuple[str, ...] = ()
    ema: bool = False


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--presets",
        nargs="*",
        metavar="NAME",
        help="presets to measure (default: all; with no name, none)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config setting applied to every preset, as in fashionkit train (repeatable)",
    )
    parser.add_argument(
        "--seeds",
        type=_positive,
        default=3,
        metavar="N",
        help="number of seeds, 42, 43, ... (default 3)",
    )
    parser.add_argument(
        "--no-references",
        dest="references",
        action="store_false",
        help="skip the two plain-Keras references",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="write the JSON lines, table and plot here"
    )
    parser.add_argument(
        "--max-epochs",
        type=_positive,
        metavar="N",
        help="for smoke tests only: cap every entry's epochs at N (schedules shorten too)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: one measured process
    return parser


def plan(args: argparse.Namespace) -> list[Entry]:
    """The entries to measure, their flags validated now rather than after an hour of training.

    Raises:
        FashionkitError: An unknown preset, or a bad ``--set`` (the message says which).
        ValueError: ``--set seed=...``, which would give every seed the same run.
    """
    from fashionkit.cli import _train_config
    from fashionkit.cli import build_parser as cli_parser
    from fashionkit.presets import describe_presets, list_presets

    summaries = {preset.name: preset.summary for preset in describe_presets()}
    entries: list[Entry] = []
    for name in list_presets() if args.presets is None else args.presets:
        flags = ["--quiet", "--preset", name]
        for setting in args.set:
            flags += ["--set", setting]
        probe = ["--seed", str(FIRST_SEED + 1)]
        config = _train_config(cli_parser().parse_args(["train", *flags, *probe]))
        if config.seed != FIRST_SEED + 1:
            raise ValueError("--set seed=... would train every seed alike; use --seeds instead.")
        description = summaries[name]
        if args.set:
            description += f" With {', '.join(f'`--set {s}`' for s in args.set)}."
        epochs = config.epochs
        if args.max_epochs is not None and args.max_epochs < epochs:
            epochs = args.max_epochs
            flags += ["--set", f"epochs={epochs}"]
            description += f" Capped at {epochs} epoch(s)."
        ema = getattr(config.optimizer, "ema_momentum", None) is not None
        entries.append(
            Entry(
                name=name,
                kind="preset",
                epochs=epochs,
                description=description,
                flags=tuple(flags),
                ema=ema,
            )
        )
    if args.references:
        for name, (epochs, description) in REFERENCES.items():
            if args.max_epochs is not None and args.max_epochs < epochs:
                epochs = args.max_epochs
                description += f" Capped at {epochs} epoch(s)."
            entries.append(
                Entry(name=name, kind="reference", epochs=epochs, description=description)
            )
    return entries


def measure(entry: Entry, seed: int, env: dict[str, str]) -> list[Row]:
    """Train ``entry`` with ``seed`` in a fresh process; print and return its rows as they come.

    Raises:
        RuntimeError: The process failed; the message ends with its stderr.
    """
    spec = {"entry": entry.name, "seed": seed, "epochs": entry.epochs, "flags": entry.flags}
    if entry.kind == "preset":
        spec["flags"] = [*entry.flags, "--seed", str(seed)]
    rows: list[Row] = []
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, str(HERE), "--child", json.dumps(spec)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
        )
        try:
            for line in child.stdout or ():
                parsed = json.loads(line) if line.startswith("{") else {"note": line.rstrip()}
                if "note" in parsed:
                    print(f"{entry.name}, seed {seed}: {parsed['note']}", file=sys.stderr)
                    continue
                row = {"entry": entry.name, "kind": entry.kind, "seed": seed, **parsed}
                print(json.dumps(row), flush=True)
                rows.append(row)
            status = child.wait()
        except BaseException:
            child.kill()
            child.wait()
            raise
        if status != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{entry.name}, seed {seed}: exit status {status}\n{tail}")
    return rows


@attrs.frozen(kw_only=True)
class Curve:
    """One entry's per-epoch means and standard deviations over seeds."""

    entry: str
    seeds: int
    fit_seconds: list[float]
    validation: list[tuple[float, float]]
    test: list[tuple[float, float]]

    def reached(self, threshold: float) -> str:
        """The first epoch whose mean test accuracy reaches ``threshold``, and its fit seconds."""
        for epoch, ((mean, _), seconds) in enumerate(zip(self.test, self.fit_seconds, strict=True)):
            if mean >= threshold:
                return f"{epoch + 1} ({seconds:.1f} s)"
        return "—"


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.mean(values), spread


def summarise(rows: Sequence[Row]) -> list[Curve]:
    """Per entry, in order of appearance: the epochs every seed completed, averaged."""
    runs: dict[str, dict[int, list[Row]]] = {}
    for row in rows:
        runs.setdefault(row["entry"], {}).setdefault(row["seed"], []).append(row)
    curves = []
    for entry, by_seed in runs.items():
        epochs = min(len(seed_rows) for seed_rows in by_seed.values())
        at = [[seed_rows[e] for seed_rows in by_seed.values()] for e in range(epochs)]
        curves.append(
            Curve(
                entry=entry,
                seeds=len(by_seed),
                fit_seconds=[statistics.mean(r["fit_seconds"] for r in rs) for rs in at],
                validation=[_mean_std([r["validation_accuracy"] for r in rs]) for rs in at],
                test=[_mean_std([r["test_accuracy"] for r in rs]) for rs in at],
            )
        )
    return curves


def markdown(curves: Sequence[Curve], entries: Sequence[Entry], args: argparse.Namespace) -> str:
    """The summary table, with what was measured and how."""
    seeds = ", ".join(str(FIRST_SEED + i) for i in range(args.seeds))
    lines = [
        "# Time to accuracy on Fashion-MNIST",
        "",
        f"`python bench/time_to_accuracy.py` on {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}; seeds {seeds}, one fresh process each. Means over seeds "
        "± sample standard deviation, after each entry's last epoch. Fit seconds run from the "
        "start of `fit` to the end of the epoch, the entry's own per-epoch validation included "
        "and this benchmark's per-epoch test evaluation excluded. A threshold column gives the "
        "first epoch whose mean test accuracy reaches it, with the mean fit seconds then "
        "(— when none does).",
        "",
    ]
    if args.max_epochs is not None:
        lines += [f"**Smoke test: epochs capped at {args.max_epochs}; not comparable.**", ""]
    thresholds = " | ".join(f"≥ {t:.2f}" for t in THRESHOLDS)
    lines += [
        f"| entry | epochs | fit seconds | validation accuracy | test accuracy | {thresholds} |",
        "|---|---|---|---|---|" + "---|" * len(THRESHOLDS),
    ]
    for curve in curves:
        (v_mean, v_std), (t_mean, t_std) = curve.validation[-1], curve.test[-1]
        reached = " | ".join(curve.reached(t) for t in THRESHOLDS)
        lines.append(
            f"| `{curve.entry}` | {len(curve.test)} | {curve.fit_seconds[-1]:.1f} | "
            f"{v_mean:.4f} ± {v_std:.4f} | {t_mean:.4f} ± {t_std:.4f} | {reached} |"
        )
    lines += ["", "Entries:", ""]
    lines += [f"- `{e.name}`: {e.description}" for e in entries]
    if any(e.ema for e in entries):
        lines += [
            "",
            "With weight averaging, validation and test accuracy are those of the averaged "
            "weights, the ones fashionkit evaluates and saves.",
        ]
    return "\n".join(lines) + "\n"


def plot(curves: Sequence[Curve], path: Path) -> bool:
    """Draw mean test accuracy against mean fit seconds; ``False`` without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(f"matplotlib is not installed: no {path.name}", file=sys.stderr)
        return False
    from fashionkit._io import staged

    figure = Figure(figsize=(9, 5.5), dpi=100, layout="constrained")
    axes = figure.subplots()
    for curve in curves:
        means = [mean for mean, _ in curve.test]
        (line,) = axes.plot(curve.fit_seconds, means, "o-", markersize=4, label=curve.entry)
        axes.fill_between(
            curve.fit_seconds,
            [mean - std for mean, std in curve.test],
            [mean + std for mean, std in curve.test],
            color=line.get_color(),
            alpha=0.2,
            linewidth=0,
        )
    for level in PLOT_LINES:
        axes.axhline(level, color="grey", linestyle=":", linewidth=1)
    axes.set_xscale("log")
    axes.set_xlabel("fit seconds (mean over seeds; log scale)")
    axes.set_ylabel("test accuracy (mean ± std over seeds)")
    axes.set_title("Fashion-MNIST: test accuracy after each epoch against fit time")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    with staged(path, suffix=".png") as tmp:
        figure.savefig(tmp, format="png")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with the internal ``--child``, one measured process)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        (_run_reference if spec["entry"] in REFERENCES else _run_preset)(spec)
        return 0

    from fashionkit._io import atomic_write_text
    from fashionkit.exceptions import FashionkitError

    try:
        entries = plan(args)
    except (FashionkitError, ValueError) as exc:
        parser.error(str(exc))
    if not entries:
        parser.error("nothing to measure: name presets or leave out --no-references")
    env = {**os.environ}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    runs = [
        (seed, entry) for seed in range(FIRST_SEED, FIRST_SEED + args.seeds) for entry in entries
    ]
    started = time.perf_counter()
    for done, (seed, entry) in enumerate(runs):
        print(f"[{done + 1}/{len(runs)}] {entry.name}, seed {seed}", file=sys.stderr, flush=True)
        rows += measure(entry, seed, env)
        if args.out is not None:
            atomic_write_text(args.out / JSONL, "".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(runs)} runs in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    curves = summarise(rows)
    table = markdown(curves, entries, args)
    print(table, file=sys.stderr)
    if args.out is not None:
        atomic_write_text(args.out / MARKDOWN, table)
        written = [JSONL, MARKDOWN, *([PLOT] if plot(curves, args.out / PLOT) else [])]
        print(f"wrote {', '.join(written)} in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
