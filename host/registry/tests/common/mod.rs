//! What the registry's integration tests (`tests/registry.rs`, `tests/kv.rs`, `tests/blobs.rs`)
//! share: a [`Fixture`] holding one empty database — a SQLite file in a fresh temp dir, always,
//! or a fresh Postgres schema when [`PG_ENV`] is set (`tests/postgres.sh` at the workspace root
//! starts a throwaway server and prints such a URL) — the runners that hand it to a suite
//! function, and [`backend_tests!`], which makes one `#[tokio::test]` per backend of each suite
//! function.
//!
//! Each test file says `mod common;` and names its own temp dirs, schemas and quota defaults
//! with a [`Setup`].

// Every test file is its own crate and uses only part of this module.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use livewasm_registry::{Backend, Quota, QuotaDefaults, Registry, RegistryError};
use rand::RngCore;
use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions};

/// The environment variable holding the Postgres URL to test against; when it is unset or
/// empty the Postgres tests pass without running.
pub const PG_ENV: &str = "LIVEWASM_TEST_DATABASE_URL";

/// How one test file's fixtures are named and opened.
pub struct Setup {
    /// The start of each SQLite fixture's temp dir name, which goes on with
    /// `<pid>-<random hex>`.
    pub temp_dir_prefix: &'static str,
    /// The SQLite file's path inside that temp dir. Its parent directories do not exist yet
    /// when the registry is first opened.
    pub db_path: &'static str,
    /// The start of each Postgres fixture's schema name, which goes on with random hex.
    pub schema_prefix: &'static str,
    /// The quota defaults that [`Fixture::open`] passes to `Registry::open`.
    pub quota_defaults: fn() -> QuotaDefaults,
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// One empty database: a SQLite file in a fresh temp dir, or a fresh Postgres schema.
pub struct Fixture {
    /// What `Registry::open` gets: the SQLite file's path, or the Postgres URL with the
    /// schema as its `search_path`.
    pub location: String,
    /// A URL for raw inspection of the same database.
    pub raw_url: String,
    /// The backend `location` selects.
    pub backend: Backend,
    /// What [`Fixture::cleanup`] removes.
    pub cleanup: Cleanup,
    /// What [`Fixture::open`] passes to `Registry::open`.
    quota_defaults: QuotaDefaults,
}

/// What a [`Fixture`] leaves behind, to remove when its test is done.
pub enum Cleanup {
    /// The SQLite fixture's temp dir.
    Dir(PathBuf),
    /// The Postgres fixture's schema, dropped through `admin_url`.
    Schema { admin_url: String, schema: String },
}

impl Fixture {
    /// A SQLite database at `setup.db_path` in a fresh temp dir, which is not created here:
    /// opening the registry must create it.
    pub fn sqlite(setup: &Setup) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "{}{}-{}",
            setup.temp_dir_prefix,
            std::process::id(),
            random_hex(6)
        ));
        let path = dir.join(setup.db_path);
        // Percent-encoded, so that any character in the path (a space, a '#') survives.
        let raw_url = SqliteConnectOptions::new()
            .filename(&path)
            .to_url_lossy()
            .to_string();
        Fixture {
            location: path.to_str().expect("utf-8 temp path").to_owned(),
            raw_url,
            backend: Backend::Sqlite,
            cleanup: Cleanup::Dir(dir),
            quota_defaults: (setup.quota_defaults)(),
        }
    }

    /// A fresh, empty schema on the server [`PG_ENV`] names, or `None` when it is unset or
    /// empty.
    pub async fn postgres(setup: &Setup) -> Option<Self> {
        let admin_url = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())?;
        let schema = format!("{}{}", setup.schema_prefix, random_hex(8));
        admin_execute(&admin_url, &format!("CREATE SCHEMA {schema}")).await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let location = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        Some(Fixture {
            raw_url: location.clone(),
            location,
            backend: Backend::Postgres,
            cleanup: Cleanup::Schema { admin_url, schema },
            quota_defaults: (setup.quota_defaults)(),
        })
    }

    /// Opens the registry on this database (creating and migrating it the first time) and
    /// checks that it picked this fixture's backend.
    pub async fn open(&self) -> Registry {
        let registry = Registry::open(&self.location, self.quota_defaults)
            .await
            .expect("open registry");
        assert_eq!(registry.backend(), self.backend);
        registry
    }

    /// A raw pool on the same database (after `open` created it).
    pub async fn raw(&self) -> AnyPool {
        raw_pool(&self.raw_url).await
    }

    /// Removes the temp dir or drops the schema.
    pub async fn cleanup(self) {
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin_url, schema } => {
                admin_execute(&admin_url, &format!("DROP SCHEMA {schema} CASCADE")).await;
            }
        }
    }
}

