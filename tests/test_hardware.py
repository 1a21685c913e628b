"""The precision chosen for each kind of device, from CPU flags and GPU capabilities as data."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import types
import warnings

import pytest

from fashionkit import hardware
from fashionkit.config import DeviceConfig
from fashionkit.exceptions import ArgumentError, ConfigError, FashionkitWarning
from fashionkit.hardware import CPU, choose_precision, parse_cpuinfo

ZEN3 = CPU(model="AMD EPYC 7B13", cores=2, flags={"avx", "avx2", "fma", "f16c"})
ZEN4 = CPU(
    model="AMD EPYC 9B14",
    cores=2,
    flags={"avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"},
)
SAPPHIRE_RAPIDS = CPU(
    model="Intel Xeon Platinum 8481C",
    cores=2,
    flags={"avx2", "fma", "avx512f", "avx512_vnni", "amx_tile", "amx_bf16"},
)
UNKNOWN = CPU(model="unknown", cores=1, flags=())


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the warn-once memory empty."""
    monkeypatch.setattr(hardware, "_WARNED", set())


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [
        (ZEN3, "float32"),
        (ZEN4, "mixed_bfloat16"),
        (SAPPHIRE_RAPIDS, "mixed_bfloat16"),
        (UNKNOWN, "float32"),
    ],
)
def test_auto_on_a_cpu_uses_bfloat16_only_with_bfloat16_instructions(
    cpu: CPU, expected: str
) -> None:
    """It picks mixed_bfloat16 with AVX512_BF16 or AMX_BF16 and float32 otherwise."""
    choice = choose_precision("auto", accelerator="cpu", cpu=cpu)
    assert choice.precision == expected
    assert choice.native
    assert choice.requested == "auto"
    assert choice.reason.startswith("auto on a CPU ")
    assert ("without AVX512_BF16" in choice.reason) == (expected == "float32")


@pytest.mark.parametrize(
    ("capabilities", "expected", "named"),
    [
        ([(9, 0)], "mixed_bfloat16", "9.0"),
        ([(8, 0)], "mixed_bfloat16", "8.0"),
        ([(8, 6), (8, 0)], "mixed_bfloat16", "8.0"),
        ([(7, 5)], "mixed_float16", "7.5"),
        ([(7, 0)], "mixed_float16", "7.0"),
        ([(8, 0), (7, 0)], "mixed_float16", "7.0"),  # the weakest GPU decides
        ([(6, 1)], "float32", "6.1"),
        ([None], "float32", "unknown"),
        ([(8, 0), None], "float32", "unknown"),
        ([], "float32", "unknown"),
    ],
)
def test_auto_on_gpus_follows_the_weakest_compute_capability(
    capabilities: list[tuple[int, int] | None], expected: str, named: str
) -> None:
    """It picks bfloat16 from 8.0, float16 on 7.x and float32 below or when unknown."""
    choice = choose_precision("auto", accelerator="gpu", cpu=ZEN4, gpu_capabilities=capabilities)
    assert choice.precision == expected
    assert named in choice.reason


def test_the_cpu_flags_do_not_decide_for_a_gpu() -> None:
    """It ignores the CPU's bfloat16 instructions when a GPU trains."""
    choice = choose_precision("auto", accelerator="gpu", cpu=ZEN4, gpu_capabilities=[(7, 5)])
    assert choice.precision == "mixed_float16"


@pytest.mark.parametrize(
    ("requested", "accelerator", "cpu", "capabilities", "native"),
    [
        ("mixed_bfloat16", "cpu", ZEN3, [], False),
        ("mixed_bfloat16", "cpu", ZEN4, [], True),
        ("mixed_float16", "cpu", ZEN4, [], False),
        ("mixed_float16", "gpu", ZEN3, [(7, 0)], True),
        ("mixed_bfloat16", "gpu", ZEN4, [(7, 5)], False),
        ("mixed_float16", "gpu", ZEN3, [(6, 1)], False),
        ("float32", "cpu", ZEN3, [], True),
    ],
)
def test_an_explicit_precision_is_kept_and_marked_native_or_emulated(
    requested: str,
    accelerator: str,
    cpu: CPU,
    capabilities: list[tuple[int, int]],
    native: bool,
) -> None:
    """It never changes an explicit precision; it says whether the device emulates it."""
    choice = choose_precision(
        requested,  # type: ignore[arg-type]
        accelerator=accelerator,  # type: ignore[arg-type]
        cpu=cpu,
        gpu_capabilities=capabilities,
    )
    assert choice.precision == requested
    assert choice.native is native
    assert ("emulated" in choice.reason) is not native


