-- Per-tenant allowlist of hosts the tenant's apps may send HTTP requests to, set by the
-- platform operator. Portable SQL, like 0001 to 0003.
--
-- `host` is an entry as `normalize_http_host` (src/http_allow.rs) returns it: a lowercase
-- DNS name, optionally with a leading `*.` wildcard label, an IPv4 address or a bracketed
-- IPv6 address, optionally followed by `:port`. Entries are ASCII, so TEXT holds them exactly;
-- the registry sorts them itself rather than relying on either database's collation.
-- Rows go with their tenant (ON DELETE CASCADE), like `tenant_quotas`.

CREATE TABLE tenant_http_allow (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    PRIMARY KEY (tenant_id, host)
);
