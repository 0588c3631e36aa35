//! The apps' databases against what a hostile or careless app might send.

use super::*;

fn limits() -> SqlLimits {
    SqlLimits {
        max_bytes: 256 * 1024,
        statement_timeout: Duration::from_millis(300),
        max_rows: 50,
    }
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.into())
}

const SCHEMA: &str = "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, body BLOB, score REAL)";

fn migrated(stores: &SqlStores, scope: &str) -> Arc<dyn SqlStore> {
    assert_eq!(
        stores.migrate(scope, &[SCHEMA.into()]).expect("migrates"),
        1
    );
    stores.store(scope)
}

#[test]
fn rows_round_trip_every_storage_class() {
    let stores = SqlStores::new(None, limits());
    let db = migrated(&stores, "local/notes");
    let changed = db
        .execute(
            "INSERT INTO notes (title, body, score) VALUES (?, ?, ?)",
            &[
                text("first"),
                SqlValue::Blob(vec![0, 1, 2]),
                SqlValue::Real(1.5),
            ],
        )
        .expect("insert");
    assert_eq!(changed, 1);
    db.execute(
        "INSERT INTO notes (title, body, score) VALUES (?1, NULL, ?2)",
        &[text("second"), SqlValue::Null],
    )
    .expect("insert with nulls");
    let rows = db
        .query("SELECT id, title, body, score FROM notes ORDER BY id", &[])
        .expect("query");
    assert_eq!(rows.columns, ["id", "title", "body", "score"]);
    assert_eq!(
        rows.rows,
        vec![
            vec![
                SqlValue::Integer(1),
                text("first"),
                SqlValue::Blob(vec![0, 1, 2]),
                SqlValue::Real(1.5)
            ],
            vec![
                SqlValue::Integer(2),
                text("second"),
                SqlValue::Null,
                SqlValue::Null
            ],
        ]
    );
    // No rows: the columns are still named.
    let none = db
        .query(
            "SELECT id, title FROM notes WHERE id = ?",
            &[SqlValue::Integer(9)],
        )
        .expect("query");
    assert_eq!(none.columns, ["id", "title"]);
    assert!(none.rows.is_empty());
}

#[test]
fn errors_carry_the_database_message_and_leave_data_alone() {
    let stores = SqlStores::new(None, limits());
    let db = migrated(&stores, "local/notes");
    db.execute("INSERT INTO notes (title) VALUES ('a')", &[])
        .expect("insert");
    let error = db
        .execute("INSERT INTO notes (title) VALUES ('a')", &[])
        .expect_err("unique");
    assert!(
        matches!(&error, SqlError::Statement(m) if m.contains("UNIQUE")),
        "{error}"
    );
    assert!(matches!(
        db.query("SELEKT 1", &[]),
        Err(SqlError::Statement(_))
    ));
    // A batch is all or nothing.
    let error = db
        .batch(&[
            SqlStatement {
                sql: "INSERT INTO notes (title) VALUES (?)".into(),
                params: vec![text("b")],
            },
            SqlStatement {
                sql: "INSERT INTO notes (title) VALUES (?)".into(),
                params: vec![text("a")],
            },
        ])
        .expect_err("second statement fails");
    assert!(matches!(error, SqlError::Statement(_)), "{error}");
    let rows = db.query("SELECT title FROM notes", &[]).expect("query");
    assert_eq!(rows.rows, vec![vec![text("a")]]);
    let ok = db
        .batch(&[
            SqlStatement {
                sql: "INSERT INTO notes (title) VALUES (?)".into(),
                params: vec![text("b")],
            },
            SqlStatement {
                sql: "UPDATE notes SET score = 2".into(),
                params: vec![],
            },
        ])
        .expect("batch");
    assert_eq!(ok, [1, 2]);
}

