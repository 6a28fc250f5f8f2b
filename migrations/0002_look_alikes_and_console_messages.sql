-- Usernames that look alike (UTS #39 confusables: "alice" and Cyrillic "аlice") are one
-- name. The skeleton is computed in Rust (`validate::look_alike_key`), which SQL cannot do:
-- Kanect fills it in for every row still NULL each time it opens the database (see
-- `db::users::settle_names`). A NULL stays only where an older account already holds the
-- skeleton: both accounts keep working, Kanect warns at every start until one is renamed,
-- and a new name can still not take that skeleton, because the older account holds it.
ALTER TABLE users ADD COLUMN username_skeleton TEXT;
CREATE UNIQUE INDEX users_by_skeleton ON users (username_skeleton);


-- The staff member who added a message in the admin console under another person's
-- name: their username at that time (kept when that account is renamed or deleted, as
-- the marker must outlive it). NULL for every message its sender sent.
ALTER TABLE messages ADD COLUMN added_by TEXT;
