"""The output path: whether a format can be written there, checked before any work."""

from __future__ import annotations

from pathlib import Path

from fashionkit._constants import ExportFormat
from fashionkit._io import check_parents
from fashionkit._typing import PathLike
from fashionkit.exceptions import InputValidationError, StorageError

__all__ = ["SUFFIXES", "check_name", "check_target"]

#: The file name ending of each one-file format (a SavedModel is a folder).
SUFFIXES: dict[str, str] = {"tflite": ".tflite", "onnx": ".onnx"}
# File name endings of model files, what each stands for and the export format that writes it:
# a path ending in one contradicts any other format (a SavedModel is a folder).
_MODEL_FILE_SUFFIXES: dict[str, tuple[str, str | None]] = {
    ".tflite": ("a TFLite model", "tflite"),
    ".lite": ("a TFLite model", "tflite"),
    ".onnx": ("an ONNX model", "onnx"),
    ".keras": ("a Keras model file", None),
    ".h5": ("a Keras HDF5 model file", None),
    ".hdf5": ("a Keras HDF5 model file", None),
    ".pb": ("a protocol buffer file (a SavedModel keeps its saved_model.pb inside)", None),
}
# What a SavedModel folder holds; a folder with anything else is never replaced.
_SAVED_MODEL_FILES = frozenset({"saved_model.pb", "variables", "assets", "fingerprint.pb"})


def check_name(target: Path, format: ExportFormat) -> None:
    """Refuse a path whose name contradicts the format: each format has its own form.

    A SavedModel is a folder, whose name may hold dots but does not end in a model file's
    suffix; a TFLite or ONNX model is one file ending in ``.tflite`` or ``.onnx``.

    Raises:
        InputValidationError: The name ends in another format's suffix, or lacks its own.
    """
    known = _MODEL_FILE_SUFFIXES.get(target.suffix.lower())
    expected = SUFFIXES.get(format)
    if target.suffix == expected or (expected is None and known is None):
        return
    if known is not None and known[1] == format:  # .TFLITE, .lite: not the exact suffix
        got = f"its name ends in {target.suffix}, not exactly {expected}"
        hint = ""
    elif known is not None:
        what, other = known
        got = f"its name ends in {target.suffix}, the suffix of {what}"
        hint = f", or use format {other}" if other is not None else ""
    else:
        got = f"its name ends in {target.suffix}" if target.suffix else "its name has no suffix"
        hint = ""
    if expected is None:
        raise InputValidationError(
            f"Cannot export format {format} to {target}: {got}, but a SavedModel is a folder, "
            f"whose name does not end in a model file's suffix (by default export/saved_model). "
            f"Give a folder name{hint}."
        )
    raise InputValidationError(
        f"Cannot export format {format} to {target}: {got}. Format {format} writes one "
        f"file; give a file name ending in {expected}{hint}."
    )


def check_target(path: PathLike, format: ExportFormat) -> Path:
    """The resolved path the format will be written to, once it is known to be safe to write.

    The path is resolved (:meth:`pathlib.Path.resolve`): a folder on the way that is a
    symbolic link (a run's ``export/`` linked to another disk) is followed, and the result
    names where the export really lies. The target itself may not be a link: an export
    replaces what is at its path. An existing folder is replaced only if it holds nothing but
    an earlier SavedModel.

    Raises:
        InputValidationError: The name contradicts the format (:func:`check_name`), or a
            one-file format's path is a folder.
        StorageError: The path is under a file, is a symbolic link, the current folder or one
            of its parents, a file where a SavedModel folder belongs, or a folder of other files.
    """
    target = Path(path)
    check_name(target, format)
    check_parents(target)
    if target.is_symlink():
        raise StorageError(
            f"Cannot export to {target}: it is a symbolic link; give the real path (an export "
            f"replaces what is at the path, and would replace the link, not its target)."
        )
    resolved = target.resolve()
    if resolved in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
        raise StorageError(
            f"Cannot export to {target}: it is the current folder or one of its parents."
        )
    if format == "saved_model":
        _check_saved_model_folder(resolved)
    elif resolved.is_dir():
        raise InputValidationError(
            f"{target}: a {format} model is one file, and this is a folder; give a file name "
            f"ending in {SUFFIXES[format]}."
        )
    return resolved


def _check_saved_model_folder(target: Path) -> None:
    """Refuse a file, or a folder holding anything but an earlier SavedModel."""
    if target.is_file():
        raise StorageError(
            f"Cannot export a SavedModel to {target}: it is a file; a SavedModel is a folder."
        )
    others = _not_saved_model(target) if target.is_dir() else []
    if others:
        raise StorageError(
            f"Cannot export a SavedModel to {target}: the folder holds other files "
            f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}), and only a "
            f"folder holding nothing but a previous SavedModel is replaced. Choose an empty "
            f"or new folder."
        )


def _not_saved_model(folder: Path) -> list[str]:
    """What in ``folder`` is not part of an exported SavedModel (nothing: safe to replace).

    An empty folder is fine; otherwise it must hold ``saved_model.pb``, its ``variables/`` only
    ``variables.*`` files, and its ``assets/`` nothing.
    """
    entries = sorted(folder.iterdir())
    if not entries:
        return []
    others = [p.name for p in entries if p.name not in _SAVED_MODEL_FILES]
    if not (folder / "saved_model.pb").is_file():
        others.append("(no saved_model.pb)")
    variables, assets = folder / "variables", folder / "assets"
    if variables.exists():
        others += [
            f"variables/{p.name}"
            for p in (variables.iterdir() if variables.is_dir() else [variables])
            if not (p.is_file() and p.name.startswith("variables."))
        ]
    if assets.exists():
        others += [f"assets/{p.name}" for p in (assets.iterdir() if assets.is_dir() else [assets])]
    return others