#[test]
fn what_apps_may_not_do_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stores = SqlStores::new(Some(dir.path().to_path_buf()), limits());
    let a = migrated(&stores, "app-a");
    let b = migrated(&stores, "app-b");
    b.execute("INSERT INTO notes (title) VALUES ('secret of b')", &[])
        .expect("insert");
    let other = dir.path().join("app-b.sqlite3");
    assert!(other.exists());
    let attach = format!("ATTACH DATABASE '{}' AS other", other.display());
    for (sql, what) in [
        (attach.as_str(), "attach"),
        ("PRAGMA max_page_count = 1000000", "lift the size quota"),
        ("PRAGMA writable_schema = ON", "writable schema"),
        ("SELECT load_extension('/tmp/x.so')", "load an extension"),
    ] {
        let result = a.execute(sql, &[]);
        assert!(
            matches!(&result, Err(SqlError::Denied(_))),
            "{what}: {result:?}"
        );
    }
    let vacuum_into = format!("VACUUM INTO '{}'", dir.path().join("copy.db").display());
    let result = a.execute(&vacuum_into, &[]);
    assert!(
        matches!(
            &result,
            Err(SqlError::Denied(_)) | Err(SqlError::Statement(_))
        ),
        "VACUUM INTO: {result:?}"
    );
    assert!(!dir.path().join("copy.db").exists());
    // Schema introspection is allowed.
    let info = a
        .query("PRAGMA table_info(notes)", &[])
        .expect("table_info");
    assert_eq!(info.rows.len(), 4);
    // a never saw b's row.
    let rows = a.query("SELECT title FROM notes", &[]).expect("query");
    assert!(rows.rows.is_empty());
}

#[test]
fn limits_end_runaway_statements() {
    let stores = SqlStores::new(None, limits());
    let db = migrated(&stores, "local/notes");
    // A statement that never ends is interrupted at the deadline.
    let forever =
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n";
    let error = db.query(forever, &[]).expect_err("interrupted");
    assert_eq!(error, SqlError::Timeout { limit_ms: 300 });
    // Too many rows.
    let many =
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 51) SELECT x FROM n";
    assert_eq!(
        db.query(many, &[]),
        Err(SqlError::TooManyRows { limit: 50 })
    );
    // Too many bytes.
    let wide = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 10) SELECT zeroblob(1000000) FROM n";
    assert_eq!(
        db.query(wide, &[]),
        Err(SqlError::ResultTooLarge {
            limit: MAX_RESULT_BYTES
        })
    );
    // A database past its size.
    let error = db
        .execute(
            "INSERT INTO notes (title, body) VALUES ('big', zeroblob(1000000))",
            &[],
        )
        .expect_err("full");
    assert_eq!(error, SqlError::DatabaseFull { limit: 256 * 1024 });
    // The database still works after all that.
    db.execute("INSERT INTO notes (title) VALUES ('fine')", &[])
        .expect("insert");
    assert_eq!(
        db.query("SELECT count(*) FROM notes", &[])
            .expect("count")
            .rows,
        vec![vec![SqlValue::Integer(1)]]
    );
}

