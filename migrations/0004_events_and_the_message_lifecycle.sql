-- The live event stream (contract v2) and what the message lifecycle keeps.

-- One row per change that members see, written in the transaction of the change. A row
-- names its object; readers render the object's current state, so a replay is harmless.
-- No foreign keys: an event outlives its chat or message (readers skip what is gone), and
-- the table is pruned by age (`events_keep_days`).
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('message', 'message_edited',
                   'message_deleted', 'reaction', 'chat', 'chat_removed')),
    message_id INTEGER,
    -- The one person an event is for, when it is not for every member: a `chat_removed`
    -- (no longer a member, so membership cannot say who should see it), or a `chat`
    -- whose change is that person's own view (archived, read up to). NULL otherwise.
    user_id    INTEGER,
    created_at INTEGER NOT NULL,
    CHECK (kind <> 'chat_removed' OR user_id IS NOT NULL),
    CHECK (user_id IS NULL OR kind IN ('chat', 'chat_removed'))
);
CREATE INDEX events_by_chat ON events (chat_id, seq);
CREATE INDEX events_by_user ON events (user_id, seq) WHERE user_id IS NOT NULL;
CREATE INDEX events_by_time ON events (created_at);

-- Cursors were message ids before the stream: start the sequence past them, so an old
-- tab's cursor reads as expired (410: reload) instead of as a position in the stream.
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'events', COALESCE(MAX(id), 0) FROM messages;

CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;

-- Who a message mentions (`@all` in a group: every member but the sender), so a chat can
-- count the unread messages that mention its reader.
CREATE TABLE mentions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, user_id)
) WITHOUT ROWID;
CREATE INDEX mentions_by_user ON mentions (user_id, message_id);

-- The newest message a long poll of this member has returned to them ("delivered"),
-- written from memory in batches.
ALTER TABLE chat_members ADD COLUMN delivered_up_to INTEGER NOT NULL DEFAULT 0;
