-- Per-app blobs: named files an app stores and the server serves back on its origin.
-- Portable SQL, like 0001 and 0002.
--
-- A scope is an opaque string chosen by the server (an app id...), so there is no foreign key;
-- deleting an app deletes its scope's rows. Names are validated ASCII (letters, digits and
-- `-_./`), so TEXT holds them exactly; queries that order or range over names compare them
-- bytewise (SQLite's default BINARY collation; COLLATE "C" on Postgres, whose TEXT otherwise
-- follows the database's collation). `sha256` is the lowercase hex of `bytes`, `size` their
-- length, `created_at` unix ms of the write that stored them.
--
-- Not to be confused with `blobs` (0001), the content-addressed component artifacts.

CREATE TABLE app_blobs (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (scope, name)
);

-- Running totals per scope, kept exact by every write in the same transaction:
-- blobs = number of rows in app_blobs, bytes = sum of their sizes.
-- Writers of a scope write its row first, which serializes them (the row lock on Postgres,
-- the write lock on SQLite). A scope with no row holds nothing.
CREATE TABLE blob_usage (
    scope TEXT NOT NULL PRIMARY KEY,
    blobs BIGINT NOT NULL,
    bytes BIGINT NOT NULL
);
