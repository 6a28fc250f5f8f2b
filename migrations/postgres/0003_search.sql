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

-- One term of a search: words that must follow each other, folded and split as bodies
-- are (a phrase of one word is a word); a final `*` makes the last word a prefix. Plain
-- text, never tsquery syntax: whatever a person typed, and whatever unaccent makes of
-- it ("ʼ" becomes a quote), cannot break the query.
CREATE FUNCTION kanect_search_term(term text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT CASE WHEN right(term, 1) = '*' AND numnode(q) > 0
                        THEN (q::text || ':*')::tsquery ELSE q END
            FROM phraseto_tsquery('simple'::regconfig, translate(
                unaccent('unaccent'::regdictionary, term),
                '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', repeat(' ', 32))) AS q);

-- A search: a JSON array of terms, all of which must match.
CREATE FUNCTION kanect_search_query(terms json) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT string_agg('(' || q::text || ')', ' & ')::tsquery
            FROM json_array_elements_text(terms) AS t(term), kanect_search_term(t.term) AS q
            WHERE numnode(q) > 0);

-- Kept in step by PostgreSQL in the transaction of every change; built here for an
-- existing team's messages.
CREATE INDEX messages_search ON messages USING gin (kanect_search_words(body));
