-- Items: one row per (chat, canonical URL). A link is stored as `pending` before anything else
-- happens to it, then becomes `done` (with the article) or `failed` (with a reason).
CREATE TABLE items (
    id                   INTEGER PRIMARY KEY,
    chat_id              INTEGER NOT NULL,
    url                  TEXT NOT NULL,
    canonical_url        TEXT NOT NULL,
    domain               TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    failure_reason       TEXT,
    failure_detail       TEXT,
    attempts             INTEGER NOT NULL DEFAULT 0,
    final_url            TEXT,
    title                TEXT,
    authors              TEXT NOT NULL DEFAULT '[]',  -- JSON list of names
    authors_text         TEXT,                        -- the same names joined, for search
    site_name            TEXT,
    source_text          TEXT,                        -- site name and domain, for source: search
    published_date       TEXT,                        -- YYYY-MM-DD as the page states it
    language             TEXT,
    description          TEXT,
    text                 TEXT,
    text_hash            TEXT,                        -- sha256 of the extracted text
    summary              TEXT,                        -- extractive, in the article's language
    summary_language     TEXT,
    title_translated     TEXT,                        -- from the language model, in translation_language
    summary_translated   TEXT,
    translation_language TEXT,
    translation_note     TEXT,                        -- why the model's summary is missing, when it is
    submitted_by         INTEGER,
    submitted_by_name    TEXT,
    message_id           INTEGER,
    thread_id            INTEGER,
    submitted_at         TEXT NOT NULL,               -- ISO 8601 UTC
    fetched_at           TEXT,                        -- ISO 8601 UTC, apart from the publication date
    updated_at           TEXT NOT NULL,
    UNIQUE (chat_id, canonical_url)
);

CREATE INDEX items_chat_submitted ON items (chat_id, submitted_at);
CREATE INDEX items_status ON items (status);

-- Full-text index kept in step by triggers. U+02BC (the Ukrainian apostrophe letter) is made a
-- separator so that м'ясо, м’ясо and мʼясо are indexed and searched alike.
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, title_translated, summary, summary_translated, text, authors_text, source_text,
    content = 'items', content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 2 separators 'ʼ'"
);

CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, title_translated, summary, summary_translated, text, authors_text, source_text)
    VALUES (new.id, new.title, new.title_translated, new.summary, new.summary_translated, new.text, new.authors_text, new.source_text);
END;

CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, title_translated, summary, summary_translated, text, authors_text, source_text)
    VALUES ('delete', old.id, old.title, old.title_translated, old.summary, old.summary_translated, old.text, old.authors_text, old.source_text);
END;

CREATE TRIGGER items_fts_update AFTER UPDATE OF title, title_translated, summary, summary_translated, text, authors_text, source_text ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, title_translated, summary, summary_translated, text, authors_text, source_text)
    VALUES ('delete', old.id, old.title, old.title_translated, old.summary, old.summary_translated, old.text, old.authors_text, old.source_text);
    INSERT INTO items_fts (rowid, title, title_translated, summary, summary_translated, text, authors_text, source_text)
    VALUES (new.id, new.title, new.title_translated, new.summary, new.summary_translated, new.text, new.authors_text, new.source_text);
END;

-- Per-chat settings: interface and summary language, and whether the chat was told it is not allowed.
CREATE TABLE chats (
    chat_id          INTEGER PRIMARY KEY,
    title            TEXT,
    language         TEXT,
    denied_notice_at TEXT,
    updated_at       TEXT NOT NULL
);
