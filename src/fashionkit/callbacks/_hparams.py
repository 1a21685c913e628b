"""TensorBoard's HParams records, written with TensorBoard's own HParams API.

TensorBoard's HParams dashboard (its table, parallel coordinates and scatter plots) reads three
kinds of record:

* a *session start* in the folder of one run (TensorBoard calls a run with hyperparameters a
  session): its hyperparameter values, a group name and the start time;
* a *session end*: its status and end time;
* an *experiment*, optionally, in the folder above the sessions: the hyperparameters with
  their domains and the metrics, which the dashboard then shows (and no others). Without one it
  infers both from the sessions: every hyperparameter any session has, and every scalar tag
  in a session's folder and its sub-folders as a metric (named by tag and sub-folder).

The ``write_*`` functions write one record into the default summary writer (inside
``writer.as_default()``), through ``tensorboard.plugins.hparams``: the session start with
``hp.hparams``, the session end and the experiment with the plugin's ``session_end_pb`` and
``experiment_pb``. They import ``tensorboard`` when called, so that importing
:mod:`fashionkit.callbacks` does not need it; this module also holds what needs no TensorBoard:
the check of a session's values, the domains of a sweep's hyperparameters and the walk that
turns a config into hyperparameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from fashionkit._validation import (
    AnyOf,
    Boolean,
    InstanceOf,
    Interval,
    NoneOr,
    SequenceOf,
    annotated_fields,
    field_validator,
    params,
    refusal,
    shown,
)
from fashionkit.callbacks._checks import NonEmptyText
from fashionkit.config import TrainConfig, flatten
from fashionkit.exceptions import ArgumentError

#: A hyperparameter value TensorBoard can show: a boolean, a number or a string.
HParamValue = bool | int | float | str
#: How a session ended, as TensorBoard's HParams dashboard shows it.
SessionStatus = Literal["success", "failure", "running", "unknown"]


def check_hparams(hparams: object, *, name: str = "hparams") -> dict[str, HParamValue]:
    """``hparams`` as names and values TensorBoard can show (NumPy scalars become Python ones).

    Args:
        hparams: The values to check.
        name: The argument's name in messages. Defaults to ``"hparams"``.

    Raises:
        ArgumentError: ``hparams`` is not a mapping, a name is not a non-empty string, or a
            value is not a boolean, a number (NaN and infinities included) or a string.
    """
    if not isinstance(hparams, Mapping):
        allowed = (
            "a mapping of names to booleans, numbers or strings, such as "
            "{'optimizer.learning_rate': 0.001}"
        )
        raise ArgumentError(refusal(name, allowed, hparams, "Pass dict(...) of pairs."))
    out: dict[str, HParamValue] = {}
    for key, value in hparams.items():
        if not isinstance(key, str) or not key:
            raise ArgumentError(
                f"{name}: hyperparameter names must be non-empty strings; got {shown(key)}."
            )
        item = value
        if hasattr(value, "item") and not isinstance(value, str):
            try:
                item = value.item()  # a NumPy or tensor scalar
            except (TypeError, ValueError):
                item = value  # an array of several values: refused below
        if not isinstance(item, (bool, int, float, str)):
            raise ArgumentError(
                f"{name}: hyperparameter {shown(key)} must be a boolean, a number or a string "
                f"(TensorBoard shows no other kind); got {shown(value)}."
            )
        out[key] = item
    return out


DomainKind = Literal["bool", "float64", "string"]


def _kind_of(values: Sequence[HParamValue]) -> DomainKind:
    kinds = {type(v) for v in values}
    if kinds == {bool}:
        return "bool"
    if kinds <= {int, float}:
        return "float64"
    return "string"


def _optional_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


#: What a listed domain holds: booleans, numbers or strings, at least one.
_DOMAIN_VALUES = SequenceOf(
    AnyOf((Boolean(), Interval("number"), InstanceOf((str,), "a str"))),
    min_length=1,
    description="a non-empty tuple of booleans, finite numbers or strings",
)


@attrs.frozen(kw_only=True, field_transformer=annotated_fields)
class HParamDomain:
    """The values one hyperparameter of an experiment takes: a list, or an interval.

    A list of booleans is a boolean hyperparameter, a list of numbers a number one, any other
    list a string one (its values as text); an interval is a number one. :meth:`cast` turns a
    session's value into the domain's type, so that the dashboard's filters find it.
    """

    name: str = attrs.field(validator=field_validator(NonEmptyText()))
    values: tuple[HParamValue, ...] | None = attrs.field(
        default=None, converter=_optional_tuple, validator=field_validator(NoneOr(_DOMAIN_VALUES))
    )
    low: float | None = None
    high: float | None = None
    description: str = ""

    def __attrs_post_init__(self) -> None:
        listed = self.values is not None
        ranged = self.low is not None or self.high is not None
        if listed == ranged:
            raise ArgumentError(
                f"domain {shown(self.name)}: give either values or low and high; got values="
                f"{shown(self.values)}, low={shown(self.low)}, high={shown(self.high)}."
            )
        if ranged and (self.low is None or self.high is None or self.low > self.high):
            raise ArgumentError(
                f"domain {shown(self.name)}: give numbers low <= high; got low={shown(self.low)}, "
                f"high={shown(self.high)}."
            )

    @property
    def kind(self) -> DomainKind:
        """``"bool"``, ``"float64"`` or ``"string"``."""
        return _kind_of(self.values) if self.values is not None else "float64"

    def cast(self, value: Any) -> HParamValue | None:
        """``value`` in the domain's type (``None``, a missing value, stays ``None``)."""
        if value is None:
            return None
        if self.kind == "string":
            shown_value = hparam_value(value)
            return shown_value if isinstance(shown_value, str) else str(shown_value)
        if self.kind == "bool":
            return bool(value)
        return float(value)

    def to_tensorboard(self) -> Any:
        """The domain as TensorBoard's ``hp.HParam``: a ``Discrete`` list or a ``RealInterval``.

        TensorBoard sorts a list's values.
        """
        from tensorboard.plugins.hparams import api as hp

        if self.values is None:
            domain = hp.RealInterval(float(self.low or 0.0), float(self.high or 0.0))
        else:
            dtype = {"bool": bool, "float64": float, "string": str}[self.kind]
            domain = hp.Discrete([self.cast(v) for v in self.values], dtype=dtype)
        return hp.HParam(self.name, domain, description=self.description or None)


