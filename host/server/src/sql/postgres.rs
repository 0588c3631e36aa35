//! The apps' SQL in the registry's Postgres: one schema per app, owned by a role of the app's
//! own (`lw_app_<id>`), so hosts sharing the Postgres share every app's data.
//!
//! The host's own user (the registry's URL) creates the role and its schema when a version of
//! the app loads (or on its first call), idempotently: several hosts may race. The role may
//! log in (with a password every host derives from the shared secret key), owns its schema,
//! and has no other rights: not on the registry's tables, not on other apps' schemas, no
//! `CREATE` on the database, no membership in any role. The app's calls run on connections
//! logged in *as that role* (a pool per app): nothing an app runs, not even dynamic SQL in a
//! function it created, can take a connection back to a more privileged role, because the
//! session never had one. (`SET LOCAL ROLE` on a connection of the host's user would not do:
//! `RESET ROLE` inside the app's SQL gives the host's user back.)
//!
//! Each call is one transaction with `SET LOCAL search_path` (the app's schema only) and
//! `SET LOCAL statement_timeout` (what is left of the call's time, set again before each
//! statement of a batch). A transaction that wrote is measured before it commits (the
//! `pg_total_relation_size` of the schema's relations and the connection's temporary ones)
//! and rolled back past the quota. Each connection is reset (`DISCARD ALL`: settings,
//! temporary tables, advisory locks, `LISTEN`s) when it goes back to the pool. Statements
//! pass [`dialect::refusal`] first, and their `?` placeholders become `$N`.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use livewasm_runtime::{SqlError, SqlRows, SqlStatement, SqlStore, SqlValue};
use sha2::{Digest, Sha256};
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow, PgTypeInfo,
    PgValueRef, Postgres,
};
use sqlx::query::Query;
use sqlx::{Column, ConnectOptions, Decode, Encode, Executor, Row, Statement, Type, ValueRef};

use super::dialect::{self, Dialect};
use super::rows::collect;
use super::{MIGRATION_TIMEOUT, SqlLimits, lock, runner};
use crate::runner::{LazyRunner, Runner};

/// Connections one app's pool may hold on this host.
const APP_CONNECTIONS: u32 = 4;
/// Connections of the host's own user (role and schema setup, deletion).
const ADMIN_CONNECTIONS: u32 = 2;
/// Longest the setup or deletion of one app's role and schema may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The apps' schemas in one Postgres.
pub(crate) struct PgStores {
    /// The host's own user (from the registry's URL).
    admin_options: PgConnectOptions,
    /// What the roles' passwords are derived from (the host's secret key).
    secret: Vec<u8>,
    limits: SqlLimits,
    runner: LazyRunner,
    admin: OnceLock<PgPool>,
    open: Mutex<HashMap<String, Arc<PgApp>>>,
    deleted: Mutex<HashSet<String>>,
}

/// One app's schema and its pool of connections logged in as its role.
pub(crate) struct PgApp {
    /// Both the role's and the schema's name.
    name: String,
    pool: PgPool,
    limits: SqlLimits,
    runner: Arc<Runner>,
    /// The size the schema had after the last write this host committed (0: not measured).
    last_size: AtomicU64,
}

