-- Each member's notification level for a chat: `all`, `mentions` or `none`. Their own view,
-- like `archived`; browsers read it in the chat object to decide what notifies.
ALTER TABLE chat_members ADD COLUMN notify TEXT NOT NULL DEFAULT 'all'
    CHECK (notify IN ('all', 'mentions', 'none'));
