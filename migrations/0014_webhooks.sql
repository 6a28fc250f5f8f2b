-- Outgoing webhooks. The signature of a webhook is an HMAC with the bot key, so the key
-- itself must be at hand when a message is sent: it is kept sealed (AES-256-GCM, under a
-- key derived from the server's `secret_key`), beside the SHA-256 the bot URL looks up.
-- A copy of the database alone gives no bot key away.
ALTER TABLE users ADD COLUMN bot_key_sealed BLOB;

-- Every try of every webhook, for the console: what was sent where, and what came of it.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    bot_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id  INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    try         INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('delivered', 'replied', 'failed', 'refused')),
    status      INTEGER,
    detail      TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_bot ON webhook_attempts (bot_id, id);
CREATE INDEX webhook_attempts_by_message ON webhook_attempts (message_id);
CREATE INDEX webhook_attempts_by_time ON webhook_attempts (created_at);
