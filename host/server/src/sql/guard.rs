//! What an app's SQL may do, set on each connection once it is open (after sqlx's own
//! `PRAGMA`s): an authorizer that refuses `ATTACH`/`DETACH`, every `PRAGMA` but a few
//! read-only schema ones, and `load_extension`; and connection limits: no attached database
//! at all (which also stops `VACUUM INTO` writing a file elsewhere), values and statements of
//! bounded length. The database's size is held by `PRAGMA max_page_count`, set at connect;
//! with `PRAGMA` refused afterwards an app cannot lift it.
//!
//! sqlx wraps neither the authorizer nor `sqlite3_limit`, so both are called through
//! libsqlite3-sys on the connection's raw handle, which sqlx lends while no other call runs.

use std::ffi::{CStr, c_char, c_int, c_void};

use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;

/// Largest string or blob a statement may make or bind, in bytes.
pub(crate) const MAX_VALUE_BYTES: c_int = 8 << 20;
/// Longest SQL text SQLite accepts on these connections (the runtime checks 100 KiB before).
const MAX_SQL_BYTES: c_int = 1 << 20;

/// `PRAGMA`s an app may run: schema introspection, read-only.
const READ_ONLY_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
];

/// Puts the authorizer and the limits on `conn`.
pub(crate) async fn install(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the open connection sqlx lent us; while `handle` lives no other call
    // runs on it. `authorize` is a plain function with no user data (null pointer) and
    // never touches the connection.
    let rc = unsafe {
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_ATTACHED, 0);
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES);
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES);
        ffi::sqlite3_set_authorizer(db, Some(authorize), std::ptr::null_mut())
    };
    if rc != ffi::SQLITE_OK {
        return Err(sqlx::Error::Protocol(format!(
            "could not install the sql authorizer (code {rc})"
        )));
    }
    Ok(())
}

/// The authorizer callback: `SQLITE_OK` or `SQLITE_DENY` for each action a statement takes.
unsafe extern "C" fn authorize(
    _user: *mut c_void,
    action: c_int,
    arg1: *const c_char,
    arg2: *const c_char,
    _database: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    // SAFETY: SQLite passes NUL-terminated strings or null, valid for this call.
    let text = |p: *const c_char| (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) });
    let allowed = match action {
        ffi::SQLITE_ATTACH | ffi::SQLITE_DETACH => false,
        ffi::SQLITE_PRAGMA => text(arg1)
            .and_then(|name| name.to_str().ok())
            .is_some_and(|name| {
                READ_ONLY_PRAGMAS
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(name))
            }),
        ffi::SQLITE_FUNCTION => {
            text(arg2).is_none_or(|name| !name.to_bytes().eq_ignore_ascii_case(b"load_extension"))
        }
        _ => true,
    };
    if allowed {
        ffi::SQLITE_OK
    } else {
        ffi::SQLITE_DENY
    }
}
