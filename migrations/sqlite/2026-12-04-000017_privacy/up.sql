-- Privacy: a tamper-evident audit log. Every entry carries the hash of the entry before it in its
-- chain and its own hash (SHA-256 over the previous hash and the entry's fields), so editing,
-- deleting or inserting an entry directly in the database breaks the chain. There is one chain
-- per municipality (the entries filed in its log) and one, named 'scheme', for the entries filed
-- in none. Keep in step with migrations/postgres (a test compares the two schemas).
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN entry_hash TEXT;

-- The end of each chain: the last entry's id and hash and the number of entries, updated in the
-- transaction that appends. Appenders lock this row, so two servers cannot fork a chain, and it
-- is what an entry deleted from the end of a chain is found missing against.
CREATE TABLE audit_chains (
    chain TEXT PRIMARY KEY NOT NULL,
    last_id BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    length BIGINT NOT NULL CHECK (length >= 0)
);

-- The chain start for the entries written before this migration: SQL on SQLite cannot compute
-- SHA-256, so the migration only records the last id that existed; the first run of the
-- migrations by the program after it hashes those entries into their chains in id order (from
-- the chains' start) and sets sealed. Any entry after legacy_until without a hash is a break.
CREATE TABLE audit_chain_start (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    legacy_until BIGINT NOT NULL,
    sealed BOOLEAN NOT NULL
);
INSERT INTO audit_chain_start (id, legacy_until, sealed) SELECT 1, COALESCE(MAX(id), 0), FALSE FROM audit_log;