def test_an_emulated_precision_warns_once_with_what_to_use() -> None:
    """It warns the first time, naming the precision and 'auto', and is silent after."""
    choice = choose_precision("mixed_bfloat16", accelerator="cpu", cpu=ZEN3)
    with pytest.warns(FashionkitWarning, match=r"mixed_bfloat16.*emulated.*precision='auto'"):
        hardware.warn_if_emulated(choice)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hardware.warn_if_emulated(choice)


def test_a_native_precision_does_not_warn() -> None:
    """It stays silent for auto and for a precision the device computes natively."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hardware.warn_if_emulated(choose_precision("auto", accelerator="cpu", cpu=ZEN3))
        hardware.warn_if_emulated(choose_precision("mixed_bfloat16", accelerator="cpu", cpu=ZEN4))


def test_cpuinfo_is_parsed_for_model_and_flags() -> None:
    """It reads the first processor's model name and flags, and names the extensions."""
    text = (
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
        "flags\t\t: fpu sse2 avx avx2 fma\n\nprocessor\t: 1\nmodel name\t: other\n"
        "flags\t\t: avx512_bf16\n"
    )
    cpu = parse_cpuinfo(text, cores=2)
    assert cpu.model == "AMD EPYC 7B13"
    assert cpu.isa == ("AVX2", "FMA")
    assert not cpu.native_bfloat16
    assert not cpu.onednn_default
    assert cpu.describe() == "AMD EPYC 7B13, 2 cores, AVX2 FMA"


def test_cpuinfo_family_tells_generations_apart_behind_a_generic_name() -> None:
    """It reads family, model and stepping (a VM's "AMD EPYC" hides Zen 2 from Zen 4) once."""
    text = (
        "processor\t: 0\ncpu family\t: 23\nmodel\t\t: 1\nmodel name\t: AMD EPYC\n"
        "stepping\t: 2\nflags\t\t: avx2 fma\n\nprocessor\t: 1\ncpu family\t: 25\n"
        "model\t\t: 17\n"
    )
    cpu = parse_cpuinfo(text, cores=2)
    assert cpu.family == "family 23 model 1 stepping 2"
    assert cpu.describe() == "AMD EPYC (family 23 model 1 stepping 2), 2 cores, AVX2 FMA"
    assert parse_cpuinfo("model name : X\ncpu family : ?\n", cores=1).family == ""


def test_cpuinfo_without_a_model_or_flags_is_unknown() -> None:
    """It falls back to 'unknown' and no flags, so auto means float32."""
    cpu = parse_cpuinfo("garbage\nno colon here\n", cores=1)
    assert (cpu.model, cpu.flags) == ("unknown", frozenset())
    assert choose_precision("auto", accelerator="cpu", cpu=cpu).precision == "float32"
    assert cpu.describe() == "unknown, 1 core, no AVX2"


def test_arm_features_line_is_read() -> None:
    """It reads the ARM spelling of the flags line ('Features')."""
    cpu = parse_cpuinfo("Features\t: fp asimd bf16\nCPU part\t: 0xd40\n", cores=4)
    assert "bf16" in cpu.flags
    assert not cpu.native_bfloat16  # only the x86 instructions are known to be fast in TF


@pytest.mark.parametrize(
    ("environ", "cpu", "expected"),
    [
        ({}, ZEN3, "off (TensorFlow default for this CPU)"),
        ({}, ZEN4, "on (TensorFlow default for this CPU)"),
        ({"TF_ENABLE_ONEDNN_OPTS": "1"}, ZEN3, "on (TF_ENABLE_ONEDNN_OPTS=1)"),
        ({"TF_ENABLE_ONEDNN_OPTS": "0"}, ZEN4, "off (TF_ENABLE_ONEDNN_OPTS=0)"),
        ({"TF_ENABLE_ONEDNN_OPTS": " TRUE "}, ZEN3, "on (TF_ENABLE_ONEDNN_OPTS=TRUE)"),
        ({"TF_ENABLE_ONEDNN_OPTS": "false"}, ZEN4, "off (TF_ENABLE_ONEDNN_OPTS=false)"),
        ({"TF_ENABLE_ONEDNN_OPTS": "maybe"}, ZEN4, "on (TensorFlow default for this CPU)"),
    ],
)
def test_onednn_setting_names_who_decided(environ: dict[str, str], cpu: CPU, expected: str) -> None:
    """It reports the variable when set and TensorFlow's CPU-dependent default otherwise."""
    assert hardware.onednn_setting(environ, cpu=cpu) == expected


def test_this_machine_is_described_with_every_fact_a_figure_needs() -> None:
    """It names the CPU, cores, extensions, oneDNN, versions and the precision."""
    facts = hardware.describe_machine("float32")
    assert set(facts) >= {"cpu", "cores", "isa", "onednn", "tensorflow", "keras", "precision"}
    assert isinstance(facts["cores"], int)
    assert facts["cores"] >= 1
    assert facts["precision"] == "float32"