#[test]
fn files_keep_data_and_migrations_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let stores = SqlStores::new(Some(dir.path().to_path_buf()), limits());
        let db = migrated(&stores, "app-1");
        db.execute("INSERT INTO notes (title) VALUES ('kept')", &[])
            .expect("insert");
    }
    let stores = SqlStores::new(Some(dir.path().to_path_buf()), limits());
    // Already applied: nothing runs; a new one does.
    assert_eq!(stores.migrate("app-1", &[SCHEMA.into()]).expect("again"), 0);
    let add = "ALTER TABLE notes ADD COLUMN tag TEXT".to_string();
    assert_eq!(
        stores
            .migrate("app-1", &[SCHEMA.into(), add.clone()])
            .expect("new"),
        1
    );
    let db = stores.store("app-1");
    let rows = db
        .query("SELECT title, tag FROM notes", &[])
        .expect("query");
    assert_eq!(rows.rows, vec![vec![text("kept"), SqlValue::Null]]);
    // A changed migration keeps the version from loading.
    let error = stores
        .migrate("app-1", &[format!("{SCHEMA} "), add])
        .expect_err("changed");
    assert!(
        matches!(error, SqlError::Migration { index: 1, .. }),
        "{error}"
    );
    // A failing migration is rolled back and named.
    let error = stores
        .migrate(
            "app-2",
            &[
                "CREATE TABLE t (x INTEGER)".into(),
                "CREATE TABLE u (y); INSERT INTO nope VALUES (1)".into(),
            ],
        )
        .expect_err("fails");
    assert!(
        matches!(error, SqlError::Migration { index: 2, .. }),
        "{error}"
    );
    let db2 = stores.store("app-2");
    assert!(db2.query("SELECT * FROM u", &[]).is_err(), "rolled back");
    assert!(db2.query("SELECT * FROM t", &[]).is_ok(), "first one kept");

    // Deleting the app deletes its file; its views get an error, not a fresh database.
    stores.remove("app-1");
    assert!(!dir.path().join("app-1.sqlite3").exists());
    assert!(matches!(
        db.query("SELECT 1", &[]),
        Err(SqlError::Unavailable(_))
    ));
}

#[test]
fn scopes_become_safe_file_names() {
    let stores = SqlStores::new(Some(PathBuf::from("/data")), limits());
    assert_eq!(
        stores.inner.path("local/../../etc"),
        Some(PathBuf::from("/data/local%2F%2E%2E%2F%2E%2E%2Fetc.sqlite3"))
    );
}

#[tokio::test]
async fn calls_work_from_a_single_threaded_runtime() {
    let stores = SqlStores::new(None, limits());
    let db = migrated(&stores, "local/notes");
    assert_eq!(
        db.query("SELECT 1 + 1", &[]).expect("query").rows,
        vec![vec![SqlValue::Integer(2)]]
    );
}

/// The Postgres backend, when `LIVEWASM_TEST_DATABASE_URL` names a Postgres to test against
/// (`tests/postgres.sh`); skipped otherwise.
mod on_postgres {
    use super::*;

