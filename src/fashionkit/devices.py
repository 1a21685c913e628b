"""Device selection, distribution strategy, precision and determinism, applied at the right time.

All device setup of fashionkit lives here. The decision is a pure function,
:func:`plan_devices`, over the device names TensorFlow reports, so every branch can be tested on
any machine; :func:`apply_device_config` then applies the plan before TensorFlow's runtime
starts and creates the ``tf.distribute`` strategy.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from fashionkit._constants import StrategyName
from fashionkit._messages import shown
from fashionkit._validation import Interval, annotated_fields, field_validator, params
from fashionkit.config import DeviceConfig
from fashionkit.exceptions import DeviceError, FashionkitWarning
from fashionkit.hardware import choose_precision, read_cpu, warn_if_emulated

__all__ = [
    "DevicePlan",
    "Placement",
    "apply_device_config",
    "configure_determinism",
    "plan_devices",
]

logger = logging.getLogger("fashionkit")

_GPU_CAUSES = (
    "Usual causes: no NVIDIA GPU or driver on this machine; a TensorFlow build without CUDA "
    "(on Linux install 'tensorflow[and-cuda]'); CUDA_VISIBLE_DEVICES hiding the GPUs; a CUDA "
    "or cuDNN version TensorFlow does not support. Use accelerator='auto' to fall back to the "
    "CPU."
)


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class DevicePlan:
    """What :func:`plan_devices` decided, before anything is applied.

    Attributes:
        accelerator: ``"cpu"`` or ``"gpu"``.
        gpu_indices: Indices of the physical GPUs to keep visible (empty on CPU).
        logical_cpus: Logical CPU devices to create (more than 1 only for ``virtual_cpus``).
        strategy: The ``tf.distribute`` strategy to use.
        note: Why: a sentence for the log and the result.
    """

    accelerator: Literal["cpu", "gpu"]
    gpu_indices: tuple[int, ...]
    logical_cpus: int = attrs.field(validator=field_validator(Interval("int", ge=1)))
    strategy: StrategyName
    note: str


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class Placement:
    """Where and how a model trained, as resolved from a :class:`~fashionkit.config.DeviceConfig`.

    Attributes:
        accelerator: ``"cpu"`` or ``"gpu"``: what actually trains the model.
        devices: TensorFlow names of the devices the strategy uses.
        requested: The accelerator the config asked for (``auto``, ``cpu`` or ``gpu``).
        strategy: ``default``, ``one_device``, ``mirrored`` or ``multi_worker``.
        replicas: Model replicas that train in sync (``num_replicas_in_sync``); the batch size is
            split among them.
        precision: The Keras dtype policy of the model's layers (``precision="auto"``
            resolved).
        note: A sentence explaining the choice, e.g. why ``auto`` fell back to the CPU.
        precision_note: Why that precision: the device and whether it computes the precision
            natively (see :func:`fashionkit.hardware.choose_precision`).
    """

    accelerator: str
    devices: tuple[str, ...]
    requested: str
    strategy: str = "default"
    replicas: int = attrs.field(default=1, validator=field_validator(Interval("int", ge=1)))
    precision: str = "float32"
    note: str = ""
    precision_note: str = ""

    def __str__(self) -> str:
        why = f" ({self.precision_note})" if self.precision_note else ""
        return (
            f"{self.accelerator} ({', '.join(self.devices)}), strategy {self.strategy} with "
            f"{self.replicas} replica(s), precision {self.precision}{why}: {self.note}"
        )


def _parse_tf_config(tf_config: str | None) -> dict[str, Any]:
    if not tf_config:
        raise DeviceError(
            "DeviceConfig(strategy='multi_worker') needs the TF_CONFIG environment variable, "
            "which names every worker and this process's place among them, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}. Set it on each machine before starting.'
        )
    try:
        parsed = json.loads(tf_config)
        workers = parsed["cluster"]["worker"]
        index = parsed["task"]["index"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DeviceError(
            f"TF_CONFIG is not valid: it must be JSON with cluster.worker (a list of host:port) "
            f"and task.index; got {shown(tf_config)} ({exc})."
        ) from exc
    if not isinstance(workers, list) or not isinstance(index, int) or not 0 <= index < len(workers):
        raise DeviceError(
            f"TF_CONFIG task.index must point into cluster.worker; got index {shown(index)} for "
            f"{len(workers) if isinstance(workers, list) else 'no'} workers."
        )
    return dict(parsed)


def is_chief_task(tf_config: str | None) -> bool:
    """Whether this process writes a multi-worker run's folder (pure; reads ``TF_CONFIG``).

    The chief is the task of type ``chief``, or worker 0 when the cluster has no chief, as in
    TensorFlow's own convention. Without ``TF_CONFIG`` this process is the only one.

    Example:
        >>> is_chief_task('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", '
        ...               '"index": 1}}')
        False
        >>> is_chief_task(None)
        True

    Raises:
        DeviceError: ``TF_CONFIG`` is set but malformed.
    """
    if not tf_config:
        return True
    parsed = _parse_tf_config(tf_config)
    task = parsed["task"]
    kind = task.get("type", "worker")
    if kind == "chief":
        return True
    return kind == "worker" and task["index"] == 0 and not parsed["cluster"].get("chief")


@params()
def plan_devices(
    config: DeviceConfig,
    *,
    gpus: Sequence[str],
    cpus: Sequence[str],
    tf_config: str | None = None,
) -> DevicePlan:
    """Decide devices and strategy from the config and the devices that exist (pure).

    Args:
        config: The requested device config.
        gpus: Names of the physical GPUs TensorFlow lists, in order (a list or tuple, never
            one string).
        cpus: Names of the physical CPUs TensorFlow lists.
        tf_config: The ``TF_CONFIG`` environment variable, for ``multi_worker``.

    Returns:
        The plan.

    Raises:
        DeviceError: ``gpu`` requested with no GPU (the message lists the devices found and the
            usual causes), a GPU index that does not exist, or ``multi_worker`` without a valid
            ``TF_CONFIG``.
        ArgumentError: An argument of the wrong type, such as one device name as ``gpus``.

    Example:
        >>> plan_devices(DeviceConfig(), gpus=[], cpus=["/physical_device:CPU:0"]).note
        'no GPU visible to TensorFlow; training on the CPU'
    """
    found = ", ".join([*cpus, *gpus]) or "none"
    if config.accelerator == "gpu" and not gpus:
        raise DeviceError(
            f"DeviceConfig(accelerator='gpu') was requested but TensorFlow sees no GPU. "
            f"Devices found: {found}. {_GPU_CAUSES}"
        )
    use_gpu = config.accelerator != "cpu" and bool(gpus)
    if use_gpu:
        indices = config.gpus if config.gpus is not None else tuple(range(len(gpus)))
        missing = [i for i in indices if i >= len(gpus)]
        if missing:
            raise DeviceError(
                f"DeviceConfig.gpus asks for GPU {missing[0]}, but TensorFlow sees "
                f"{len(gpus)} GPU(s), numbered 0 to {len(gpus) - 1}: {', '.join(gpus)}."
            )
        note = f"{len(indices)} of {len(gpus)} GPU(s) in use"
        n_devices = len(indices)
    else:
        indices = ()
        if config.accelerator == "cpu":
            note = "CPU requested"
        else:
            note = "no GPU visible to TensorFlow; training on the CPU"
        if config.virtual_cpus > 1:
            note += f", split into {config.virtual_cpus} logical devices"
        n_devices = config.virtual_cpus
    strategy: StrategyName
    if config.strategy == "multi_worker":
        workers = len(_parse_tf_config(tf_config)["cluster"]["worker"])
        strategy = "multi_worker"
        note += f"; {workers} worker(s) from TF_CONFIG"
    elif config.strategy == "auto":
        strategy = "mirrored" if n_devices > 1 else "default"
    else:
        strategy = config.strategy
    return DevicePlan(
        accelerator="gpu" if use_gpu else "cpu",
        gpu_indices=indices,
        logical_cpus=1 if use_gpu else config.virtual_cpus,
        strategy=strategy,
        note=note,
    )


def _already_initialised(what: str, exc: RuntimeError) -> DeviceError:
    return DeviceError(
        f"Cannot {what}: TensorFlow's runtime was already initialised in this process with "
        f"other device settings (device visibility, memory and logical devices can only be set "
        f"before the first TensorFlow operation). Run fashionkit.train with this DeviceConfig "
        f"first in a fresh process, or keep the device settings the same for every run in "
        f"this process. TensorFlow said: {exc}"
    )


@params()
def apply_device_config(config: DeviceConfig) -> tuple[Any, Placement]:
    """Apply ``config`` to TensorFlow; return the ``tf.distribute`` strategy and the placement.

    Call it before anything else runs a TensorFlow operation; :func:`fashionkit.train` does so
    first thing. Applying the same settings again in the same process is allowed.
    ``multi_worker`` creates ``MultiWorkerMirroredStrategy`` once per process (TensorFlow lets
    collective ops be configured only once) and reuses it afterwards.

    ``precision="auto"`` is resolved here for the devices in use (see
    :func:`fashionkit.hardware.choose_precision`); an explicit mixed precision that the device
    only emulates warns once per process (:class:`~fashionkit.exceptions.FashionkitWarning`).

    Raises:
        DeviceError: The plan is impossible (see :func:`plan_devices`), or TensorFlow's runtime
            was already initialised with different device settings.
    """
    import os

    import tensorflow as tf

    physical_gpus = tf.config.list_physical_devices("GPU")
    physical_cpus = tf.config.list_physical_devices("CPU")
    plan = plan_devices(
        config,
        gpus=[d.name for d in physical_gpus],
        cpus=[d.name for d in physical_cpus],
        tf_config=os.environ.get("TF_CONFIG"),
    )
    _apply_plan(plan, config, physical_gpus, physical_cpus)
    # MultiWorkerMirroredStrategy must exist before the runtime starts, so it comes first.
    strategy: Any = _multi_worker_strategy() if plan.strategy == "multi_worker" else None
    kind = "GPU" if plan.accelerator == "gpu" else "CPU"
    devices = tuple(d.name for d in tf.config.list_logical_devices(kind))
    if plan.accelerator == "cpu":
        devices = devices[: plan.logical_cpus]
    if plan.strategy in ("one_device", "default"):
        devices = devices[:1]
    if plan.strategy == "one_device":
        strategy = tf.distribute.OneDeviceStrategy(devices[0])
    elif plan.strategy == "mirrored":
        strategy = tf.distribute.MirroredStrategy(devices=list(devices))
    elif plan.strategy == "default":
        strategy = tf.distribute.get_strategy()
    choice = choose_precision(
        config.precision,
        accelerator=plan.accelerator,
        cpu=read_cpu(),
        gpu_capabilities=[_capability(physical_gpus[i]) for i in plan.gpu_indices],
    )
    warn_if_emulated(choice)
    placement = Placement(
        accelerator=plan.accelerator,
        devices=devices,
        requested=config.accelerator,
        strategy=plan.strategy,
        replicas=int(strategy.num_replicas_in_sync),
        precision=choice.precision,
        note=plan.note,
        precision_note=choice.reason,
    )
    if config.accelerator == "auto" and plan.accelerator == "cpu":
        logger.warning("fashionkit: %s", plan.note)
    return strategy, placement


def _capability(gpu: Any) -> tuple[int, int] | None:
    """A physical GPU's compute capability, as TensorFlow reports it (``None`` if it does not)."""
    import tensorflow as tf

    try:
        details = tf.config.experimental.get_device_details(gpu)
    except (RuntimeError, ValueError):  # pragma: no cover - needs a GPU
        return None
    capability = details.get("compute_capability")
    if isinstance(capability, tuple) and len(capability) == 2:  # pragma: no cover - needs a GPU
        return int(capability[0]), int(capability[1])
    return None


