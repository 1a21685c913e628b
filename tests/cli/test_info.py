"""``fashionkit info``: the machine (CPU, flags, kind, the precision auto picks) beside the data."""

from __future__ import annotations

import json

import pytest

from fashionkit.cli import main
from fashionkit.hardware import choose_precision, read_cpu


def test_info_prints_the_cpu_its_flags_and_what_auto_picks_before_the_data(
    synthetic_data_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It starts with the CPU model, the six speed flags, the kind and auto's pick with why."""
    assert main(["info", *synthetic_data_args]) == 0
    lines = capsys.readouterr().out.splitlines()
    cpu = read_cpu()
    labels = [line.split(":", 1)[0] for line in lines[:7]]
    assert labels == ["cpu", "flags", "kind", "precision", "why", "oneDNN", "versions"]
    assert cpu.model in lines[0]
    for flag in ("AVX2", "FMA", "AVX512F", "AVX512_VNNI", "AVX512_BF16", "AMX"):
        assert f" {flag} " in lines[1] + " "
    auto = choose_precision("auto", accelerator="cpu", cpu=cpu).precision
    assert f"auto picks {auto} " in lines[3]
    assert lines[7].startswith("data:")


def test_info_json_carries_the_machine(
    synthetic_data_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It puts the machine's facts, kind and auto's pick included, under "machine"."""
    assert main(["info", *synthetic_data_args, "--json"]) == 0
    machine = json.loads(capsys.readouterr().out)["machine"]
    assert machine["cpu"] == read_cpu().model
    assert machine["cpu_kind"] == read_cpu().kind
    assert set(machine["flags"]) == {"AVX2", "FMA", "AVX512F", "AVX512_VNNI", "AVX512_BF16", "AMX"}
    assert machine["auto_precision"] in ("float32", "mixed_bfloat16")