impl PgStores {
    /// Schemas in the Postgres at `url` (the registry's), roles' passwords derived from
    /// `secret`, each app held to `limits`. Nothing connects until the first call.
    pub(crate) fn new(url: &str, secret: &[u8], limits: SqlLimits) -> Result<PgStores, SqlError> {
        let admin_options: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| SqlError::Unavailable(format!("the postgres url: {e}")))?;
        Ok(PgStores {
            admin_options: admin_options.disable_statement_logging(),
            secret: secret.to_vec(),
            limits,
            runner: LazyRunner::new("livewasm-sql"),
            admin: OnceLock::new(),
            open: Mutex::default(),
            deleted: Mutex::default(),
        })
    }

    fn admin(&self, runner: &Runner) -> PgPool {
        self.admin
            .get_or_init(|| {
                runner.enter(|| {
                    PgPoolOptions::new()
                        .max_connections(ADMIN_CONNECTIONS)
                        .idle_timeout(Some(Duration::from_secs(60)))
                        .acquire_timeout(ADMIN_TIMEOUT)
                        .connect_lazy_with(self.admin_options.clone())
                })
            })
            .clone()
    }

    /// The password of role `name`: the same on every host sharing the secret key.
    fn password(&self, name: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new_from_slice(&[0]).expect("key"));
        mac.update(b"livewasm app sql role\0");
        mac.update(name.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// `scope`'s schema, its role and schema made now if this host has not yet.
    pub(crate) fn database(&self, scope: &str) -> Result<Arc<PgApp>, SqlError> {
        if lock(&self.deleted).contains(scope) {
            return Err(SqlError::Unavailable("the app was deleted".into()));
        }
        if let Some(app) = lock(&self.open).get(scope) {
            return Ok(app.clone());
        }
        let runner = runner(&self.runner)?;
        let name = role_name(scope);
        let password = self.password(&name);
        self.setup(&runner, &name, &password)?;
        let options = self
            .admin_options
            .clone()
            .username(&name)
            .password(&password)
            .application_name("livewasm-app-sql")
            .statement_cache_capacity(0);
        let pool = runner.enter(|| {
            PgPoolOptions::new()
                .max_connections(APP_CONNECTIONS)
                .idle_timeout(Some(Duration::from_secs(60)))
                .acquire_timeout(self.limits.statement_timeout + Duration::from_secs(2))
                // No ping per call: only after a while idle.
                .test_before_acquire(false)
                .before_acquire(livewasm_registry::ping_when_idle)
                .after_release(|conn, _| {
                    Box::pin(async move {
                        // Whatever the call left (an open transaction after an error or a
                        // timeout, settings, temporary tables, advisory locks) goes now.
                        conn.execute("ROLLBACK").await?;
                        conn.execute("DISCARD ALL").await?;
                        Ok(true)
                    })
                })
                .connect_lazy_with(options)
        });
        let app = Arc::new(PgApp {
            name,
            pool,
            limits: self.limits,
            runner,
            last_size: AtomicU64::new(0),
        });
        let mut open = lock(&self.open);
        Ok(open.entry(scope.to_string()).or_insert(app).clone())
    }

    /// Makes (or brings up to date) role `name` and its schema, as the host's own user.
    fn setup(&self, runner: &Runner, name: &str, password: &str) -> Result<(), SqlError> {
        let admin = self.admin(runner);
        let (name, password) = (name.to_string(), password.to_string());
        let answer = runner.run(ADMIN_TIMEOUT, async move {
            let mut last = None;
            // Two hosts loading the app at once race to create the role: the loser's
            // statement fails, and its next attempt finds the role.
            for _ in 0..3 {
                match setup(&admin, &name, &password).await {
                    Ok(()) => return Ok(()),
                    Err(e) => last = Some(e),
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(last.map_or_else(
                || SqlError::Unavailable("setup".into()),
                |e| SqlError::Unavailable(format!("creating the app's role and schema: {e}")),
            ))
        });
        answer.map_err(|e| SqlError::Unavailable(format!("the database: {e}")))?
    }

    /// Applies `migrations` (those not yet recorded) in `scope`'s schema, as its role.
    pub(crate) fn migrate(&self, scope: &str, migrations: &[String]) -> Result<usize, SqlError> {
        let app = self.database(scope)?;
        let mut texts = Vec::with_capacity(migrations.len());
        for (n, migration) in migrations.iter().enumerate() {
            let text = dialect::migration_for(migration, Dialect::Postgres).map_err(|message| {
                SqlError::Migration {
                    index: n + 1,
                    message,
                }
            })?;
            texts.push(text.to_string());
        }
        let (pool, name, limits) = (app.pool.clone(), app.name.clone(), app.limits);
        let answer = app.runner.run(MIGRATION_TIMEOUT, async move {
            let mut conn = pool.acquire().await.map_err(unavailable)?;
            migrate(&mut conn, &name, &limits, texts).await
        });
        answer.map_err(|e| SqlError::Unavailable(format!("the database: {e}")))?
    }

    /// Drops `scope`'s schema and role (its app was deleted); later calls fail.
    pub(crate) fn remove(&self, scope: &str) {
        lock(&self.deleted).insert(scope.to_string());
        let app = lock(&self.open).remove(scope);
        let Ok(runner) = runner(&self.runner) else {
            return;
        };
        let admin = self.admin(&runner);
        let name = role_name(scope);
        let answer = runner.run(ADMIN_TIMEOUT, async move {
            if let Some(app) = app {
                app.pool.close().await;
            }
            drop_role(&admin, &name).await
        });
        match answer {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, scope, "could not drop an app's sql schema and role");
            }
            Err(error) => {
                tracing::warn!(%error, scope, "could not drop an app's sql schema and role");
            }
        }
    }
}

