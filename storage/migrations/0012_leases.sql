-- Work shared by many processes (issue 18). On SQLite one process owns the file, so these
-- tables are what PostgreSQL needs, kept here too so that both backends run one code path.
--
-- A process working on a pending link holds a lease on it (lease_owner until lease_until) and
-- renews it while it works; another process leaves the link alone until the lease expires.
ALTER TABLE items ADD COLUMN lease_owner TEXT;
ALTER TABLE items ADD COLUMN lease_until TEXT;
CREATE INDEX items_pending ON items (id) WHERE status = 'pending';

-- A card answering a chat's message (a link a worker processed): the message it answers.
ALTER TABLE outbox ADD COLUMN reply_to INTEGER;

-- Which bot process delivers a chat's outbox now: one at a time, so cards keep their order and
-- the chat's rate limit lives in one process.
CREATE TABLE chat_turns (
    chat_id INTEGER PRIMARY KEY,
    owner   TEXT NOT NULL,
    until   TEXT NOT NULL
);

-- The searches a chat paged through recently (the token in a button's data names one).
CREATE TABLE remembered_searches (
    chat_id    INTEGER NOT NULL,
    token      TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, token)
);
CREATE INDEX remembered_searches_age ON remembered_searches (chat_id, created_at);