def _apply_plan(plan: DevicePlan, config: DeviceConfig, gpus: list[Any], cpus: list[Any]) -> None:
    import tensorflow as tf

    keep = [gpus[i] for i in plan.gpu_indices]
    if gpus:
        try:
            tf.config.set_visible_devices(keep, "GPU")
        except RuntimeError as exc:
            if list(tf.config.get_visible_devices("GPU")) != keep:
                raise _already_initialised("change which GPUs are visible", exc) from exc
    for gpu in keep:
        try:
            if config.memory_growth:
                tf.config.experimental.set_memory_growth(gpu, True)
            if config.memory_limit_mb is not None:
                tf.config.set_logical_device_configuration(
                    gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=config.memory_limit_mb)]
                )
        except RuntimeError as exc:
            raise _already_initialised("set GPU memory options", exc) from exc
    if plan.logical_cpus > 1:
        try:
            tf.config.set_logical_device_configuration(
                cpus[0],
                [tf.config.LogicalDeviceConfiguration() for _ in range(plan.logical_cpus)],
            )
        except RuntimeError as exc:
            if len(tf.config.list_logical_devices("CPU")) != plan.logical_cpus:
                raise _already_initialised(
                    f"split the CPU into {plan.logical_cpus} logical devices", exc
                ) from exc


