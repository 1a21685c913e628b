"""Export a trained model for serving: TensorFlow SavedModel, TFLite (LiteRT) and ONNX.

An exported model is self-contained: it takes the raw images exactly as Fashion-MNIST stores
them, a ``uint8`` batch of shape ``(N, 28, 28)`` (any ``N``), and returns ``(N, 10)``
``float32`` class probabilities. Everything fashionkit does between the two is inside the
exported graph:

* scaling to ``[0, 1]`` and the model's input layout (flat rows or ``28x28x1`` images);
* flip test-time augmentation, when the run used ``tta`` (the mean of the probabilities of
  each image and its mirror image);
* the calibration temperature, when the run was calibrated (``softmax(log(p) / T)``).

So ``fashionkit predict RUN_DIR`` and the exported model give the same probabilities.

**Two front doors, one set of options.** :func:`export_run` exports a run's model (a
:class:`~fashionkit.runs.Run` or its directory) with the run's TTA and temperature;
:func:`export_model` exports a Keras model in memory. Both take an :class:`ExportOptions`:
the format, the quantization and the accuracy check, checked together when it is built.

**Precision.** Models trained with mixed precision keep float32 weights; the export rebuilds
the network with float32 computation and copies the weights in, because TFLite and ONNX
runtimes do not run bfloat16 or float16 layers on most CPUs. Its outputs therefore match the
float32 evaluation of the weights (to the tolerances below) and differ from the mixed-precision
Keras model by the rounding that model does (measured in the export how-to).

**Checked before it is published.** Every export is written under a temporary name, loaded
back with its own runtime (TensorFlow, LiteRT, ONNX Runtime) and run on a sample of images;
only if its probabilities agree with the Keras model's within the format's tolerance
(:data:`TOLERANCES`) is it renamed into place. A file or folder already at the path is
replaced only then, so nothing is ever left half-written; what a killed export left beside
the target is removed by the next export to it. The result names the path actually written,
resolved.

**Quantized TFLite.** ``quantize="float16"`` stores the weights as float16 (about half the
size; computed in float32), ``"dynamic"`` stores them as int8 and quantizes activations on
the fly (about a quarter), ``"int8"`` makes the whole network integer, its activation ranges
calibrated on representative images (a sample of the training split for :func:`export_run`).
The input stays ``uint8`` images and the output ``float32`` probabilities (with
``integer_output=True`` an int8 model outputs int8 probabilities, which
:func:`load_exported` turns back into floats). A quantized model cannot match the float one
to a rounding tolerance, so its check is one of accuracy: on labelled images (the test split
for :func:`export_run`) its accuracy may be below the float32 Keras model's by at most
``max_accuracy_loss`` (default :data:`DEFAULT_MAX_ACCURACY_LOSS`, one percentage point), or
nothing is written. Every export reports its size and its latency per image (one image per
call, on this machine).

The ONNX format needs the ``export`` extra (``pip install "fashionkit[export]"``: the
``tf2onnx`` converter Keras uses, and ONNX Runtime); running a TFLite file uses the
``ai-edge-litert`` interpreter from the same extra when installed, else TensorFlow's own.

The package is a front door over small rooms: the options (``_options``), the output path
(``_targets``) and the staged names beside it (``_staging``), the serving graph
(``_serving``), one module per format with its writer and its runtime (``_saved_model``,
``_tflite``, ``_onnx``, dispatched by ``_formats``), the checks (``_verify``), the loaded
export (``_exported``), the result (``_result``) and the two front doors (``_export``).
"""

from fashionkit._constants import EXPORT_SOURCES as EXPORT_SOURCES
from fashionkit._constants import QUANTIZATIONS as QUANTIZATIONS
from fashionkit.export import _options, _verify
from fashionkit.export._export import export_model as export_model
from fashionkit.export._export import export_run as export_run
from fashionkit.export._exported import ExportedModel as ExportedModel
from fashionkit.export._exported import load_exported as load_exported
from fashionkit.export._options import ExportOptions as ExportOptions
from fashionkit.export._result import ExportResult as ExportResult
from fashionkit.export._serving import serving_model as serving_model

#: Largest absolute difference in any probability that an export may show against the Keras
#: model (computed in float32) on the check images; beyond it the export fails.
TOLERANCES: dict[str, float] = _verify.TOLERANCES
#: The largest drop in accuracy that an export may show against the float32 Keras model on
#: the labelled check images, as a share (0.01 is one percentage point); beyond it the export
#: fails.
DEFAULT_MAX_ACCURACY_LOSS: float = _options.DEFAULT_MAX_ACCURACY_LOSS
#: How many training images :func:`export_run` calibrates an int8 model on by default.
DEFAULT_REPRESENTATIVE_SIZE: int = _options.DEFAULT_REPRESENTATIVE_SIZE

__all__ = [
    "DEFAULT_MAX_ACCURACY_LOSS",
    "DEFAULT_REPRESENTATIVE_SIZE",
    "EXPORT_SOURCES",
    "QUANTIZATIONS",
    "TOLERANCES",
    "ExportOptions",
    "ExportResult",
    "ExportedModel",
    "export_model",
    "export_run",
    "load_exported",
    "serving_model",
]
