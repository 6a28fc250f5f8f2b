-- Full-text search of message bodies. An external-content FTS5 table: the words are
-- indexed here, the text stays in `messages` (search reads it from there), so the index
-- costs the postings only. unicode61 with remove_diacritics 2 folds case and accents
-- ("Élève" finds "eleve"); the prefix indexes make a two- or three-letter prefix, typed
-- as someone starts a word, as cheap as a whole word.
CREATE VIRTUAL TABLE messages_search USING fts5(
    body,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

-- Triggers keep the index in the same transaction as every change to a body: a send, an
-- edit, a deletion (which empties the body), a message added in the admin console, and
-- rows deleted with their chat or sender. No code path can forget one.
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_search (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_search (messages_search, rowid, body)
    VALUES ('delete', old.id, old.body);
END;

CREATE TRIGGER messages_search_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_search (messages_search, rowid, body)
    VALUES ('delete', old.id, old.body);
    INSERT INTO messages_search (rowid, body) VALUES (new.id, new.body);
END;

-- An existing team's messages, indexed as `kanect migrate` (or the first start) applies
-- this migration.
INSERT INTO messages_search (messages_search) VALUES ('rebuild');
