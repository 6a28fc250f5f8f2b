-- Invite links: sign-up through `/join/<code>` (the default `signup = invite`). Only a
-- SHA-256 of the code is kept, as for sessions: the link is shown once, when it is made,
-- and a leaked table lets nobody in. The setup code of a first run needs no table: it
-- lives in data_dir/setup_code, and the first user's creation checks that no user exists
-- in the same write transaction.
CREATE TABLE invites (
    id         INTEGER PRIMARY KEY,
    code_hash  BLOB    NOT NULL UNIQUE,
    note       TEXT    NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- NULL: as many uses as people come before it expires.
    max_uses   INTEGER,
    uses       INTEGER NOT NULL DEFAULT 0,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX invites_by_creator ON invites (created_by, id);
