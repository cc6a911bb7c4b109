-- Monitoring: the feeds a chat follows, the entries seen in them, the watches it keeps, and an
-- outbox of what is still to be said in the chat (feed cards, watch alerts, notices), so that
-- what was announced survives a restart and is shared by every process using the database.

CREATE TABLE feeds (
    id                  INTEGER PRIMARY KEY,
    chat_id             INTEGER NOT NULL,
    url                 TEXT NOT NULL,                 -- the feed's own address (after discovery)
    site_url            TEXT,                          -- the site it belongs to, as the feed says
    title               TEXT,
    mode                TEXT NOT NULL DEFAULT 'announce' CHECK (mode IN ('announce', 'digest')),
    status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    thread_id           INTEGER,                       -- the forum topic where it was followed
    added_by            INTEGER,
    etag                TEXT,                          -- validators for conditional requests
    last_modified       TEXT,
    interval_seconds    INTEGER NOT NULL,              -- the interval the next check was planned with
    next_check_at       TEXT NOT NULL,                 -- ISO 8601 UTC
    last_check_at       TEXT,
    last_new_at         TEXT,                          -- when an entry last became an item
    errors              INTEGER NOT NULL DEFAULT 0,    -- failures in a row
    last_error          TEXT,
    failing_since       TEXT,                          -- the first failure of the current run of them
    failure_reported_at TEXT,                          -- the chat was told it has been failing
    polled_once         INTEGER NOT NULL DEFAULT 0,    -- 0 until the first poll (FEED_FIRST_POLL_ITEMS)
    claimed_until       TEXT,                          -- a poller's lease: others leave it alone until then
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (chat_id, url)
);

CREATE INDEX feeds_due ON feeds (status, next_check_at);

-- Every entry a chat has seen in any of its feeds, by the entry's id (or its link when it has
-- none): an entry is taken once, whichever feed lists it and however often. item_id is NULL for
-- entries passed over by the first-poll or per-poll caps.
CREATE TABLE feed_entries (
    chat_id   INTEGER NOT NULL,
    entry_key TEXT NOT NULL,
    feed_id   INTEGER NOT NULL,
    item_id   INTEGER,
    title     TEXT,                                    -- the entry's own words, kept for when the
    summary   TEXT,                                    -- page cannot be fetched
    author    TEXT,
    published TEXT,                                    -- YYYY-MM-DD
    seen_at   TEXT NOT NULL,
    PRIMARY KEY (chat_id, entry_key)
);

CREATE INDEX feed_entries_item ON feed_entries (item_id);

ALTER TABLE items ADD COLUMN feed_id INTEGER;            -- the feed that brought it, if any
ALTER TABLE items ADD COLUMN from_feed INTEGER NOT NULL DEFAULT 0;  -- 1: title and summary are the feed's
ALTER TABLE items ADD COLUMN watch_ids TEXT;             -- JSON list of the watches it matched; NULL: not yet checked

-- Items stored before watches existed have nothing to be checked against.
UPDATE items SET watch_ids = '[]';

CREATE INDEX items_watch_unchecked ON items (id) WHERE watch_ids IS NULL AND status = 'done';

CREATE TABLE watches (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    query      TEXT NOT NULL,                          -- in the /search syntax
    thread_id  INTEGER,                                -- the forum topic where it was set: alerts go there
    created_by INTEGER,
    created_at TEXT NOT NULL,
    UNIQUE (chat_id, query)
);

-- What is still to be said in a chat. Rows are written with the change that causes them and
-- delivered by the bot: 'waiting' -> 'sending' (claimed, just before sendMessage) -> 'sent', or
-- 'dropped' (expired, refused, or interrupted mid-send: never sent twice).
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    thread_id  INTEGER,
    kind       TEXT NOT NULL CHECK (kind IN ('card', 'alert', 'notice')),
    item_id    INTEGER,                                -- cards and alerts: sent once the item is no longer pending
    payload    TEXT NOT NULL DEFAULT '{}',             -- JSON: the watches of an alert, a notice's key and values
    dedupe_key TEXT NOT NULL UNIQUE,                   -- card:ITEM, alert:ITEM, a notice's own: written at most once
    status     TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'sending', 'sent', 'dropped')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    message_id INTEGER,
    error      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX outbox_status ON outbox (status, id);
