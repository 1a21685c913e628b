"""TensorBoard's HParams records, written without the ``tensorboard`` package.

TensorBoard's HParams dashboard (its table, parallel coordinates and scatter plots) reads three
kinds of summary, each a protocol buffer of the ``hparams`` plugin in a value's metadata:

* a *session start* in the folder of one run (TensorBoard calls a run with hyperparameters a
  session): its hyperparameter values, a group name and the start time;
* a *session end*: its status and end time;
* an *experiment*, optionally, in the folder above the sessions: the hyperparameters with
  their domains and the metrics, which the dashboard then shows (and no others). Without one it
  infers both from the sessions: every hyperparameter any session has, and every scalar tag
  in a session's folder and its sub-folders as a metric (named by tag and sub-folder).

The messages are encoded here by hand, in the protocol buffer wire format, with the field
numbers of TensorBoard's ``plugin_data.proto`` and ``api.proto`` (``HParamsPluginData``,
``SessionStartInfo``, ``SessionEndInfo``, ``Experiment``, ``HParamInfo``, ``MetricInfo``),
so writing (in :mod:`fashionkit.callbacks._tensorboard`) needs TensorFlow only, like the
other logs. The test suite decodes them with
TensorBoard's own classes and reads them back through TensorBoard's HParams backend.
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from fashionkit.config import TrainConfig
from fashionkit.exceptions import InputValidationError

#: A hyperparameter value TensorBoard can show: a boolean, a number or a string.
HParamValue = bool | int | float | str
#: How a session ended, as TensorBoard's HParams dashboard shows it.
SessionStatus = Literal["success", "failure", "running", "unknown"]

PLUGIN = "hparams"
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_TAG = "_hparams_/session_start_info"
SESSION_END_TAG = "_hparams_/session_end_info"

_STATUS = {"unknown": 0, "success": 1, "failure": 2, "running": 3}
_DATA_TYPE = {"string": 1, "bool": 2, "float64": 3}
# Config fields that say how a run reports, not how it trains.
_NOT_HYPERPARAMETERS = frozenset({"verbose", "tensorboard"})


# The wire format: each field is a key (number << 3 | wire type) and a value; type 0 is a
# varint, 1 eight little-endian bytes, 2 a length-prefixed byte string (strings and messages).
def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1  # negative numbers as their 64-bit two's complement
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _int_field(number: int, value: int) -> bytes:
    return _key(number, 0) + _varint(value) if value else b""


def _bool_field(number: int, value: bool) -> bytes:
    return _key(number, 0) + b"\x01" if value else b""


def _double_field(number: int, value: float) -> bytes:
    return _key(number, 1) + struct.pack("<d", value) if value else b""


def _bytes_field(number: int, value: bytes) -> bytes:
    return _key(number, 2) + _varint(len(value)) + value


def _string_field(number: int, value: str) -> bytes:
    return _bytes_field(number, value.encode()) if value else b""


def _value(value: HParamValue) -> bytes:
    """A ``google.protobuf.Value``: number 2, string 3 or bool 4."""
    if isinstance(value, bool):
        return _key(4, 0) + (b"\x01" if value else b"\x00")
    if isinstance(value, (int, float)):
        return _key(2, 1) + struct.pack("<d", float(value))
    return _bytes_field(3, value.encode())


def _plugin_data(number: int, message: bytes) -> bytes:
    """An ``HParamsPluginData`` (version 0) holding ``message`` in its oneof field ``number``."""
    return _bytes_field(number, message)


def check_hparams(hparams: Mapping[str, Any]) -> dict[str, HParamValue]:
    """``hparams`` as names and values TensorBoard can show (NumPy scalars become Python ones).

    Raises:
        InputValidationError: A name that is not a non-empty string, or a value that is not a
            boolean, a finite or infinite number, or a string.
    """
    out: dict[str, HParamValue] = {}
    for name, value in hparams.items():
        if not isinstance(name, str) or not name:
            raise InputValidationError(
                f"hyperparameter names must be non-empty strings; got {name!r}."
            )
        item = value
        if hasattr(value, "item") and not isinstance(value, str):
            try:
                item = value.item()  # a NumPy or tensor scalar
            except (TypeError, ValueError):
                item = value  # an array of several values: refused below
        if not isinstance(item, (bool, int, float, str)):
            raise InputValidationError(
                f"hyperparameter {name!r} must be a boolean, a number or a string (TensorBoard "
                f"shows no other kind); got {value!r}."
            )
        out[name] = item
    return out


def session_start(
    hparams: Mapping[str, HParamValue], *, group_name: str = "", start_time: float | None = None
) -> bytes:
    """The plugin content of a session start: ``hparams`` (sorted by name)."""
    message = b""
    for name in sorted(hparams):
        entry = _string_field(1, name) + _bytes_field(2, _value(hparams[name]))
        message += _bytes_field(1, entry)  # map<string, Value> hparams = 1
    message += _string_field(4, group_name)
    message += _double_field(5, time.time() if start_time is None else start_time)
    return _plugin_data(3, message)


def session_end(status: SessionStatus = "success", *, end_time: float | None = None) -> bytes:
    """The plugin content of a session end."""
    if status not in _STATUS:
        raise InputValidationError(f"status must be one of {', '.join(_STATUS)}; got {status!r}.")
    message = _int_field(1, _STATUS[status])
    message += _double_field(2, time.time() if end_time is None else end_time)
    return _plugin_data(4, message)


DomainKind = Literal["bool", "float64", "string"]


def _kind_of(values: Sequence[HParamValue]) -> DomainKind:
    kinds = {type(v) for v in values}
    if kinds == {bool}:
        return "bool"
    if kinds <= {int, float}:
        return "float64"
    return "string"


def _check_domain(domain: HParamDomain, attribute: Any, value: Any) -> None:
    if not isinstance(domain.name, str) or not domain.name:
        raise InputValidationError(f"a domain needs a non-empty name; got {domain.name!r}.")
    listed = domain.values is not None
    ranged = domain.low is not None or domain.high is not None
    if listed == ranged:
        raise InputValidationError(
            f"domain {domain.name!r}: give either values or low and high; got values="
            f"{domain.values!r}, low={domain.low!r}, high={domain.high!r}."
        )
    if domain.values is not None and not domain.values:
        raise InputValidationError(f"domain {domain.name!r}: values must not be empty.")
    if ranged and (
        domain.low is None or domain.high is None or not float(domain.low) <= float(domain.high)
    ):
        raise InputValidationError(
            f"domain {domain.name!r}: give low <= high; got low={domain.low!r}, "
            f"high={domain.high!r}."
        )


@attrs.frozen(kw_only=True)
class HParamDomain:
    """The values one hyperparameter of an experiment takes: a list, or an interval.

    A list of booleans is a boolean hyperparameter, a list of numbers a number one, any other
    list a string one (its values as text); an interval is a number one. :meth:`cast` turns a
    session's value into the domain's type, so that the dashboard's filters find it.
    """

    name: str = attrs.field(validator=_check_domain)
    values: tuple[HParamValue, ...] | None = None
    low: float | None = None
    high: float | None = None
    description: str = ""

    @property
    def kind(self) -> DomainKind:
        """``"bool"``, ``"float64"`` or ``"string"``."""
        return _kind_of(self.values) if self.values is not None else "float64"

    def cast(self, value: Any) -> HParamValue | None:
        """``value`` in the domain's type (``None``, a missing value, stays ``None``)."""
        if value is None:
            return None
        if self.kind == "string":
            shown = hparam_value(value)
            return shown if isinstance(shown, str) else str(shown)
        if self.kind == "bool":
            return bool(value)
        return float(value)

    def encode(self) -> bytes:
        """An ``HParamInfo``: name, description, type and domain."""
        message = _string_field(1, self.name) + _string_field(3, self.description)
        if self.values is not None:
            values = [self.cast(v) for v in self.values]
            listed = b"".join(_bytes_field(1, _value(v)) for v in values if v is not None)
            message += _int_field(4, _DATA_TYPE[self.kind]) + _bytes_field(5, listed)
        else:
            interval = _key(1, 1) + struct.pack("<d", float(self.low or 0.0))
            interval += _key(2, 1) + struct.pack("<d", float(self.high or 0.0))
            message += _int_field(4, _DATA_TYPE["float64"]) + _bytes_field(6, interval)
        return message


