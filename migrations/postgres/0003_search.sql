-- Full-text search of message bodies (SQLite migration 0007). A GIN index over the words
-- of each body, lower-cased by the `simple` configuration (no stemming, no stop words:
-- a chat's words are not an essay's) and without accents by `unaccent`, a trusted
-- extension that the database's owner may create.
CREATE EXTENSION IF NOT EXISTS unaccent;

-- The words of a body. ASCII punctuation becomes a space first, so that the parser,
-- which would keep "alice@example.com" or "v1.2" whole, splits words where SQLite's
-- tokenizer does: "example" finds an address, "2" finds a version.
-- IMMUTABLE so that an index may use it. unaccent() itself is only STABLE because its
-- rules file could change; a change there would call for a REINDEX. The SQL-standard
-- body binds its functions now, so a restore that runs with an empty search_path
-- (pg_dump's does) still finds them.
CREATE FUNCTION kanect_search_words(body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN to_tsvector('simple'::regconfig, translate(
        unaccent('unaccent'::regdictionary, body),
        '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', repeat(' ', 32)));

-- A query in tsquery syntax, folded the same way.
CREATE FUNCTION kanect_search_query(query text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN to_tsquery('simple'::regconfig, unaccent('unaccent'::regdictionary, query));

-- Kept in step by PostgreSQL in the transaction of every change; built here for an
-- existing team's messages.
CREATE INDEX messages_search ON messages USING gin (kanect_search_words(body));
