"""Argument validation: the constraints parameters declare, and one checker per kind of input.

Every public entry point of fashionkit validates its arrays and its plain scalar arguments
here, once, and then trusts them (the role ``sklearn.utils.validation`` plays in
scikit-learn). Two kinds of fault, two exception classes, both :class:`ValueError`:

- a bad array (images, labels, probabilities: wrong shape, dtype, values or length) is an
  :class:`~fashionkit.exceptions.InputValidationError`;
- a bad plain argument (a count, a rate, a seed, a size: wrong type, not finite or out of
  range), checked by :func:`check_scalar`, is an :class:`~fashionkit.exceptions.ArgumentError`,
  which is also a :class:`~fashionkit.exceptions.ConfigError` and an ``InputValidationError``.

Each public function declares its parameters with :func:`params` (``_params``: the
vocabulary of constraints, and the decorator that checks them with one message shape).
Config fields are checked by their own validators (``fashionkit._fields``) and raise
:class:`~fashionkit.exceptions.ConfigError`. Every message says what was wrong, what is
allowed and what was received, with the value shortened (:func:`shown`). It needs NumPy
and attrs only.
"""

from fashionkit._messages import SHOWN_LENGTH as SHOWN_LENGTH
from fashionkit._messages import shown as shown
from fashionkit._validation._arrays import PROBABILITY_SUM_TOLERANCE as PROBABILITY_SUM_TOLERANCE
from fashionkit._validation._arrays import check_images as check_images
from fashionkit._validation._arrays import check_labels as check_labels
from fashionkit._validation._arrays import check_probabilities as check_probabilities
from fashionkit._validation._arrays import check_same_length as check_same_length
from fashionkit._validation._arrays import check_targets as check_targets
from fashionkit._validation._arrays import integer_labels as integer_labels
from fashionkit._validation._constraints import AnyOf as AnyOf
from fashionkit._validation._constraints import ArrayLike as ArrayLike
from fashionkit._validation._constraints import Boolean as Boolean
from fashionkit._validation._constraints import CheckedBy as CheckedBy
from fashionkit._validation._constraints import Constraint as Constraint
from fashionkit._validation._constraints import InstanceOf as InstanceOf
from fashionkit._validation._constraints import Interval as Interval
from fashionkit._validation._constraints import IsCallable as IsCallable
from fashionkit._validation._constraints import KerasModel as KerasModel
from fashionkit._validation._constraints import MappingOf as MappingOf
from fashionkit._validation._constraints import NoneOr as NoneOr
from fashionkit._validation._constraints import Options as Options
from fashionkit._validation._constraints import PathLike as PathLike
from fashionkit._validation._constraints import SequenceOf as SequenceOf
from fashionkit._validation._constraints import check_scalar as check_scalar
from fashionkit._validation._constraints import field_validator as field_validator
from fashionkit._validation._constraints import refusal as refusal
from fashionkit._validation._params import annotated_fields as annotated_fields
from fashionkit._validation._params import constraint_for as constraint_for
from fashionkit._validation._params import declared_params as declared_params
from fashionkit._validation._params import params as params

__all__ = [
    "PROBABILITY_SUM_TOLERANCE",
    "SHOWN_LENGTH",
    "AnyOf",
    "ArrayLike",
    "Boolean",
    "CheckedBy",
    "Constraint",
    "InstanceOf",
    "Interval",
    "IsCallable",
    "KerasModel",
    "MappingOf",
    "NoneOr",
    "Options",
    "PathLike",
    "SequenceOf",
    "annotated_fields",
    "check_images",
    "check_labels",
    "check_probabilities",
    "check_same_length",
    "check_scalar",
    "check_targets",
    "constraint_for",
    "declared_params",
    "field_validator",
    "integer_labels",
    "params",
    "refusal",
    "shown",
]
