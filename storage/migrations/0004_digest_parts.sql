-- Which part of a digest is being sent right now (NULL between parts), and the language it was
-- written in: together with since_at/until_at they let a restart resume an interrupted digest
-- with the very same parts, sending each at most once.
ALTER TABLE digest_runs ADD COLUMN sending_part INTEGER;
ALTER TABLE digest_runs ADD COLUMN language TEXT;
