-- Each member's notification level for a chat (see SQLite's 0010).
ALTER TABLE chat_members ADD COLUMN notify TEXT COLLATE "C" NOT NULL DEFAULT 'all'
    CHECK (notify IN ('all', 'mentions', 'none'));
