"""The sweep folder: its file names, the check that it holds this sweep, trial run names."""

from __future__ import annotations

from pathlib import Path

from fashionkit._io import atomic_write_text, os_errors_as
from fashionkit._messages import shown
from fashionkit.config import TrainConfig
from fashionkit.exceptions import ConfigError, StorageError
from fashionkit.runs import RunLayout, same_training
from fashionkit.sweep._space import SearchSpace

SPACE = "space.toml"
STUDY_DB = "study.db"
STUDY_NAME = "study-name.txt"
TRIALS = "trials"
TENSORBOARD = "tensorboard"  # the HParams experiment, and one session per trial
BEST = "best.toml"
TABLE = "trials.md"
ASK_LOCK = ".ask.lock"  # held while a worker counts the trials and asks for one


def _same_config(run_dir: Path, config: TrainConfig) -> bool:
    """Whether ``run_dir`` was trained (or is being trained) with ``config``.

    The rule is the run directory's own (:func:`fashionkit.runs.same_training`): the one a
    resumed run is checked by.
    """
    try:
        old = TrainConfig.from_toml(RunLayout(run_dir).config)
    except (ConfigError, StorageError):
        return False
    return same_training(old, config)


def free_run_name(trials: Path, name: str, config: TrainConfig) -> str:
    """``name``, unless its folder holds a run of another config: then ``name-2``, ``-3``...

    A folder of the same config is the trial's own (a retry or a resume); one of another
    config belongs to another study that used this folder, and is never read as this trial's.
    """
    candidate, n = name, 1
    while (trials / candidate).exists() and any((trials / candidate).iterdir()):
        if _same_config(trials / candidate, config):
            return candidate
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def check_folder(
    folder: Path, space: SearchSpace, *, write: bool, study_name: str = "fashionkit"
) -> None:
    """Refuse a folder of another space or study; write the space and study into a new one."""
    marker = folder / STUDY_NAME
    if marker.is_file():
        with os_errors_as(StorageError, marker, action="read"):
            recorded = marker.read_text(encoding="utf-8").strip()
        if recorded != study_name:
            raise ConfigError(
                f"{folder} holds the sweep of the study {shown(recorded)}; continue it with "
                f"--study-name {recorded}, or sweep the study {shown(study_name)} into another "
                "folder."
            )
    elif write:
        with os_errors_as(StorageError, marker):
            atomic_write_text(marker, study_name + "\n")
    saved = folder / SPACE
    if saved.is_file():
        try:
            old = SearchSpace.from_toml(saved)
        except ConfigError as exc:
            raise ConfigError(f"{saved} is damaged ({exc}); move the folder away.") from None
        if old.to_dict() != space.to_dict():
            raise ConfigError(
                f"{folder} holds a sweep of another search space ({saved}); continue it with "
                f"that space, or sweep into a new folder."
            )
        return
    if write:
        with os_errors_as(StorageError, saved):
            atomic_write_text(saved, space.to_toml())
