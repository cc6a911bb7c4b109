"""The database as a file: a look at its health, online backups, restores, and the lock that a
running bot holds on it.

These are blocking sqlite3 calls on connections of their own, apart from the Repository's:
callers on the event loop run them with `asyncio.to_thread`.

A backup uses SQLite's online backup API inside one read transaction, so in WAL mode the bot
keeps writing while the copy is made, and the copy is the database as it was when copying began.
It is written beside its destination under a temporary name, checked (PRAGMA integrity_check,
schema version, items), and only then renamed into place: a half-written or damaged copy never
carries the name of a good one.

A restore never copies a file over the live database (a WAL file left beside it would be replayed
onto the new content): it writes the backup into the database through SQLite, under the lock,
after keeping a copy of what it replaces.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from storage.errors import DamagedDatabase, DatabaseInUse, SchemaTooNew, StorageUnavailable
from storage.models import BackupReport, DatabaseReport, LockHolder

LOCK_SUFFIX = ".lock"
BACKUP_NAME = "newsdesk-%Y%m%d-%H%M%S.db"
BACKUP_PATTERN = re.compile(r"newsdesk-\d{8}-\d{6}\.db")
"""The names `backup_name` gives; retention deletes nothing else."""
COMPANIONS = ("-wal", "-shm", "-journal")


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + LOCK_SUFFIX)


def backup_name(now: datetime) -> str:
    return now.astimezone(UTC).strftime(BACKUP_NAME)


def _connect(path: Path, *, mode: str = "rw", timeout: float = 30.0) -> sqlite3.Connection:
    """An existing database file (never created by opening it), in autocommit mode."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=timeout,
                           isolation_level=None)


def nearest_folder(path: Path) -> Path:
    """The closest ancestor of `path` that exists (where a missing folder would be created)."""
    for folder in (path, *path.parents):
        if folder.exists():
            return folder
    return Path("/")


def free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(nearest_folder(path.parent)).free
    except OSError:
        return None


def inspect_database(path: Path, *, latest_version: int, full: bool = True) -> DatabaseReport:
    """Open the database without creating it, and say what state it is in: schema version, items,
    whether it can be written now, and (with `full`) what PRAGMA quick_check finds."""
    free = free_bytes(path)
    if not path.exists():
        folder = nearest_folder(path.parent)
        writable = folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
        problem = None if writable else f"cannot create {path}: {folder} is not a folder this user can write to"
        return DatabaseReport(path, exists=False, latest_version=latest_version, writable=writable,
                              free_bytes=free, problem=problem)
    size = path.stat().st_size
    try:
        connection = _connect(path, timeout=5.0)
    except sqlite3.Error as error:
        return DatabaseReport(path, exists=True, latest_version=latest_version, size_bytes=size, free_bytes=free,
                              writable=False, problem=f"cannot open it: {error}")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        items = connection.execute("SELECT count(*) FROM items").fetchone()[0] if "items" in tables else None
        integrity = _quick_check(connection) if full else None
        writable, problem = _try_writing(connection)
    except sqlite3.DatabaseError as error:
        return DatabaseReport(path, exists=True, latest_version=latest_version, size_bytes=size, free_bytes=free,
                              writable=False, damaged=True, problem=f"not a usable SQLite database: {error}")
    finally:
        connection.close()
    return DatabaseReport(path, exists=True, latest_version=latest_version, schema_version=version,
                          writable=writable, integrity=integrity, items=items, size_bytes=size, free_bytes=free,
                          problem=problem)


def _quick_check(connection: sqlite3.Connection) -> str:
    found = [row[0] for row in connection.execute("PRAGMA quick_check(5)")]
    return "ok" if found == ["ok"] else "; ".join(found)


def _try_writing(connection: sqlite3.Connection) -> tuple[bool, str | None]:
    """Take the write lock and let it go again: what the bot's next write would meet."""
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        return False, f"cannot write to it: {error}"
    return True, None


def verify_database(path: Path, *, latest_version: int | None = None) -> tuple[int, int]:
    """Check a copy thoroughly (PRAGMA integrity_check, Newsdesk's tables, a schema this program
    knows); its schema version and number of items. DamagedDatabase or SchemaTooNew otherwise."""
    if not path.is_file():
        raise DamagedDatabase(f"{path} is not a file")
    try:
        with contextlib.closing(_connect(path, mode="ro")) as connection:
            found = [row[0] for row in connection.execute("PRAGMA integrity_check(5)")]
            if found != ["ok"]:
                raise DamagedDatabase(f"{path} is damaged: {'; '.join(found)}")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version < 1 or "items" not in tables:
                raise DamagedDatabase(f"{path} is an SQLite file, but not a Newsdesk database")
            items = connection.execute("SELECT count(*) FROM items").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise DamagedDatabase(f"{path} is not a usable SQLite database: {error}") from error
    if latest_version is not None and version > latest_version:
        raise SchemaTooNew(f"{path} was written by a newer Newsdesk (schema {version}; this one knows up to "
                           f"{latest_version}): upgrade Newsdesk first")
    return version, items


