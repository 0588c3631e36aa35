-- Livewasm registry schema. Portable SQL: runs unchanged on SQLite and Postgres.
-- Ids are TEXT, timestamps are BIGINT unix milliseconds, blobs are BYTEA (in SQLite the
-- declared type only gives the column NUMERIC affinity, which stores blob values as blobs).
-- Counters that must be sequential (version numbers, activation order, audit order) are kept
-- in rows and bumped with UPDATE ... RETURNING, since SQLite and Postgres have no common
-- auto-increment syntax.

CREATE TABLE tenants (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE apps (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- highest version number handed out so far
    last_version BIGINT NOT NULL DEFAULT 0,
    -- highest activation sequence number handed out so far
    last_activation BIGINT NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, name)
);

CREATE TABLE api_tokens (
    id TEXT NOT NULL PRIMARY KEY,
    -- hex sha256 of the token text; the token itself is never stored
    token_sha256 TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    scope TEXT NOT NULL,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    app_id TEXT REFERENCES apps (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    CHECK (
        (scope = 'operator' AND tenant_id IS NULL AND app_id IS NULL)
        OR (scope = 'tenant' AND tenant_id IS NOT NULL AND app_id IS NULL)
        OR (scope = 'deploy' AND tenant_id IS NOT NULL AND app_id IS NOT NULL)
    )
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

-- Component artifacts, content-addressed: one row per distinct sha256.
CREATE TABLE blobs (
    sha256 TEXT NOT NULL PRIMARY KEY,
    size BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE versions (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    size BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, number)
);
CREATE INDEX versions_sha256 ON versions (sha256);

-- Activation history per app. The active version is the newest row not undone; a rollback
-- marks the newest row undone, so the one before it becomes active again.
CREATE TABLE activations (
    app_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    version BIGINT NOT NULL,
    activated_by TEXT NOT NULL,
    activated_at BIGINT NOT NULL,
    undone_at BIGINT,
    PRIMARY KEY (app_id, seq),
    FOREIGN KEY (app_id, version) REFERENCES versions (app_id, number) ON DELETE CASCADE
);

-- Per-tenant quota overrides; NULL means "use the host's default".
CREATE TABLE tenant_quotas (
    tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    max_apps BIGINT,
    max_component_bytes BIGINT,
    max_concurrent_instances BIGINT,
    memory_mib_per_instance BIGINT,
    fuel_per_callback BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE counters (
    name TEXT NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('audit', 0);

-- One row per change. No foreign keys: the log outlives what it talks about.
CREATE TABLE audit_log (
    seq BIGINT NOT NULL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    tenant_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
