-- Stories (issue 14): one article under many addresses is one item; one event reported by many
-- outlets is one story.
--
-- url_aliases: every form of an article's address the chat has seen (the submitted link, the
-- final address after redirects, the page's rel=canonical and og:url), as the key
-- bot/pipeline/urlforms.article_key makes of it (AMP forms undone, no scheme, no www.), each
-- pointing to the item that holds the article. Posting any of them finds the item at once.
CREATE TABLE url_aliases (
    chat_id  INTEGER NOT NULL,
    key      TEXT NOT NULL,
    item_id  INTEGER NOT NULL REFERENCES items (id),
    PRIMARY KEY (chat_id, key)
) WITHOUT ROWID;

CREATE INDEX url_aliases_item ON url_aliases (item_id);

-- A story: the items of one chat about one event. The first item is the earliest submitted.
CREATE TABLE stories (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,                    -- ISO 8601 UTC
    updated_at  TEXT NOT NULL
);

CREATE INDEX stories_chat_updated ON stories (chat_id, updated_at);

ALTER TABLE items ADD COLUMN story_id INTEGER REFERENCES stories (id);
-- 1 when an editor placed the item (/link, /unlink): automatic grouping leaves it where it is.
ALTER TABLE items ADD COLUMN story_pinned INTEGER NOT NULL DEFAULT 0;
-- The item this one turned out to be the same article as, once its page named that item's
-- address (it is then marked failed with reason 'same_article' and answered with that item).
ALTER TABLE items ADD COLUMN same_as INTEGER REFERENCES items (id);

CREATE INDEX items_story ON items (story_id);

-- MinHash signatures of stored items: 'text' of title and opening words in the item's language,
-- 'title' of each title it has (its own, and the language model's translation) in that title's
-- language. 128 unsigned 32-bit values, little-endian.
CREATE TABLE story_signatures (
    item_id    INTEGER NOT NULL REFERENCES items (id),
    kind       TEXT NOT NULL CHECK (kind IN ('text', 'title')),
    language   TEXT NOT NULL,
    signature  BLOB NOT NULL,
    PRIMARY KEY (item_id, kind, language)
) WITHOUT ROWID;

-- LSH band buckets: one row per (item, signature, band). Grouping a new item looks up its own
-- buckets within the window (chat, bucket, time): lookups, never a scan of the archive.
CREATE TABLE story_bands (
    chat_id       INTEGER NOT NULL,
    bucket        INTEGER NOT NULL,               -- hash of kind, language, band number and its values
    submitted_at  TEXT NOT NULL,
    item_id       INTEGER NOT NULL REFERENCES items (id),
    PRIMARY KEY (chat_id, bucket, submitted_at, item_id)
) WITHOUT ROWID;

CREATE INDEX story_bands_item ON story_bands (item_id);
