-- Profiles: a display name shown before the username, preferences that follow a person
-- from browser to browser, and an avatar.
-- NULL until the person chooses one; the API then shows the username.
ALTER TABLE users ADD COLUMN display_name TEXT;
-- `{notifications, sound, theme, enter_sends}` as JSON; `{}` means every default.
ALTER TABLE users ADD COLUMN preferences TEXT NOT NULL DEFAULT '{}';
-- Names the current avatar in its URL (`/avatars/<id>/<version>`), so a new one is a new
-- URL that browsers may keep for a year; NULL without one. Set with `avatars` in one
-- transaction.
ALTER TABLE users ADD COLUMN avatar_version TEXT;

-- The avatar itself: 256 px square, re-encoded by Kanect (never the uploaded bytes).
CREATE TABLE avatars (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    updated_at   INTEGER NOT NULL
);
