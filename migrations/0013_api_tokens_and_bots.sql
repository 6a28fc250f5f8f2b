-- Personal API tokens (`Authorization: Bearer`): only a SHA-256 of each token is kept. A
-- token is 256 random bits, so a fast hash is right: nobody can guess one, and a slow
-- (argon2) hash would only make every API request slow.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, id);

-- Bots are users that cannot sign in (no password: `password_hash` is '!', which no
-- password matches) and post through `/bots/<key>/...`. A flag rather than a fourth role:
-- the role column's CHECK cannot change without rebuilding `users`, which every other
-- table references, and a bot is never staff, so it stays a `member`.
ALTER TABLE users ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1));
-- SHA-256 of the bot key (256 random bits, shown once).
ALTER TABLE users ADD COLUMN bot_key_hash BLOB;
CREATE UNIQUE INDEX users_by_bot_key ON users (bot_key_hash);
-- Kept for outgoing webhooks (not sent yet); http(s) only.
ALTER TABLE users ADD COLUMN webhook_url TEXT;