def write_session_start(
    hparams: Mapping[str, HParamValue],
    *,
    group_name: str | None = None,
    start_time: float | None = None,
) -> None:
    """Write a session start (at step 0) with ``hp.hparams`` into the default writer.

    Args:
        hparams: Checked values (:func:`check_hparams`).
        group_name: The dashboard row the session joins; by default a digest of the values,
            so that sessions with equal values share one.
        start_time: Seconds since the epoch; defaults to now.
    """
    from tensorboard.plugins.hparams import api as hp

    hp.hparams(dict(hparams), trial_id=group_name, start_time_secs=start_time)


def write_session_end(status: SessionStatus, *, step: int, end_time: float | None = None) -> None:
    """Write a session end at ``step`` with the plugin's ``session_end_pb``.

    Args:
        status: How the session ended (one of :data:`SessionStatus`).
        step: The step to write it at.
        end_time: Seconds since the epoch; defaults to now.
    """
    import tensorflow as tf
    from tensorboard.plugins.hparams import api_pb2, summary

    code = api_pb2.Status.Value(f"STATUS_{status.upper()}")
    record = summary.session_end_pb(code, end_time_secs=end_time)
    tf.summary.experimental.write_raw_pb(record.SerializeToString(), step=step)


def write_experiment(
    domains: Sequence[HParamDomain],
    metrics: Sequence[tuple[str, str]],
    *,
    description: str = "",
    time_created: float | None = None,
) -> None:
    """Write an experiment (at step 0): hyperparameter domains, then ``(group, tag)`` metrics.

    A metric's group is the sub-folder of a session its scalar is in (``""``: the session's own
    folder), its tag the scalar's tag. Written with the plugin's ``experiment_pb``, which, unlike
    ``hp.hparams_config``, keeps the description.
    """
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.plugins.hparams import api_pb2, summary

    infos = []
    for domain in domains:
        hparam = domain.to_tensorboard()
        info = api_pb2.HParamInfo(name=hparam.name, description=hparam.description)
        hparam.domain.update_hparam_info(info)
        infos.append(info)
    metric_infos = [hp.Metric(tag, group=group).as_proto() for group, tag in metrics]
    record = summary.experiment_pb(
        infos, metric_infos, description=description, time_created_secs=time_created
    )
    tf.summary.experimental.write_raw_pb(record.SerializeToString(), step=0)


def hparam_value(value: Any) -> HParamValue:
    """``value`` as TensorBoard shows it: lists as their JSON text, other objects as text."""
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


@params()
def config_hparams(config: TrainConfig | Mapping[str, Any]) -> dict[str, HParamValue]:
    """A config's fields as dotted names and values TensorBoard can show.

    Nested tables become dotted names (``optimizer.learning_rate``), as ``fashionkit train
    --set`` takes them (the walk is ``fashionkit.config.flatten``'s); lists become their
    JSON text (``[16, 64, 128]``). A field that is ``None`` (unset: no warm-up, no patience) is
    left out, so that a number column stays a number column across runs where it is set in
    some; TensorBoard shows such runs' cells empty. How a run reports
    (:attr:`TrainConfig.REPORTING_FIELDS <fashionkit.config.TrainConfig.REPORTING_FIELDS>`:
    ``verbose``, ``tensorboard``) is left out too.

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
    data = config.to_dict() if isinstance(config, TrainConfig) else config
    return {
        key: hparam_value(value)
        for key, value in flatten(data).items()
        if value is not None and key not in TrainConfig.REPORTING_FIELDS
    }
