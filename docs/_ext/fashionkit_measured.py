"""The measured figures of the documentation: ``docs/measured.toml``, read, checked and shown.

``docs/measured.toml`` is the one source of the measured figures that user pages quote (its
header describes the layout). This extension

- adds the role ``:measured:`key```, which inserts one figure: ``section.key`` for a plain
  section, ``presets.NAME.KIND.FIELD`` for a preset's run on one kind of CPU
  (``presets.fast.avx512_bf16.test``). An unknown key is an error that names the keys there are;
- adds the directive ``.. measured-presets::``, the presets table: one row per preset and kind
  of CPU with the fit time, the test accuracy and the precision, and under it the CPU model,
  flags and command of each run;
- marks every inserted figure with the class ``fk-measured``, so that the browser check can
  compare what a page shows with the file.

Each preset's table carries ``config``, the fingerprint of the preset config its figures were
measured with (:func:`fingerprint`); ``tests/test_measured.py`` fails when it no longer matches
``fashionkit.presets.get_preset(NAME)``, so a page cannot quote a figure of a config that no
longer exists. To print the fingerprint of a preset as it is now (for new rows)::

    python docs/_ext/fashionkit_measured.py fingerprint fast
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.parsers.rst.states import Inliner

#: The file.
MEASURED = Path(__file__).resolve().parents[1] / "measured.toml"
#: The kinds of CPU, in the order of ``fashionkit.hardware.CPU_KINDS`` (fastest first).
KINDS = ("amx", "avx512_bf16", "avx2", "other")
#: How a kind reads in the table: as the ``kind`` line of ``fashionkit info`` prints it.
KIND_NAMES = {kind: kind for kind in KINDS}
#: The fields of one run of a preset, and their types.
RUN_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "cpu": str,
    "flags": str,
    "cores": int,
    "precision": str,
    "seeds": str,
    "fit_seconds": (int, float),
    "test": str,
    "validation": str,
    "command": str,
    "rows": str,
    "software": str,
}
#: How a precision reads in the table.
PRECISION_NAMES = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16", "float32": "float32"}


class MeasuredError(ValueError):
    """``docs/measured.toml`` does not follow its layout."""


def _settings(config: Any) -> dict[str, Any]:
    """The dotted keys where ``config`` differs from a default config of its architecture."""
    from fashionkit.config import TrainConfig

    def flat(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in tree.items():
            if isinstance(value, Mapping):
                out.update(flat(value, f"{prefix}{key}."))
            else:
                out[f"{prefix}{key}"] = value
        return out

    default = flat(TrainConfig(model=type(config.model)()).to_dict())
    return {
        key: value for key, value in flat(config.to_dict()).items() if default.get(key) != value
    }


def fingerprint(config: Any) -> str:
    """A short hash of what a preset config sets, for ``measured.toml``'s ``config`` key.

    It hashes the settings that differ from the defaults of the config's architecture, so a
    new field with a default leaves it unchanged, and any change to the preset's own settings
    changes it.
    """
    text = json.dumps(_settings(config), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_run(where: str, run: Any) -> None:
    if not isinstance(run, Mapping):
        raise MeasuredError(f"{where} must be a table; got {run!r}")
    missing = [key for key in RUN_FIELDS if key not in run]
    extra = [key for key in run if key not in RUN_FIELDS]
    if missing or extra:
        raise MeasuredError(
            f"{where}: missing keys {missing}, unknown keys {extra}; a run has "
            + ", ".join(RUN_FIELDS)
        )
    for key, kind in RUN_FIELDS.items():
        if not isinstance(run[key], kind) or isinstance(run[key], bool):
            raise MeasuredError(f"{where}.{key} has the wrong type: {run[key]!r}")
    if run["kind"] not in KINDS:
        raise MeasuredError(f"{where}.kind must be one of {', '.join(KINDS)}; got {run['kind']!r}")


def load(path: Path = MEASURED) -> dict[str, Any]:
    """The file, checked against its layout.

    Raises:
        MeasuredError: A preset without ``config`` or runs, a run with a missing, unknown or
            mistyped key, two runs of one preset on the same kind, or a plain section whose
            values are not strings.
    """
    with path.open("rb") as file:
        table = tomllib.load(file)
    for name, preset in table.get("presets", {}).items():
        where = f"presets.{name}"
        if not isinstance(preset, Mapping) or not isinstance(preset.get("config"), str):
            raise MeasuredError(f"{where} needs config = the preset's fingerprint")
        runs = preset.get("runs")
        if not isinstance(runs, list) or not runs:
            raise MeasuredError(f"{where} needs at least one [[{where}.runs]]")
        for i, run in enumerate(runs):
            _check_run(f"{where}.runs[{i}]", run)
        kinds = [run["kind"] for run in runs]
        if len(set(kinds)) != len(kinds):
            raise MeasuredError(f"{where} has two runs of one kind of CPU: {kinds}")
    for section, values in table.items():
        if section == "presets":
            continue
        if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
            raise MeasuredError(f"[{section}] must hold figures as strings")
    return table


def seconds(value: float) -> str:
    """Fit seconds as pages show them: ``33.2 s``, ``6 min 40 s`` from ten minutes."""
    if value < 600:
        return f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s"


def figures(table: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Every figure by its key, as the role inserts it."""
    table = load() if table is None else table
    out: dict[str, str] = {}
    for section, values in table.items():
        if section == "presets":
            for name, preset in values.items():
                for run in preset["runs"]:
                    prefix = f"presets.{name}.{run['kind']}"
                    for key, value in run.items():
                        out[f"{prefix}.{key}"] = str(value)
                    out[f"{prefix}.fit"] = seconds(run["fit_seconds"])
                    out[f"{prefix}.precision"] = run["precision"]
        else:
            out.update({f"{section}.{key}": str(value) for key, value in values.items()})
    return out