    fn url() -> Option<String> {
        std::env::var("LIVEWASM_TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
    }

    /// A scope no other run uses (roles are global to the Postgres server).
    fn scope(what: &str) -> String {
        let n: u64 = rand::random();
        format!("app_{what}{n:016x}")
    }

    /// An insert of about 2.6 MB of text, past the 256 KiB quota of these tests.
    const TOO_BIG: &str = "INSERT INTO notes (title, body) SELECT 'big' || g, (SELECT convert_to(string_agg(md5(random()::text || g || h), ''), 'UTF8') FROM generate_series(1, 4000) h) FROM generate_series(1, 20) g";

    const PG_SCHEMA: &str = "\0sqlite\0CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, body BLOB, score REAL)\0postgres\0CREATE TABLE notes (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, title TEXT NOT NULL UNIQUE, body BYTEA, score DOUBLE PRECISION)";

    fn stores(url: &str) -> SqlStores {
        SqlStores::postgres(url, b"test secret", limits()).expect("stores")
    }

    #[test]
    fn rows_round_trip_and_limits_hold() {
        let Some(url) = url() else { return };
        let stores = stores(&url);
        let scope = scope("rt");
        assert_eq!(
            stores
                .migrate(&scope, &[PG_SCHEMA.into()])
                .expect("migrates"),
            1
        );
        assert_eq!(
            stores.migrate(&scope, &[PG_SCHEMA.into()]).expect("again"),
            0
        );
        let db = stores.store(&scope);
        let id: Vec<Vec<SqlValue>> = db
            .query(
                "INSERT INTO notes (title, body, score) VALUES (?, ?, ?) RETURNING id",
                &[
                    text("first"),
                    SqlValue::Blob(vec![0, 1, 2]),
                    SqlValue::Real(1.5),
                ],
            )
            .expect("insert")
            .rows;
        assert_eq!(id, vec![vec![SqlValue::Integer(1)]]);
        db.execute(
            "INSERT INTO notes (title, body, score) VALUES (?1, ?2, ?3)",
            &[text("second"), SqlValue::Null, SqlValue::Null],
        )
        .expect("insert with nulls");
        let rows = db
            .query("SELECT id, title, body, score, score > 1 AS big, 1.50::numeric AS n FROM notes ORDER BY id", &[])
            .expect("query");
        assert_eq!(rows.columns, ["id", "title", "body", "score", "big", "n"]);
        assert_eq!(
            rows.rows[0],
            vec![
                SqlValue::Integer(1),
                text("first"),
                SqlValue::Blob(vec![0, 1, 2]),
                SqlValue::Real(1.5),
                SqlValue::Integer(1),
                text("1.50"),
            ]
        );
        let none = db
            .query(
                "SELECT id, title FROM notes WHERE id = ?",
                &[SqlValue::Integer(9)],
            )
            .expect("query");
        assert_eq!(none.columns, ["id", "title"]);
        let error = db
            .execute("INSERT INTO notes (title) VALUES ('first')", &[])
            .expect_err("unique");
        assert!(
            matches!(&error, SqlError::Statement(m) if m.contains("duplicate key")),
            "{error}"
        );
        // Limits: time, rows, bytes, size.
        let forever = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n";
        assert_eq!(
            db.query(forever, &[]),
            Err(SqlError::Timeout { limit_ms: 300 })
        );
        assert_eq!(
            db.query("SELECT generate_series(1, 51)", &[]),
            Err(SqlError::TooManyRows { limit: 50 })
        );
        assert_eq!(
            db.query(
                "SELECT repeat('x', 1000000) FROM generate_series(1, 10)",
                &[]
            ),
            Err(SqlError::ResultTooLarge {
                limit: MAX_RESULT_BYTES
            })
        );
        let error = db.execute(TOO_BIG, &[]).expect_err("full");
        assert_eq!(error, SqlError::DatabaseFull { limit: 256 * 1024 });
        // The host reads the size it measured from a setting of its own: an app trying to give
        // that setting a huge value (refused today; overwritten by the host's if it were not)
        // does not raise the size the host believes the schema had, so the quota still holds.
        for attempt in [
            "SELECT set_config('livewasm.written', '999999999999', true)",
            "SELECT set_config('livewasm.written', '999999999999', false)",
            "SET livewasm.written = '999999999999'",
        ] {
            let _ = db.query(attempt, &[]);
        }
        let error = db.execute(TOO_BIG, &[]).expect_err("still full");
        assert_eq!(error, SqlError::DatabaseFull { limit: 256 * 1024 });
        assert_eq!(
            db.query("SELECT count(*) FROM notes", &[])
                .expect("count")
                .rows,
            vec![vec![SqlValue::Integer(2)]]
        );
        // A batch is all or nothing.
        let error = db
            .batch(&[
                SqlStatement {
                    sql: "INSERT INTO notes (title) VALUES (?)".into(),
                    params: vec![text("b")],
                },
                SqlStatement {
                    sql: "INSERT INTO notes (title) VALUES (?)".into(),
                    params: vec![text("first")],
                },
            ])
            .expect_err("second fails");
        assert!(matches!(error, SqlError::Statement(_)), "{error}");
        stores.remove(&scope);
        assert!(matches!(
            db.query("SELECT 1", &[]),
            Err(SqlError::Unavailable(_))
        ));
    }

    #[test]
    fn namespaces_keep_hosts_apart_and_go_with_their_stores() {
        let Some(url) = url() else { return };
        let (a, b) = (scope("nsa"), scope("nsb"));
        let first = stores(&url).namespaced(&a);
        let second = stores(&url).namespaced(&b);
        for stores in [&first, &second] {
            stores
                .migrate("local/notes", &[PG_SCHEMA.into()])
                .expect("migrates");
        }
        first
            .store("local/notes")
            .execute("INSERT INTO notes (title) VALUES ('only in a')", &[])
            .expect("insert");
        let count = |stores: &SqlStores| {
            stores
                .store("local/notes")
                .query("SELECT count(*) FROM notes", &[])
                .expect("count")
                .rows
        };
        assert_eq!(count(&first), vec![vec![SqlValue::Integer(1)]]);
        assert_eq!(count(&second), vec![vec![SqlValue::Integer(0)]]);
        // Dropping the first stores drops its schema and role, not the second's.
        let role = postgres::role_name(&format!("{a}/local/notes"));
        let (observer, watching) = (stores(&url), scope("observer"));
        let exists = |observer: &SqlStores| {
            observer
                .store(&watching)
                .query(
                    "SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = ?",
                    &[text(&role)],
                )
                .expect("roles")
                .rows
        };
        assert_eq!(exists(&observer), vec![vec![SqlValue::Integer(1)]]);
        drop(first);
        assert_eq!(exists(&observer), vec![vec![SqlValue::Integer(0)]]);
        assert_eq!(count(&second), vec![vec![SqlValue::Integer(0)]]);
        observer.remove(&watching);
    }

    #[test]
    fn a_hostile_app_cannot_leave_its_schema() {
        let Some(url) = url() else { return };
        let stores = stores(&url);
        let (a, b) = (scope("a"), scope("b"));
        stores.migrate(&a, &[PG_SCHEMA.into()]).expect("a");
        stores.migrate(&b, &[PG_SCHEMA.into()]).expect("b");
        let (da, db) = (stores.store(&a), stores.store(&b));
        db.execute("INSERT INTO notes (title) VALUES ('secret of b')", &[])
            .expect("insert");
        let b_schema = postgres::role_name(&b);
        for sql in [
            format!("SELECT title FROM {b_schema}.notes"),
            "SELECT count(*) FROM public._sqlx_migrations".into(),
            "SELECT count(*) FROM public.tenants".into(),
            "SET ROLE postgres".into(),
            "RESET ROLE".into(),
            "SET SESSION AUTHORIZATION postgres".into(),
            "SELECT set_config('role', 'postgres', true)".into(),
            "COPY notes TO PROGRAM 'id'".into(),
            "CREATE EXTENSION IF NOT EXISTS dblink".into(),
            "SELECT pg_read_file('/etc/passwd')".into(),
            "LISTEN livewasm_registry".into(),
            "CREATE SCHEMA elsewhere".into(),
            "CREATE TABLE public.escape (x int)".into(),
        ] {
            let result = da.query(&sql, &[]);
            assert!(
                matches!(
                    &result,
                    Err(SqlError::Denied(_)) | Err(SqlError::Statement(_))
                ),
                "{sql}: {result:?}"
            );
        }
        // Past the filter, through dynamic SQL in a function of its own: the connection is the
        // app's role itself, so there is nothing to go back to.
        da.execute(
            "CREATE FUNCTION escape(target text) RETURNS bigint LANGUAGE plpgsql AS $f$
             DECLARE n bigint;
             BEGIN
               EXECUTE 'RE' || 'SET ROLE';
               BEGIN EXECUTE 'SET ROLE ' || 'postgres'; EXCEPTION WHEN OTHERS THEN NULL; END;
               EXECUTE 'SELECT count(*) FROM ' || target INTO n;
               RETURN n;
             END $f$",
            &[],
        )
        .expect("create function");
        for target in [
            format!("{b_schema}.notes"),
            "public._sqlx_migrations".into(),
        ] {
            let result = da.query("SELECT escape(?)", &[text(&target)]);
            assert!(
                matches!(
                    &result,
                    Err(SqlError::Denied(_)) | Err(SqlError::Statement(_))
                ),
                "{target}: {result:?}"
            );
        }
        let who = da
            .query("SELECT current_user, session_user", &[])
            .expect("who");
        let a_role = postgres::role_name(&a);
        assert_eq!(who.rows, vec![vec![text(&a_role), text(&a_role)]]);
        stores.remove(&a);
        stores.remove(&b);
    }
}
