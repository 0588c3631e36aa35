//! Per-tenant HTTP allowlists in the store, written once as async functions and run on SQLite
//! (a temp file, always) and on Postgres (a fresh schema per test, when
//! `LIVEWASM_TEST_DATABASE_URL` is set; `tests/postgres.sh` at the workspace root starts a
//! throwaway server and prints such a URL), with the fixture in `tests/common`, the same way
//! as `tests/registry.rs`. The entry syntax itself is unit-tested in `src/http_allow.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Setup;
use livewasm_registry::{
    AuditQuery, Backend, MAX_HTTP_ALLOWLIST_ENTRIES, Principal, QuotaDefaults, Registry,
    RegistryError, Scope, TenantId,
};

const SETUP: Setup = Setup {
    temp_dir_prefix: "livewasm-http-allow-",
    db_path: "registry.db",
    schema_prefix: "lw_http_allow_test_",
    quota_defaults: QuotaDefaults::default,
};

/// What each suite function gets: a freshly opened registry and a raw pool on its database.
type Session = common::Session;

common::backend_tests! {
    setup: SETUP,
    with_session: [
        set_and_read_back,
        replace_and_clear,
        only_operators_may_set,
        invalid_entries_change_nothing,
        at_most_100_entries,
        lists_are_per_tenant,
        deleting_the_tenant_deletes_its_list,
        concurrent_replacements_never_mix,
    ],
}

fn op() -> Principal {
    Principal::system("test")
}

fn strings(hosts: &[&str]) -> Vec<String> {
    hosts.iter().map(|h| (*h).to_owned()).collect()
}

/// A token principal with `scope`.
async fn principal(registry: &Registry, scope: Scope) -> Principal {
    let new = registry
        .create_token(&op(), "t", scope)
        .await
        .expect("create token");
    registry
        .authenticate(&new.token)
        .await
        .expect("authenticate")
        .expect("token authenticates")
}

/// The rows `tenant_http_allow` holds for `tenant`, counted with raw SQL.
async fn stored_rows(s: &Session, tenant: &TenantId) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM tenant_http_allow WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_one(&s.raw)
        .await
        .unwrap()
}

