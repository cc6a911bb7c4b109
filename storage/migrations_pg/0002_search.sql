-- Words split as SQLite's tokenizer splits them: at every character that is not a letter or a
-- digit. PostgreSQL's parser keeps `example.com`, `3.5`, `-19`, `press@example.org` and
-- `well-known` as tokens of their own, so `example` or `3` found them on SQLite and not here.
-- newsdesk_words() turns every separator into a space before the parser sees the text;
-- newsdesk_marked() keeps the text as it is for ts_headline but puts \x01 (removed from the
-- excerpt afterwards) on both sides of each separator, so the excerpt finds the same words.
-- Letters and digits are told apart by ICU where the server has it (the same on every machine),
-- else by the database's ctype, which must then know Cyrillic (C.UTF-8 or a language's UTF-8).

DO $$
DECLARE
    icu TEXT := CASE WHEN EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')
                           THEN 'COLLATE "und-x-icu"' ELSE '' END;
    word_characters TEXT := '[:alnum:]';
BEGIN
    EXECUTE format($f$
        CREATE FUNCTION newsdesk_words(words TEXT) RETURNS TEXT
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS 'SELECT pg_catalog.regexp_replace(pg_catalog.translate($1, ''ʼ'', '' '') %s, ''[^%s]+'', '' '', ''g'')'
    $f$, icu, word_characters);
    EXECUTE format($f$
        CREATE FUNCTION newsdesk_marked(words TEXT) RETURNS TEXT
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS 'SELECT pg_catalog.regexp_replace($1 %s, ''[^%s[:space:]]|ʼ'', pg_catalog.chr(1) || ''\&'' || pg_catalog.chr(1), ''g'')'
    $f$, icu, word_characters);
    IF newsdesk_words('Київ-мʼясо') <> 'Київ м ясо' THEN
        RAISE EXCEPTION 'this server does not tell Cyrillic letters from separators (no ICU, database ctype %): '
                        'create the database with a UTF-8 locale, e.g. C.UTF-8', current_setting('lc_ctype');
    END IF;
END $$;

-- words with digits in them (co2, 5g) lose their accents as other words do
ALTER TEXT SEARCH CONFIGURATION newsdesk ALTER MAPPING FOR numword, numhword, hword_numpart WITH unaccent, simple;

ALTER TABLE items DROP COLUMN search_vector;  -- drops items_search with it
ALTER TABLE items ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('newsdesk'::regconfig, newsdesk_words(coalesce(title, '') || ' ' || coalesce(title_translated, ''))), 'A') ||
    setweight(to_tsvector('newsdesk'::regconfig, newsdesk_words(coalesce(summary_translated, ''))), 'B') ||
    setweight(to_tsvector('newsdesk'::regconfig, newsdesk_words(left(coalesce(text, ''), 400000))), 'C') ||
    setweight(to_tsvector('newsdesk'::regconfig, newsdesk_words(coalesce(authors_text, '') || ' ' || coalesce(source_text, ''))), 'D')
) STORED;
CREATE INDEX items_search ON items USING gin (search_vector);
