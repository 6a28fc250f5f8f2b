-- The words of each body, stored (migration 0003 indexed the expression). A GIN index
-- finds the rows that hold every word of a search but not whether a phrase's words follow
-- each other, nor whether a lossy page of its bitmap really matches: PostgreSQL checks
-- those rows against the words themselves. With an expression index that meant unaccent
-- and to_tsvector again for every such row: a phrase of two common words ("to and") took
-- 365 ms at 1,000,000 messages. Stored, the check reads them. Generated, so every writer
-- (sends, edits, the admin, `copy-to`) keeps them without knowing.
ALTER TABLE messages
    ADD COLUMN search_words tsvector GENERATED ALWAYS AS (kanect_search_words(body)) STORED;
DROP INDEX messages_search;
CREATE INDEX messages_search ON messages USING gin (search_words);
