"""The exceptions fashionkit raises.

Every error derives from :class:`FashionkitError` and also from the built-in exception a
caller would already catch for that kind of failure, so ``except ValueError`` keeps
working for bad arguments and ``except OSError`` for file and network problems.
"""

from __future__ import annotations

__all__ = [
    "ChecksumError",
    "ConfigError",
    "DataFormatError",
    "DataNotFoundError",
    "DeviceError",
    "DownloadError",
    "FashionkitDeprecationWarning",
    "FashionkitError",
    "FashionkitWarning",
    "InputValidationError",
    "LabelEncodingError",
    "RunDirError",
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


class InputValidationError(FashionkitError, ValueError):
    """An array passed to fashionkit has the wrong shape, dtype, values or length."""


class LabelEncodingError(InputValidationError):
    """Labels do not match the label encoding the loss expects (sparse vs one-hot)."""


class UnknownModelError(ConfigError, KeyError):
    """No architecture is registered under the requested name; the message lists the known ones."""

    def __str__(self) -> str:
        # KeyError.__str__ would wrap the message in quotes; show it as written.
        return str(self.args[0]) if self.args else ""


class DataNotFoundError(FashionkitError, FileNotFoundError):
    """The dataset files are not on disk and downloading is disabled."""


class DataFormatError(FashionkitError, OSError):
    """A dataset file is not a valid IDX file of the expected kind."""


class ChecksumError(FashionkitError, OSError):
    """A dataset file's SHA-256 digest differs from the canonical one."""


class DownloadError(FashionkitError, OSError):
    """Every mirror failed to deliver a dataset file."""


class DeviceError(FashionkitError, RuntimeError):
    """The requested compute devices cannot be used or configured."""


class RunDirError(FashionkitError, OSError):
    """A run directory is missing a file, holds a corrupted one, or belongs to another config."""
