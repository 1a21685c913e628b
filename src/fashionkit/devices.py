"""Choosing and configuring the compute devices, before TensorFlow initialises its runtime.

All device setup of fashionkit lives in this module.
"""

from __future__ import annotations

import attrs

from fashionkit.config import DeviceConfig
from fashionkit.exceptions import DeviceError

__all__ = ["Placement", "apply_device_config"]


@attrs.frozen(kw_only=True)
class Placement:
    """Where training ran, as resolved from a :class:`~fashionkit.config.DeviceConfig`.

    Attributes:
        accelerator: ``"cpu"`` or ``"gpu"``: what actually trains the model.
        devices: TensorFlow names of the devices used, e.g. ``("/physical_device:CPU:0",)``.
        requested: The accelerator the config asked for (``auto``, ``cpu`` or ``gpu``).
        note: A sentence explaining the choice, e.g. why ``auto`` fell back to the CPU.
    """

    accelerator: str
    devices: tuple[str, ...]
    requested: str
    note: str

    def __str__(self) -> str:
        return f"{self.accelerator} ({', '.join(self.devices)}): {self.note}"


def apply_device_config(config: DeviceConfig) -> Placement:
    """Apply ``config`` to TensorFlow and return the resolved placement.

    Call it before anything else touches TensorFlow devices; :func:`fashionkit.train` does so
    first thing.

    Raises:
        DeviceError: ``gpu`` was requested and TensorFlow sees none (the message lists the
            devices it does see), or TensorFlow's runtime was already initialised with other
            device settings.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    cpus = tf.config.list_physical_devices("CPU")
    requested = config.accelerator
    if requested == "gpu" and not gpus:
        seen = ", ".join(d.name for d in tf.config.list_physical_devices()) or "none"
        raise DeviceError(
            "DeviceConfig(accelerator='gpu') was requested but TensorFlow sees no GPU. Devices "
            f"found: {seen}. Usual causes: no NVIDIA GPU or driver on this machine, a CPU-only "
            "TensorFlow build (install 'tensorflow[and-cuda]' on Linux), or CUDA_VISIBLE_DEVICES "
            "hiding the GPUs. Use accelerator='auto' to fall back to the CPU."
        )
    if requested == "cpu" or not gpus:
        if gpus:
            try:
                tf.config.set_visible_devices([], "GPU")
            except RuntimeError as exc:
                raise DeviceError(
                    "Cannot hide the GPUs: TensorFlow's runtime was already initialised with "
                    "them visible in this process. Call fashionkit.train (or "
                    "apply_device_config) before running any TensorFlow operation, or start a "
                    f"new process. TensorFlow said: {exc}"
                ) from exc
        note = (
            "CPU requested"
            if requested == "cpu"
            else "no GPU visible to TensorFlow; training on the CPU"
        )
        return Placement(
            accelerator="cpu",
            devices=tuple(d.name for d in cpus),
            requested=requested,
            note=note,
        )
    return Placement(
        accelerator="gpu",
        devices=tuple(d.name for d in gpus),
        requested=requested,
        note=f"{len(gpus)} GPU(s) visible to TensorFlow",
    )
