-- Coverage (issue 15): PDF documents, paywalled pages and Telegram channel posts become items too.
-- What kind of document an item is, whether its text is the whole of it, a PDF's pages, the moment
-- a post was published (a date and time, where published_date has only the day), and the links a
-- post offers to follow up.
ALTER TABLE items ADD COLUMN content_kind TEXT NOT NULL DEFAULT 'article';  -- article, pdf, telegram_post
ALTER TABLE items ADD COLUMN access TEXT NOT NULL DEFAULT 'full';           -- full, partial (a paywall)
ALTER TABLE items ADD COLUMN page_count INTEGER;                            -- a PDF's pages
ALTER TABLE items ADD COLUMN published_at TEXT;                             -- ISO 8601 with its offset
ALTER TABLE items ADD COLUMN post_links TEXT;                               -- JSON array of URLs
