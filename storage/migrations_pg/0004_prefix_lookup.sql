-- Prefix searches (`actu*`) read the search dictionary's words that begin so, in byte order, as
-- on SQLite: an index of the words by their bytes, whatever the database's collation.
CREATE INDEX search_terms_by_bytes ON search_terms (term COLLATE "C");