/// The role (and schema) of `scope`: `lw_<scope>` for a registry app id (`lw_app_3f9c…`),
/// `lw_local_<name>` for an `--app` component with a plain name, else a digest of the scope.
pub(crate) fn role_name(scope: &str) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 50
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if let Some(name) = scope.strip_prefix("local/")
        && plain(name)
    {
        return format!("lw_local_{name}");
    }
    if plain(scope) && !scope.starts_with("local") {
        return format!("lw_{scope}");
    }
    format!("lw_h_{}", &hex(&Sha256::digest(scope.as_bytes()))[..40])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `name` quoted as an identifier (role names are `[a-z0-9_]` already; this is belt and
/// braces).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn setup(admin: &PgPool, name: &str, password: &str) -> Result<(), sqlx::Error> {
    let mut tx = admin.begin().await?;
    let role = ident(name);
    let exists = sqlx::query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    // The password is hex: safe as a literal (utility statements take no parameters).
    if exists {
        tx.execute(format!("ALTER ROLE {role} WITH LOGIN PASSWORD '{password}'").as_str())
            .await?;
    } else {
        tx.execute(
            format!(
                "CREATE ROLE {role} LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE \
                 NOREPLICATION NOBYPASSRLS PASSWORD '{password}'"
            )
            .as_str(),
        )
        .await?;
        // A host user that is not a superuser needs the role's rights to drop its schema
        // later (Postgres 16 gives the creator ADMIN only).
        let superuser: bool = sqlx::query_scalar(
            "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&mut *tx)
        .await?;
        if !superuser {
            tx.execute(format!("GRANT {role} TO CURRENT_USER").as_str())
                .await?;
        }
    }
    tx.execute(format!("ALTER ROLE {role} SET search_path = {role}").as_str())
        .await?;
    tx.execute(format!("CREATE SCHEMA IF NOT EXISTS {role} AUTHORIZATION {role}").as_str())
        .await?;
    tx.commit().await
}

async fn drop_role(admin: &PgPool, name: &str) -> Result<(), sqlx::Error> {
    let role = ident(name);
    // Other hosts' connections of the role end now (they answer "the app was deleted" next).
    let _ = sqlx::query(
        "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity \
         WHERE usename = $1",
    )
    .bind(name)
    .execute(admin)
    .await;
    let mut tx = admin.begin().await?;
    tx.execute(format!("DROP SCHEMA IF EXISTS {role} CASCADE").as_str())
        .await?;
    let exists = sqlx::query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if exists {
        tx.execute(format!("DROP OWNED BY {role}").as_str()).await?;
        tx.execute(format!("DROP ROLE {role}").as_str()).await?;
    }
    tx.commit().await
}

/// Starts a call's transaction: the app's schema only, `limit` for its statement.
async fn begin(conn: &mut PgConnection, name: &str, limit: Duration) -> Result<(), sqlx::Error> {
    let sql = format!(
        "BEGIN; SET LOCAL search_path = {}; SET LOCAL statement_timeout = {}",
        ident(name),
        limit.as_millis().max(1)
    );
    conn.execute(sql.as_str()).await.map(drop)
}

/// Sets the statement time left before `deadline` (again: the app's own statements may not
/// change it, but a statement of a batch is a statement of its own).
async fn time_left(conn: &mut PgConnection, deadline: Instant) -> Result<(), SqlError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(SqlError::Statement(
            "canceling statement due to statement timeout".into(),
        ));
    }
    let sql = format!("SET LOCAL statement_timeout = {}", left.as_millis().max(1));
    conn.execute(sql.as_str())
        .await
        .map(drop)
        .map_err(unavailable)
}