def backup_database(source: Path, destination: Path, *, now: datetime, overwrite: bool = False) -> BackupReport:
    """A consistent copy of the live database at `destination` (a file, or a folder to put a
    dated file in), verified before it takes its name."""
    started = time.monotonic()
    target = destination / backup_name(now) if destination.is_dir() else destination
    if not source.is_file():
        raise StorageUnavailable(f"there is no database at {source}")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists")
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # the whole desk: owner only
        with contextlib.closing(_connect(source)) as live, contextlib.closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)  # one step, in one read transaction: writers go on meanwhile (WAL)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        version, items = verify_database(partial)
        _sync(partial)
        os.replace(partial, target)
        _sync(target.parent)
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise StorageUnavailable(f"the backup could not be made: {error}") from error
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise StorageUnavailable(f"the backup could not be written to {target}: {error.strerror or error}") from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupReport(target, target.stat().st_size, items, version, time.monotonic() - started)


def restore_database(source: Path, database: Path, *, latest_version: int, now: datetime
                     ) -> tuple[Path | None, int, int]:
    """Replace the database's content with a verified backup; the caller holds the lock. Returns
    where the replaced database was kept (None when there was none), and the backup's schema
    version and number of items."""
    version, items = verify_database(source, latest_version=latest_version)
    kept = _keep_previous(database, now) if database.exists() and database.stat().st_size else None
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        try:
            _copy_into(source, database)
        except sqlite3.DatabaseError:  # the database being replaced is itself damaged: start it afresh
            for path in (database, *(database.with_name(database.name + c) for c in COMPANIONS)):
                path.unlink(missing_ok=True)
            _copy_into(source, database)
    except sqlite3.Error as error:
        raise StorageUnavailable(f"the backup could not be written into {database}: {error}") from error
    return kept, version, items


def _copy_into(source: Path, database: Path) -> None:
    with contextlib.closing(_connect(source, mode="ro")) as backup, \
            contextlib.closing(sqlite3.connect(database, timeout=30)) as live:
        backup.backup(live)


def _keep_previous(database: Path, now: datetime) -> Path:
    """A copy of the database a restore replaces: a verified backup when it is sound, its raw
    files (with the WAL) when it is not, so nothing is lost either way."""
    kept = database.with_name(f"{database.name}.before-restore-{now.astimezone(UTC):%Y%m%d-%H%M%S}")
    try:
        return backup_database(database, kept, now=now).path
    except (DamagedDatabase, StorageUnavailable):
        for companion in ("", *COMPANIONS):
            found = database.with_name(database.name + companion)
            if found.exists():
                shutil.copy2(found, kept.with_name(kept.name + companion))
        return kept


def prune_backups(folder: Path, *, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups that `backup_name` named in `folder`; those deleted."""
    backups = sorted((path for path in folder.iterdir() if BACKUP_PATTERN.fullmatch(path.name)), reverse=True)
    removed = backups[keep:]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _sync(path: Path) -> None:
    """Make a file's content (or a folder's entries) durable before it is relied on."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class DatabaseLock:
    """An advisory lock (flock) on `<database>.lock`, held by the one process that runs the bot on
    the database, and released by the kernel when that process ends, however it ends. The file
    holds the process id; its modification time is the bot's last heartbeat (`beat`)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = lock_path(database)
        self._descriptor: int | None = None

    def acquire(self, *, wait: float = 0.0) -> bool:
        """Take the lock, trying for up to `wait` seconds; False when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(descriptor)
                    return False
                time.sleep(0.05)  # a `newsdesk check` looking at the lock lets it go at once
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._descriptor = descriptor
        return True

    @contextlib.contextmanager
    def held(self, *, wait: float = 1.0) -> Iterator[DatabaseLock]:
        """The lock for the length of a block; DatabaseInUse when a running bot has it."""
        if not self.acquire(wait=wait):
            holder = lock_holder(self.database)
            pid = f" (process {holder.pid})" if holder and holder.pid else ""
            raise DatabaseInUse(f"a running Newsdesk bot{pid} is using {self.database}")
        try:
            yield self
        finally:
            self.release()

    def beat(self) -> None:
        """Show that the bot is alive: `newsdesk check --quick` reads the time."""
        if self._descriptor is not None:
            os.utime(self._descriptor)

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # the file stays: removing it would race the next process to lock it
            self._descriptor = None


def lock_holder(database: Path) -> LockHolder | None:
    """The process holding the database's lock (a running bot), or None."""
    try:
        descriptor = os.open(lock_path(database), os.O_RDONLY)
    except OSError:  # no lock file (no bot ever ran here), or no such folder at all
        return None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            words = os.read(descriptor, 64).split()
            pid = int(words[0]) if words and words[0].isdigit() else None
            return LockHolder(pid, datetime.fromtimestamp(os.fstat(descriptor).st_mtime, UTC))
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return None
    finally:
        os.close(descriptor)
