-- Files attached to messages. The bytes live in the database, in chunks: a backup stays
-- one file, several instances share them, and a download holds one chunk at a time.
CREATE TABLE files (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    uploader_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The message that carries it; NULL until one claims it (unclaimed uploads are
    -- removed after a day). A deleted message's files are deleted with it.
    message_id   INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    -- Hex SHA-256 of the bytes (the ETag); NULL while the upload is under way.
    sha256       TEXT,
    -- An image that decoded: its size after EXIF rotation, and a thumbnail at most
    -- 400 px on the long side. All NULL for any other file.
    width        INTEGER,
    height       INTEGER,
    thumbnail    BLOB,
    thumbnail_type TEXT,
    created_at   INTEGER NOT NULL,
    CHECK ((width IS NULL) = (thumbnail IS NULL) AND (width IS NULL) = (height IS NULL)
           AND (thumbnail IS NULL) = (thumbnail_type IS NULL))
);
CREATE INDEX files_by_message ON files (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX files_by_chat ON files (chat_id, id);
CREATE INDEX files_by_uploader ON files (uploader_id);
CREATE INDEX files_unclaimed ON files (created_at) WHERE message_id IS NULL;

-- Chunk `n` holds bytes [n * chunk size, (n + 1) * chunk size) of its file.
CREATE TABLE file_chunks (
    file_id INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    n       INTEGER NOT NULL,
    bytes   BLOB    NOT NULL,
    PRIMARY KEY (file_id, n)
);