/// SQLSTATE of [`commit_within`]'s refusal (`53100`, disk_full).
const QUOTA_CODE: &str = "53100";

/// Ends the app's transaction in one round trip. When it wrote anything (an id was assigned),
/// the size of schema `name`'s relations and of the connection's temporary ones is measured,
/// and past `max_bytes` and `last_size` (a schema already over its quota may shrink) the
/// transaction is aborted with [`QUOTA_CODE`]; else it commits. The size measured, `None`
/// when nothing was written.
async fn commit_within(
    conn: &mut PgConnection,
    name: &str,
    max_bytes: u64,
    last_size: u64,
) -> Result<Option<u64>, sqlx::Error> {
    // pg_catalog first and alone, every name qualified: nothing the app made can stand in for
    // these functions, types or the setting, and the block sets the setting last, over any
    // value the app's own statements gave it. A failing statement skips the COMMIT.
    let sql = format!(
        "SET LOCAL search_path = pg_catalog; \
         DO $livewasm$ DECLARE s pg_catalog.int8; BEGIN \
           IF pg_catalog.pg_current_xact_id_if_assigned() IS NOT NULL THEN \
             SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_total_relation_size(c.oid)), 0)::pg_catalog.int8 INTO s \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n \
               ON n.oid OPERATOR(pg_catalog.=) c.relnamespace \
             WHERE (n.nspname OPERATOR(pg_catalog.=) {name} \
                    OR c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema()) \
               AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'm', 'S']::pg_catalog.\"char\"[]); \
             IF s > {max_bytes} AND s > {last_size} THEN \
               RAISE EXCEPTION USING ERRCODE = '{QUOTA_CODE}', MESSAGE = 'sql quota exceeded'; \
             END IF; \
           END IF; \
           PERFORM pg_catalog.set_config('livewasm.written', COALESCE(s::pg_catalog.text, ''), true); \
         END $livewasm$; \
         SELECT pg_catalog.current_setting('livewasm.written'); \
         COMMIT",
        name = literal(name),
    );
    // A text without arguments goes as a simple query: every statement in one round trip.
    let rows = conn.fetch_all(sql.as_str()).await?;
    let written: Option<String> = match rows.first() {
        Some(row) => row.try_get(0)?,
        None => None,
    };
    Ok(written.and_then(|size| size.parse::<u64>().ok()))
}

/// `text` as an SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl PgApp {
    /// Runs `work` in one transaction of the app, committing when it succeeds and the
    /// schema stays within its size (or did not grow).
    fn call<T: Send + 'static>(
        &self,
        work: impl for<'c> FnOnce(
            &'c mut PgConnection,
            SqlLimits,
            Instant,
        ) -> futures_util::future::BoxFuture<'c, Result<T, SqlError>>
        + Send
        + 'static,
    ) -> Result<T, SqlError> {
        let (pool, name, limits) = (self.pool.clone(), self.name.clone(), self.limits);
        let limit = limits.statement_timeout;
        let last_size = self.last_size.load(Ordering::Relaxed);
        let answer = self.runner.run(limit, async move {
            let mut conn = pool.acquire().await.map_err(unavailable)?;
            let deadline = Instant::now() + limit;
            begin(&mut conn, &name, limit)
                .await
                .map_err(|e| error(e, &limits))?;
            let result = work(&mut conn, limits, deadline).await;
            let value = match result {
                Ok(value) => value,
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(e);
                }
            };
            let size = match commit_within(&mut conn, &name, limits.max_bytes, last_size).await {
                Ok(size) => size,
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(match &e {
                        sqlx::Error::Database(db) if db.code().as_deref() == Some(QUOTA_CODE) => {
                            SqlError::DatabaseFull {
                                limit: limits.max_bytes,
                            }
                        }
                        _ => error(e, &limits),
                    });
                }
            };
            Ok((value, size))
        });
        let (value, size) =
            answer.map_err(|e| SqlError::Unavailable(format!("the database: {e}")))??;
        if let Some(size) = size {
            self.last_size.store(size, Ordering::Relaxed);
        }
        Ok(value)
    }
}

