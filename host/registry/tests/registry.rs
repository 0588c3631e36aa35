//! The registry's behaviour, written once as async functions and run on SQLite (a temp file,
//! always) and on Postgres (a fresh schema per test, when `LIVEWASM_TEST_DATABASE_URL` is set;
//! `tests/postgres.sh` at the workspace root starts a throwaway server and prints such a URL),
//! with the fixture in `tests/common`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Cleanup, Fixture, Session, Setup};
use livewasm_registry::{
    App, AuditQuery, Backend, LAST_USED_RESOLUTION_MS, MAX_AUDIT_LIMIT, Principal, Quota,
    QuotaDefaults, QuotaOverrides, Quotas, Registry, RegistryError, Scope, TenantId, TokenId,
    token_hash,
};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Small defaults so the quota paths are cheap to reach.
const DEFAULTS: QuotaDefaults = Quotas {
    max_apps: 3,
    max_component_bytes: 1024,
    max_concurrent_instances: 50,
    memory_mib_per_instance: 16,
    fuel_per_callback: 1_000_000,
};

/// A space and a '#' in the temp path exercise the path → URL encoding; the file's parent
/// does not exist yet, so opening must create it.
const SETUP: Setup = Setup {
    temp_dir_prefix: "livewasm registry#",
    db_path: "state/registry.db",
    schema_prefix: "lw_test_",
    quota_defaults: || DEFAULTS,
};

// Functions run `with_registry` take a freshly opened `Registry`; those run `with_fixture`
// take the `&Fixture`.
common::backend_tests! {
    setup: SETUP,
    with_registry: [
        tenants_and_apps,
        duplicate_names,
        bad_names,
        token_revocation,
        scopes_and_cross_tenant_refusal,
        activate_and_rollback,
        quotas_defaults_and_overrides,
        concurrent_changes_respect_quotas,
        audit_rows,
    ],
    with_fixture: [
        tokens_are_shown_once_and_stored_hashed,
        upload_dedupes_content,
        delete_app_removes_everything_it_owns,
        reopen_keeps_data_and_migrations_are_idempotent,
    ],
    with_session: [token_expiry_and_last_use, audit_limit_is_capped],
}

fn op() -> Principal {
    Principal::system("test")
}

fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, RegistryError>) {
    match result {
        Err(RegistryError::Forbidden) => {}
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, RegistryError>) {
    match result {
        Err(RegistryError::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

async fn principal(registry: &Registry, label: &str, scope: Scope) -> (Principal, TokenId) {
    let new = registry
        .create_token(&op(), label, scope)
        .await
        .expect("create token");
    let principal = registry
        .authenticate(&new.token)
        .await
        .expect("authenticate")
        .expect("token authenticates");
    (principal, new.info.id)
}

// ---------------------------------------------------------------------------------------------

async fn tenants_and_apps(registry: Registry) {
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    assert_eq!(acme.name, "acme");
    assert!(acme.id.as_str().starts_with("ten_"));
    assert!(acme.created_at > 0);
    assert_eq!(registry.tenant("acme").await.unwrap(), acme);
    assert_eq!(registry.tenant_by_id(&acme.id).await.unwrap(), acme);
    assert_not_found(registry.tenant("nobody").await);

    let blog = registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    let shop = registry.create_app(&op(), &acme.id, "shop").await.unwrap();
    assert_eq!(blog.tenant_id, acme.id);
    assert_eq!(blog.tenant_name, "acme");
    assert_eq!(blog.path(), "acme/blog");
    assert_eq!(registry.app("acme", "blog").await.unwrap(), blog);
    assert_eq!(registry.app_by_id(&shop.id).await.unwrap(), shop);
    assert_eq!(
        registry.apps(&acme.id).await.unwrap(),
        vec![blog.clone(), shop]
    );
    assert_not_found(registry.app("acme", "nope").await);
    assert_not_found(registry.app("other", "blog").await);
    assert_not_found(
        registry
            .create_app(&op(), &TenantId::from("ten_missing"), "x")
            .await,
    );

    let globex = registry.create_tenant(&op(), "globex").await.unwrap();
    let names: Vec<_> = registry
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["acme", "globex"]);
    assert!(registry.apps(&globex.id).await.unwrap().is_empty());
    assert_eq!(registry.active_version(&blog).await.unwrap(), None);
}

async fn duplicate_names(registry: Registry) {
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    match registry.create_tenant(&op(), "acme").await {
        Err(RegistryError::AlreadyExists { what }) => assert_eq!(what, "tenant acme"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    match registry.create_app(&op(), &acme.id, "blog").await {
        Err(RegistryError::AlreadyExists { what }) => assert_eq!(what, "app acme/blog"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    // The same app name in another tenant is fine.
    let globex = registry.create_tenant(&op(), "globex").await.unwrap();
    registry
        .create_app(&op(), &globex.id, "blog")
        .await
        .unwrap();
    assert_eq!(registry.tenants().await.unwrap().len(), 2);
    assert_eq!(registry.apps(&acme.id).await.unwrap().len(), 1);
    // Failed changes leave no audit rows: 2 tenants + 2 apps.
    let log = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(log.len(), 4);
}

async fn bad_names(registry: Registry) {
    let long = "a".repeat(41);
    for bad in [
        "",
        "Acme",
        "my_app",
        "-acme",
        "acme-",
        "a.b",
        "ünï",
        "a b",
        long.as_str(),
    ] {
        match registry.create_tenant(&op(), bad).await {
            Err(RegistryError::InvalidName { kind, name, .. }) => {
                assert_eq!((kind, name.as_str()), ("tenant", bad));
            }
            other => panic!("tenant {bad:?}: expected InvalidName, got {other:?}"),
        }
    }
    let ok = registry
        .create_tenant(&op(), &"a".repeat(40))
        .await
        .unwrap();
    for bad in ["", "Blog", "blog!", long.as_str()] {
        match registry.create_app(&op(), &ok.id, bad).await {
            Err(RegistryError::InvalidName { kind, .. }) => assert_eq!(kind, "app"),
            other => panic!("app {bad:?}: expected InvalidName, got {other:?}"),
        }
    }
    registry.create_app(&op(), &ok.id, "0-9").await.unwrap();
    assert_eq!(registry.tenants().await.unwrap().len(), 1);
    assert_eq!(registry.apps(&ok.id).await.unwrap().len(), 1);
}

async fn tokens_are_shown_once_and_stored_hashed(fx: &Fixture) {
    let registry = fx.open().await;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let new = registry
        .create_token(&op(), "acme admin", Scope::tenant(&acme))
        .await
        .unwrap();
    assert!(new.token.starts_with("lw_"));
    assert_eq!(new.token.len(), 3 + 43, "lw_ + base64url of 32 bytes");
    assert!(new.info.id.as_str().starts_with("tok_"));
    assert_eq!(new.info.scope, Scope::tenant(&acme));
    assert_eq!(new.info.created_by, "system:test");
    assert_eq!(new.info.last_used_at, None);
    // A second token is different.
    let other = registry
        .create_token(&op(), "ops", Scope::Operator)
        .await
        .unwrap();
    assert_ne!(other.token, new.token);

    // What is stored: the sha256 of the text, never the text.
    let raw = fx.raw().await;
    let rows = sqlx::query(
        "SELECT id, token_sha256, label, scope, COALESCE(tenant_id, '') AS tenant_id, \
         COALESCE(app_id, '') AS app_id, created_by FROM api_tokens",
    )
    .fetch_all(&raw)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    let secret_tail = &new.token[3..];
    for row in &rows {
        for i in 0..7 {
            let value: String = row.try_get(i).unwrap();
            assert!(
                !value.contains(secret_tail),
                "token text stored in column {i}"
            );
        }
    }
    let stored: String = sqlx::query_scalar("SELECT token_sha256 FROM api_tokens WHERE id = $1")
        .bind(new.info.id.as_str())
        .fetch_one(&raw)
        .await
        .unwrap();
    let expected: String = Sha256::digest(new.token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stored, expected);
    assert_eq!(stored, token_hash(&new.token));
    raw.close().await;

    // The record never exposes the text; listing shows records only.
    let listed = registry.tokens(&op(), Some(&acme.id)).await.unwrap();
    assert_eq!(listed, vec![new.info.clone()]);
    assert!(!format!("{listed:?}").contains(secret_tail));

    // Authentication.
    let principal = registry.authenticate(&new.token).await.unwrap().unwrap();
    assert_eq!(principal.token_id(), Some(&new.info.id));
    assert_eq!(principal.label(), "acme admin");
    assert_eq!(principal.scope(), &Scope::tenant(&acme));
    assert_eq!(principal.actor(), format!("token:{}", new.info.id));
    let used = registry.token(&op(), &new.info.id).await.unwrap();
    assert!(used.last_used_at.is_some_and(|at| at >= used.created_at));

    let mut wrong = new.token.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(registry.authenticate(&wrong).await.unwrap(), None);
    assert_eq!(registry.authenticate("").await.unwrap(), None);
    assert_eq!(registry.authenticate("lw_").await.unwrap(), None);
    assert_eq!(
        registry.authenticate(&stored).await.unwrap(),
        None,
        "the hash is not a token"
    );
    assert_eq!(
        registry.authenticate(&new.token[3..]).await.unwrap(),
        None,
        "prefix required"
    );
    registry.close().await;
}

async fn token_revocation(registry: Registry) {
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let globex = registry.create_tenant(&op(), "globex").await.unwrap();
    let blog = registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    let (acme_admin, acme_admin_id) = principal(&registry, "a", Scope::tenant(&acme)).await;
    let (globex_admin, _) = principal(&registry, "g", Scope::tenant(&globex)).await;
    let (deployer, deployer_id) = principal(&registry, "d", Scope::deploy(&blog)).await;

    let victim = registry
        .create_token(&acme_admin, "ci", Scope::deploy(&blog))
        .await
        .unwrap();
    assert_eq!(victim.info.created_by, acme_admin.actor());
    assert!(
        registry
            .authenticate(&victim.token)
            .await
            .unwrap()
            .is_some()
    );

    // Another tenant does not even learn the token exists, nor does a sibling deploy token.
    assert_not_found(registry.revoke_token(&globex_admin, &victim.info.id).await);
    assert_not_found(registry.token(&globex_admin, &victim.info.id).await);
    assert_not_found(registry.revoke_token(&deployer, &victim.info.id).await);
    assert_not_found(registry.token(&deployer, &victim.info.id).await);
    assert!(
        registry
            .authenticate(&victim.token)
            .await
            .unwrap()
            .is_some()
    );

    let revoked = registry
        .revoke_token(&acme_admin, &victim.info.id)
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(registry.authenticate(&victim.token).await.unwrap(), None);
    // Idempotent, and still listed (as revoked).
    let again = registry
        .revoke_token(&acme_admin, &victim.info.id)
        .await
        .unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    let listed = registry.tokens(&acme_admin, Some(&acme.id)).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        listed
            .iter()
            .any(|t| t.id == victim.info.id && t.revoked_at.is_some())
    );

    // A token may revoke itself.
    registry
        .revoke_token(&deployer, &deployer_id)
        .await
        .unwrap();
    let token = registry.token(&op(), &deployer_id).await.unwrap();
    assert!(token.revoked_at.is_some());
    // Operators revoke anything.
    registry.revoke_token(&op(), &acme_admin_id).await.unwrap();
    assert_not_found(
        registry
            .revoke_token(&op(), &TokenId::from("tok_nope"))
            .await,
    );

    let actions: Vec<_> = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "token.revoke")
        .map(|e| (e.actor, e.target))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("system:test".to_owned(), format!("token:{acme_admin_id}")),
            (deployer.actor(), format!("token:{deployer_id}")),
            (acme_admin.actor(), format!("token:{}", victim.info.id)),
        ]
    );
}

async fn scopes_and_cross_tenant_refusal(registry: Registry) {
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let globex = registry.create_tenant(&op(), "globex").await.unwrap();
    let blog = registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    let shop = registry.create_app(&op(), &acme.id, "shop").await.unwrap();
    let g_app = registry
        .create_app(&op(), &globex.id, "blog")
        .await
        .unwrap();
    let (operator, _) = principal(&registry, "ops", Scope::Operator).await;
    let (a, _) = principal(&registry, "acme", Scope::tenant(&acme)).await;
    let (g, _) = principal(&registry, "globex", Scope::tenant(&globex)).await;
    let (d, _) = principal(&registry, "blog deploy", Scope::deploy(&blog)).await;

    // The pure checks.
    assert!(operator.is_operator() && operator.can_manage_tenant(&globex.id));
    assert!(operator.can_deploy(&g_app));
    assert!(a.can_manage_tenant(&acme.id) && !a.can_manage_tenant(&globex.id));
    assert!(a.can_deploy(&blog) && a.can_deploy(&shop) && !a.can_deploy(&g_app));
    assert!(g.can_deploy(&g_app) && !g.can_deploy(&blog));
    assert!(d.can_deploy(&blog) && !d.can_deploy(&shop) && !d.can_deploy(&g_app));
    assert!(!d.can_manage_tenant(&acme.id) && !a.is_operator() && !d.is_operator());
    assert!(a.can_grant(&Scope::deploy(&blog)) && !a.can_grant(&Scope::deploy(&g_app)));
    assert!(!a.can_grant(&Scope::Operator) && !d.can_grant(&Scope::deploy(&blog)));

    // The registry enforces them.
    assert_forbidden(registry.create_tenant(&a, "evil").await);
    assert_forbidden(registry.create_app(&a, &globex.id, "evil").await);
    assert_forbidden(registry.create_app(&d, &acme.id, "evil").await);
    assert_forbidden(registry.upload_version(&a, &g_app, b"x").await);
    assert_forbidden(registry.upload_version(&d, &shop, b"x").await);
    assert_forbidden(registry.activate(&g, &blog, 1).await);
    assert_forbidden(registry.rollback(&g, &blog).await);
    assert_forbidden(registry.create_token(&a, "x", Scope::Operator).await);
    assert_forbidden(registry.create_token(&a, "x", Scope::tenant(&globex)).await);
    assert_forbidden(registry.create_token(&a, "x", Scope::deploy(&g_app)).await);
    assert_forbidden(registry.create_token(&d, "x", Scope::deploy(&blog)).await);
    assert_forbidden(registry.tokens(&a, Some(&globex.id)).await);
    assert_forbidden(registry.tokens(&a, None).await);
    assert_forbidden(
        registry
            .set_quota_overrides(&a, &acme.id, QuotaOverrides::default())
            .await,
    );
    assert_forbidden(registry.audit_log(&a, &AuditQuery::default()).await);
    assert_forbidden(
        registry
            .audit_log(
                &a,
                &AuditQuery {
                    tenant: Some(globex.id.clone()),
                    ..AuditQuery::default()
                },
            )
            .await,
    );

    // Forged inputs: a deploy scope pairing acme with globex's app, and an App value
    // claiming globex's app belongs to acme. Both are checked against what is stored.
    let forged_scope = Scope::Deploy {
        tenant: acme.id.clone(),
        app: g_app.id.clone(),
    };
    assert_not_found(registry.create_token(&a, "x", forged_scope).await);
    let forged_app = App {
        tenant_id: acme.id.clone(),
        tenant_name: "acme".to_owned(),
        ..g_app.clone()
    };
    assert!(a.can_deploy(&forged_app), "the pure check trusts its input");
    assert_forbidden(registry.upload_version(&a, &forged_app, b"x").await);
    assert!(registry.versions(&g_app).await.unwrap().is_empty());

    // And what each may do, it can.
    let v = registry
        .upload_version(&d, &blog, b"blog v1")
        .await
        .unwrap();
    assert_eq!(v.uploaded_by, d.actor());
    registry.activate(&d, &blog, 1).await.unwrap();
    registry
        .upload_version(&a, &shop, b"shop v1")
        .await
        .unwrap();
    registry.create_app(&a, &acme.id, "wiki").await.unwrap();
    registry
        .create_token(&a, "wiki ci", Scope::deploy(&shop))
        .await
        .unwrap();
    registry.upload_version(&g, &g_app, b"g v1").await.unwrap();
    registry.create_tenant(&operator, "initech").await.unwrap();
    let acme_log = registry
        .audit_log(
            &a,
            &AuditQuery {
                tenant: Some(acme.id.clone()),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(
        acme_log
            .iter()
            .all(|e| e.tenant_id.as_ref() == Some(&acme.id))
    );
    assert!(!acme_log.is_empty());
}

async fn upload_dedupes_content(fx: &Fixture) {
    let registry = fx.open().await;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let blog = registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    let shop = registry.create_app(&op(), &acme.id, "shop").await.unwrap();
    // Not wasm at all: the registry stores bytes, it does not validate them. Include a NUL
    // and non-UTF-8 bytes to check blobs survive as blobs.
    let one: Vec<u8> = b"\0asm\x01\0\0\0 version one \xff\xfe".to_vec();
    let two: Vec<u8> = b"\0asm\x01\0\0\0 version two".to_vec();

    let v1 = registry.upload_version(&op(), &blog, &one).await.unwrap();
    let v2 = registry.upload_version(&op(), &blog, &two).await.unwrap();
    let s1 = registry.upload_version(&op(), &shop, &one).await.unwrap();
    assert_eq!((v1.number, v2.number, s1.number), (1, 2, 1));
    assert_eq!(v1.size, one.len() as u64);
    let sha_one: String = Sha256::digest(&one)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1.sha256, sha_one);
    assert_eq!(s1.sha256, v1.sha256);
    assert_ne!(v2.sha256, v1.sha256);
    assert_eq!(v1.uploaded_by, "system:test");
    assert_eq!(
        registry.versions(&blog).await.unwrap(),
        vec![v1.clone(), v2.clone()]
    );
    assert_eq!(registry.version(&blog, 2).await.unwrap(), v2);
    assert_not_found(registry.version(&blog, 3).await);
    assert_eq!(registry.component_bytes(&v1.sha256).await.unwrap(), one);
    assert_eq!(registry.component_bytes(&v2.sha256).await.unwrap(), two);
    assert_not_found(registry.component_bytes(&"0".repeat(64)).await);
    // Uploading versions activates nothing.
    assert_eq!(registry.active_version(&blog).await.unwrap(), None);

    let raw = fx.raw().await;
    let blobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM blobs")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(blobs, 2, "content stored once per sha256");
    if fx.backend == Backend::Sqlite {
        // BYTEA gives the column NUMERIC affinity in SQLite, which keeps blobs as blobs.
        let kinds: Vec<String> = sqlx::query_scalar("SELECT DISTINCT typeof(bytes) FROM blobs")
            .fetch_all(&raw)
            .await
            .unwrap();
        assert_eq!(kinds, ["blob"]);
    }
    raw.close().await;

    let uploads: Vec<bool> = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap()
        .iter()
        .rev()
        .filter(|e| e.action == "version.upload")
        .map(|e| e.detail["new_blob"].as_bool().unwrap())
        .collect();
    assert_eq!(uploads, [true, true, false]);
    registry.close().await;
}

async fn delete_app_removes_everything_it_owns(fx: &Fixture) {
    let registry = fx.open().await;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let other = registry.create_tenant(&op(), "other").await.unwrap();
    let blog = registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    let shop = registry.create_app(&op(), &acme.id, "shop").await.unwrap();
    let shared: &[u8] = b"\0asm shared";
    let own: &[u8] = b"\0asm blog only";
    registry.upload_version(&op(), &blog, shared).await.unwrap();
    let v2 = registry.upload_version(&op(), &blog, own).await.unwrap();
    registry.upload_version(&op(), &shop, shared).await.unwrap();
    registry.activate(&op(), &blog, 1).await.unwrap();
    registry.activate(&op(), &blog, 2).await.unwrap();

    let (tenant, _) = principal(&registry, "t", Scope::tenant(&acme)).await;
    let (stranger, _) = principal(&registry, "o", Scope::tenant(&other)).await;
    let (deployer, _) = principal(&registry, "d", Scope::deploy(&blog)).await;
    let (shop_deployer, _) = principal(&registry, "sd", Scope::deploy(&shop)).await;
    let blog_token = registry
        .create_token(&op(), "d2", Scope::deploy(&blog))
        .await
        .unwrap();
    let shop_token = registry
        .create_token(&op(), "sd2", Scope::deploy(&shop))
        .await
        .unwrap();

    // Deploy tokens (even the app's own) and other tenants may not delete.
    registry.create_app(&op(), &acme.id, "third").await.unwrap();
    assert!(matches!(
        registry.create_app(&op(), &acme.id, "fourth").await,
        Err(RegistryError::QuotaExceeded {
            quota: Quota::MaxApps,
            ..
        })
    ));
    assert_forbidden(registry.delete_app(&deployer, &blog).await);
    assert_forbidden(registry.delete_app(&shop_deployer, &blog).await);
    assert_forbidden(registry.delete_app(&stranger, &blog).await);
    assert_eq!(registry.app("acme", "blog").await.unwrap(), blog);

    registry.delete_app(&tenant, &blog).await.unwrap();
    assert_not_found(registry.app("acme", "blog").await);
    assert_not_found(registry.app_by_id(&blog.id).await);
    assert_not_found(registry.delete_app(&tenant, &blog).await);
    assert_eq!(
        registry
            .apps(&acme.id)
            .await
            .unwrap()
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["shop", "third"]
    );
    // The blog's deploy tokens are gone; the shop's still work.
    assert!(
        registry
            .authenticate(&blog_token.token)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        registry
            .authenticate(&shop_token.token)
            .await
            .unwrap()
            .is_some()
    );
    // A blob only the blog used is freed; the one the shop shares is kept.
    assert_not_found(registry.component_bytes(&v2.sha256).await);
    let shop_active = registry.versions(&shop).await.unwrap();
    assert_eq!(
        registry
            .component_bytes(&shop_active[0].sha256)
            .await
            .unwrap(),
        shared
    );

    let raw = fx.raw().await;
    for (table, column) in [
        ("versions", "app_id"),
        ("activations", "app_id"),
        ("api_tokens", "app_id"),
    ] {
        let left: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
                .bind(blog.id.as_str())
                .fetch_one(&raw)
                .await
                .unwrap();
        assert_eq!(left, 0, "{table} rows of the deleted app");
    }
    let blobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM blobs")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(blobs, 1);
    raw.close().await;

    let entry = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(entry.action, "app.delete");
    assert_eq!(entry.target, "app:acme/blog");
    assert_eq!(entry.detail["versions"], 2);
    assert_eq!(entry.detail["activations"], 2);
    assert_eq!(entry.detail["deploy_tokens"], 2);
    assert_eq!(entry.detail["freed_blobs"], serde_json::json!([v2.sha256]));

    // The name is free again, with fresh numbering, and quota room is back.
    let again = registry
        .create_app(&tenant, &acme.id, "blog")
        .await
        .unwrap();
    assert_ne!(again.id, blog.id);
    assert!(registry.versions(&again).await.unwrap().is_empty());
    assert_eq!(
        registry
            .upload_version(&tenant, &again, own)
            .await
            .unwrap()
            .number,
        1
    );
    assert!(matches!(
        registry.create_app(&op(), &acme.id, "fourth").await,
        Err(RegistryError::QuotaExceeded { .. })
    ));
    registry.close().await;
}

async fn activate_and_rollback(registry: Registry) {
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let blog = registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    assert_not_found(registry.rollback(&op(), &blog).await);
    assert_not_found(registry.activate(&op(), &blog, 1).await);
    for i in 1..=3u8 {
        registry
            .upload_version(&op(), &blog, &[i; 10])
            .await
            .unwrap();
    }
    let active = |r: &Registry| {
        let r = r.clone();
        let blog = blog.clone();
        async move { r.active_version(&blog).await.unwrap().map(|v| v.number) }
    };

    assert_eq!(registry.activate(&op(), &blog, 1).await.unwrap().number, 1);
    assert_eq!(active(&registry).await, Some(1));
    assert_not_found(registry.rollback(&op(), &blog).await);
    registry.activate(&op(), &blog, 2).await.unwrap();
    registry.activate(&op(), &blog, 3).await.unwrap();
    // Any earlier version can be activated.
    registry.activate(&op(), &blog, 1).await.unwrap();
    assert_eq!(active(&registry).await, Some(1));
    // Activating what is active is a no-op (no history entry, no audit row).
    let audit_before = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap()
        .len();
    registry.activate(&op(), &blog, 1).await.unwrap();
    let audit_after = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap()
        .len();
    assert_eq!(audit_before, audit_after);
    assert_not_found(registry.activate(&op(), &blog, 4).await);

    // History 1, 2, 3, 1: each rollback goes one step back.
    assert_eq!(registry.rollback(&op(), &blog).await.unwrap().number, 3);
    assert_eq!(active(&registry).await, Some(3));
    assert_eq!(registry.rollback(&op(), &blog).await.unwrap().number, 2);
    assert_eq!(registry.rollback(&op(), &blog).await.unwrap().number, 1);
    assert_not_found(registry.rollback(&op(), &blog).await);
    assert_eq!(active(&registry).await, Some(1));
    // A new activation after rollbacks, then rollback returns to where we were.
    registry.activate(&op(), &blog, 3).await.unwrap();
    assert_eq!(registry.rollback(&op(), &blog).await.unwrap().number, 1);

    let (version, bytes) = registry.active_component(&blog).await.unwrap().unwrap();
    assert_eq!((version.number, bytes), (1, vec![1u8; 10]));

    let rollbacks: Vec<_> = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .rev()
        .filter(|e| e.action == "version.rollback")
        .map(|e| (e.detail["from"].as_i64(), e.detail["to"].as_i64(), e.target))
        .collect();
    assert_eq!(
        rollbacks,
        vec![
            (Some(1), Some(3), "version:acme/blog@3".to_owned()),
            (Some(3), Some(2), "version:acme/blog@2".to_owned()),
            (Some(2), Some(1), "version:acme/blog@1".to_owned()),
            (Some(3), Some(1), "version:acme/blog@1".to_owned()),
        ]
    );
}

async fn quotas_defaults_and_overrides(registry: Registry) {
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let globex = registry.create_tenant(&op(), "globex").await.unwrap();
    assert_eq!(registry.quota_defaults(), &DEFAULTS);
    assert_eq!(registry.quotas(&acme.id).await.unwrap(), DEFAULTS);
    assert_eq!(
        registry.quota_overrides(&acme.id).await.unwrap(),
        QuotaOverrides::default()
    );

    // Defaults: 3 apps, 1024 bytes.
    for name in ["a1", "a2", "a3"] {
        registry.create_app(&op(), &acme.id, name).await.unwrap();
    }
    match registry.create_app(&op(), &acme.id, "a4").await {
        Err(RegistryError::QuotaExceeded { quota, limit }) => {
            assert_eq!((quota, limit), (Quota::MaxApps, 3));
        }
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }
    let a1 = registry.app("acme", "a1").await.unwrap();
    registry
        .upload_version(&op(), &a1, &[0; 1024])
        .await
        .unwrap();
    match registry.upload_version(&op(), &a1, &[0; 1025]).await {
        Err(RegistryError::QuotaExceeded { quota, limit }) => {
            assert_eq!((quota, limit), (Quota::MaxComponentBytes, 1024));
        }
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }

    // Overrides for acme only.
    let overrides = QuotaOverrides {
        max_apps: Some(4),
        max_component_bytes: Some(10),
        fuel_per_callback: Some(5),
        ..QuotaOverrides::default()
    };
    let effective = registry
        .set_quota_overrides(&op(), &acme.id, overrides)
        .await
        .unwrap();
    let expected = Quotas {
        max_apps: 4,
        max_component_bytes: 10,
        fuel_per_callback: 5,
        ..DEFAULTS
    };
    assert_eq!(effective, expected);
    assert_eq!(registry.quotas(&acme.id).await.unwrap(), expected);
    assert_eq!(registry.quota_overrides(&acme.id).await.unwrap(), overrides);
    assert_eq!(registry.quotas(&globex.id).await.unwrap(), DEFAULTS);
    registry.create_app(&op(), &acme.id, "a4").await.unwrap();
    assert!(matches!(
        registry.create_app(&op(), &acme.id, "a5").await,
        Err(RegistryError::QuotaExceeded {
            quota: Quota::MaxApps,
            limit: 4
        })
    ));
    registry.upload_version(&op(), &a1, &[1; 10]).await.unwrap();
    assert!(matches!(
        registry.upload_version(&op(), &a1, &[1; 11]).await,
        Err(RegistryError::QuotaExceeded {
            quota: Quota::MaxComponentBytes,
            limit: 10
        })
    ));
    // globex still has the defaults.
    let g = registry.create_app(&op(), &globex.id, "g").await.unwrap();
    registry
        .upload_version(&op(), &g, &[2; 1000])
        .await
        .unwrap();

    // Values the database cannot hold are refused; unknown tenants too.
    assert!(matches!(
        registry
            .set_quota_overrides(
                &op(),
                &acme.id,
                QuotaOverrides {
                    fuel_per_callback: Some(u64::MAX),
                    ..QuotaOverrides::default()
                }
            )
            .await,
        Err(RegistryError::InvalidValue { .. })
    ));
    assert_not_found(
        registry
            .set_quota_overrides(&op(), &TenantId::from("ten_x"), overrides)
            .await,
    );

    // Resetting returns to the defaults; existing apps stay.
    let reset = registry
        .set_quota_overrides(&op(), &acme.id, QuotaOverrides::default())
        .await
        .unwrap();
    assert_eq!(reset, DEFAULTS);
    assert_eq!(registry.apps(&acme.id).await.unwrap().len(), 4);

    let sets: Vec<_> = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "quota.set")
        .collect();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[1].detail["after"]["max_apps"], 4);
    assert_eq!(sets[0].detail["before"]["max_apps"], 4);
    assert_eq!(sets[0].detail["after"]["max_apps"], serde_json::Value::Null);
}

async fn concurrent_changes_respect_quotas(registry: Registry) {
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let registry = registry.clone();
        let tenant = acme.id.clone();
        tasks.push(tokio::spawn(async move {
            registry
                .create_app(&op(), &tenant, &format!("app{i}"))
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(RegistryError::QuotaExceeded { quota, .. }) => assert_eq!(quota, Quota::MaxApps),
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(created, 3);
    assert_eq!(registry.apps(&acme.id).await.unwrap().len(), 3);

    let app = registry.app("acme", "app0").await;
    let app = match app {
        Ok(app) => app,
        Err(_) => registry.apps(&acme.id).await.unwrap().remove(0),
    };
    let mut tasks = Vec::new();
    for i in 0..6u8 {
        let registry = registry.clone();
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            registry.upload_version(&op(), &app, &[i; 8]).await
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap().unwrap().number);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    let seqs: Vec<u64> = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).rev().collect();
    assert_eq!(seqs, expected, "audit sequence has no gaps or repeats");
}

async fn audit_rows(registry: Registry) {
    let before = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap();
    assert!(before.is_empty());
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let globex = registry.create_tenant(&op(), "globex").await.unwrap();
    let (a, a_id) = principal(&registry, "acme admin", Scope::tenant(&acme)).await;
    let blog = registry.create_app(&a, &acme.id, "blog").await.unwrap();
    let v = registry.upload_version(&a, &blog, b"one").await.unwrap();
    registry.activate(&a, &blog, v.number).await.unwrap();
    registry
        .create_app(&op(), &globex.id, "site")
        .await
        .unwrap();

    let log = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap();
    let summary: Vec<(&str, &str, &str)> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str()))
        .collect();
    let a_actor = format!("token:{a_id}");
    let token_target = format!("token:{a_id}");
    assert_eq!(
        summary,
        vec![
            ("system:test", "app.create", "app:globex/site"),
            (a_actor.as_str(), "version.activate", "version:acme/blog@1"),
            (a_actor.as_str(), "version.upload", "version:acme/blog@1"),
            (a_actor.as_str(), "app.create", "app:acme/blog"),
            ("system:test", "token.create", token_target.as_str()),
            ("system:test", "tenant.create", "tenant:globex"),
            ("system:test", "tenant.create", "tenant:acme"),
        ]
    );
    // Newest first, strictly decreasing, timestamps set.
    assert!(
        log.windows(2)
            .all(|w| w[0].seq > w[1].seq && w[0].at >= w[1].at)
    );
    assert!(log.iter().all(|e| e.at > 0));
    let upload = &log[2];
    assert_eq!(upload.tenant_id.as_ref(), Some(&acme.id));
    assert_eq!(upload.detail["sha256"], v.sha256.as_str());
    assert_eq!(upload.detail["size"], 3);
    assert_eq!(log[1].detail["from"], serde_json::Value::Null);
    assert_eq!(log[1].detail["to"], 1);
    assert_eq!(log[4].detail["scope"]["kind"], "tenant");
    assert_eq!(log[4].detail["label"], "acme admin");

    // Per tenant, readable by the tenant itself; paging.
    let acme_only = AuditQuery {
        tenant: Some(acme.id.clone()),
        ..AuditQuery::default()
    };
    let acme_log = registry.audit_log(&a, &acme_only).await.unwrap();
    assert_eq!(acme_log.len(), 5);
    assert!(
        acme_log
            .iter()
            .all(|e| e.tenant_id.as_ref() == Some(&acme.id))
    );
    let page = registry
        .audit_log(
            &a,
            &AuditQuery {
                before_seq: Some(acme_log[1].seq),
                limit: 2,
                ..acme_only.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(page, acme_log[2..4].to_vec());
}

async fn reopen_keeps_data_and_migrations_are_idempotent(fx: &Fixture) {
    let registry = fx.open().await;
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let blog = registry.create_app(&op(), &acme.id, "blog").await.unwrap();
    let token = registry
        .create_token(&op(), "t", Scope::deploy(&blog))
        .await
        .unwrap();
    registry
        .upload_version(&op(), &blog, b"bytes")
        .await
        .unwrap();
    registry.activate(&op(), &blog, 1).await.unwrap();
    // Running the migrations again changes nothing.
    registry.migrate().await.unwrap();
    registry.migrate().await.unwrap();
    registry.close().await;

    if fx.backend == Backend::Sqlite {
        let Cleanup::Dir(dir) = &fx.cleanup else {
            unreachable!()
        };
        assert!(dir.join("state").join("registry.db").is_file());
    }

    let reopened = fx.open().await;
    assert_eq!(reopened.tenant("acme").await.unwrap(), acme);
    assert_eq!(reopened.app("acme", "blog").await.unwrap(), blog);
    let principal = reopened.authenticate(&token.token).await.unwrap().unwrap();
    assert!(principal.can_deploy(&blog));
    let (version, bytes) = reopened.active_component(&blog).await.unwrap().unwrap();
    assert_eq!((version.number, bytes.as_slice()), (1, &b"bytes"[..]));
    // Sequences continue where they were.
    assert_eq!(
        reopened
            .upload_version(&op(), &blog, b"more")
            .await
            .unwrap()
            .number,
        2
    );
    let log = reopened
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(log.len(), 6);
    assert_eq!(log[0].seq, 6);
    reopened.close().await;

    let raw = fx.raw().await;
    let migrations: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&raw)
            .await
            .unwrap();
    assert_eq!(migrations, [1, 2, 3, 4, 5]);
    if fx.backend == Backend::Sqlite {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&raw)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }
    raw.close().await;
}

/// Unix milliseconds now.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .try_into()
        .unwrap()
}

/// The stored `last_used_at` of token `id`.
async fn last_used(raw: &sqlx::AnyPool, id: &TokenId) -> Option<i64> {
    sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE id = $1")
        .bind(id.as_str())
        .fetch_one(raw)
        .await
        .unwrap()
}

/// Expiring tokens authenticate until their expiry and not a moment after (an expiry moved
/// into the past is refused on the very next call); the expiry must lie ahead; listings keep
/// expired tokens with their expiry; `last_used_at` is written at most once a minute.
async fn token_expiry_and_last_use(Session { registry, raw, .. }: Session) {
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let (a, _) = principal(&registry, "acme admin", Scope::tenant(&acme)).await;

    // An expiry must be in the future.
    for past in [now_ms() - 1, 0, i64::MIN] {
        match registry
            .create_token_expiring(&a, "old", Scope::tenant(&acme), Some(past))
            .await
        {
            Err(RegistryError::InvalidValue { what, .. }) => assert_eq!(what, "token expiry"),
            other => panic!("expiry {past}: expected InvalidValue, got {other:?}"),
        }
    }
    // Scope checks come first, as for tokens that never expire.
    let (d, _) = principal(
        &registry,
        "ci",
        Scope::deploy(&registry.create_app(&op(), &acme.id, "blog").await.unwrap()),
    )
    .await;
    assert_forbidden(
        registry
            .create_token_expiring(&d, "x", Scope::tenant(&acme), Some(now_ms() + 60_000))
            .await,
    );

    let later = now_ms() + 3_600_000;
    let hour = registry
        .create_token_expiring(&a, "hour", Scope::tenant(&acme), Some(later))
        .await
        .unwrap();
    assert_eq!(hour.info.expires_at, Some(later));
    assert!(hour.info.is_active(now_ms()));
    assert!(registry.authenticate(&hour.token).await.unwrap().is_some());
    assert_eq!(
        registry.token(&a, &hour.info.id).await.unwrap().expires_at,
        Some(later)
    );

    // Expires while in use: refused on the next request, as if unknown.
    sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE id = $2")
        .bind(now_ms() - 1)
        .bind(hour.info.id.as_str())
        .execute(&raw)
        .await
        .unwrap();
    assert_eq!(registry.authenticate(&hour.token).await.unwrap(), None);

    // A short expiry runs out by itself.
    let brief = registry
        .create_token_expiring(&a, "brief", Scope::tenant(&acme), Some(now_ms() + 300))
        .await
        .unwrap();
    assert!(registry.authenticate(&brief.token).await.unwrap().is_some());
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(registry.authenticate(&brief.token).await.unwrap(), None);

    // Listed still, with their expiry, and marked expired.
    let listed = registry.tokens(&a, Some(&acme.id)).await.unwrap();
    let brief_info = listed.iter().find(|t| t.id == brief.info.id).unwrap();
    assert_eq!(brief_info.expires_at, brief.info.expires_at);
    assert!(brief_info.is_expired(now_ms()) && !brief_info.is_active(now_ms()));
    assert_eq!(brief_info.revoked_at, None);
    assert!(
        listed
            .iter()
            .filter(|t| t.label == "acme admin" || t.label == "ci")
            .all(|t| t.expires_at.is_none() && t.is_active(now_ms()))
    );
    // The audit row of the creation carries the expiry.
    let log = registry
        .audit_log(&op(), &AuditQuery::default())
        .await
        .unwrap();
    let created = log
        .iter()
        .find(|e| e.action == "token.create" && e.target == format!("token:{}", brief.info.id))
        .unwrap();
    assert_eq!(created.detail["expires_at"], brief.info.expires_at.unwrap());

    // last_used_at: set on first use, then left alone within the resolution...
    let fresh = registry
        .create_token(&a, "fresh", Scope::tenant(&acme))
        .await
        .unwrap();
    assert_eq!(last_used(&raw, &fresh.info.id).await, None);
    registry.authenticate(&fresh.token).await.unwrap().unwrap();
    let first = last_used(&raw, &fresh.info.id).await.unwrap();
    // Pretend the first use was a little earlier: still within the minute, so no write.
    let earlier = first - 1_000;
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(earlier)
        .bind(fresh.info.id.as_str())
        .execute(&raw)
        .await
        .unwrap();
    registry.authenticate(&fresh.token).await.unwrap().unwrap();
    assert_eq!(last_used(&raw, &fresh.info.id).await, Some(earlier));
    // ...and written again once it is a minute old.
    let stale = now_ms() - LAST_USED_RESOLUTION_MS - 1;
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(stale)
        .bind(fresh.info.id.as_str())
        .execute(&raw)
        .await
        .unwrap();
    registry.authenticate(&fresh.token).await.unwrap().unwrap();
    assert!(last_used(&raw, &fresh.info.id).await.unwrap() > stale + LAST_USED_RESOLUTION_MS);
    // A refused token's use is not recorded.
    let before = last_used(&raw, &hour.info.id).await;
    assert_eq!(registry.authenticate(&hour.token).await.unwrap(), None);
    assert_eq!(last_used(&raw, &hour.info.id).await, before);
}

/// A page of the audit log holds at most `MAX_AUDIT_LIMIT` entries, whatever the limit asked.
async fn audit_limit_is_capped(Session { registry, raw, .. }: Session) {
    let extra = i64::from(MAX_AUDIT_LIMIT) + 5;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO audit_log (seq, at, actor, action, target, tenant_id, detail) \
         SELECT i, i, 'system:test', 'test.fill', 'nothing', NULL, '{}' FROM n",
    )
    .bind(extra)
    .execute(&raw)
    .await
    .unwrap();
    let page = |limit: u32| {
        let registry = registry.clone();
        async move {
            registry
                .audit_log(
                    &op(),
                    &AuditQuery {
                        limit,
                        ..AuditQuery::default()
                    },
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(page(0).await.len(), 100);
    assert_eq!(page(7).await.len(), 7);
    let most = page(u32::MAX).await;
    assert_eq!(most.len(), MAX_AUDIT_LIMIT as usize);
    assert_eq!(most[0].seq, u64::try_from(extra).unwrap());
}
