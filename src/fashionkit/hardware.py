"""What the machine computes natively, and the precision that follows from it.

Nothing here imports TensorFlow; :func:`prefer_onednn`, which ``import fashionkit`` calls, sets
the one TensorFlow variable that must be set before TensorFlow starts. The decisions are pure
functions of data (CPU flags, GPU compute capabilities), so every branch can be tested on any
machine: :func:`choose_precision` picks ``DeviceConfig(precision="auto")``'s policy and says
why; :func:`read_cpu` reads the CPU's model name and instruction-set flags (``/proc/cpuinfo`` on
Linux); :attr:`CPU.kind` sorts a CPU into the kinds the documentation's presets table has a row
for, and :func:`machine_summary` prints all of it, as ``fashionkit info`` does.

Example:
    >>> cpu = CPU(model="AMD EPYC 7B13", cores=2, flags=frozenset({"avx2", "fma"}))
    >>> choice = choose_precision("auto", accelerator="cpu", cpu=cpu)
    >>> choice.precision, choice.reason
    ('float32', 'auto on a CPU without AVX512_BF16 or AMX_BF16')
"""

from __future__ import annotations

import os
import platform
import sys
import typing
import warnings
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import attrs

from fashionkit._constants import ConcretePrecision, Precision
from fashionkit._messages import shown
from fashionkit._validation import (
    CheckedBy,
    Constraint,
    InstanceOf,
    Interval,
    NoneOr,
    SequenceOf,
    annotated_fields,
    field_validator,
    params,
    refusal,
)
from fashionkit.exceptions import ArgumentError, FashionkitWarning

__all__ = [
    "CPU",
    "CPU_KINDS",
    "PrecisionChoice",
    "choose_precision",
    "describe_machine",
    "machine_summary",
    "onednn_setting",
    "package_version",
    "parse_cpuinfo",
    "prefer_onednn",
    "read_cpu",
    "warn_if_emulated",
]

#: The instruction-set extensions that decide how fast TensorFlow trains, in the order shown:
#: Linux's flag name and the name Intel's and AMD's manuals use.
ISA_FLAGS: tuple[tuple[str, str], ...] = (
    ("avx2", "AVX2"),
    ("fma", "FMA"),
    ("avx512f", "AVX512F"),
    ("avx512_vnni", "AVX512_VNNI"),
    ("avx512_bf16", "AVX512_BF16"),
    ("avx512_fp16", "AVX512_FP16"),
    ("amx_bf16", "AMX_BF16"),
)
#: The flags ``fashionkit info`` always lists, present or not: those that decide the precision
#: ``auto`` picks and how fast the presets train.
SPEED_FLAGS: tuple[tuple[str, str], ...] = (
    ("avx2", "AVX2"),
    ("fma", "FMA"),
    ("avx512f", "AVX512F"),
    ("avx512_vnni", "AVX512_VNNI"),
    ("avx512_bf16", "AVX512_BF16"),
    ("amx_bf16", "AMX"),
)