/// The checks and rewrite every statement goes through: `sql` for Postgres.
fn prepare(sql: &str, params: &[SqlValue]) -> Result<String, SqlError> {
    if let Some(refused) = dialect::refusal(sql) {
        return Err(refused);
    }
    let (sql, named) = dialect::to_postgres(sql);
    if named != params.len() {
        return Err(SqlError::Statement(format!(
            "the statement names {named} parameters and {} were given",
            params.len()
        )));
    }
    Ok(sql)
}

impl SqlStore for PgApp {
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<SqlRows, SqlError> {
        let (sql, params) = (prepare(sql, params)?, params.to_vec());
        self.call(move |conn, limits, _| {
            Box::pin(async move { query(conn, &limits, &sql, &params).await })
        })
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError> {
        let (sql, params) = (prepare(sql, params)?, params.to_vec());
        self.call(move |conn, limits, _| {
            Box::pin(async move { execute(conn, &limits, &sql, &params).await })
        })
    }

    fn batch(&self, statements: &[SqlStatement]) -> Result<Vec<u64>, SqlError> {
        let statements = statements
            .iter()
            .map(|s| Ok((prepare(&s.sql, &s.params)?, s.params.clone())))
            .collect::<Result<Vec<_>, SqlError>>()?;
        self.call(move |conn, limits, deadline| {
            Box::pin(async move {
                let mut changed = Vec::with_capacity(statements.len());
                for (sql, params) in &statements {
                    time_left(conn, deadline).await.map_err(|e| match e {
                        SqlError::Statement(_) => timeout(&limits),
                        other => other,
                    })?;
                    changed.push(execute(conn, &limits, sql, params).await?);
                }
                Ok(changed)
            })
        })
    }
}

fn timeout(limits: &SqlLimits) -> SqlError {
    SqlError::Timeout {
        limit_ms: limits.statement_timeout.as_millis() as u64,
    }
}

/// A `NULL` parameter whose type Postgres infers from where it stands.
struct Untyped;

impl Type<Postgres> for Untyped {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl Encode<'_, Postgres> for Untyped {
    fn encode_by_ref(
        &self,
        _buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

fn bind<'q>(
    query: Query<'q, Postgres, PgArguments>,
    value: &'q SqlValue,
) -> Query<'q, Postgres, PgArguments> {
    match value {
        SqlValue::Null => query.bind(Untyped),
        SqlValue::Integer(n) => query.bind(*n),
        SqlValue::Real(x) => query.bind(*x),
        SqlValue::Text(text) => query.bind(text.as_str()),
        SqlValue::Blob(bytes) => query.bind(bytes.as_slice()),
    }
}

fn param_types(params: &[SqlValue]) -> Vec<PgTypeInfo> {
    params
        .iter()
        .map(|value| match value {
            SqlValue::Null => Untyped::type_info(),
            SqlValue::Integer(_) => <i64 as Type<Postgres>>::type_info(),
            SqlValue::Real(_) => <f64 as Type<Postgres>>::type_info(),
            SqlValue::Text(_) => <&str as Type<Postgres>>::type_info(),
            SqlValue::Blob(_) => <&[u8] as Type<Postgres>>::type_info(),
        })
        .collect()
}

/// `sql` with `params` bound, as an unnamed statement (a connection keeps no prepared
/// statements: `DISCARD ALL` drops them when it goes back to the pool).
fn bound<'q>(sql: &'q str, params: &'q [SqlValue]) -> Query<'q, Postgres, PgArguments> {
    params.iter().fold(sqlx::query(sql).persistent(false), bind)
}

/// Runs `sql` and returns its rows, at most `limits.max_rows` and
/// [`MAX_RESULT_BYTES`](super::rows::MAX_RESULT_BYTES).
async fn query(
    conn: &mut PgConnection,
    limits: &SqlLimits,
    sql: &str,
    params: &[SqlValue],
) -> Result<SqlRows, SqlError> {
    let (columns, rows) = collect(
        bound(sql, params).fetch(&mut *conn),
        limits,
        None,
        read_value,
        |e| error(e, limits),
    )
    .await?;
    let columns = match columns {
        Some(columns) => columns,
        // No rows: the statement still names its columns.
        None => {
            let statement = (&mut *conn)
                .prepare_with(sql, &param_types(params))
                .await
                .map_err(|e| error(e, limits))?;
            statement
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect()
        }
    };
    Ok(SqlRows { columns, rows })
}

/// Runs `sql` and returns the rows it changed.
async fn execute(
    conn: &mut PgConnection,
    limits: &SqlLimits,
    sql: &str,
    params: &[SqlValue],
) -> Result<u64, SqlError> {
    let done = bound(sql, params)
        .execute(conn)
        .await
        .map_err(|e| error(e, limits))?;
    Ok(done.rows_affected())
}

/// Column `index` of `row` as the guest sees it: integers (and booleans as 0 or 1), reals,
/// text (also numeric, dates and times, uuids, JSON), blobs.
fn read_value(row: &PgRow, index: usize) -> Result<SqlValue, SqlError> {
    let raw = row
        .try_get_raw(index)
        .map_err(|e| SqlError::Statement(e.to_string()))?;
    if raw.is_null() {
        return Ok(SqlValue::Null);
    }
    let type_info = raw.type_info().into_owned();
    let oid = type_info.oid().map_or(0, |oid| oid.0);
    let bad = |e: sqlx::error::BoxDynError| SqlError::Statement(e.to_string());
    let bytes = |raw: PgValueRef<'_>| raw.as_bytes().map(<[u8]>::to_vec).map_err(bad);
    let value = match oid {
        16 => SqlValue::Integer(i64::from(decode::<bool>(raw)?)),
        21 => SqlValue::Integer(i64::from(decode::<i16>(raw)?)),
        23 => SqlValue::Integer(i64::from(decode::<i32>(raw)?)),
        20 => SqlValue::Integer(decode::<i64>(raw)?),
        26 => SqlValue::Integer(i64::from(decode::<Oid>(raw)?.0)),
        700 => SqlValue::Real(f64::from(decode::<f32>(raw)?)),
        701 => SqlValue::Real(decode::<f64>(raw)?),
        17 => SqlValue::Blob(bytes(raw)?),
        // text, varchar, bpchar, name, "char", json, xml, unknown
        25 | 1043 | 1042 | 19 | 18 | 114 | 142 | 705 => {
            SqlValue::Text(raw.as_str().map_err(bad)?.to_string())
        }
        3802 => {
            let b = bytes(raw)?;
            SqlValue::Text(String::from_utf8_lossy(b.get(1..).unwrap_or_default()).into_owned())
        }
        1700 => SqlValue::Text(numeric_text(&bytes(raw)?)?),
        1082 => SqlValue::Text(date_text(i64::from(decode::<i32>(raw)?))),
        1114 => SqlValue::Text(timestamp_text(decode::<i64>(raw)?)),
        1184 => SqlValue::Text(format!("{}+00", timestamp_text(decode::<i64>(raw)?))),
        1083 => SqlValue::Text(time_text(decode::<i64>(raw)?)),
        2950 => {
            let b = bytes(raw)?;
            let h = hex(&b);
            if h.len() != 32 {
                return Err(SqlError::Statement("a malformed uuid".into()));
            }
            SqlValue::Text(format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            ))
        }
        _ => {
            return Err(SqlError::Statement(format!(
                "column {} has type {}, which apps cannot read (cast it to text)",
                row.columns()[index].name(),
                type_info
            )));
        }
    };
    Ok(value)
}

