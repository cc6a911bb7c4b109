"""What storage raises: its own errors, never the database driver's.

    StorageError
    └── StorageUnavailable   the database cannot be read or written right now (disk full,
                             read-only, locked for too long, I/O error, a damaged file)

Callers hold work back and try again on StorageUnavailable; nothing above storage needs to know
which database is behind it.
"""

from __future__ import annotations


class StorageError(Exception):
    """Storage could not do what was asked."""


class StorageUnavailable(StorageError):
    """The database cannot be used right now; str() says why."""