@functools.cache
def _cached_figures() -> dict[str, str]:
    return figures()


def measured_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: Inliner,
    options: dict[str, Any] | None = None,
    content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """``:measured:`key``` → the figure ``docs/measured.toml`` keeps under that key."""
    known = _cached_figures()
    if text not in known:
        message = inliner.reporter.error(
            f"measured: no figure {text!r} in {MEASURED.name}; there are: "
            + ", ".join(sorted(known)),
            line=lineno,
        )
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    return [nodes.inline(rawtext, known[text], classes=["fk-measured"])], []


def _cell(text: str, measured: bool = False, note: str = "") -> nodes.entry:
    paragraph = nodes.paragraph()
    if measured:
        paragraph += nodes.inline(text, text, classes=["fk-measured"])
    else:
        paragraph += nodes.Text(text)
    if note:
        paragraph += nodes.Text(f" ({note})")
    entry = nodes.entry()
    entry += paragraph
    return entry


class MeasuredPresets(Directive):
    """``.. measured-presets::``: each preset on each kind of CPU (time, accuracy, precision)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Build the table and the list of machines under it."""
        table = load()
        presets = table.get("presets", {})
        header = ("preset", "kind of CPU", "fit time", "test accuracy", "precision")
        group = nodes.tgroup(cols=len(header))
        for width in (14, 18, 14, 22, 12):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        row = nodes.row()
        for title in header:
            row += _cell(title)
        head += row
        group += head
        body = nodes.tbody()
        machines: dict[str, str] = {}
        for name, preset in presets.items():
            runs = sorted(preset["runs"], key=lambda run: KINDS.index(run["kind"]))
            for run in runs:
                row = nodes.row()
                row += _cell(name)
                row += _cell(KIND_NAMES[run["kind"]])
                row += _cell(seconds(run["fit_seconds"]), measured=True)
                one_seed = "," not in run["seeds"]
                row += _cell(run["test"], measured=True, note="one seed" if one_seed else "")
                row += _cell(PRECISION_NAMES.get(run["precision"], run["precision"]))
                body += row
                machines.setdefault(
                    KIND_NAMES[run["kind"]],
                    f"{run['cpu']}, {run['cores']} cores, {run['flags']}; {run['software']}",
                )
        group += body
        grid = nodes.table(classes=["fk-presets-table"])
        grid += group
        where = nodes.bullet_list()
        for kind, machine in machines.items():
            item = nodes.list_item()
            paragraph = nodes.paragraph()
            paragraph += nodes.strong(kind, kind)
            paragraph += nodes.Text(f": {machine}")
            item += paragraph
            where += item
        return [grid, where]


def setup(app: Any) -> dict[str, Any]:
    """Register the role and the directive."""
    app.add_role("measured", measured_role)
    app.add_directive("measured-presets", MeasuredPresets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _main(argv: list[str]) -> int:
    """``fingerprint NAME...``: print each preset's fingerprint as it is now."""
    if len(argv) < 2 or argv[0] != "fingerprint":
        print("usage: python docs/_ext/fashionkit_measured.py fingerprint NAME [NAME...]")
        return 2
    from fashionkit.presets import get_preset

    for name in argv[1:]:
        print(f'[presets.{name}]\nconfig = "{fingerprint(get_preset(name))}"')
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
