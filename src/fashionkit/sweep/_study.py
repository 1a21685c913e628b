"""The Optuna adapters: importing Optuna, the storage, the heartbeat, the pruner, the study."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import attrs

from fashionkit import _schema
from fashionkit._jsonl import append_record, repair
from fashionkit._messages import brief, shown
from fashionkit._typing import PathLike
from fashionkit._validation import Constraint, NoneOr, params
from fashionkit.exceptions import ConfigError, FashionkitError, StorageError
from fashionkit.sweep._folder import STUDY_DB
from fashionkit.sweep._space import SearchSpace

PrunerName = Literal["median", "hyperband", "none"]
#: The pruners :func:`sweep` offers.
PRUNERS: tuple[str, ...] = ("median", "hyperband", "none")

_INSTALL = 'install the sweep extra: pip install "fashionkit[sweep]"'


def import_optuna() -> Any:
    """The ``optuna`` module, or a FashionkitError saying how to install it."""
    try:
        import optuna
    except ImportError as exc:
        raise FashionkitError(f"Sweeps run on Optuna; {_INSTALL}.") from exc
    return optuna


@contextlib.contextmanager
def keep_heartbeat(storage: Any, trial: Any, seconds: float) -> Iterator[None]:
    """Record the trial's heartbeat every ``seconds`` in a thread while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(seconds):
            with contextlib.suppress(Exception):  # a missed beat is not fatal; staleness is
                storage.record_heartbeat(trial._trial_id)

    storage.record_heartbeat(trial._trial_id)
    thread = threading.Thread(target=beat, name="fashionkit-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


#: The prefix of a journal-file storage: ``journal:PATH``.
JOURNAL = "journal:"
#: The trial system attribute in which a journal storage keeps a trial's heartbeat.
HEARTBEAT_ATTR = "fashionkit_heartbeat"


def journal_path(url: str) -> Path | None:
    """The file of a ``journal:PATH`` storage (``journal:///abs/path`` too), or ``None``.

    Example:
        >>> journal_path("journal:/shared/sweeps/lr.journal")
        PosixPath('/shared/sweeps/lr.journal')
        >>> journal_path("sqlite:///study.db") is None
        True
    """
    if not url.startswith(JOURNAL):
        return None
    rest = url[len(JOURNAL) :]
    if rest.startswith("//"):  # the URL form, journal:///abs/path
        rest = rest[2:]
    return Path(rest)


@attrs.frozen
class StorageURL(Constraint):
    """Where a study lives: a database URL (``SCHEME://...``) or ``journal:PATH``."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` is such a string (a journal with a path)."""
        if not isinstance(value, str):
            return False
        if value.startswith(JOURNAL):
            return value.strip() != JOURNAL
        return "://" in value

    def describe(self) -> str:
        """What a storage may be."""
        return (
            "a database URL such as postgresql+psycopg2://user@host/db or "
            "sqlite:///path/study.db, or journal:PATH for a journal file on a shared filesystem"
        )


@attrs.frozen
class StudyName(Constraint):
    """A study's name: a string that is not empty and not only spaces."""

    def allows(self, value: object) -> bool:
        """Whether ``value`` names a study."""
        return isinstance(value, str) and bool(value.strip())

    def describe(self) -> str:
        """``a non-empty str``."""
        return "a non-empty str (not only spaces)"


def _retry_callback(optuna: Any) -> Any:
    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if retry is None:  # Optuna before 4.9
        retry = optuna.storages.RetryFailedTrialCallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return retry(max_retry=2)


def open_storage(url: str, heartbeat: float) -> Any:
    """The study's storage, with heartbeats and a retry of trials whose worker died.

    ``journal:PATH`` is Optuna's journal file (``JournalStorage``), for a study shared through
    a file on a shared filesystem; anything else is a database URL (``RDBStorage``).

    Raises:
        StorageError: The journal's folder does not exist or its file cannot be opened.
    """
    path = journal_path(url)
    if path is not None:
        return _journal_storage(path, heartbeat)
    optuna = import_optuna()
    from optuna.storages import RDBStorage

    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 120}  # workers wait for each other's writes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=max(1, int(heartbeat)),
            grace_period=max(2, int(heartbeat * 3)),
            heartbeat_stale_trial_callback=_retry_callback(optuna),
        )


