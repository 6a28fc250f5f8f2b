-- Written only by the writer's health probe while writes are failing (see src/db/writer.rs):
-- a row that needs room in the file, deleted in the same transaction.
CREATE TABLE writer_probe (
    id      INTEGER PRIMARY KEY,
    payload BLOB    NOT NULL
);