#: The kinds of CPU the presets were measured on, fastest first: ``amx`` (AMX_BF16),
#: ``avx512_bf16`` (AVX512_BF16 without AMX), ``avx2`` (AVX2 and FMA, no bfloat16 instructions:
#: the presets train in float32) and ``other`` (neither).
CPUKind = Literal["amx", "avx512_bf16", "avx2", "other"]
#: Every kind of CPU (``CPUKind``), in that order.
CPU_KINDS: tuple[CPUKind, ...] = typing.get_args(CPUKind)
#: How each kind reads in a table and in ``fashionkit info``.
KIND_TITLES: dict[CPUKind, str] = {
    "amx": "AMX (bfloat16 in hardware)",
    "avx512_bf16": "AVX512_BF16 (bfloat16 in hardware)",
    "avx2": "AVX2 and FMA, no bfloat16 instructions",
    "other": "without AVX2",
}
#: CPU flags with which bfloat16 matrix arithmetic runs in hardware rather than emulated.
NATIVE_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
#: CPU flags with which TensorFlow turns oneDNN on by default (TensorFlow 2.9 and later, Linux).
ONEDNN_DEFAULT_FLAGS = frozenset(
    {"avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}
)


def _lower_flags(flags: Iterable[str]) -> frozenset[str]:
    """``CPU.flags``'s converter: a collection of flag names, lower case; never one string.

    Raises:
        ArgumentError: ``flags`` is a string (whose letters are no flags), not a collection,
            or holds something other than strings.
    """
    allowed = "a collection of flag names (a set, list or tuple of str), not one string"
    given: object = flags  # anything may arrive at run time
    if isinstance(given, str):
        raise ArgumentError(
            refusal("CPU.flags", allowed, given, f"Give one as {{{shown(given)}}}.")
        )
    if isinstance(given, bytes) or not isinstance(given, Iterable):
        raise ArgumentError(refusal("CPU.flags", allowed, given))
    names = tuple(given)
    if not all(isinstance(flag, str) for flag in names):
        raise ArgumentError(refusal("CPU.flags", allowed, given))
    return frozenset(flag.lower() for flag in names)


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class CPU:
    """A CPU as far as training speed is concerned.

    Attributes:
        model: The model name the operating system reports (``"unknown"`` when it reports none).
        cores: The CPU cores this process may run on.
        flags: The instruction-set flags, lower case as Linux names them (``avx2``,
            ``avx512_bf16``, ...); empty where they cannot be read.
        family: The x86 family, model and stepping (``"family 23 model 1 stepping 2"``),
            which tell CPU generations apart where a virtual machine reports only a generic
            model name such as ``AMD EPYC``; empty where they cannot be read.

    Raises:
        ArgumentError: A field of the wrong type, fewer than one core, or ``flags`` given as
            one string (``"avx512_bf16"``) rather than a collection of flag names.
    """

    model: str
    cores: int = attrs.field(validator=field_validator(Interval("int", ge=1)))
    flags: frozenset[str] = attrs.field(
        converter=_lower_flags, validator=field_validator(CheckedBy("its converter"))
    )
    family: str = ""

    @property
    def native_bfloat16(self) -> bool:
        """Whether bfloat16 matrix arithmetic runs in hardware (AVX512_BF16 or AMX_BF16)."""
        return bool(self.flags & NATIVE_BFLOAT16_FLAGS)

    @property
    def onednn_default(self) -> bool:
        """Whether TensorFlow turns oneDNN on by itself on this CPU."""
        return bool(self.flags & ONEDNN_DEFAULT_FLAGS)

    @property
    def isa(self) -> tuple[str, ...]:
        """The extensions of ``ISA_FLAGS`` this CPU has, by their usual names."""
        return tuple(name for flag, name in ISA_FLAGS if flag in self.flags)

    @property
    def speed_flags(self) -> dict[str, bool]:
        """Whether the CPU has each flag that decides precision and speed, by the flag's name.

        Example:
            >>> CPU(model="x", cores=2, flags={"avx2", "fma"}).speed_flags["AVX512_BF16"]
            False
        """
        return {name: flag in self.flags for flag, name in SPEED_FLAGS}

    @property
    def kind(self) -> CPUKind:
        """The kind of CPU, as the presets table of the documentation names its rows.

        ``amx`` with AMX_BF16, ``avx512_bf16`` with AVX512_BF16 (and no AMX), ``avx2`` with
        AVX2 and FMA but no bfloat16 instructions (AVX512F without AVX512_BF16 included),
        ``other`` otherwise.

        Example:
            >>> CPU(model="x", cores=2, flags={"avx2", "fma", "avx512f"}).kind
            'avx2'
        """
        if "amx_bf16" in self.flags:
            return "amx"
        if "avx512_bf16" in self.flags:
            return "avx512_bf16"
        if {"avx2", "fma"} <= self.flags:
            return "avx2"
        return "other"

    @property
    def title(self) -> str:
        """The model name with its family numbers, and the cores, as tables name a CPU.

        Example:
            >>> CPU(model="AMD EPYC", cores=1, flags=set(), family="family 25 model 1").title
            'AMD EPYC (family 25 model 1), 1 core'
        """
        name = f"{self.model} ({self.family})" if self.family else self.model
        return f"{name}, {self.cores} core{'s' if self.cores != 1 else ''}"

    def describe(self) -> str:
        """One line: model, cores and the extensions that matter.

        Example:
            >>> CPU(model="AMD EPYC", cores=2, flags={"avx2", "fma", "avx512f"}).describe()
            'AMD EPYC, 2 cores, AVX2 FMA AVX512F'
        """
        return f"{self.title}, {' '.join(self.isa) or 'no AVX2'}"


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


@params(cores=Interval("int", ge=1))
def parse_cpuinfo(text: str, *, cores: int) -> CPU:
    r"""Read the first processor's model name and flags from ``/proc/cpuinfo``'s text.

    Example:
        >>> parse_cpuinfo("model name : AMD EPYC\nflags : fpu avx2 fma\n", cores=2).isa
        ('AVX2', 'FMA')
    """
    model = "unknown"
    flags: frozenset[str] = frozenset()
    numbers: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key == "model name" and model == "unknown":
            model = " ".join(value.split()) or "unknown"
        elif key in ("flags", "features") and not flags:  # x86 and ARM spellings
            flags = frozenset(value.lower().split())
        elif key in ("cpu family", "model", "stepping") and key not in numbers:
            numbers[key] = value.strip()
    family = ""
    if numbers.get("cpu family", "").isdigit() and numbers.get("model", "").isdigit():
        family = f"family {numbers['cpu family']} model {numbers['model']}"
        if numbers.get("stepping", "").isdigit():
            family += f" stepping {numbers['stepping']}"
    return CPU(model=model, cores=cores, flags=flags, family=family)


@lru_cache(maxsize=1)
def read_cpu() -> CPU:
    """This machine's CPU (read once per process).

    On Linux from ``/proc/cpuinfo``; elsewhere the model is ``platform.processor()`` and the
    flags are unknown (empty), so ``precision="auto"`` chooses float32 there.
    """
    path = Path("/proc/cpuinfo")
    if sys.platform.startswith("linux"):
        try:
            return parse_cpuinfo(path.read_text(encoding="utf-8", errors="replace"), cores=_cores())
        except OSError:  # pragma: no cover - /proc not mounted
            pass
    return CPU(  # pragma: no cover - not Linux
        model=platform.processor() or platform.machine() or "unknown", cores=_cores(), flags=()
    )


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class PrecisionChoice:
    """The precision a model computes in, and why.

    Attributes:
        requested: What the config asked for (``auto`` or a policy).
        precision: The Keras dtype policy used.
        native: Whether the device computes that precision in hardware; ``False`` means it is
            emulated and slower than float32.
        reason: One sentence for the placement line and the run directory.
    """

    requested: Precision
    precision: ConcretePrecision
    native: bool
    reason: str


def _gpu_support(capability: tuple[int, int] | None) -> tuple[bool, bool]:
    """(native bfloat16, native float16) of a GPU of that compute capability."""
    if capability is None:
        return False, False
    return capability >= (8, 0), capability >= (7, 0)


_VERSION_NUMBER = Interval("int", ge=0)


@attrs.frozen
class _Capability(Constraint):
    """A GPU's compute capability: a ``(major, minor)`` pair of integers (``(8, 6)``)."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is a list or tuple of two integers >= 0."""
        return (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(_VERSION_NUMBER.allows(part) for part in value)
        )

    def describe(self) -> str:
        """What is allowed."""
        return "a (major, minor) pair of integers such as (8, 6)"


#: What ``choose_precision``'s ``gpu_capabilities`` accepts.
_CAPABILITIES = SequenceOf(
    NoneOr(_Capability()),
    description=(
        "a list or tuple with one compute capability per GPU, each a (major, minor) pair of "
        "integers such as (8, 6), or None where it is unknown"
    ),
)


@params(gpu_capabilities=_CAPABILITIES)
def choose_precision(
    requested: Precision,
    *,
    accelerator: Literal["cpu", "gpu"],
    cpu: CPU,
    gpu_capabilities: Sequence[tuple[int, int] | None] = (),
) -> PrecisionChoice:
    """Resolve ``requested`` for the device that trains (pure).

    ``auto`` picks ``mixed_bfloat16`` where the device computes bfloat16 natively (a CPU with
    AVX512_BF16 or AMX_BF16; GPUs of compute capability 8.0 or more), ``mixed_float16`` on GPUs
    of compute capability 7.x, and float32 otherwise. With several GPUs the weakest decides. An
    explicit policy is kept, and :attr:`PrecisionChoice.native` says whether the device only
    emulates it.

    Args:
        requested: ``"auto"``, ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``.
        accelerator: What trains: ``"cpu"`` or ``"gpu"``.
        cpu: The CPU (see :func:`read_cpu`).
        gpu_capabilities: The compute capability ``(major, minor)`` of each GPU in use,
            ``None`` where TensorFlow does not report one.

    Raises:
        ArgumentError: ``requested`` or ``accelerator`` is not one of the allowed values, or a
            compute capability is not a ``(major, minor)`` pair of integers (``"8.6"``).

    Example:
        >>> cpu = CPU(model="x", cores=2, flags={"avx2"})
        >>> turing = [(7, 5)]
        >>> choose_precision("auto", accelerator="gpu", cpu=cpu, gpu_capabilities=turing).precision
        'mixed_float16'
        >>> choose_precision("mixed_bfloat16", accelerator="cpu", cpu=cpu).native
        False
    """
    if accelerator == "gpu":
        capabilities = [None if c is None else (int(c[0]), int(c[1])) for c in gpu_capabilities]
        capabilities = capabilities or [None]
        known = [c for c in capabilities if c is not None]
        weakest = min(known) if len(known) == len(capabilities) else None
        bf16, fp16 = _gpu_support(weakest)
        device = (
            f"GPU of compute capability {weakest[0]}.{weakest[1]}"
            if weakest is not None
            else "GPU of unknown compute capability"
        )
    else:
        bf16, fp16 = cpu.native_bfloat16, False
        have = sorted(NATIVE_BFLOAT16_FLAGS & cpu.flags)
        device = (
            f"CPU with {' and '.join(flag.upper() for flag in have)}"
            if bf16
            else "CPU without AVX512_BF16 or AMX_BF16"
        )
        if requested == "mixed_float16":
            device = "CPU (TensorFlow has no fast float16 kernels for CPUs)"
    if requested == "auto":
        precision: ConcretePrecision = (
            "mixed_bfloat16" if bf16 else "mixed_float16" if fp16 else "float32"
        )
        return PrecisionChoice(
            requested=requested, precision=precision, native=True, reason=f"auto on a {device}"
        )
    native = {"float32": True, "mixed_bfloat16": bf16, "mixed_float16": fp16}[requested]
    how = "native" if native else "emulated, slower than float32,"
    return PrecisionChoice(
        requested=requested,
        precision=requested,
        native=native,
        reason=f"as configured; {how} on this {device}",
    )


_WARNED: set[tuple[str, str]] = set()


@params()
def warn_if_emulated(choice: PrecisionChoice) -> None:
    """Warn once per process and precision when ``choice`` is emulated by its device."""
    if choice.native or (choice.precision, choice.reason) in _WARNED:
        return
    _WARNED.add((choice.precision, choice.reason))
    warnings.warn(
        f"DeviceConfig(precision={shown(choice.precision)}): {choice.reason}. Use "
        f"precision='auto' (or 'float32') to train at this device's speed.",
        FashionkitWarning,
        stacklevel=3,
    )


#: Whether :func:`prefer_onednn` set ``TF_ENABLE_ONEDNN_OPTS`` in this process.
_SET_BY_FASHIONKIT: list[bool] = [False]


@params(
    environ=NoneOr(
        InstanceOf((MutableMapping,), "a mutable mapping of environment variables (os.environ)")
    )
)
def prefer_onednn(environ: MutableMapping[str, str] | None = None) -> bool:
    """Turn TensorFlow's oneDNN kernels on for x86 CPUs, unless the user or TensorFlow decided.

    ``import fashionkit`` calls it. TensorFlow reads ``TF_ENABLE_ONEDNN_OPTS`` once, when it
    starts, and turns oneDNN on by itself only on CPUs with AVX512_VNNI, AVX512_BF16 or AMX;
    on AVX2-only CPUs its default Eigen kernels train the presets 1.5 to 2 times slower at the
    same accuracy (measured; see the documentation's Measured page). So, on x86-64, when the
    variable is unset and TensorFlow is not yet imported, this sets it to ``1``. A value the
    user set, even an empty one, is kept; so is TensorFlow's choice once it has started.

    Returns:
        Whether it set the variable.

    Example:
        >>> env = {"TF_ENABLE_ONEDNN_OPTS": "0"}
        >>> prefer_onednn(env), env
        (False, {'TF_ENABLE_ONEDNN_OPTS': '0'})
    """
    environ = os.environ if environ is None else environ
    if (
        "TF_ENABLE_ONEDNN_OPTS" in environ
        or "tensorflow" in sys.modules
        or platform.machine().lower() not in ("x86_64", "amd64")
    ):
        return False
    environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
    if environ is os.environ:
        _SET_BY_FASHIONKIT[0] = True
    return True


@params()
def onednn_setting(environ: Mapping[str, str] | None = None, *, cpu: CPU | None = None) -> str:
    """How oneDNN was chosen, from ``TF_ENABLE_ONEDNN_OPTS`` and the CPU (pure given both).

    Example:
        >>> cpu = CPU(model="x", cores=2, flags={"avx2"})
        >>> onednn_setting({}, cpu=cpu)
        'off (TensorFlow default for this CPU)'
        >>> onednn_setting({"TF_ENABLE_ONEDNN_OPTS": "1"}, cpu=cpu)
        'on (TF_ENABLE_ONEDNN_OPTS=1)'
    """
    environ = os.environ if environ is None else environ
    cpu = read_cpu() if cpu is None else cpu
    value = environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip()
    if value.lower() in ("0", "1", "true", "false"):  # what TensorFlow reads as a boolean
        state = "on" if value.lower() in ("1", "true") else "off"
        who = ", set by fashionkit" if _SET_BY_FASHIONKIT[0] and environ is os.environ else ""
        return f"{state} (TF_ENABLE_ONEDNN_OPTS={value}{who})"
    return f"{'on' if cpu.onednn_default else 'off'} (TensorFlow default for this CPU)"


@params()
def package_version(name: str) -> str | None:
    """The installed version of distribution ``name`` from its metadata, ``None`` if absent.

    Example:
        >>> package_version("no-such-distribution-here") is None
        True
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


@params()
def describe_machine(precision: str | None = None) -> dict[str, object]:
    """The facts every published figure names: CPU, flags, cores, versions, oneDNN, precision.

    Reads versions from the installed packages' metadata (TensorFlow is not imported).

    Args:
        precision: The precision a run used, recorded as ``precision`` when given.

    Returns:
        ``cpu`` (the model name), ``cpu_family``, ``cores``, ``isa`` (the extensions of
        ``ISA_FLAGS`` present), ``flags`` (each flag that decides precision and speed:
        present or not), ``cpu_kind`` (:attr:`CPU.kind`), ``native_bfloat16``,
        ``auto_precision`` and ``auto_reason`` (what ``precision="auto"`` picks for training on
        this CPU, and why), ``onednn``, ``tensorflow``, ``keras``, ``python``, and
        ``precision`` when given. :func:`machine_summary` prints the same facts.

    Example:
        >>> facts = describe_machine()
        >>> facts["auto_precision"] in ("float32", "mixed_bfloat16")
        True
        >>> sorted(facts["flags"])
        ['AMX', 'AVX2', 'AVX512F', 'AVX512_BF16', 'AVX512_VNNI', 'FMA']
    """
    cpu = read_cpu()
    auto = choose_precision("auto", accelerator="cpu", cpu=cpu)
    facts: dict[str, object] = {
        "cpu": cpu.model,
        "cpu_family": cpu.family,
        "cores": cpu.cores,
        "isa": list(cpu.isa),
        "flags": cpu.speed_flags,
        "cpu_kind": cpu.kind,
        "native_bfloat16": cpu.native_bfloat16,
        "auto_precision": auto.precision,
        "auto_reason": _auto_why(cpu),
        "onednn": onednn_setting(cpu=cpu),
        "tensorflow": package_version("tensorflow"),
        "keras": package_version("keras"),
        "python": platform.python_version(),
    }
    if precision is not None:
        facts["precision"] = precision
    return facts


def _auto_why(cpu: CPU) -> str:
    """Why ``precision="auto"`` picks what it picks on ``cpu``, in one line."""
    if cpu.native_bfloat16:
        have = " and ".join(
            name for flag, name in SPEED_FLAGS if flag in NATIVE_BFLOAT16_FLAGS & cpu.flags
        )
        return f"bfloat16 runs in hardware here ({have}), faster than float32"
    return "no AVX512_BF16 or AMX here: bfloat16 would be emulated, slower than float32"


@params()
def machine_summary(cpu: CPU | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    r"""What ``fashionkit info`` prints about the machine: CPU, flags, kind, precision, oneDNN.

    The lines name the CPU model, each flag that decides precision and speed (present or
    not), the CPU's kind (its row in the presets table of the documentation), the precision
    ``precision="auto"`` picks for training on the CPU and why, how oneDNN was chosen and the
    versions of TensorFlow, Keras and Python.

    Args:
        cpu: The CPU to describe. Defaults to this machine's (:func:`read_cpu`).
        environ: The environment that decides oneDNN. Defaults to :data:`os.environ`.

    Example:
        >>> zen4 = CPU(model="AMD EPYC 9B14", cores=2,
        ...            flags={"avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"})
        >>> summary = machine_summary(zen4, environ={"TF_ENABLE_ONEDNN_OPTS": "1"})
        >>> print("\n".join(summary.splitlines()[:6]))  # the last line: the versions
        cpu:       AMD EPYC 9B14, 2 cores
        flags:     AVX2 yes, FMA yes, AVX512F yes, AVX512_VNNI yes, AVX512_BF16 yes, AMX no
        kind:      avx512_bf16: AVX512_BF16 (bfloat16 in hardware)
        precision: auto picks mixed_bfloat16 for training on this CPU
        why:       bfloat16 runs in hardware here (AVX512_BF16), faster than float32
        oneDNN:    on (TF_ENABLE_ONEDNN_OPTS=1)
    """
    cpu = read_cpu() if cpu is None else cpu
    auto = choose_precision("auto", accelerator="cpu", cpu=cpu)
    flags = ", ".join(
        f"{flag} {'yes' if present else 'no'}" for flag, present in cpu.speed_flags.items()
    )
    versions = ", ".join(
        f"{shown_name} {package_version(dist) or 'not installed'}"
        for shown_name, dist in (("TensorFlow", "tensorflow"), ("Keras", "keras"))
    )
    lines = [
        f"cpu:       {cpu.title}",
        f"flags:     {flags}",
        f"kind:      {cpu.kind}: {KIND_TITLES[cpu.kind]}",
        f"precision: auto picks {auto.precision} for training on this CPU",
        f"why:       {_auto_why(cpu)}",
        f"oneDNN:    {onednn_setting(environ, cpu=cpu)}",
        f"versions:  {versions}, Python {platform.python_version()}",
    ]
    return "\n".join(lines)