/// How many audit rows there are in all.
async fn audit_len(registry: &Registry) -> usize {
    registry
        .audit_log(
            &op(),
            &AuditQuery {
                limit: 1000,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap()
        .len()
}

async fn set_and_read_back(s: Session) {
    let registry = &s.registry;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    assert!(registry.http_allowlist(&acme.id).await.unwrap().is_empty());

    let given = strings(&[
        "API.Example.com",
        "*.cdn.example.net:8443",
        "192.0.2.1",
        "[2001:DB8::1]:443",
        "api.example.com",
    ]);
    let set = registry
        .set_http_allowlist(&op(), &acme.id, &given)
        .await
        .unwrap();
    let expected = strings(&[
        "*.cdn.example.net:8443",
        "192.0.2.1",
        "[2001:db8::1]:443",
        "api.example.com",
    ]);
    assert_eq!(set, expected, "normalized, duplicates collapsed, sorted");
    assert_eq!(registry.http_allowlist(&acme.id).await.unwrap(), expected);
    assert_eq!(stored_rows(&s, &acme.id).await, 4);

    // The change is audited, with the list before and after.
    let log = registry
        .audit_log(
            &op(),
            &AuditQuery {
                tenant: Some(acme.id.clone()),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    let entry = &log[0];
    assert_eq!(entry.action, "http_allow.set");
    assert_eq!(entry.target, "tenant:acme");
    assert_eq!(entry.actor, "system:test");
    assert_eq!(entry.tenant_id.as_ref(), Some(&acme.id));
    assert_eq!(entry.detail["before"], serde_json::json!([]));
    assert_eq!(entry.detail["after"], serde_json::json!(expected));

    // It survives reopening.
    registry.close().await;
    let reopened = Registry::open(&s.location, QuotaDefaults::default())
        .await
        .unwrap();
    assert_eq!(reopened.http_allowlist(&acme.id).await.unwrap(), expected);
    reopened.close().await;
}

async fn replace_and_clear(s: Session) {
    let registry = &s.registry;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    registry
        .set_http_allowlist(&op(), &acme.id, &strings(&["a.example", "b.example"]))
        .await
        .unwrap();
    let replaced = registry
        .set_http_allowlist(&op(), &acme.id, &strings(&["c.example", "b.example"]))
        .await
        .unwrap();
    assert_eq!(replaced, strings(&["b.example", "c.example"]));
    assert_eq!(registry.http_allowlist(&acme.id).await.unwrap(), replaced);
    assert_eq!(stored_rows(&s, &acme.id).await, 2);

    let log = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(
        log[0].detail["before"],
        serde_json::json!(["a.example", "b.example"])
    );

    let cleared = registry
        .set_http_allowlist(&op(), &acme.id, &[])
        .await
        .unwrap();
    assert!(cleared.is_empty());
    assert!(registry.http_allowlist(&acme.id).await.unwrap().is_empty());
    assert_eq!(stored_rows(&s, &acme.id).await, 0);
}

async fn only_operators_may_set(s: Session) {
    let registry = &s.registry;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let blog = registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    registry
        .set_http_allowlist(&op(), &acme.id, &strings(&["api.example.com"]))
        .await
        .unwrap();
    let tenant = principal(registry, Scope::tenant(&acme)).await;
    let deploy = principal(registry, Scope::deploy(&blog)).await;
    let audit_rows = audit_len(registry).await;
    for who in [&tenant, &deploy] {
        for hosts in [strings(&["evil.example"]), Vec::new()] {
            match registry.set_http_allowlist(who, &acme.id, &hosts).await {
                Err(RegistryError::Forbidden) => {}
                other => panic!("expected Forbidden, got {other:?}"),
            }
        }
    }
    // Refused before looking at the entries.
    match registry
        .set_http_allowlist(&tenant, &acme.id, &strings(&["not a host"]))
        .await
    {
        Err(RegistryError::Forbidden) => {}
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert_eq!(
        registry.http_allowlist(&acme.id).await.unwrap(),
        strings(&["api.example.com"])
    );
    assert_eq!(
        audit_len(registry).await,
        audit_rows,
        "refusals are not audited"
    );

    // An operator token may.
    let operator = principal(registry, Scope::Operator).await;
    assert_eq!(
        registry
            .set_http_allowlist(&operator, &acme.id, &strings(&["b.example"]))
            .await
            .unwrap(),
        strings(&["b.example"])
    );
}

async fn invalid_entries_change_nothing(s: Session) {
    let registry = &s.registry;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    registry
        .set_http_allowlist(&op(), &acme.id, &strings(&["ok.example"]))
        .await
        .unwrap();
    let audit_rows = audit_len(registry).await;
    for bad in [
        "https://api.example.com",
        "api.example.com/v1",
        "user@api.example.com",
        "api.example.com:0",
        "",
        "two words.example",
        "2001:db8::1",
    ] {
        let hosts = strings(&["fine.example", bad]);
        match registry.set_http_allowlist(&op(), &acme.id, &hosts).await {
            Err(e @ RegistryError::InvalidHttpHost { .. }) => {
                let RegistryError::InvalidHttpHost { entry, .. } = &e else {
                    unreachable!()
                };
                assert_eq!(entry, bad);
                assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
            }
            other => panic!("{bad:?}: expected InvalidHttpHost, got {other:?}"),
        }
    }
    assert_eq!(
        registry.http_allowlist(&acme.id).await.unwrap(),
        strings(&["ok.example"])
    );
    assert_eq!(audit_len(registry).await, audit_rows);

    // An unknown tenant is not found.
    match registry
        .set_http_allowlist(&op(), &TenantId::from("ten_nope".to_owned()), &[])
        .await
    {
        Err(RegistryError::NotFound { what }) => assert!(what.contains("ten_nope"), "{what}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

async fn at_most_100_entries(s: Session) {
    let registry = &s.registry;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    assert_eq!(MAX_HTTP_ALLOWLIST_ENTRIES, 100);
    let hosts: Vec<String> = (1..=101).map(|i| format!("h{i:03}.example")).collect();
    let hundred = registry
        .set_http_allowlist(&op(), &acme.id, &hosts[..100])
        .await
        .unwrap();
    assert_eq!(hundred.len(), 100);
    assert_eq!(hundred, hosts[..100]);

    match registry.set_http_allowlist(&op(), &acme.id, &hosts).await {
        Err(
            e @ RegistryError::TooManyHttpHosts {
                given: 101,
                limit: 100,
            },
        ) => {
            assert!(e.to_string().contains("100"), "{e}");
        }
        other => panic!("expected TooManyHttpHosts, got {other:?}"),
    }
    assert_eq!(registry.http_allowlist(&acme.id).await.unwrap(), hundred);

    // Duplicates (also after normalizing) count once.
    let mut doubled = hosts[..100].to_vec();
    doubled.extend(hosts[..100].iter().map(|h| h.to_uppercase()));
    assert_eq!(
        registry
            .set_http_allowlist(&op(), &acme.id, &doubled)
            .await
            .unwrap(),
        hundred
    );
}

async fn lists_are_per_tenant(s: Session) {
    let registry = &s.registry;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let globex = registry.create_tenant(&op(), "globex").await.unwrap();
    registry
        .set_http_allowlist(
            &op(),
            &acme.id,
            &strings(&["acme.example", "shared.example"]),
        )
        .await
        .unwrap();
    registry
        .set_http_allowlist(&op(), &globex.id, &strings(&["shared.example"]))
        .await
        .unwrap();
    registry
        .set_http_allowlist(&op(), &globex.id, &strings(&["globex.example"]))
        .await
        .unwrap();
    assert_eq!(
        registry.http_allowlist(&acme.id).await.unwrap(),
        strings(&["acme.example", "shared.example"])
    );
    assert_eq!(
        registry.http_allowlist(&globex.id).await.unwrap(),
        strings(&["globex.example"])
    );
}

async fn deleting_the_tenant_deletes_its_list(s: Session) {
    let registry = &s.registry;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let globex = registry.create_tenant(&op(), "globex").await.unwrap();
    registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    for tenant in [&acme, &globex] {
        registry
            .set_http_allowlist(&op(), &tenant.id, &strings(&["a.example", "b.example"]))
            .await
            .unwrap();
    }
    // The registry has no call that deletes a tenant; its rows go with the tenant's row, by
    // the foreign key, as its apps and quota overrides do.
    if registry.backend() == Backend::Sqlite {
        sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&s.raw)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(acme.id.as_str())
        .execute(&s.raw)
        .await
        .unwrap();
    assert_eq!(stored_rows(&s, &acme.id).await, 0);
    assert!(registry.http_allowlist(&acme.id).await.unwrap().is_empty());
    assert_eq!(stored_rows(&s, &globex.id).await, 2);
    // A new tenant of the same name starts with an empty list.
    let again = registry.create_tenant(&op(), "acme").await.unwrap();
    assert!(registry.http_allowlist(&again.id).await.unwrap().is_empty());
}

async fn concurrent_replacements_never_mix(s: Session) {
    let registry = &s.registry;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let lists: Vec<Vec<String>> = (0..6)
        .map(|i| (0..10).map(|j| format!("l{i}-h{j}.example")).collect())
        .collect();
    let mut tasks = Vec::new();
    for list in lists.clone() {
        let registry = registry.clone();
        let tenant = acme.id.clone();
        tasks.push(tokio::spawn(async move {
            registry.set_http_allowlist(&op(), &tenant, &list).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let last = registry.http_allowlist(&acme.id).await.unwrap();
    assert!(lists.contains(&last), "a whole list, not a mix: {last:?}");
}
