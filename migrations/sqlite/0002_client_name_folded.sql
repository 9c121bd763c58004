-- The client name in lower case, folded by Keygate itself (Rust's Unicode lower-casing) whenever it
-- writes a name, so the Clients page search is case-insensitive for every script on both engines:
-- SQLite's LOWER() folds ASCII only, and PostgreSQL's depends on the database's locale.
ALTER TABLE clients ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';
-- Rows written before this migration: LOWER() is the best SQL can do (exact for ASCII names); the
-- next edit of the name folds it fully.
UPDATE clients SET name_folded = LOWER(name);