def _journal_storage(path: Path, heartbeat: float) -> Any:
    """Optuna's journal file, given the heartbeats that its ``JournalStorage`` lacks.

    The heartbeat of a running trial is a trial system attribute holding the worker's clock
    time (``time.time()``); a trial whose last beat is older than three heartbeats is stale,
    is failed by the next worker that asks for a trial and is retried, as with a database. The
    workers' clocks must therefore agree to within about one heartbeat: keep them synchronised
    (NTP), or raise ``heartbeat_seconds``.
    """
    if not path.parent.is_dir():
        raise StorageError(
            f"Cannot open the journal {path}: its folder {path.parent} does not exist. Create "
            f"it (on a filesystem every worker mounts), or give another path."
        )
    optuna = import_optuna()
    from optuna.storages import JournalStorage
    from optuna.storages._heartbeat import BaseHeartbeat
    from optuna.storages.journal import JournalFileBackend

    interval = max(1, int(heartbeat))
    grace = max(2, int(heartbeat * 3))
    callback = _retry_callback(optuna)
    running = optuna.trial.TrialState.RUNNING

    class HeartbeatJournal(JournalStorage, BaseHeartbeat):
        def record_heartbeat(self, trial_id: int) -> None:
            self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

        def _get_stale_trial_ids(self, study_id: int) -> list[int]:
            now = time.time()
            stale = []
            for trial in self.get_all_trials(study_id, deepcopy=False, states=(running,)):
                beat = trial.system_attrs.get(HEARTBEAT_ATTR)
                if beat is None and trial.datetime_start is not None:
                    beat = trial.datetime_start.timestamp()  # asked for, never beaten
                if beat is not None and now - float(beat) > grace:
                    stale.append(trial._trial_id)
            return stale

        def get_heartbeat_interval(self) -> int | None:
            return interval

        def get_heartbeat_stale_trial_callback(self) -> Any:
            return callback

    try:
        return HeartbeatJournal(_repairing_backend(JournalFileBackend, path))
    except OSError as exc:
        raise StorageError(
            f"Cannot open the journal {path} ({exc.strerror or exc}); check that every worker "
            f"can read and write it."
        ) from exc


def _repairing_backend(base: type, path: Path) -> Any:
    """Optuna's journal file, whose torn tail (a worker killed mid-append) is cut, not fatal.

    Optuna's ``JournalFileBackend`` appends each record under its lock, but a worker killed
    while appending leaves an unterminated last line; Optuna then fails on it, and its next
    append glues a new record onto the torn one, so the journal never opens again. This
    backend checks the journal when it is opened and before every append, under Optuna's own
    lock (see ``fashionkit._jsonl.repair``): a torn last record is cut off (with a warning
    saying how many bytes were dropped and records kept), a damaged record elsewhere is refused
    naming its line, and every append starts on a fresh line.
    """
    from optuna.storages.journal._file import get_lock_file

    class RepairingJournalFile(base):  # type: ignore[misc]  # Optuna's class
        def __init__(self, file_path: str) -> None:
            super().__init__(file_path)
            with get_lock_file(self._lock):
                repair(Path(file_path))

        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs)
            with get_lock_file(self._lock):
                append_record(Path(self._file_path), text)

    return RepairingJournalFile(str(path))


def make_pruner(name: str, epochs: int) -> Any:
    """The Optuna pruner named ``name`` (one of :data:`PRUNERS`), for ``epochs`` epochs."""
    optuna = import_optuna()
    if name == "median":
        # Steps are epochs, counted from 1: a trial can be pruned from its first epoch on.
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1))
    return optuna.pruners.NopPruner()


