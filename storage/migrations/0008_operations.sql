-- Daily backups made by the bot into BACKUP_DIR: one row per local date, claimed before the copy
-- is made, so that a restart or a second process never makes the same day's backup twice; a
-- failed one is tried again a few times.
CREATE TABLE backup_runs (
    day         TEXT PRIMARY KEY,                -- YYYY-MM-DD in DEFAULT_TIMEZONE
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 1,
    started_at  TEXT NOT NULL,                   -- ISO 8601 UTC
    finished_at TEXT,
    path        TEXT,                            -- the backup file, once verified
    size_bytes  INTEGER,
    items       INTEGER,
    error       TEXT
);