def test_package_versions_come_from_the_installed_metadata() -> None:
    """It reports an installed distribution's version and None for a missing one."""
    import numpy as np

    assert hardware.package_version("numpy") == np.__version__
    assert hardware.package_version("surely-not-installed-fashionkit-probe") is None


def test_auto_is_a_valid_precision_and_others_are_refused() -> None:
    """It accepts 'auto' (any case) and lists the choices for a wrong value."""
    assert DeviceConfig(precision="AUTO").precision == "auto"  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="auto"):
        DeviceConfig(precision="bfloat16")  # type: ignore[arg-type]


def test_onednn_is_preferred_only_when_nobody_decided(monkeypatch: pytest.MonkeyPatch) -> None:
    """It sets the variable on x86-64 before TensorFlow starts, and never overrides a choice."""
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.setattr(hardware.platform, "machine", lambda: "x86_64")
    environ: dict[str, str] = {}
    assert hardware.prefer_onednn(environ) is True
    assert environ == {"TF_ENABLE_ONEDNN_OPTS": "1"}
    for value in ("0", ""):
        chosen = {"TF_ENABLE_ONEDNN_OPTS": value}
        assert hardware.prefer_onednn(chosen) is False
        assert chosen == {"TF_ENABLE_ONEDNN_OPTS": value}
    monkeypatch.setattr(hardware.platform, "machine", lambda: "aarch64")
    arm: dict[str, str] = {}
    assert hardware.prefer_onednn(arm) is False
    assert arm == {}