def count_states(study: Any) -> dict[str, int]:
    """How many of the study's trials are in each state (lower-case state names)."""
    counts = {"complete": 0, "pruned": 0, "fail": 0, "running": 0, "waiting": 0}
    for t in study.get_trials(deepcopy=False):
        name = t.state.name.lower()
        counts[name] = counts.get(name, 0) + 1
    return counts


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""


def masked(url: str) -> str:
    """The URL with any password (``user:password@`` or ``?password=``) replaced by ``***``."""
    import re

    try:
        from sqlalchemy.engine import make_url

        shown = str(make_url(url).render_as_string(hide_password=True))
    except Exception:  # not a URL SQLAlchemy can parse: mask by hand
        head, sep, tail = url.partition("://")
        userinfo, at, rest = tail.rpartition("@")
        shown = f"{head}{sep}{userinfo.split(':')[0]}:***@{rest}" if at and ":" in userinfo else url
    return re.sub(r"(?i)(password=)[^&;\s]*", r"\1***", shown)


def start_study(
    optuna: Any, *, space: SearchSpace, url: str, study_name: str, heartbeat: float
) -> Any:
    """Create the study, or load it and check that it searches the same space."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = optuna.create_study(
            study_name=study_name,
            storage=open_storage(url, heartbeat),
            direction="maximize",
            load_if_exists=True,
        )
    except StorageError:
        raise
    except Exception as exc:  # SQLAlchemy raises many types for a bad URL or server
        reason = _first_line(exc)
        if exc.__cause__ is not None:
            reason += f"; caused by {type(exc.__cause__).__name__}: {_first_line(exc.__cause__)}"
        hint = ""
        if isinstance(exc, ImportError) or "DB access module" in reason:
            hint = (
                " The database driver is missing: for postgresql:// URLs install "
                "psycopg2-binary, for mysql:// URLs PyMySQL (and write mysql+pymysql://)."
            )
        raise StorageError(
            f"Cannot open the study {shown(study_name)} at {masked(url)} "
            f"({type(exc).__name__}: {masked(reason)}).{hint}"
        ) from None
    searched = _schema.to_json(space.to_dict(), indent=None)
    stored = study.user_attrs.get("fashionkit_space")
    if stored is None:
        study.set_user_attr("fashionkit_space", searched)
    elif stored != searched:
        raise ConfigError(
            f"The study {shown(study_name)} at {masked(url)} searches another space; "
            f"use another --study-name, or the space it was created with."
        )
    return study


@params(storage=NoneOr(StorageURL()), study_name=StudyName())
def open_study(
    folder: PathLike, *, storage: str | None = None, study_name: str = "fashionkit"
) -> Any:
    """Load a sweep's Optuna study (to analyse it with Optuna's own tools).

    Args:
        folder: The sweep folder.
        storage: The study's database URL or ``journal:PATH``; defaults to the folder's
            ``study.db``.
        study_name: The study's name. Defaults to ``"fashionkit"``.

    Raises:
        ArgumentError: ``storage`` is not a database URL or ``journal:PATH``, or
            ``study_name`` is blank.
        RunDirError: No study of that name at that storage.
        FashionkitError: Optuna is not installed.
    """
    from fashionkit.exceptions import RunDirError

    optuna = import_optuna()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    directory = Path(folder)
    if storage is None and not (directory / STUDY_DB).is_file():
        raise RunDirError(
            f"{directory} has no {STUDY_DB}: its study lives in another database; pass its URL "
            f"(--storage)."
        )
    url = storage if storage is not None else f"sqlite:///{(directory / STUDY_DB).resolve()}"
    try:
        return optuna.load_study(study_name=study_name, storage=open_storage(url, 10.0))
    except StorageError:
        raise
    except Exception as exc:  # a missing study is KeyError; a bad URL many others
        raise RunDirError(f"No study {shown(study_name)} at {masked(url)} ({brief(exc)}).") from exc
