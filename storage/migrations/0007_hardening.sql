-- What one member can do to the rest of a chat, bounded in the database so that it survives a
-- restart and holds for every process sharing the store.

-- Links that count towards MAX_LINKS_PER_HOUR without adding an item: a failed link posted again
-- (it is fetched again), and a link the chat already has (once an hour per item, however often
-- it is re-posted). New links count through items.submitted_at.
CREATE TABLE link_charges (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    item_id    INTEGER NOT NULL REFERENCES items (id),
    charged_at TEXT NOT NULL                      -- ISO 8601 UTC
);
CREATE INDEX link_charges_chat ON link_charges (chat_id, charged_at);

-- Links refused over the hourly limit, kept until the chat releases them (/later) or clears them.
CREATE TABLE deferred_links (
    id                INTEGER PRIMARY KEY,
    chat_id           INTEGER NOT NULL,
    url               TEXT NOT NULL,
    submitted_by      INTEGER,
    submitted_by_name TEXT,
    message_id        INTEGER,
    thread_id         INTEGER,
    deferred_at       TEXT NOT NULL,
    UNIQUE (chat_id, url)
);

-- One message's links being processed, and the bot's status message about them: recorded so that
-- a restart edits that message into its outcome instead of leaving it "processing" for ever.
CREATE TABLE batches (
    id                INTEGER PRIMARY KEY,
    chat_id           INTEGER NOT NULL,
    thread_id         INTEGER,
    reply_to          INTEGER,                    -- the message that carried the links
    status_message_id INTEGER,                    -- the bot's "processing" message, once sent
    cards_shown       INTEGER NOT NULL DEFAULT 0, -- cards posted so far (the first few, then on request)
    created_at        TEXT NOT NULL,
    finished_at       TEXT                        -- NULL while its status message still says "processing"
);
CREATE INDEX batches_open ON batches (finished_at, chat_id);

CREATE TABLE batch_items (
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    item_id  INTEGER NOT NULL REFERENCES items (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (batch_id, item_id)
);
CREATE INDEX batch_items_item ON batch_items (item_id);

-- Tokens spent on the language model per UTC day and chat, for each chat's share of
-- LLM_DAILY_TOKEN_BUDGET (llm_usage keeps the overall total).
CREATE TABLE llm_chat_usage (
    day     TEXT NOT NULL,                        -- YYYY-MM-DD, UTC
    chat_id INTEGER NOT NULL,
    tokens  INTEGER NOT NULL DEFAULT 0,
    calls   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, chat_id)
);

-- Costly commands a member has used (e.g. 'resummarize'), for per-member daily limits and cooldowns.
CREATE TABLE member_actions (
    id      INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    action  TEXT NOT NULL,
    at      TEXT NOT NULL                         -- ISO 8601 UTC
);
CREATE INDEX member_actions_member ON member_actions (chat_id, user_id, action, at);