fn decode<'r, T: Decode<'r, Postgres>>(raw: PgValueRef<'r>) -> Result<T, SqlError> {
    T::decode(raw).map_err(|e| SqlError::Statement(e.to_string()))
}

/// A `numeric` in Postgres' binary form, as decimal text.
fn numeric_text(b: &[u8]) -> Result<String, SqlError> {
    let word = |i: usize| -> Option<i16> { Some(i16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])) };
    let malformed = || SqlError::Statement("a malformed numeric".into());
    let ndigits = word(0).ok_or_else(malformed)?.max(0) as usize;
    let weight = word(2).ok_or_else(malformed)? as i64;
    let sign = word(4).ok_or_else(malformed)? as u16;
    let dscale = word(6).ok_or_else(malformed)?.max(0) as usize;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<i64> = (0..ndigits)
        .map(|k| word(8 + 2 * k).map(i64::from).ok_or_else(malformed))
        .collect::<Result<_, _>>()?;
    let digit = |k: i64| -> i64 {
        usize::try_from(k)
            .ok()
            .and_then(|k| digits.get(k).copied())
            .unwrap_or(0)
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for k in 0..=weight {
            if k == 0 {
                let _ = write!(s, "{}", digit(k));
            } else {
                let _ = write!(s, "{:04}", digit(k));
            }
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut k = weight + 1;
        while fraction.len() < dscale {
            let _ = write!(fraction, "{:04}", digit(k));
            k += 1;
        }
        fraction.truncate(dscale);
        s.push('.');
        s.push_str(&fraction);
    }
    Ok(s)
}

