//! How hosts learn that the registry changed: the change sequence number, which tenants the
//! changes since a number touched, and (Postgres) a notification per committed change. Run on
//! SQLite always and on Postgres when `LIVEWASM_TEST_DATABASE_URL` is set (see
//! `tests/registry.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::Setup;
use livewasm_registry::{Backend, Principal, QuotaDefaults, QuotaOverrides, Registry};

const SETUP: Setup = Setup {
    temp_dir_prefix: "livewasm-changes-",
    db_path: "registry.db",
    schema_prefix: "lw_changes_test_",
    quota_defaults: QuotaDefaults::default,
};

common::backend_tests! {
    setup: SETUP,
    with_registry: [
        every_change_moves_the_sequence_and_names_its_tenant,
        a_refused_change_moves_nothing,
        listeners_hear_each_committed_change,
    ],
}

fn op() -> Principal {
    Principal::system("test")
}

async fn every_change_moves_the_sequence_and_names_its_tenant(registry: Registry) {
    let start = registry.change_seq().await.unwrap();
    assert!(registry.changes_since(start).await.unwrap().is_empty());

    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    let bravo = registry.create_tenant(&op(), "bravo").await.unwrap();
    registry.create_app(&op(), &acme.id, "shop").await.unwrap();
    let changes = registry.changes_since(start).await.unwrap();
    assert_eq!(changes.seq, start + 3, "three changes");
    assert!(!changes.everything);
    let mut expected = vec![acme.id.clone(), bravo.id.clone()];
    expected.sort();
    assert_eq!(changes.tenants, expected);

    // Only what came after the number given.
    let after = changes.seq;
    registry
        .set_quota_overrides(
            &op(),
            &bravo.id,
            QuotaOverrides {
                max_apps: Some(3),
                ..QuotaOverrides::default()
            },
        )
        .await
        .unwrap();
    let changes = registry.changes_since(after).await.unwrap();
    assert_eq!(changes.tenants, vec![bravo.id.clone()]);
    assert_eq!(registry.change_seq().await.unwrap(), changes.seq);
    assert!(
        registry
            .changes_since(changes.seq)
            .await
            .unwrap()
            .is_empty()
    );
    // A number from the future (another registry's) asks for a look at everything.
    assert!(
        registry
            .changes_since(changes.seq + 10)
            .await
            .unwrap()
            .everything
    );
}

async fn a_refused_change_moves_nothing(registry: Registry) {
    let acme = registry.create_tenant(&op(), "acme").await.unwrap();
    registry.create_app(&op(), &acme.id, "shop").await.unwrap();
    let before = registry.change_seq().await.unwrap();
    // The same name again: refused inside the change, which rolls back.
    assert!(registry.create_app(&op(), &acme.id, "shop").await.is_err());
    assert_eq!(registry.change_seq().await.unwrap(), before);
    assert!(registry.changes_since(before).await.unwrap().is_empty());
}

async fn listeners_hear_each_committed_change(registry: Registry) {
    let listener = registry.listen_for_changes().await.unwrap();
    let Some(mut listener) = listener else {
        assert_eq!(
            registry.backend(),
            Backend::Sqlite,
            "only SQLite hosts poll"
        );
        return;
    };
    registry.create_tenant(&op(), "acme").await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), listener.next())
        .await
        .expect("notified within 5 s")
        .unwrap();
}