def test_onednn_is_left_alone_once_tensorflow_started(monkeypatch: pytest.MonkeyPatch) -> None:
    """It changes nothing when TensorFlow is already imported (it would not read it again)."""
    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    monkeypatch.setattr(hardware.platform, "machine", lambda: "x86_64")
    environ: dict[str, str] = {}
    assert hardware.prefer_onednn(environ) is False
    assert environ == {}


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("0", "0")])
def test_import_fashionkit_sets_onednn_unless_the_user_did(
    given: str | None, expected: str
) -> None:
    """It sets TF_ENABLE_ONEDNN_OPTS=1 on import in a fresh x86-64 process; a user's 0 wins."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("oneDNN is preferred on x86-64 only")
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if given is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = given
    code = (
        "import os, fashionkit\n"
        "from fashionkit.hardware import onednn_setting\n"
        "print(os.environ['TF_ENABLE_ONEDNN_OPTS'], onednn_setting(), sep='|')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    value, setting = done.stdout.strip().split("|")
    assert value == expected
    assert setting.startswith("on" if expected == "1" else "off")
    assert ("set by fashionkit" in setting) is (given is None)


def test_choose_precision_refuses_values_it_does_not_know() -> None:
    """It raises ConfigError listing the choices instead of guessing."""
    with pytest.raises(
        ConfigError, match=r"^requested must be one of 'auto', 'float32'.*got 'bfloat16'"
    ):
        choose_precision("bfloat16", accelerator="cpu", cpu=ZEN3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^accelerator must be one of 'cpu' or 'gpu'; got 'tpu'"):
        choose_precision("auto", accelerator="tpu", cpu=ZEN3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "capabilities",
    [["8.6"], "86", [8.6], [(8,)], [(8, 6, 0)], [(8.0, 6)], [(8, -1)], [(True, 0)], (("8", "6"),)],
)
def test_choose_precision_refuses_a_compute_capability_that_is_no_pair(
    capabilities: object,
) -> None:
    """It raises ArgumentError saying what a capability is, not a TypeError from comparing it."""
    with pytest.raises(ArgumentError, match=r"^gpu_capabilities must be .*\(major, minor\) pair"):
        choose_precision(
            "auto",
            accelerator="gpu",
            cpu=ZEN3,
            gpu_capabilities=capabilities,  # type: ignore[arg-type]
        )


def test_choose_precision_takes_capabilities_as_lists_or_tuples() -> None:
    """It reads [8, 6] as (8, 6), so lists from a JSON file compare like tuples."""
    choice = choose_precision(
        "auto",
        accelerator="gpu",
        cpu=ZEN3,
        gpu_capabilities=[[8, 6], (7, 5)],  # type: ignore[list-item]
    )
    assert choice.precision == "mixed_float16"
    assert choice.reason == "auto on a GPU of compute capability 7.5"


def test_cpu_flags_given_as_one_string_are_refused() -> None:
    """It raises ArgumentError for flags="avx512_bf16" instead of keeping its letters as flags."""
    with pytest.raises(ArgumentError, match="collection of flag names") as info:
        CPU(model="x", cores=2, flags="avx512_bf16")
    message = str(info.value)
    assert message.startswith("CPU.flags must be")
    assert "got 'avx512_bf16'" in message
    assert "{'avx512_bf16'}" in message  # how to give one flag


@pytest.mark.parametrize("flags", [b"avx2", 3, None, ["avx2", 1]])
def test_cpu_flags_that_are_not_flag_names_are_refused(flags: object) -> None:
    """It raises ArgumentError for bytes, a number, None, or a collection holding a non-str."""
    with pytest.raises(ArgumentError, match=r"^CPU\.flags must be a collection of flag names"):
        CPU(model="x", cores=2, flags=flags)  # type: ignore[arg-type]


@pytest.mark.parametrize("cores", [0, -1, 1.5, "2", True])
def test_cpu_cores_must_be_a_positive_integer(cores: object) -> None:
    """It raises ArgumentError naming CPU.cores for a count that is not an integer >= 1."""
    with pytest.raises(ArgumentError, match=r"^CPU\.cores must be an integer >= 1"):
        CPU(model="x", cores=cores, flags=())  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"^cores must be an integer >= 1"):
        parse_cpuinfo("", cores=cores)  # type: ignore[arg-type]


def test_prefer_onednn_refuses_an_environment_that_cannot_be_written() -> None:
    """It raises ArgumentError for a read-only mapping rather than failing deep inside."""
    with pytest.raises(ArgumentError, match=r"^environ must be a mutable mapping"):
        hardware.prefer_onednn(types.MappingProxyType({}))  # type: ignore[arg-type]


SKYLAKE_X = CPU(model="Intel Xeon Gold 6148", cores=2, flags={"avx2", "fma", "avx512f"})
OLD = CPU(model="Intel Core 2", cores=2, flags={"sse4_1"})


@pytest.mark.parametrize(
    ("cpu", "kind"),
    [
        (SAPPHIRE_RAPIDS, "amx"),
        (ZEN4, "avx512_bf16"),
        (ZEN3, "avx2"),
        (SKYLAKE_X, "avx2"),
        (OLD, "other"),
        (UNKNOWN, "other"),
    ],
)
def test_each_cpu_falls_into_the_kind_its_bfloat16_support_decides(
    cpu: CPU, kind: hardware.CPUKind
) -> None:
    """It sorts a CPU by AMX, then AVX512_BF16, then AVX2 with FMA, into one of CPU_KINDS."""
    assert cpu.kind == kind
    assert kind in hardware.CPU_KINDS


def test_the_speed_flags_list_each_flag_present_or_not() -> None:
    """It lists all six flags that decide precision and speed, AMX from amx_bf16."""
    assert SAPPHIRE_RAPIDS.speed_flags == {
        "AVX2": True,
        "FMA": True,
        "AVX512F": True,
        "AVX512_VNNI": True,
        "AVX512_BF16": False,
        "AMX": True,
    }
    assert [name for name, on in ZEN3.speed_flags.items() if on] == ["AVX2", "FMA"]
    assert ZEN3.speed_flags["AVX512F"] is False
    assert ZEN4.isa == ("AVX2", "FMA", "AVX512F", "AVX512_VNNI", "AVX512_BF16")


@pytest.mark.parametrize(
    ("cpu", "precision", "why"),
    [
        (ZEN4, "mixed_bfloat16", "bfloat16 runs in hardware here (AVX512_BF16)"),
        (SAPPHIRE_RAPIDS, "mixed_bfloat16", "bfloat16 runs in hardware here (AMX)"),
        (ZEN3, "float32", "no AVX512_BF16 or AMX here: bfloat16 would be emulated"),
    ],
)
def test_the_machine_summary_names_the_cpu_its_flags_and_what_auto_picks_and_why(
    cpu: CPU, precision: str, why: str
) -> None:
    """It prints the model, every speed flag with yes or no, the kind, auto's pick and why."""
    lines = hardware.machine_summary(cpu, environ={}).splitlines()
    fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in lines}
    assert list(fields) == ["cpu", "flags", "kind", "precision", "why", "oneDNN", "versions"]
    assert fields["cpu"] == f"{cpu.model}, 2 cores"
    for name, present in cpu.speed_flags.items():
        assert f"{name} {'yes' if present else 'no'}" in fields["flags"]
    assert fields["kind"].startswith(f"{cpu.kind}: ")
    assert fields["precision"] == f"auto picks {precision} for training on this CPU"
    assert fields["why"].startswith(why)
    assert fields["oneDNN"].startswith("on" if cpu.onednn_default else "off")


def test_describe_machine_says_what_auto_picks_on_this_cpu() -> None:
    """It records this CPU's kind, flags and the precision auto picks, as choose_precision does."""
    facts = hardware.describe_machine()
    cpu = hardware.read_cpu()
    assert facts["cpu_kind"] == cpu.kind
    assert facts["flags"] == cpu.speed_flags
    expected = choose_precision("auto", accelerator="cpu", cpu=cpu).precision
    assert facts["auto_precision"] == expected
    assert isinstance(facts["auto_reason"], str)
    assert "precision" not in facts