/// Days since 2000-01-01 as `YYYY-MM-DD`.
fn date_text(days: i64) -> String {
    // Howard Hinnant's civil_from_days, from 1970-01-01 (10,957 days before 2000-01-01).
    let z = days + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Microseconds since midnight as `HH:MM:SS[.ffffff]`.
fn time_text(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let mut s = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        let _ = write!(s, ".{fraction:06}");
        while s.ends_with('0') {
            s.pop();
        }
    }
    s
}

/// Microseconds since 2000-01-01 00:00 as `YYYY-MM-DD HH:MM:SS[.ffffff]`.
fn timestamp_text(micros: i64) -> String {
    match micros {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        _ => {
            let day = 86_400_000_000;
            format!(
                "{} {}",
                date_text(micros.div_euclid(day)),
                time_text(micros.rem_euclid(day))
            )
        }
    }
}

/// The error the guest gets for `e`.
fn error(e: sqlx::Error, limits: &SqlLimits) -> SqlError {
    match &e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // query_canceled: the statement timeout.
            Some("57014") => timeout(limits),
            // insufficient_privilege: another app's schema, the registry, a server function.
            Some("42501") => SqlError::Denied(db.message().to_string()),
            _ => SqlError::Statement(db.message().to_string()),
        },
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => unavailable(e),
        _ => SqlError::Statement(e.to_string()),
    }
}

fn unavailable(e: sqlx::Error) -> SqlError {
    SqlError::Unavailable(e.to_string())
}

/// The table recording applied migrations, in the app's schema.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _livewasm_migrations (
    version BIGINT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    applied_at BIGINT NOT NULL DEFAULT (extract(epoch FROM now())::bigint)
)";

