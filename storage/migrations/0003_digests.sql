-- Daily digests. A chat's schedule is a local wall-clock time in an IANA zone; `since` is when
-- it was last set, so a time already past that day does not count as a missed run.
CREATE TABLE digest_schedules (
    chat_id    INTEGER PRIMARY KEY,
    time       TEXT NOT NULL,                 -- HH:MM or HH:MM:SS, local
    timezone   TEXT NOT NULL,                 -- IANA name, e.g. Europe/Kyiv
    enabled    INTEGER NOT NULL DEFAULT 1,
    quiet      INTEGER NOT NULL DEFAULT 0,    -- 1: say nothing on a day with no new items
    since      TEXT NOT NULL,                 -- ISO 8601 UTC
    updated_at TEXT NOT NULL
);

-- One row per chat and LOCAL date: claimed ('sending') before anything is sent, then 'sent',
-- 'failed' (after the retries) or 'skipped' (missed by more than DIGEST_GRACE_HOURS).
-- The UNIQUE key is what makes a digest go out at most once a day, across restarts.
CREATE TABLE digest_runs (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL,
    local_date      TEXT NOT NULL,            -- YYYY-MM-DD in the schedule's zone
    status          TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'skipped')),
    scheduled_for   TEXT NOT NULL,            -- ISO 8601 UTC
    claimed_at      TEXT NOT NULL,
    send_started_at TEXT,                     -- set just before the first sendMessage
    finished_at     TEXT,
    since_at        TEXT,                     -- the items covered: submitted in [since_at, until_at)
    until_at        TEXT,
    item_count      INTEGER,
    message_ids     TEXT NOT NULL DEFAULT '[]',  -- JSON list, appended as each part is delivered
    attempts        INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    UNIQUE (chat_id, local_date)
);

CREATE INDEX digest_runs_status ON digest_runs (status);
