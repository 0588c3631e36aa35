-- Per-app key-value storage for the views of tenant apps. Portable SQL, like 0001.
--
-- A scope is an opaque string chosen by the server (an app id, `local/<app>`...), so there is
-- no foreign key. Keys are stored as bytes (the UTF-8 of the key string), not TEXT, so that
-- ordering and prefix ranges are byte-wise on both backends: Postgres orders TEXT by the
-- database's collation, and SQLite has no "C" collation to ask for. Values are opaque bytes.

CREATE TABLE kv_entries (
    scope TEXT NOT NULL,
    key BYTEA NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Running totals per scope, kept exact by every write in the same transaction:
-- keys = number of entries, bytes = sum over entries of (key length + value length).
-- Writers of a scope write its row first, which serializes them (the row lock on Postgres,
-- the write lock on SQLite). A scope with no row holds nothing.
CREATE TABLE kv_usage (
    scope TEXT NOT NULL PRIMARY KEY,
    keys BIGINT NOT NULL,
    bytes BIGINT NOT NULL
);
