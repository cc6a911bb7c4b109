-- Search that scales to a million items (the Performance issue).
--
-- 1. The full-text index carries, besides the words, a tag of each item's chat in a column of
--    its own ("0cm1001234" for chat -1001234), so that a search in a small chat walks that chat's
--    postings, not the whole archive's (storage/search.py). The tag is a generated column of
--    items, so the triggers and 'rebuild' read it like any other column. The extractive summary
--    is left out of the index: its sentences are the text's own.
ALTER TABLE items ADD COLUMN search_tags TEXT GENERATED ALWAYS AS ('0c' || replace(chat_id, '-', 'm')) VIRTUAL;

DROP TRIGGER items_fts_insert;
DROP TRIGGER items_fts_delete;
DROP TRIGGER items_fts_update;
DROP TABLE items_fts;

CREATE VIRTUAL TABLE items_fts USING fts5(
    title, title_translated, summary_translated, text, authors_text, source_text, search_tags,
    content = 'items', content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 2 separators 'ʼ'"
);

CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, title_translated, summary_translated, text, authors_text, source_text, search_tags)
    VALUES (new.id, new.title, new.title_translated, new.summary_translated, new.text, new.authors_text, new.source_text, new.search_tags);
END;

CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, title_translated, summary_translated, text, authors_text, source_text, search_tags)
    VALUES ('delete', old.id, old.title, old.title_translated, old.summary_translated, old.text, old.authors_text, old.source_text, old.search_tags);
END;

CREATE TRIGGER items_fts_update AFTER UPDATE OF title, title_translated, summary_translated, text, authors_text,
    source_text, chat_id ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, title_translated, summary_translated, text, authors_text, source_text, search_tags)
    VALUES ('delete', old.id, old.title, old.title_translated, old.summary_translated, old.text, old.authors_text, old.source_text, old.search_tags);
    INSERT INTO items_fts (rowid, title, title_translated, summary_translated, text, authors_text, source_text, search_tags)
    VALUES (new.id, new.title, new.title_translated, new.summary_translated, new.text, new.authors_text, new.source_text, new.search_tags);
END;

INSERT INTO items_fts (items_fts) VALUES ('rebuild');

-- 2. The words of the index with the number of items each is in, for expanding a prefix (actu*)
--    into the most common words it stands for. New words are added as items are stored; the
--    counts are brought up to date after a bulk load (`newsdesk load`) and by `newsdesk optimize`.
CREATE TABLE search_terms (
    term TEXT PRIMARY KEY,
    docs INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE VIRTUAL TABLE items_fts_vocabulary USING fts5vocab(items_fts, 'col');
INSERT INTO search_terms (term, docs)
    SELECT term, max(doc) FROM items_fts_vocabulary WHERE col <> 'search_tags' GROUP BY term;

-- 3. /latest by keyset (a page after a given item), and the counts of the last days, from one
--    index of stored items alone.
CREATE INDEX items_latest ON items (chat_id, submitted_at, id) WHERE status = 'done';

-- 3b. What a search filters its matches on, by id: a walk of the matches reads this small index,
--     not the rows (a few kilobytes each) of the items table.
CREATE INDEX items_search_filter ON items (id, chat_id, status, language, published_date, submitted_at);

-- 4. The counts /stats shows, kept as items change instead of counted over the archive.
CREATE TABLE chat_counts (
    chat_id INTEGER NOT NULL,
    status  TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (chat_id, status)
) WITHOUT ROWID;
CREATE TABLE chat_sources (                      -- stored items per source
    chat_id INTEGER NOT NULL,
    source  TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (chat_id, source)
) WITHOUT ROWID;
CREATE TABLE chat_failures (                     -- failed items per reason
    chat_id INTEGER NOT NULL,
    reason  TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (chat_id, reason)
) WITHOUT ROWID;

INSERT INTO chat_counts (chat_id, status, n) SELECT chat_id, status, count(*) FROM items GROUP BY chat_id, status;
INSERT INTO chat_sources (chat_id, source, n)
    SELECT chat_id, coalesce(site_name, domain), count(*) FROM items WHERE status = 'done' GROUP BY 1, 2;
INSERT INTO chat_failures (chat_id, reason, n)
    SELECT chat_id, coalesce(failure_reason, '?'), count(*) FROM items WHERE status = 'failed' GROUP BY 1, 2;

CREATE TRIGGER items_counts_insert AFTER INSERT ON items BEGIN
    INSERT INTO chat_counts (chat_id, status, n) VALUES (new.chat_id, new.status, 1)
        ON CONFLICT (chat_id, status) DO UPDATE SET n = n + 1;
    INSERT INTO chat_sources (chat_id, source, n) SELECT new.chat_id, coalesce(new.site_name, new.domain), 1
        WHERE new.status = 'done' ON CONFLICT (chat_id, source) DO UPDATE SET n = n + 1;
    INSERT INTO chat_failures (chat_id, reason, n) SELECT new.chat_id, coalesce(new.failure_reason, '?'), 1
        WHERE new.status = 'failed' ON CONFLICT (chat_id, reason) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER items_counts_delete AFTER DELETE ON items BEGIN
    UPDATE chat_counts SET n = n - 1 WHERE chat_id = old.chat_id AND status = old.status;
    UPDATE chat_sources SET n = n - 1
        WHERE old.status = 'done' AND chat_id = old.chat_id AND source = coalesce(old.site_name, old.domain);
    UPDATE chat_failures SET n = n - 1
        WHERE old.status = 'failed' AND chat_id = old.chat_id AND reason = coalesce(old.failure_reason, '?');
END;

CREATE TRIGGER items_counts_update AFTER UPDATE OF chat_id, status, site_name, domain, failure_reason ON items BEGIN
    UPDATE chat_counts SET n = n - 1 WHERE chat_id = old.chat_id AND status = old.status;
    UPDATE chat_sources SET n = n - 1
        WHERE old.status = 'done' AND chat_id = old.chat_id AND source = coalesce(old.site_name, old.domain);
    UPDATE chat_failures SET n = n - 1
        WHERE old.status = 'failed' AND chat_id = old.chat_id AND reason = coalesce(old.failure_reason, '?');
    INSERT INTO chat_counts (chat_id, status, n) VALUES (new.chat_id, new.status, 1)
        ON CONFLICT (chat_id, status) DO UPDATE SET n = n + 1;
    INSERT INTO chat_sources (chat_id, source, n) SELECT new.chat_id, coalesce(new.site_name, new.domain), 1
        WHERE new.status = 'done' ON CONFLICT (chat_id, source) DO UPDATE SET n = n + 1;
    INSERT INTO chat_failures (chat_id, reason, n) SELECT new.chat_id, coalesce(new.failure_reason, '?'), 1
        WHERE new.status = 'failed' ON CONFLICT (chat_id, reason) DO UPDATE SET n = n + 1;
END;