def experiment(
    domains: Sequence[HParamDomain],
    metrics: Sequence[tuple[str, str]],
    *,
    description: str = "",
    time_created: float | None = None,
) -> bytes:
    """The plugin content of an experiment: hyperparameter domains, then ``(group, tag)`` metrics.

    A metric's group is the sub-folder of a session its scalar is in (``""``: the session's own
    folder), its tag the scalar's tag.
    """
    message = _string_field(1, description)
    message += _double_field(3, time.time() if time_created is None else time_created)
    for domain in domains:
        message += _bytes_field(4, domain.encode())
    for group, tag in metrics:
        name = _string_field(1, group) + _string_field(2, tag)
        message += _bytes_field(5, _bytes_field(1, name))
    return _plugin_data(2, message)


def hparam_value(value: Any) -> HParamValue:
    """``value`` as TensorBoard shows it: lists as their JSON text, other objects as text."""
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def config_hparams(config: TrainConfig | Mapping[str, Any]) -> dict[str, HParamValue]:
    """A config's fields as dotted names and values TensorBoard can show.

    Nested tables become dotted names (``optimizer.learning_rate``), as ``fashionkit train
    --set`` takes them; lists become their JSON text (``[16, 64, 128]``). A field that is
    ``None`` (unset: no warm-up, no patience) is left out, so that a number column stays a
    number column across runs where it is set in some; TensorBoard shows such runs' cells
    empty. How a run reports (``verbose``, ``tensorboard``) is left out too.

    Args:
        config: A :class:`~fashionkit.TrainConfig`, or its :meth:`~fashionkit.TrainConfig.to_dict`.

    Example:
        >>> from fashionkit.callbacks import config_hparams
        >>> from fashionkit.presets import get_preset
        >>> hparams = config_hparams(get_preset("accurate"))
        >>> hparams["model.filters"], hparams["optimizer.learning_rate"], hparams["tta"]
        ('[16, 64, 128]', 0.003, True)
        >>> "optimizer.warmup_fraction" in hparams  # None: unset
        False
    """
    config_dict = config.to_dict() if isinstance(config, TrainConfig) else config
    out: dict[str, HParamValue] = {}

    def walk(prefix: str, table: Mapping[str, Any]) -> None:
        for name, value in table.items():
            key = f"{prefix}{name}"
            if key in _NOT_HYPERPARAMETERS:
                continue
            if isinstance(value, Mapping):
                walk(f"{key}.", value)
            elif value is not None:
                out[key] = hparam_value(value)

    walk("", config_dict)
    return out