_MULTI_WORKER: list[Any] = []  # at most one per process


def _multi_worker_strategy() -> Any:
    import tensorflow as tf

    if not _MULTI_WORKER:
        try:
            _MULTI_WORKER.append(tf.distribute.MultiWorkerMirroredStrategy())
        except (RuntimeError, ValueError) as exc:
            raise DeviceError(
                "Cannot start MultiWorkerMirroredStrategy: it must be created before any other "
                "TensorFlow operation in the process, and TF_CONFIG must name reachable workers. "
                f"TensorFlow said: {exc}"
            ) from exc
    return _MULTI_WORKER[0]


@params(seed=Interval("int", ge=0, lt=2**32))
def configure_determinism(seed: int, *, deterministic: bool) -> None:
    """Seed Python, NumPy and Keras, and switch TensorFlow's op determinism on or off.

    Op determinism makes every TensorFlow kernel pick a reproducible algorithm; it is global to
    the process. Turning it off again uses a TensorFlow function that is not public API; when it
    is unavailable, determinism stays on and a
    :class:`~fashionkit.exceptions.FashionkitWarning` says so.

    Args:
        seed: The seed, from 0 to ``2**32 - 1``.
        deterministic: Turn op determinism on (``True``) or off.

    Raises:
        ArgumentError: A seed that is not an integer in that range, or a non-bool
            ``deterministic``.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
        return
    try:
        from tensorflow.python.framework import config as tf_framework_config

        if tf_framework_config.is_op_determinism_enabled():
            tf_framework_config.disable_op_determinism()
    except (ImportError, AttributeError):  # pragma: no cover - depends on the TF release
        warnings.warn(
            "deterministic=False, but this TensorFlow cannot turn op determinism off again in "
            "this process; it stays on (runs stay reproducible, only slower).",
            FashionkitWarning,
            stacklevel=3,  # past the params wrapper: the caller of configure_determinism
        )