/// Runs one statement on its own connection to `admin_url` (creating or dropping a schema).
async fn admin_execute(admin_url: &str, sql: &str) {
    let admin = raw_pool(admin_url).await;
    sqlx::query(sql)
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    admin.close().await;
}

/// A one-connection pool on `url`, for raw SQL next to the registry.
pub async fn raw_pool(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("raw connection")
}

/// What a suite function run by [`with_session`] gets: a freshly opened registry and a raw
/// pool on its database.
pub struct Session {
    /// The registry, opened on the fixture's database.
    pub registry: Registry,
    /// A raw pool on the same database.
    pub raw: AnyPool,
    /// Where the registry lives, to open it again.
    pub location: String,
}

/// Runs `test` with a freshly opened `Registry`, closing it afterwards.
pub async fn with_registry<F, Fut>(fx: &Fixture, test: F)
where
    F: FnOnce(Registry) -> Fut,
    Fut: Future<Output = ()>,
{
    let registry = fx.open().await;
    test(registry.clone()).await;
    registry.close().await;
}

/// Runs `test` with the fixture itself, for tests that open (and reopen) the registry or
/// look at the database themselves.
pub async fn with_fixture<'a, F, Fut>(fx: &'a Fixture, test: F)
where
    F: FnOnce(&'a Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    test(fx).await;
}

/// Runs `test` with a [`Session`], closing its registry and raw pool afterwards.
pub async fn with_session<F, Fut>(fx: &Fixture, test: F)
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = ()>,
{
    let registry = fx.open().await;
    let raw = fx.raw().await;
    test(Session {
        registry: registry.clone(),
        raw: raw.clone(),
        location: fx.location.clone(),
    })
    .await;
    raw.close().await;
    registry.close().await;
}

/// Asserts that `result` is a `QuotaExceeded` error for exactly `quota` at `limit`.
pub fn assert_quota<T: std::fmt::Debug>(
    result: Result<T, RegistryError>,
    quota: Quota,
    limit: u64,
) {
    match result {
        Err(RegistryError::QuotaExceeded { quota: q, limit: l }) if q == quota && l == limit => {}
        other => panic!("expected QuotaExceeded({quota}, {limit}), got {other:?}"),
    }
}

/// Generates one `#[tokio::test]` per backend for each suite function, named like it, in
/// modules `sqlite` (always runs) and `postgres` (skipped unless [`PG_ENV`] is set):
///
/// ```ignore
/// common::backend_tests! {
///     setup: SETUP,
///     with_registry: [tenants_and_apps],
///     with_fixture: [reopen_keeps_data],
/// }
/// ```
///
/// `setup` names a [`Setup`] const at the test file's root, where the suite functions are
/// too; each list is run by the runner of this module it is keyed by ([`with_registry`],
/// [`with_fixture`], [`with_session`]), on a fresh [`Fixture`] that is cleaned up afterwards.
macro_rules! backend_tests {
    (setup: $setup:ident, $($run:ident: [$($t:ident),* $(,)?]),+ $(,)?) => {
        mod sqlite {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $t() {
                    let fx = crate::common::Fixture::sqlite(&super::$setup);
                    crate::common::$run(&fx, super::$t).await;
                    fx.cleanup().await;
                }
            )*)+
        }
        mod postgres {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $t() {
                    let Some(fx) = crate::common::Fixture::postgres(&super::$setup).await else {
                        eprintln!("skipped: {} is not set", crate::common::PG_ENV);
                        return;
                    };
                    crate::common::$run(&fx, super::$t).await;
                    fx.cleanup().await;
                }
            )*)+
        }
    };
}
pub(crate) use backend_tests;
