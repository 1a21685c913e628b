"""The model factory: a registry of architectures, their configs and builders.

Each architecture lives in a file of its own with its config class beside its builder, and
registers itself here. Builders import Keras when they run, so importing this package (and
looking up or listing architectures) stays cheap. Models are created here, never compiled or
fitted: that is :mod:`fashionkit.training`'s job.

Example:
    >>> from fashionkit.models import list_architectures
    >>> list_architectures()
    ['cnn', 'linear', 'mlp', 'resnet']
"""

from fashionkit.models._base import ModelConfig as ModelConfig
from fashionkit.models._cnn import CNNConfig as CNNConfig
from fashionkit.models._cnn import build_cnn as build_cnn
from fashionkit.models._factory import create_model as create_model
from fashionkit.models._linear import LinearConfig as LinearConfig
from fashionkit.models._linear import build_linear as build_linear
from fashionkit.models._mlp import MLPConfig as MLPConfig
from fashionkit.models._mlp import build_mlp as build_mlp
from fashionkit.models._registry import Architecture as Architecture
from fashionkit.models._registry import get_architecture as get_architecture
from fashionkit.models._registry import list_architectures as list_architectures
from fashionkit.models._registry import register_architecture as register_architecture
from fashionkit.models._registry import unregister_architecture as unregister_architecture
from fashionkit.models._resnet import ResNetConfig as ResNetConfig
from fashionkit.models._resnet import build_resnet as build_resnet
from fashionkit.models._whitening import adapt_to_data as adapt_to_data

__all__ = [
    "Architecture",
    "CNNConfig",
    "LinearConfig",
    "MLPConfig",
    "ModelConfig",
    "ResNetConfig",
    "adapt_to_data",
    "build_cnn",
    "build_linear",
    "build_mlp",
    "build_resnet",
    "create_model",
    "get_architecture",
    "list_architectures",
    "register_architecture",
    "unregister_architecture",
]
