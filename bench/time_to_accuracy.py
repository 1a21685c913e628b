"""Time to accuracy: test accuracy after every epoch against seconds of fit, over seeds.

Usage: ``python bench/time_to_accuracy.py [--presets NAME ...] [--seeds 3] [--set KEY=VALUE ...]
[--no-references | --only-references NAME ...] [--out DIR] [--max-epochs N]``.

Entries: every preset named by ``--presets`` (default: all of
:func:`fashionkit.presets.list_presets`; ``--presets`` with no name runs none), trained through
``fashionkit.train(config, callbacks=[...])`` with ``--set`` applied as ``fashionkit train
--preset NAME --set ...`` applies it; and, unless ``--no-references``, three plain-Keras
references that use fashionkit only to load the arrays:

- ``reference:tutorial``: the tutorial's code: pixels / 255 flattened to 784,
  ``train_test_split(test_size=0.2, random_state=42)``, ``Dense(10, softmax)``, Keras's
  default RMSprop, sparse categorical cross-entropy, 5 epochs of 32;
- ``reference:tf-classification``: TensorFlow's "basic classification" tutorial: pixels / 255,
  ``Flatten``, ``Dense(128, relu)``, ``Dense(10)`` logits, Adam, ``SparseCategoricalCrossentropy
  (from_logits=True)``, 10 epochs of 32, trained on the same 80% (the other 20% validates);
  its test accuracy is that of the softmax of the logits;
- ``reference:keras-convnet``: the keras.io "Simple MNIST convnet" as users copy it: pixels /
  255 as ``(28, 28, 1)``, ``Conv2D(32, 3, relu)``, ``MaxPooling2D(2)``, ``Conv2D(64, 3, relu)``,
  ``MaxPooling2D(2)``, ``Flatten``, ``Dropout(0.5)``, ``Dense(10, softmax)``,
  ``categorical_crossentropy`` on one-hot labels, Adam, 15 epochs of 128, trained on the same
  80% (the other 20% validates). It is the peer: the Markdown gives each preset's time to 0.91
  test accuracy as a ratio of its time to 0.91 (the target is 0.3 or less).

Each (seed, entry) trains in a fresh process; seeds are 42, 43, ... (``--seeds``, default 3),
the outer loop, so that drifts of the machine hit every entry alike. A preset's seed is its
``seed`` (``data.split_seed`` stays 42); a reference calls ``keras.utils.set_random_seed``.
After every epoch one callback records:

- ``fit_seconds``: from the start of ``fit`` (``on_train_begin``) to the end of the epoch, minus
  the time the callback itself spent in earlier epochs: each entry's own per-epoch validation
  (fashionkit's evaluator; Keras's ``validation_data``) counts, as it does in a user's ``fit``;
  this benchmark's test evaluation does not;
- ``validation_accuracy``: the epoch's ``val_accuracy`` log (``null`` for an epoch the
  entry does not validate: ``validate_last_epochs``);
- ``test_accuracy``: the model evaluated on the 10,000 test images (fashionkit's
  :func:`~fashionkit.evaluation.report_from_probabilities` computes it for every entry).

The limit beside the figure (see ``bench/_flops.py``): when training begins, before the clock
starts, the callback counts the FLOPs of one image's forward pass from the model's layers and
of one epoch (three passes per training image, one per validation image, two with test-time
augmentation); after the fit, outside the fit seconds, the same process measures the
*achievable matmul peak*: the GFLOP/s of 2048 x 2048 matmuls in the precision the entry
computes in (bfloat16 for ``mixed_bfloat16``), with the process's own oneDNN switch and
threads, best of three rounds of about 2 s. A preset's precision is its config's
``device.precision``, ``auto`` resolved by :func:`fashionkit.hardware.choose_precision` for the
CPU (and checked against the model's dtype policy); the references compute in float32.

Output: one JSON line per (entry, seed, epoch) on stdout, with the keys ``entry``, ``kind``
(``preset`` or ``reference``), ``seed``, ``epoch``, ``fit_seconds``, ``validation_accuracy``,
``test_accuracy``, ``test_tta`` (whether the test evaluation used test-time augmentation) and
``machine`` (:func:`fashionkit.hardware.describe_machine` in the measured process, with the
entry's ``precision``); then one per (entry, seed) with ``kind`` ``limits`` and ``entry``,
``seed``, ``forward_flops``, ``epoch_flops``, ``train_images``, ``validation_images``,
``validation_tta``, ``peak_gflops`` (``None`` where not measured), ``peak_dtype`` and
``machine``; a summary table on stderr. With ``--out DIR``: ``time_to_accuracy.jsonl``
(rewritten after every process, so a long run keeps what it measured), ``time_to_accuracy.md``
(the machine first; then per entry: precision, fit seconds, TFLOP per epoch, the peak and the
share of it the fit reached, validation and test accuracy after the last epoch, mean ± standard
deviation over seeds, and the first epoch at which the mean test accuracy reaches 0.85, 0.90,
0.91, 0.92, 0.93 and 0.94, with the mean fit seconds then; and the presets' time to 0.91 against the
peer's) and ``time_to_accuracy.png`` (needs matplotlib: mean test accuracy against mean fit
seconds, ± one standard deviation shaded), each written to a temporary file beside it and
renamed into place. Rows written before the machine and the limits were recorded are
summarised too, those columns empty.

The whole benchmark (three presets, three references, three seeds: 18 processes) takes about
an hour on two idle CPU cores, most of it the ``accurate`` preset, and several times that on a
busy machine; each process spends about 10 s more on the peak, after its fit.
``--max-epochs N`` caps every entry's epochs, for smoke tests only: it shortens the
learning-rate schedules too, so its figures are not comparable with a full run.

Data: wherever :func:`fashionkit.load_fashion_mnist` finds it (``$FASHIONKIT_DATA_DIR``, ...).
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, get_args

import attrs

from fashionkit._constants import ConcretePrecision
from fashionkit.cli._options import positive

HERE = Path(__file__).resolve()
FIRST_SEED = 42
THRESHOLDS = (0.85, 0.90, 0.91, 0.92, 0.93, 0.94)
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
    "reference:keras-convnet": (
        15,
        "The keras.io simple MNIST convnet: Conv2D(32, 3, relu), MaxPooling2D(2), Conv2D(64, 3, "
        "relu), MaxPooling2D(2), Flatten, Dropout(0.5), Dense(10, softmax) on pixels / 255, "
        "categorical cross-entropy on one-hot labels, Adam, 15 epochs of 128.",
    ),
}
#: Each reference's batch size (its input shape is its model's).
REFERENCE_BATCH_SIZES: dict[str, int] = {
    "reference:tutorial": 32,
    "reference:tf-classification": 32,
    "reference:keras-convnet": 128,
}
#: The peer the presets' time to PEER_ACCURACY is compared with, and the target ratio.
PEER, PEER_ACCURACY, PEER_TARGET = "reference:keras-convnet", 0.91, 0.3
#: ``fast``'s whole fit against the peer's whole fit (its 15 epochs), measured in one run.
FIT_RATIO_PRESET, FIT_RATIO_TARGET = "fast", 0.12
#: The concrete Keras precision policies (what a model's dtype policy may be).
MATMUL_POLICIES = get_args(ConcretePrecision)
JSONL, MARKDOWN, PLOT = "time_to_accuracy.jsonl", "time_to_accuracy.md", "time_to_accuracy.png"

Row = dict[str, Any]


# -- the child: one entry, one seed, in a fresh process ------------------------------------------


def _emit(row: Row) -> None:
    print(json.dumps(row), flush=True)


def _epoch_clock(
    test_accuracy: Callable[[Any], float],
    *,
    tta: bool,
    precision: str,
    train_images: int,
    validation_images: int,
    validation_tta: bool,
) -> Any:
    """The per-epoch callback; Keras is imported here, in the child, never by the parent.

    Args:
        test_accuracy: The model's test accuracy (this benchmark's evaluation, not timed).
        tta: Whether ``test_accuracy`` uses test-time augmentation.
        precision: The Keras precision policy the entry computes in (checked against the
            model's when training begins).
        train_images: Images of one training epoch, for the FLOPs of an epoch.
        validation_images: Images of the entry's own per-epoch validation, averaged over the
            epochs (fewer when it validates only its last epochs).
        validation_tta: Whether that validation uses test-time augmentation (twice the passes).
    """
    import keras
    from _flops import epoch_flops, forward_flops

    from fashionkit.hardware import describe_machine

    class EpochClock(keras.callbacks.Callback):  # type: ignore[misc]
        """Emit fit seconds (without this callback's own time), validation and test accuracy.

        Every row carries ``machine`` (:func:`~fashionkit.hardware.describe_machine` with the
        precision); :attr:`limits` holds the FLOPs counted from the model when training begins.
        """

        def __init__(self) -> None:
            super().__init__()
            self.test_accuracy = test_accuracy
            self.tta = tta
            self.precision = precision
            self.machine = describe_machine(precision)
            self.limits: Row = {"forward_flops": None, "epoch_flops": None}

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            # Before the clock starts: the precision check and the FLOP count are not fit time.
            policy = getattr(getattr(self.model, "dtype_policy", None), "name", None)
            if policy in MATMUL_POLICIES and policy != self.precision:
                note = f"expected {self.precision}, the model computes in {policy}: recorded"
                _emit({"note": note})
                self.precision = policy
                self.machine = describe_machine(policy)
            try:
                forward = forward_flops(self.model)
            except ValueError as exc:
                _emit({"note": f"FLOPs not counted: {exc}"})
            else:
                self.limits = {
                    "forward_flops": forward,
                    "epoch_flops": epoch_flops(
                        forward,
                        train_images=train_images,
                        validation_images=validation_images,
                        tta=validation_tta,
                    ),
                    "train_images": train_images,
                    "validation_images": validation_images,
                    "validation_tta": validation_tta,
                }
            self.started = time.perf_counter()
            self.excluded = 0.0

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            now = time.perf_counter()
            fit_seconds = now - self.started - self.excluded
            # An entry that validates only its last epochs (validate_last_epochs) logs no
            # val_accuracy before them: null in the row.
            value = (logs or {}).get("val_accuracy")
            validated = value is not None and math.isfinite(float(value))
            _emit({
                "epoch": epoch + 1,
                "fit_seconds": fit_seconds,
                "validation_accuracy": float(value) if validated else None,
                "test_accuracy": self.test_accuracy(self.model),
                "test_tta": self.tta,
                "machine": self.machine,
            })  # fmt: skip
            self.excluded += time.perf_counter() - now

    return EpochClock()


def _emit_limits(clock: Any) -> None:
    """After the fit: measure the achievable matmul peak and emit the process's limits row."""
    from _flops import matmul_dtype, measured_peak

    peak: float | None = None
    try:
        peak = measured_peak(clock.precision)
    except Exception as exc:  # a dtype this TensorFlow cannot multiply: the row says None
        _emit({"note": f"no achievable matmul peak for {clock.precision}: {exc!r}"})
    _emit({
        "kind": "limits",
        **clock.limits,
        "peak_gflops": peak,
        "peak_dtype": matmul_dtype(clock.precision),
        "machine": clock.machine,
    })  # fmt: skip


def _run_preset(spec: dict[str, Any]) -> None:
    import fashionkit
    from fashionkit.hardware import choose_precision, read_cpu
    from fashionkit.presets import get_preset

    config = get_preset(spec["entry"]).with_overrides(*spec["settings"])
    data = fashionkit.load_fashion_mnist()
    precision = choose_precision(config.device.precision, accelerator="cpu", cpu=read_cpu())
    # The split fashionkit holds out: ceil(fraction * N) validation images, the rest trains.
    validation_images = math.ceil(config.data.validation_fraction * len(data.train.labels))
    # Images the per-epoch validation evaluates, averaged over the epochs (validate_last_epochs
    # skips the early ones).
    validated_epochs = config.epochs - config.first_validated_epoch + 1
    validated_images = round(validation_images * validated_epochs / config.epochs)
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

    clock = _epoch_clock(
        test_accuracy,
        tta=tta,
        precision=precision.precision,
        train_images=len(data.train.labels) - validation_images,
        validation_images=validated_images,
        validation_tta=bool(config.tta and config.tta_each_epoch),
    )
    fashionkit.train(config, dataset=data, callbacks=[clock])
    _emit_limits(clock)


def _softmax(logits: Any) -> Any:
    import numpy as np

    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _reference_model(name: str) -> tuple[Any, Callable[[Any], Any]]:
    """The reference's compiled model and how its outputs become probabilities."""
    import keras
    import numpy as np

    layers = keras.layers
    if name == "reference:tutorial":
        model = keras.Sequential([keras.Input((28 * 28,)), layers.Dense(10, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model, np.asarray
    if name == "reference:tf-classification":
        model = keras.Sequential([
            keras.Input((28, 28)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(10),
        ])  # fmt: skip
        model.compile(
            optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model, _softmax
    # reference:keras-convnet, as keras.io's "Simple MNIST convnet" writes it.
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model, np.asarray


def _run_reference(spec: dict[str, Any]) -> None:
    import keras
    from sklearn.model_selection import train_test_split

    import fashionkit
    from fashionkit.evaluation import report_from_probabilities

    keras.utils.set_random_seed(spec["seed"])
    data = fashionkit.load_fashion_mnist()
    name = spec["entry"]
    model, to_probabilities = _reference_model(name)
    shape = tuple(model.input_shape[1:])  # pixels / 255 reshaped to the model's input
    train_scaled = (data.train.images / 255.0).reshape(-1, *shape)
    test_scaled = (data.test.images / 255.0).reshape(-1, *shape)
    train_scaled, val_scaled, train_target, val_target = train_test_split(
        train_scaled, data.train.labels, test_size=0.2, random_state=42
    )
    if name == "reference:keras-convnet":  # categorical cross-entropy: one-hot labels
        train_target = keras.utils.to_categorical(train_target, 10)
        val_target = keras.utils.to_categorical(val_target, 10)

    def test_accuracy(trained: Any) -> float:
        outputs = trained.predict(test_scaled, batch_size=1024, verbose=0)
        probabilities = to_probabilities(outputs)
        return report_from_probabilities(probabilities, data.test.labels, split="test").accuracy

    clock = _epoch_clock(
        test_accuracy,
        tta=False,
        precision="float32",
        train_images=len(train_scaled),
        validation_images=len(val_scaled),
        validation_tta=False,
    )
    model.fit(
        train_scaled,
        train_target,
        epochs=spec["epochs"],
        batch_size=REFERENCE_BATCH_SIZES[name],
        validation_data=(val_scaled, val_target),
        verbose=0,
        callbacks=[clock],
    )
    _emit_limits(clock)


# -- the parent: plan, run, summarise --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Entry:
    """One thing to measure: a preset with its ``KEY=VALUE`` settings, or a reference."""

    name: str
    kind: str
    epochs: int
    description: str
    settings: tuple[str, ...] = ()
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
        type=positive,
        default=3,
        metavar="N",
        help="number of seeds, 42, 43, ... (default 3)",
    )
    parser.add_argument(
        "--only-references",
        nargs="+",
        choices=list(REFERENCES),
        metavar="NAME",
        help="run only these references (default: all of them)",
    )
    parser.add_argument(
        "--no-references",
        dest="references",
        action="store_false",
        help="skip the plain-Keras references",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="write the JSON lines, table and plot here"
    )
    parser.add_argument(
        "--max-epochs",
        type=positive,
        metavar="N",
        help="for smoke tests only: cap every entry's epochs at N (schedules shorten too)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the (seed, entry) rows already in --out's JSON lines and measure only the "
        "missing ones (the same flags and machine are assumed)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: one measured process
    return parser


def plan(args: argparse.Namespace) -> list[Entry]:
    """The entries to measure, their flags validated now rather than after an hour of training.

    Raises:
        FashionkitError: An unknown preset, or a bad ``--set`` (the message says which).
        ValueError: ``--set seed=...``, which would give every seed the same run.
    """
    from fashionkit.presets import describe_presets, get_preset, list_presets

    summaries = {preset.name: preset.summary for preset in describe_presets()}
    entries: list[Entry] = []
    for name in list_presets() if args.presets is None else args.presets:
        settings = ["verbose=0", *args.set]
        config = get_preset(name).with_overrides(*settings, f"seed={FIRST_SEED + 1}")
        if config.seed != FIRST_SEED + 1:
            raise ValueError("--set seed=... would train every seed alike; use --seeds instead.")
        description = summaries[name]
        if args.set:
            description += f" With {', '.join(f'`--set {s}`' for s in args.set)}."
        epochs = config.epochs
        if args.max_epochs is not None and args.max_epochs < epochs:
            epochs = args.max_epochs
            settings.append(f"epochs={epochs}")
            description += f" Capped at {epochs} epoch(s)."
        ema = getattr(config.optimizer, "ema_momentum", None) is not None
        entries.append(
            Entry(
                name=name,
                kind="preset",
                epochs=epochs,
                description=description,
                settings=tuple(settings),
                ema=ema,
            )
        )
    if args.references:
        for name, (epochs, description) in REFERENCES.items():
            if args.only_references and name not in args.only_references:
                continue
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
    spec = {"entry": entry.name, "seed": seed, "epochs": entry.epochs, "settings": entry.settings}
    if entry.kind == "preset":
        spec["settings"] = [*entry.settings, f"seed={seed}"]
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
    """One entry's per-epoch means and standard deviations over seeds, and its limits.

    The limits (``precision`` to ``peak_gflops``) and ``machine`` are ``None`` for rows that do
    not record them (written before this benchmark measured them).
    """

    entry: str
    seeds: int
    fit_seconds: list[float]
    validation: list[tuple[float, float]]
    test: list[tuple[float, float]]
    kind: str = "preset"
    precision: str | None = None
    machine: Row | None = None
    forward_flops: float | None = None
    epoch_flops: float | None = None
    peak_gflops: float | None = None

    def first_reaching(self, threshold: float) -> tuple[int, float] | None:
        """The first epoch whose mean test accuracy reaches ``threshold``, and its fit seconds."""
        for epoch, ((mean, _), seconds) in enumerate(zip(self.test, self.fit_seconds, strict=True)):
            if mean >= threshold:
                return epoch + 1, seconds
        return None

    def reached(self, threshold: float) -> str:
        """:meth:`first_reaching` for the table: ``"epoch (seconds s)"``, or ``—``."""
        hit = self.first_reaching(threshold)
        return "—" if hit is None else f"{hit[0]} ({hit[1]:.1f} s)"

    @property
    def percent_of_peak(self) -> float | None:
        """Epoch FLOPs x epochs / mean fit seconds after the last epoch / peak, in percent."""
        if not self.epoch_flops or not self.peak_gflops or not self.test:
            return None
        if self.fit_seconds[-1] <= 0:
            return None
        achieved = self.epoch_flops * len(self.test) / self.fit_seconds[-1]
        return 100 * achieved / (self.peak_gflops * 1e9)


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    if any(math.isnan(v) for v in values):  # an epoch some seed did not validate
        return math.nan, math.nan
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.mean(values), spread


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def _first(values: Iterable[Any]) -> Any:
    return next((value for value in values if value is not None), None)


def summarise(rows: Sequence[Row]) -> list[Curve]:
    """Per entry, in order of appearance: the epochs every seed completed, averaged.

    Rows of ``kind`` ``limits`` (one per process) give the entry's FLOPs per epoch (the first
    counted) and peak (the mean over its processes); rows without the newer keys (``machine``,
    the limits rows) are summarised as before, their limits ``None``.
    """
    runs: dict[str, dict[int, list[Row]]] = {}
    limits: dict[str, list[Row]] = {}
    for row in rows:
        if row.get("kind") == "limits":
            limits.setdefault(row["entry"], []).append(row)
        elif "epoch" in row:
            runs.setdefault(row["entry"], {}).setdefault(row["seed"], []).append(row)
    curves = []
    for entry, by_seed in runs.items():
        epochs = min(len(seed_rows) for seed_rows in by_seed.values())
        at = [[seed_rows[e] for seed_rows in by_seed.values()] for e in range(epochs)]
        mine = [row for seed_rows in by_seed.values() for row in seed_rows]
        machine = _first(row.get("machine") for row in mine)
        entry_limits = limits.get(entry, [])
        peaks = [r["peak_gflops"] for r in entry_limits if r.get("peak_gflops") is not None]
        curves.append(
            Curve(
                entry=entry,
                seeds=len(by_seed),
                fit_seconds=[statistics.mean(r["fit_seconds"] for r in rs) for rs in at],
                validation=[
                    _mean_std([_or_nan(r["validation_accuracy"]) for r in rs]) for rs in at
                ],
                test=[_mean_std([r["test_accuracy"] for r in rs]) for rs in at],
                kind=str(mine[0].get("kind", "preset")),
                precision=machine.get("precision") if isinstance(machine, dict) else None,
                machine=machine if isinstance(machine, dict) else None,
                forward_flops=_first(r.get("forward_flops") for r in entry_limits),
                epoch_flops=_first(r.get("epoch_flops") for r in entry_limits),
                peak_gflops=statistics.mean(peaks) if peaks else None,
            )
        )
    return curves


def describe(machine: Row) -> str:
    """One line naming a :func:`~fashionkit.hardware.describe_machine` dict's facts.

    Example:
        >>> describe({"cpu": "EPYC", "cores": 2, "isa": ["AVX2"], "onednn": "on",
        ...           "tensorflow": "2.21.0", "keras": "3.15.1", "python": "3.11.7"})
        'EPYC, 2 cores, AVX2; oneDNN on; TensorFlow 2.21.0, Keras 3.15.1, Python 3.11.7'
    """
    isa = " ".join(machine.get("isa") or []) or "no AVX2"
    native = " (native bfloat16)" if machine.get("native_bfloat16") else ""
    cpu = str(machine.get("cpu", "unknown CPU"))
    if machine.get("cpu_family"):
        cpu += f" ({machine['cpu_family']})"
    return (
        f"{cpu}, {machine.get('cores', '?')} cores, {isa}{native}; "
        f"oneDNN {machine.get('onednn', 'unknown')}; TensorFlow {machine.get('tensorflow')}, "
        f"Keras {machine.get('keras')}, Python {machine.get('python')}"
    )


def _machine_lines(curves: Sequence[Curve]) -> list[str]:
    """The Markdown's first facts: the machine the rows record (precision aside)."""
    seen: dict[str, None] = {}
    for curve in curves:
        if curve.machine is not None:
            facts = {k: v for k, v in curve.machine.items() if k != "precision"}
            seen[describe(facts)] = None
    if not seen:
        from fashionkit.hardware import describe_machine

        return [
            f"Machine: {describe(describe_machine())} (the machine writing this table: the rows "
            "do not record theirs)."
        ]
    if len(seen) == 1:
        return [f"Machine: {next(iter(seen))}."]
    return ["Machines (they differ between entries):", "", *(f"- {line}" for line in seen)]


def _number(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


def time_to_peer(curves: Sequence[Curve]) -> str | None:
    """The line "time to 0.91 test accuracy": each preset's, and its ratio to the peer's.

    ``None`` when no preset was measured.
    """
    presets = [curve for curve in curves if curve.kind == "preset"]
    if not presets:
        return None
    peer = next((curve for curve in curves if curve.entry == PEER), None)
    peer_hit = None if peer is None else peer.first_reaching(PEER_ACCURACY)
    parts = []
    for curve in presets:
        hit = curve.first_reaching(PEER_ACCURACY)
        if hit is None:
            parts.append(f"`{curve.entry}` not reached")
            continue
        ratio = ""
        if peer_hit is not None and peer_hit[1] > 0:
            value = hit[1] / peer_hit[1]
            ratio = f", ratio {value:.2f} ({'≤' if value <= PEER_TARGET else '>'} {PEER_TARGET})"
        parts.append(f"`{curve.entry}` epoch {hit[0]}, {hit[1]:.1f} s{ratio}")
    if peer is None:
        parts.append(f"`{PEER}` not measured (no ratio)")
    elif peer_hit is None:
        parts.append(f"`{PEER}` not reached in {len(peer.test)} epochs (no ratio)")
    else:
        parts.append(f"`{PEER}` epoch {peer_hit[0]}, {peer_hit[1]:.1f} s")
    return (
        f"Time to {PEER_ACCURACY:.2f} test accuracy (first epoch whose mean test accuracy "
        f"reaches it, mean fit seconds then; ratio to `{PEER}`'s, target ≤ {PEER_TARGET}): "
        + "; ".join(parts)
        + "."
    )


def whole_fit_ratio(curves: Sequence[Curve]) -> str | None:
    """The line "``fast``'s whole fit over the peer's whole fit"; ``None`` without both."""
    fast = next((c for c in curves if c.entry == FIT_RATIO_PRESET), None)
    peer = next((c for c in curves if c.entry == PEER), None)
    if fast is None or peer is None or not fast.fit_seconds or not peer.fit_seconds:
        return None
    ratio = fast.fit_seconds[-1] / peer.fit_seconds[-1]
    verdict = "≤" if ratio <= FIT_RATIO_TARGET else ">"
    return (
        f"Whole fit, `{FIT_RATIO_PRESET}` over `{PEER}` ({len(fast.test)} and {len(peer.test)} "
        f"epochs, mean fit seconds, measured in this run): {fast.fit_seconds[-1]:.1f} s / "
        f"{peer.fit_seconds[-1]:.1f} s = {ratio:.2f} ({verdict} {FIT_RATIO_TARGET})."
    )


def markdown(curves: Sequence[Curve], entries: Sequence[Entry], args: argparse.Namespace) -> str:
    """The summary table, with the machine, what was measured and how."""
    seeds = ", ".join(str(FIRST_SEED + i) for i in range(args.seeds))
    lines = [
        "# Time to accuracy on Fashion-MNIST",
        "",
        *_machine_lines(curves),
        "",
        f"`python bench/time_to_accuracy.py`; seeds {seeds}, one fresh process each. Means over "
        "seeds ± sample standard deviation, after each entry's last epoch. Fit seconds run from "
        "the start of `fit` to the end of the epoch, the entry's own per-epoch validation "
        "included and this benchmark's per-epoch test evaluation excluded. A threshold column "
        "gives the first epoch whose mean test accuracy reaches it, with the mean fit seconds "
        "then (— when none does).",
        "",
        "The limit beside the figure: `TFLOP/epoch` counts the model's convolutions and dense "
        "layers (2 FLOPs per multiply-add, plus bias adds; pooling, activations, normalisation, "
        "dropout and the optimizer left out) over three passes per training image (forward and "
        "two backward products) and one per validation image (two with test-time "
        "augmentation). `peak GFLOP/s` is the achievable matmul peak: the best of three rounds "
        "of about 2 s of 2048 x 2048 matmuls in the entry's precision (bfloat16 for "
        "`mixed_bfloat16`), in the entry's own process after its fit, mean over seeds. "
        "`% of peak` = TFLOP/epoch x epochs / fit seconds / peak.",
        "",
    ]
    if args.max_epochs is not None:
        lines += [f"**Smoke test: epochs capped at {args.max_epochs}; not comparable.**", ""]
    thresholds = " | ".join(f"≥ {t:.2f}" for t in THRESHOLDS)
    lines += [
        "| entry | precision | epochs | fit seconds | TFLOP/epoch | peak GFLOP/s | % of peak "
        f"| validation accuracy | test accuracy | {thresholds} |",
        "|---|---|---|---|---|---|---|---|---|" + "---|" * len(THRESHOLDS),
    ]
    for curve in curves:
        (v_mean, v_std), (t_mean, t_std) = curve.validation[-1], curve.test[-1]
        reached = " | ".join(curve.reached(t) for t in THRESHOLDS)
        tflop = None if curve.epoch_flops is None else curve.epoch_flops / 1e12
        lines.append(
            f"| `{curve.entry}` | {curve.precision or '—'} | {len(curve.test)} | "
            f"{curve.fit_seconds[-1]:.1f} | {_number(tflop, '.3g')} | "
            f"{_number(curve.peak_gflops, '.0f')} | {_percent(curve.percent_of_peak)} | "
            f"{v_mean:.4f} ± {v_std:.4f} | {t_mean:.4f} ± {t_std:.4f} | {reached} |"
        )
    peer_line = time_to_peer(curves)
    if peer_line is not None:
        lines += ["", peer_line]
    ratio_line = whole_fit_ratio(curves)
    if ratio_line is not None:
        lines += ["", ratio_line]
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

    figure = Figure(figsize=(8, 5), dpi=100, layout="constrained")
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
        figure.savefig(tmp, format="png", dpi=200)  # sharp on HiDPI screens at 8 inches
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
    if args.reuse:
        if args.out is None:
            parser.error("--reuse needs --out, the folder whose JSON lines are kept")
        kept = args.out / JSONL
        if kept.is_file():
            rows = [json.loads(line) for line in kept.read_text().splitlines() if line.strip()]
    measured = {(row["seed"], row["entry"]) for row in rows}
    runs = [
        (seed, entry)
        for seed in range(FIRST_SEED, FIRST_SEED + args.seeds)
        for entry in entries
        if (seed, entry.name) not in measured
    ]
    if measured:
        print(f"reusing {len(measured)} measured runs from {args.out}", file=sys.stderr)
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
