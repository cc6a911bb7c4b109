"""What storage raises: its own errors, never the database driver's.

    StorageError
    ├── StorageUnavailable   the database cannot be read or written right now (disk full,
    │                        read-only, locked for too long, I/O error, a damaged file)
    ├── SchemaTooNew         the file was written by a newer Newsdesk: migrations go forward only
    ├── DamagedDatabase      a file offered as a database (a backup to restore) is not a sound one
    ├── DatabaseInUse        a running bot holds the database (restore refuses to replace it)
    └── LeaseLost            another process took over a link this one was working on

Callers hold work back and try again on StorageUnavailable; nothing above storage needs to know
which database is behind it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import psycopg


class StorageError(Exception):
    """Storage could not do what was asked."""


class StorageUnavailable(StorageError):
    """The database cannot be used right now; str() says why."""


class SchemaTooNew(StorageError):
    """The database's schema is newer than this program knows; upgrade Newsdesk, never downgrade a file."""


class DamagedDatabase(StorageError):
    """Not a usable Newsdesk database: not SQLite, damaged, or without Newsdesk's tables."""


class DatabaseInUse(StorageError):
    """A running bot holds the database's lock."""


class LeaseLost(StorageError):
    """The link's lease passed to another process (this one stalled past it): the outcome is the
    other's to store, and this one's was not written."""


@contextlib.contextmanager
def unavailable_on_fault() -> Iterator[None]:
    """Turn the driver's operational errors (disk full, read-only, locked, I/O, a damaged file)
    into StorageUnavailable. Integrity and programming errors are bugs and pass through."""
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except sqlite3.Error as error:
        raise StorageUnavailable(f"the database cannot be used: {error}") from error
    except (psycopg.errors.IntegrityError, psycopg.errors.ProgrammingError, psycopg.errors.DataError,
            psycopg.errors.InterfaceError):
        raise
    except psycopg.Error as error:  # the server is down or restarting, a lost connection, a deadlock
        raise StorageUnavailable(f"the database cannot be used: {error}") from error
