-- Kanect schema. Timestamps are Unix milliseconds (UTC) as INTEGER.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL,
    -- NFC-normalised, lower-cased username: makes names unique regardless of case.
    username_key  TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'staff', 'superuser')),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    INTEGER NOT NULL,
    last_login    INTEGER,
    last_seen     INTEGER
);

CREATE TABLE chats (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('direct', 'group')),
    title           TEXT,
    status          TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    -- 'low:high' user ids of a direct chat, so that a pair has at most one; NULL for groups.
    direct_key      TEXT    UNIQUE,
    created_at      INTEGER NOT NULL,
    last_message_at INTEGER,
    CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
);

CREATE TABLE chat_members (
    chat_id              INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id              INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at            INTEGER NOT NULL,
    last_read_message_id INTEGER NOT NULL DEFAULT 0,
    archived             INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;

-- A member's chats, for the chat list and the updates query.
CREATE INDEX chat_members_by_user ON chat_members (user_id, chat_id);

-- AUTOINCREMENT: ids never go back, even after deleting the newest message,
-- because clients use them as cursors.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted_at INTEGER
);

-- History paging, unread counts and the updates query all walk one chat by id.
CREATE INDEX messages_by_chat ON messages (chat_id, id);
CREATE INDEX messages_by_sender ON messages (sender_id, id);
CREATE INDEX messages_by_created ON messages (created_at);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    -- SHA-256 of the cookie token: a leaked table does not sign anyone in.
    token_hash   BLOB    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    user_agent   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX sessions_by_user ON sessions (user_id);

-- Django's LogEntry: action 1 = addition, 2 = change, 3 = deletion.
CREATE TABLE admin_log (
    id             INTEGER PRIMARY KEY,
    action_time    INTEGER NOT NULL,
    user_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    object_type    TEXT    NOT NULL,
    object_id      TEXT    NOT NULL,
    object_repr    TEXT    NOT NULL,
    action_flag    INTEGER NOT NULL CHECK (action_flag IN (1, 2, 3)),
    change_message TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX admin_log_by_object ON admin_log (object_type, object_id, action_time);
CREATE INDEX admin_log_by_time ON admin_log (action_time);