/// Applies the migrations of `migrations` that schema `name` has not recorded; how many ran.
/// Each runs in its own transaction, holding the record table locked, so two hosts loading
/// the same version apply each migration once.
async fn migrate(
    conn: &mut PgConnection,
    name: &str,
    limits: &SqlLimits,
    migrations: Vec<String>,
) -> Result<usize, SqlError> {
    let failed = |index: usize, e: sqlx::Error| SqlError::Migration {
        index,
        message: error(e, limits).to_string(),
    };
    let mut created = Err(failed(0, sqlx::Error::PoolClosed));
    for _ in 0..3 {
        created = async {
            begin(conn, name, MIGRATION_TIMEOUT).await?;
            conn.execute(CREATE_TABLE).await?;
            conn.execute("COMMIT").await.map(drop)
        }
        .await
        .map_err(|e| failed(0, e));
        if created.is_ok() {
            break;
        }
        let _ = conn.execute("ROLLBACK").await;
    }
    created?;
    let mut ran = 0;
    for (n, migration) in migrations.into_iter().enumerate() {
        let index = n + 1;
        if let Some(refused) = dialect::refusal(&migration) {
            return Err(SqlError::Migration {
                index,
                message: refused.to_string(),
            });
        }
        let sha = super::migrate::digest(&migration);
        let applied = async {
            begin(conn, name, MIGRATION_TIMEOUT).await?;
            conn.execute("LOCK TABLE _livewasm_migrations IN EXCLUSIVE MODE")
                .await?;
            let known: Option<String> =
                sqlx::query_scalar("SELECT sha256 FROM _livewasm_migrations WHERE version = $1")
                    .bind(index as i64)
                    .fetch_optional(&mut *conn)
                    .await?;
            match known {
                Some(known) => Ok(Some(known == sha)),
                None => {
                    conn.execute(sqlx::raw_sql(&migration)).await?;
                    sqlx::query(
                        "INSERT INTO _livewasm_migrations (version, sha256) VALUES ($1, $2)",
                    )
                    .bind(index as i64)
                    .bind(&sha)
                    .execute(&mut *conn)
                    .await?;
                    Ok(None)
                }
            }
        }
        .await;
        match applied {
            Ok(Some(true)) => {
                let _ = conn.execute("ROLLBACK").await;
            }
            Ok(Some(false)) => {
                let _ = conn.execute("ROLLBACK").await;
                return Err(SqlError::Migration {
                    index,
                    message: "it was changed after it was applied (add a new migration instead)"
                        .into(),
                });
            }
            Ok(None) => {
                conn.execute("COMMIT").await.map_err(|e| failed(index, e))?;
                ran += 1;
            }
            Err(e) => {
                let _ = conn.execute("ROLLBACK").await;
                return Err(failed(index, e));
            }
        }
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_text() {
        // 12345.678 : ndigits 3, weight 1, sign 0, dscale 3; digits 1, 2345, 6780
        let n = [0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c];
        assert_eq!(numeric_text(&n).unwrap(), "12345.678");
        // -0.05 : ndigits 1, weight -1, sign 0x4000, dscale 2; digits 500
        let n = [0, 1, 0xff, 0xff, 0x40, 0, 0, 2, 0x01, 0xf4];
        assert_eq!(numeric_text(&n).unwrap(), "-0.05");
        // 0 with scale 2
        assert_eq!(numeric_text(&[0, 0, 0, 0, 0, 0, 0, 2]).unwrap(), "0.00");
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(date_text(-1), "1999-12-31");
        assert_eq!(date_text(9_861), "2026-12-31");
        assert_eq!(
            timestamp_text(86_400_000_000 + 3_723_500_000),
            "2000-01-02 01:02:03.5"
        );
        assert_eq!(time_text(0), "00:00:00");
    }

    #[test]
    fn role_names_are_plain_identifiers() {
        assert_eq!(role_name("app_3f9c00aa"), "lw_app_3f9c00aa");
        assert_eq!(role_name("local/articles"), "lw_local_articles");
        let odd = role_name("local/operator-dashboard");
        assert!(odd.starts_with("lw_h_") && odd.len() == 45, "{odd}");
        assert!(role_name("local_x").starts_with("lw_h_"));
        assert!(role_name("Robert'); DROP").starts_with("lw_h_"));
    }
}
