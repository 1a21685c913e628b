"""fashionkit: a typed, reproducible Fashion-MNIST workflow for Keras.

Importing fashionkit is cheap: TensorFlow and Keras are imported only by the functions that
build or train models (and by :mod:`fashionkit.callbacks`). On x86-64 it sets
``TF_ENABLE_ONEDNN_OPTS=1`` when the variable is unset and TensorFlow is not imported yet, so
that TensorFlow uses its faster oneDNN kernels on every CPU (see
:func:`fashionkit.hardware.prefer_onednn`).

Example:
    >>> import fashionkit
    >>> fashionkit.CLASS_NAMES[9], fashionkit.CLASS_NAMES_KO[9]
    ('Ankle boot', '앵클 부츠')
"""

from importlib.metadata import PackageNotFoundError, version

from fashionkit.baseline import BaselineResult as BaselineResult
from fashionkit.baseline import baseline as baseline
from fashionkit.config import AugmentConfig as AugmentConfig
from fashionkit.config import DataConfig as DataConfig
from fashionkit.config import DeviceConfig as DeviceConfig
from fashionkit.config import EarlyStoppingConfig as EarlyStoppingConfig
from fashionkit.config import LossConfig as LossConfig
from fashionkit.config import OptimizerConfig as OptimizerConfig
from fashionkit.config import TrainConfig as TrainConfig
from fashionkit.datasets import CLASS_NAMES as CLASS_NAMES
from fashionkit.datasets import CLASS_NAMES_KO as CLASS_NAMES_KO
from fashionkit.datasets import DataSource as DataSource
from fashionkit.datasets import FashionMNIST as FashionMNIST
from fashionkit.datasets import Split as Split
from fashionkit.datasets import load_fashion_mnist as load_fashion_mnist
from fashionkit.devices import Placement as Placement
from fashionkit.evaluation import ClassMetrics as ClassMetrics
from fashionkit.evaluation import EvaluationReport as EvaluationReport
from fashionkit.evaluation import Evaluator as Evaluator
from fashionkit.evaluation import Prediction as Prediction
from fashionkit.evaluation import Predictor as Predictor
from fashionkit.evaluation import evaluate as evaluate
from fashionkit.evaluation import predict as predict
from fashionkit.exceptions import ArgumentError as ArgumentError
from fashionkit.exceptions import ChecksumError as ChecksumError
from fashionkit.exceptions import ConfigError as ConfigError
from fashionkit.exceptions import ConfigFileNotFoundError as ConfigFileNotFoundError
from fashionkit.exceptions import DataFormatError as DataFormatError
from fashionkit.exceptions import DataNotFoundError as DataNotFoundError
from fashionkit.exceptions import DeviceError as DeviceError
from fashionkit.exceptions import DownloadError as DownloadError
from fashionkit.exceptions import ExportError as ExportError
from fashionkit.exceptions import FashionkitDeprecationWarning as FashionkitDeprecationWarning
from fashionkit.exceptions import FashionkitError as FashionkitError
from fashionkit.exceptions import FashionkitWarning as FashionkitWarning
from fashionkit.exceptions import InputValidationError as InputValidationError
from fashionkit.exceptions import LabelEncodingError as LabelEncodingError
from fashionkit.exceptions import RunDirError as RunDirError
from fashionkit.exceptions import StorageError as StorageError
from fashionkit.exceptions import TrainingInterrupted as TrainingInterrupted
from fashionkit.exceptions import UnknownModelError as UnknownModelError
from fashionkit.export import ExportOptions as ExportOptions
from fashionkit.export import ExportResult as ExportResult
from fashionkit.export import export_model as export_model
from fashionkit.export import export_run as export_run
from fashionkit.export import load_exported as load_exported
from fashionkit.hardware import prefer_onednn as _prefer_onednn
from fashionkit.lr_finder import LearningRateRange as LearningRateRange
from fashionkit.lr_finder import RangeTestOptions as RangeTestOptions
from fashionkit.lr_finder import find_learning_rate as find_learning_rate
from fashionkit.models import CNNConfig as CNNConfig
from fashionkit.models import LinearConfig as LinearConfig
from fashionkit.models import MLPConfig as MLPConfig
from fashionkit.models import ModelConfig as ModelConfig
from fashionkit.models import ResNetConfig as ResNetConfig
from fashionkit.models import create_model as create_model
from fashionkit.models import list_architectures as list_architectures
from fashionkit.models import register_architecture as register_architecture
from fashionkit.preprocessing import TrainValidationSplit as TrainValidationSplit
from fashionkit.preprocessing import check_images as check_images
from fashionkit.preprocessing import check_labels as check_labels
from fashionkit.preprocessing import check_targets as check_targets
from fashionkit.preprocessing import encode_labels as encode_labels
from fashionkit.preprocessing import prepare_images as prepare_images
from fashionkit.preprocessing import scale as scale
from fashionkit.preprocessing import train_validation_split as train_validation_split
from fashionkit.results import EpochRecord as EpochRecord
from fashionkit.results import TrainResult as TrainResult
from fashionkit.runs import Run as Run
from fashionkit.runs import load_run as load_run
from fashionkit.training import compile_model as compile_model
from fashionkit.training import create_training_model as create_training_model
from fashionkit.training import train as train

# TensorFlow reads TF_ENABLE_ONEDNN_OPTS when it starts: set it first (a user's value wins).
_prefer_onednn()

try:
    __version__ = version("fashionkit")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "CLASS_NAMES",
    "CLASS_NAMES_KO",
    "ArgumentError",
    "AugmentConfig",
    "BaselineResult",
    "CNNConfig",
    "ChecksumError",
    "ClassMetrics",
    "ConfigError",
    "ConfigFileNotFoundError",
    "DataConfig",
    "DataFormatError",
    "DataNotFoundError",
    "DataSource",
    "DeviceConfig",
    "DeviceError",
    "DownloadError",
    "EarlyStoppingConfig",
    "EpochRecord",
    "EvaluationReport",
    "Evaluator",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "FashionMNIST",
    "FashionkitDeprecationWarning",
    "FashionkitError",
    "FashionkitWarning",
    "InputValidationError",
    "LabelEncodingError",
    "LearningRateRange",
    "LinearConfig",
    "LossConfig",
    "MLPConfig",
    "ModelConfig",
    "OptimizerConfig",
    "Placement",
    "Prediction",
    "Predictor",
    "RangeTestOptions",
    "ResNetConfig",
    "Run",
    "RunDirError",
    "Split",
    "StorageError",
    "TrainConfig",
    "TrainResult",
    "TrainValidationSplit",
    "TrainingInterrupted",
    "UnknownModelError",
    "__version__",
    "baseline",
    "check_images",
    "check_labels",
    "check_targets",
    "compile_model",
    "create_model",
    "create_training_model",
    "encode_labels",
    "evaluate",
    "export_model",
    "export_run",
    "find_learning_rate",
    "list_architectures",
    "load_exported",
    "load_fashion_mnist",
    "load_run",
    "predict",
    "prepare_images",
    "register_architecture",
    "scale",
    "train",
    "train_validation_split",
]
