-- Profiles: a display name shown before the username, preferences that follow a person
-- from browser to browser, and an avatar (see SQLite's 0009).
ALTER TABLE users ADD COLUMN display_name TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN preferences TEXT COLLATE "C" NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN avatar_version TEXT COLLATE "C";

CREATE TABLE avatars (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    content_type TEXT COLLATE "C" NOT NULL,
    data         BYTEA  NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- A changed display name, avatar or theme reaches every instance's cached sessions
-- (sends and pages carry them), as a changed username or role does.
DROP TRIGGER people_changed ON users;
CREATE TRIGGER people_changed
    AFTER UPDATE OF username, role, password_hash, is_active, display_name, avatar_version,
                     preferences OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION kanect_sessions_changed();
