"""Facts about Fashion-MNIST and the choice lists, each written once as a Literal."""

from __future__ import annotations

import typing

import pytest

import fashionkit
from fashionkit import _constants
from fashionkit._constants import (
    CLASS_NAMES,
    CLASS_NAMES_KO,
    IMAGE_SHAPE,
    NUM_CLASSES,
    PIXELS,
    input_shape_for,
)
from fashionkit.exceptions import ConfigError

# Each tuple of choices and the Literal it must be derived from.
_CHOICE_LISTS = {
    "LAYOUTS": "Layout",
    "LAYOUT_CHOICES": "LayoutChoice",
    "LABEL_ENCODINGS": "LabelEncoding",
    "OPTIMIZERS": "OptimizerName",
    "SCHEDULES": "ScheduleName",
    "FLIP_MODES": "FlipMode",
    "MONITORS": "Monitor",
    "ACTIVATIONS": "Activation",
    "ACCELERATORS": "Accelerator",
    "STRATEGIES": "StrategyChoice",
    "PRECISIONS": "Precision",
    "JIT_COMPILE_CHOICES": "JitCompile",
    "EXPORT_FORMATS": "ExportFormat",
    "EXPORT_SOURCES": "ExportSource",
    "QUANTIZATIONS": "Quantization",
}


def test_class_names_are_the_ten_fashion_mnist_classes_in_label_order() -> None:
    """It names ten distinct classes in English and Korean, label 0 first and 9 last."""
    assert NUM_CLASSES == 10
    assert len(CLASS_NAMES) == len(set(CLASS_NAMES)) == NUM_CLASSES
    assert len(CLASS_NAMES_KO) == len(set(CLASS_NAMES_KO)) == NUM_CLASSES
    assert (CLASS_NAMES[0], CLASS_NAMES[9]) == ("T-shirt/top", "Ankle boot")
    assert (CLASS_NAMES_KO[0], CLASS_NAMES_KO[9]) == ("티셔츠", "앵클 부츠")


def test_public_class_names_are_the_constants() -> None:
    """It re-exports the same tuples from fashionkit and fashionkit.datasets."""
    assert fashionkit.CLASS_NAMES is CLASS_NAMES
    assert fashionkit.CLASS_NAMES_KO is CLASS_NAMES_KO
    assert fashionkit.datasets.NUM_CLASSES == NUM_CLASSES


def test_image_shape_and_pixels_agree() -> None:
    """It describes 28x28 images whose flattened rows have 784 pixels."""
    assert IMAGE_SHAPE == (28, 28)
    assert IMAGE_SHAPE[0] * IMAGE_SHAPE[1] == PIXELS == 784


@pytest.mark.parametrize(("choices", "literal"), list(_CHOICE_LISTS.items()))
def test_every_choice_tuple_is_derived_from_its_literal(choices: str, literal: str) -> None:
    """It makes each tuple of choices exactly the values of its Literal type, in order."""
    values = getattr(_constants, choices)
    alias = getattr(_constants, literal)
    assert typing.get_origin(alias) is typing.Literal
    assert values == typing.get_args(alias)
    assert len(set(values)) == len(values)


def test_every_literal_has_its_tuple() -> None:
    """It pairs every Literal choice type of the module with a tuple (except StrategyName)."""
    literals = {
        name
        for name, value in vars(_constants).items()
        if typing.get_origin(value) is typing.Literal
    }
    # StrategyName and ConcretePrecision are resolved outputs, never a user's choice.
    assert literals - {"StrategyName", "ConcretePrecision"} == set(_CHOICE_LISTS.values())


def test_layout_choices_are_the_layouts_plus_auto() -> None:
    """It offers 'auto' on top of the two concrete layouts."""
    assert _constants.LAYOUT_CHOICES[0] == "auto"
    assert _constants.LAYOUT_CHOICES[1:] == _constants.LAYOUTS


@pytest.mark.parametrize(("layout", "shape"), [("flat", (784,)), ("image", (28, 28, 1))])
def test_input_shape_for_each_layout(layout: str, shape: tuple[int, ...]) -> None:
    """It gives the per-sample model input shape of each layout."""
    assert input_shape_for(layout) == shape


@pytest.mark.parametrize("layout", ["auto", "square", "", None])
def test_input_shape_for_rejects_anything_but_a_concrete_layout(layout: object) -> None:
    """It raises ConfigError naming the received value for anything but 'flat' or 'image'."""
    with pytest.raises(ConfigError, match="'flat' or 'image'") as info:
        input_shape_for(layout)  # type: ignore[arg-type]
    assert repr(layout) in str(info.value)
