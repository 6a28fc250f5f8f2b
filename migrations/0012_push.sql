-- Web Push subscriptions: one row per browser (its push service endpoint), for the person
-- signed in there. The endpoint is unique: a browser that subscribes again, or is signed
-- into by someone else, replaces its row. `p256dh` and `auth` are the browser's keys
-- (base64url), which the payload is encrypted to (RFC 8291).
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, id);
