"""The exceptions: one base class, and each also the built-in a caller already catches."""

from __future__ import annotations

import warnings

import pytest

import fashionkit
from fashionkit import exceptions

# Each error and the built-in exceptions it must also be.
_BUILTINS: dict[type[BaseException], tuple[type[BaseException], ...]] = {
    exceptions.ConfigError: (ValueError,),
    exceptions.ConfigFileNotFoundError: (exceptions.ConfigError, FileNotFoundError, ValueError),
    exceptions.InputValidationError: (ValueError,),
    exceptions.LabelEncodingError: (exceptions.InputValidationError, ValueError),
    exceptions.ArgumentError: (exceptions.ConfigError, exceptions.InputValidationError, ValueError),
    exceptions.UnknownModelError: (exceptions.ConfigError, KeyError, ValueError),
    exceptions.DataNotFoundError: (FileNotFoundError, OSError),
    exceptions.DataFormatError: (OSError,),
    exceptions.ChecksumError: (OSError,),
    exceptions.DownloadError: (OSError,),
    exceptions.ExportError: (RuntimeError,),
    exceptions.DeviceError: (RuntimeError,),
    exceptions.StorageError: (OSError,),
    exceptions.RunDirError: (exceptions.StorageError, OSError),
    exceptions.TrainingInterrupted: (KeyboardInterrupt,),
}


@pytest.mark.parametrize("error", list(_BUILTINS), ids=lambda e: e.__name__)
def test_every_error_is_a_fashionkit_error_and_a_builtin(error: type[BaseException]) -> None:
    """It can be caught as FashionkitError and as the built-in exception of its kind."""
    assert issubclass(error, exceptions.FashionkitError)
    for builtin in _BUILTINS[error]:
        assert issubclass(error, builtin)
    assert getattr(fashionkit, error.__name__) is error


def test_every_exported_error_is_listed_above() -> None:
    """It checks every error class the module exports."""
    errors = {
        getattr(exceptions, name)
        for name in exceptions.__all__
        if issubclass(getattr(exceptions, name), exceptions.FashionkitError)
    }
    assert set(_BUILTINS) == errors - {exceptions.FashionkitError}


def test_unknown_model_error_shows_its_message_unquoted() -> None:
    """It prints its message as written, not wrapped in quotes as KeyError would."""
    assert str(exceptions.UnknownModelError("No architecture named 'x'.")) == (
        "No architecture named 'x'."
    )


def test_the_deprecation_warning_is_both_a_fashionkit_and_a_deprecation_warning() -> None:
    """It can be filtered as FashionkitWarning, as DeprecationWarning and as UserWarning."""
    warning = exceptions.FashionkitDeprecationWarning
    assert issubclass(warning, exceptions.FashionkitWarning)
    assert issubclass(warning, DeprecationWarning)
    assert issubclass(warning, UserWarning)
    with pytest.warns(DeprecationWarning, match="old"):
        warnings.warn("old", warning, stacklevel=1)


def test_training_interrupted_exits_with_the_signals_conventional_status() -> None:
    """It keeps the signal, the completed epochs and the run directory, and exits 128 + signal."""
    error = exceptions.TrainingInterrupted(
        "stopped", signal_number=15, completed_epochs=3, run_dir="runs/a"
    )
    assert (error.signal_number, error.completed_epochs, error.run_dir) == (15, 3, "runs/a")
    assert error.exit_status == 143
    assert str(error) == "stopped"
