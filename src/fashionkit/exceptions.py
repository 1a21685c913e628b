"""The exceptions fashionkit raises.

Every error derives from :class:`FashionkitError` and also from the built-in exception a
caller would already catch for that kind of failure, so ``except ValueError`` keeps
working for bad arguments and ``except OSError`` for file and network problems.
"""

from __future__ import annotations

__all__ = [
    "ArgumentError",
    "ChecksumError",
    "ConfigError",
    "ConfigFileNotFoundError",
    "DataFormatError",
    "DataNotFoundError",
    "DeviceError",
    "DownloadError",
    "ExportError",
    "FashionkitDeprecationWarning",
    "FashionkitError",
    "FashionkitWarning",
    "InputValidationError",
    "LabelEncodingError",
    "RunDirError",
    "StorageError",
    "TrainingInterrupted",
    "UnknownModelError",
]


class FashionkitError(Exception):
    """Base class of every error fashionkit raises on purpose."""


class FashionkitWarning(UserWarning):
    """Base class of the warnings fashionkit emits."""


class FashionkitDeprecationWarning(FashionkitWarning, DeprecationWarning):
    """A fashionkit name or argument is deprecated; the message names its replacement."""


class ConfigError(FashionkitError, ValueError):
    """A configuration value is invalid; the message names the field and what is allowed."""


class ConfigFileNotFoundError(ConfigError, FileNotFoundError):
    """A config file to read does not exist."""


class InputValidationError(FashionkitError, ValueError):
    """An array passed to fashionkit has the wrong shape, dtype, values or length."""


class ArgumentError(ConfigError, InputValidationError):
    """A plain argument (a count, a rate, a seed, a size) has the wrong type or is out of range.

    Every function checks such arguments with the same check, and the message names the
    argument, what is allowed and what was received. It is a :class:`ConfigError` and an
    :class:`InputValidationError` at once, so code that caught either before still catches it.
    """


class LabelEncodingError(InputValidationError):
    """Labels do not match the label encoding the loss expects (sparse vs one-hot)."""


class UnknownModelError(ConfigError, KeyError):
    """No architecture is registered under the requested name; the message lists the known ones."""

    def __str__(self) -> str:
        # KeyError.__str__ would wrap the message in quotes; show it as written.
        return str(self.args[0]) if self.args else ""


class DataNotFoundError(FashionkitError, FileNotFoundError):
    """The dataset files are not on disk and downloading is disabled."""


class StorageError(FashionkitError, OSError):
    """A file or folder could not be read or written.

    The disk is full, permission is denied, or a file stands where a folder belongs. The
    message names the path and what to do; the operating system's error number is kept in
    ``errno``.
    """


class DataFormatError(FashionkitError, OSError):
    """A dataset file is not a valid IDX file of the expected kind."""


class ChecksumError(FashionkitError, OSError):
    """A dataset file's SHA-256 digest differs from the canonical one."""


class DownloadError(FashionkitError, OSError):
    """Every mirror failed to deliver a dataset file."""


class ExportError(FashionkitError, RuntimeError):
    """Exporting a model failed.

    A converter is missing or failed, or the exported model's outputs differ from the Keras
    model's by more than the format's tolerance.
    """


class DeviceError(FashionkitError, RuntimeError):
    """The requested compute devices cannot be used or configured."""


class RunDirError(StorageError):
    """A run directory cannot be used.

    Another process is training into it, a file is missing or corrupted, it belongs to another
    config, or it cannot be written.
    """


class TrainingInterrupted(FashionkitError, KeyboardInterrupt):  # noqa: N818 - an interrupt
    """Training was stopped by SIGINT (Ctrl-C) or SIGTERM at a batch boundary.

    It is a :class:`KeyboardInterrupt` too, so an interactive session stops as after Ctrl-C.
    Every completed epoch is kept in the run directory, if there is one, and training the same
    config into it again resumes after the last of them.

    Attributes:
        signal_number: The signal that stopped training (2 for SIGINT, 15 for SIGTERM).
        completed_epochs: Epochs completed, in this call and before it (when resumed).
        run_dir: The run directory, or ``None``.
    """

    def __init__(
        self, message: str, *, signal_number: int, completed_epochs: int, run_dir: object = None
    ) -> None:
        super().__init__(message)
        self.signal_number = signal_number
        self.completed_epochs = completed_epochs
        self.run_dir = run_dir

    @property
    def exit_status(self) -> int:
        """Exit status 128 plus the signal's number, as for a process that the signal ended."""
        return 128 + self.signal_number
