//! Durable blob storage for tenant apps: named files (bytes with a content type) that an app
//! stores and the server serves back on its origin, one set per scope (an opaque string the
//! server chooses, such as an app id). Names are ASCII, checked here as the runtime checks
//! them; listing is in byte order on both backends.
//!
//! Every write is one transaction that keeps the scope's [`BlobUsage`] row exact and holds the
//! scope to the [`BlobLimits`] it is given. Its first statement writes that usage row, which
//! takes SQLite's write lock up front (no lock upgrade that could deadlock) and the row's lock
//! on Postgres, so writers of a scope are serialized and their read-check-write holds until
//! commit. These are app data, not registry changes: no audit row is written.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{Backend, Registry};
use crate::error::{Quota, RegistryError, Result};
use crate::sql::{get_u64, now_ms, sha256_hex, to_i64};

/// Longest blob name, in bytes.
const MAX_BLOB_NAME_LEN: usize = 200;
/// Longest content type, in bytes.
const MAX_CONTENT_TYPE_LEN: usize = 100;

/// Limits one scope's blobs are held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobLimits {
    /// Most blobs the scope may hold.
    pub max_blobs: u64,
    /// Most bytes the scope may hold, summed over its blobs' sizes.
    pub max_bytes: u64,
}

/// What is known of a stored blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobInfo {
    /// Its name within its scope.
    pub name: String,
    /// The content type it was stored with (and is served with).
    pub content_type: String,
    /// Lowercase hex sha256 of its bytes.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// When these bytes were stored (the last put of the name), unix ms.
    pub created_at: i64,
}

/// What one scope holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobUsage {
    /// Number of blobs.
    pub blobs: u64,
    /// Sum of their sizes, in bytes.
    pub bytes: u64,
}

impl BlobUsage {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(BlobUsage {
            blobs: get_u64(row, "blobs")?,
            bytes: get_u64(row, "bytes")?,
        })
    }
}

impl BlobInfo {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(BlobInfo {
            name: row.try_get("name")?,
            content_type: row.try_get("content_type")?,
            sha256: row.try_get("sha256")?,
            size: get_u64(row, "size")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// The metadata columns of `app_blobs`, in [`BlobInfo`]'s order.
const INFO_COLUMNS: &str = "name, content_type, sha256, size, created_at";

/// Whether `b` may appear in a blob name.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_./".contains(&b)
}

/// Why `name` is not a valid blob name, if it is not: 1 to 200 bytes of ASCII letters, digits
/// and `-_./`, not starting with `/` or `.`, with no empty or `..` segment (the runtime's
/// rule, checked again here).
fn blob_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("empty".to_owned());
    }
    if name.len() > MAX_BLOB_NAME_LEN {
        return Some(format!(
            "{} bytes long, more than {MAX_BLOB_NAME_LEN}",
            name.len()
        ));
    }
    if !name.bytes().all(is_name_byte) {
        return Some("only ASCII letters, digits and `-_./` are allowed".to_owned());
    }
    if name.starts_with('/') || name.starts_with('.') {
        return Some("must not start with `/` or `.`".to_owned());
    }
    if name.split('/').any(|segment| segment.is_empty()) {
        return Some("has an empty segment (`//` or a trailing `/`)".to_owned());
    }
    if name.split('/').any(|segment| segment == "..") {
        return Some("has a `..` segment".to_owned());
    }
    None
}

/// Refuses an invalid blob name with [`RegistryError::InvalidValue`].
fn validate_blob_name(name: &str) -> Result<()> {
    match blob_name_problem(name) {
        None => Ok(()),
        Some(reason) => Err(RegistryError::InvalidValue {
            what: "blob name",
            reason,
        }),
    }
}

/// Refuses a content type that is not 1 to 100 bytes of printable ASCII (space included, so
/// parameters such as `; charset=utf-8` are fine; no control characters).
fn validate_content_type(content_type: &str) -> Result<()> {
    let reason = if content_type.is_empty() {
        "empty".to_owned()
    } else if content_type.len() > MAX_CONTENT_TYPE_LEN {
        format!(
            "{} bytes long, more than {MAX_CONTENT_TYPE_LEN}",
            content_type.len()
        )
    } else if !content_type.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        "only printable ASCII is allowed".to_owned()
    } else {
        return Ok(());
    };
    Err(RegistryError::InvalidValue {
        what: "content type",
        reason,
    })
}

/// The smallest string greater, in byte order, than every string starting with `prefix`: the
/// prefix with its last character incremented. `None` for the empty prefix (no upper bound).
/// Only called with prefixes made of name bytes (ASCII below `~`), whose last byte plus one is
/// still ASCII.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let (at, last) = prefix.char_indices().next_back()?;
    let next = char::from_u32(u32::from(last).checked_add(1)?)?;
    let mut upper = prefix.get(..at)?.to_owned();
    upper.push(next);
    Some(upper)
}

/// What makes a comparison or ordering of `name` bytewise. SQLite compares TEXT with its
/// BINARY collation (memcmp) by default; Postgres uses the database's collation, which for
/// e.g. `en_US` puts `a` before `B` and skips punctuation, unless told `COLLATE "C"`.
fn bytewise(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " COLLATE \"C\"",
    }
}

/// Refuses going from `old` to `new` when a total grows past its limit. Totals that do not
/// grow are always allowed, even when over.
fn check_limits(old: BlobUsage, new: BlobUsage, limits: BlobLimits) -> Result<()> {
    if new.blobs > old.blobs && new.blobs > limits.max_blobs {
        return Err(RegistryError::QuotaExceeded {
            quota: Quota::BlobCount,
            limit: limits.max_blobs,
        });
    }
    if new.bytes > old.bytes && new.bytes > limits.max_bytes {
        return Err(RegistryError::QuotaExceeded {
            quota: Quota::BlobBytes,
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

/// Takes the write lock on `scope`'s usage row (creating the row at zero if absent) and
/// returns the scope's totals. Must be the first statement of a write transaction.
async fn lock_usage(conn: &mut AnyConnection, scope: &str) -> Result<BlobUsage> {
    let row = sqlx::query(
        "INSERT INTO blob_usage (scope, blobs, bytes) VALUES ($1, 0, 0) \
         ON CONFLICT (scope) DO UPDATE SET blobs = blob_usage.blobs \
         RETURNING blobs, bytes",
    )
    .bind(scope)
    .fetch_one(conn)
    .await?;
    BlobUsage::from_row(&row)
}

/// Stores `scope`'s new totals; a scope back at zero loses its row.
async fn store_usage(conn: &mut AnyConnection, scope: &str, usage: BlobUsage) -> Result<()> {
    if usage == BlobUsage::default() {
        sqlx::query("DELETE FROM blob_usage WHERE scope = $1")
            .bind(scope)
            .execute(conn)
            .await?;
    } else {
        sqlx::query("UPDATE blob_usage SET blobs = $2, bytes = $3 WHERE scope = $1")
            .bind(scope)
            .bind(to_i64("blob count", usage.blobs)?)
            .bind(to_i64("blob byte count", usage.bytes)?)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The size of blob `name` of `scope`, if there is one.
async fn size_on(conn: &mut AnyConnection, scope: &str, name: &str) -> Result<Option<u64>> {
    sqlx::query("SELECT size FROM app_blobs WHERE scope = $1 AND name = $2")
        .bind(scope)
        .bind(name)
        .fetch_optional(conn)
        .await?
        .map(|row| get_u64(&row, "size"))
        .transpose()
}

impl Registry {
    /// Stores `bytes` as blob `name` of `scope`, replacing any blob of that name.
    ///
    /// `name` must be 1 to 200 bytes of ASCII letters, digits and `-_./`, not start with `/`
    /// or `.`, and have no empty or `..` segment; `content_type` 1 to 100 bytes of printable
    /// ASCII. Otherwise fails with [`RegistryError::InvalidValue`] (`what` is `"blob name"` or
    /// `"content type"`). A write that would take the scope's count or bytes past `limits`
    /// fails with [`RegistryError::QuotaExceeded`] ([`Quota::BlobCount`] or
    /// [`Quota::BlobBytes`]) and changes nothing; a write that does not grow a total (a
    /// replacement by a blob no larger) is always allowed, even over the limits.
    pub async fn blob_put(
        &self,
        scope: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
        limits: BlobLimits,
    ) -> Result<BlobInfo> {
        validate_blob_name(name)?;
        validate_content_type(content_type)?;
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let info = BlobInfo {
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            sha256: sha256_hex(bytes),
            size,
            created_at: now_ms(),
        };
        let size_column = to_i64("blob size", size)?;
        let mut tx = self.pool.begin().await?;
        let old_usage = lock_usage(&mut tx, scope).await?;
        let old_size = size_on(&mut tx, scope, name).await?;
        let new_usage = BlobUsage {
            blobs: old_usage
                .blobs
                .saturating_add(u64::from(old_size.is_none())),
            bytes: old_usage
                .bytes
                .saturating_sub(old_size.unwrap_or(0))
                .saturating_add(size),
        };
        check_limits(old_usage, new_usage, limits)?;
        let sql = if old_size.is_some() {
            "UPDATE app_blobs SET content_type = $3, sha256 = $4, size = $5, created_at = $6, \
             bytes = $7 WHERE scope = $1 AND name = $2"
        } else {
            "INSERT INTO app_blobs (scope, name, content_type, sha256, size, created_at, bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        };
        sqlx::query(sql)
            .bind(scope)
            .bind(name)
            .bind(content_type)
            .bind(info.sha256.as_str())
            .bind(size_column)
            .bind(info.created_at)
            .bind(bytes)
            .execute(&mut *tx)
            .await?;
        store_usage(&mut tx, scope, new_usage).await?;
        tx.commit().await?;
        Ok(info)
    }

    /// A blob's metadata and bytes; `None` when `scope` has no blob `name` (or `name` is not a
    /// valid blob name, so none can exist).
    pub async fn blob_get(&self, scope: &str, name: &str) -> Result<Option<(BlobInfo, Vec<u8>)>> {
        if blob_name_problem(name).is_some() {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "SELECT {INFO_COLUMNS}, bytes FROM app_blobs WHERE scope = $1 AND name = $2"
        ))
        .bind(scope)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((BlobInfo::from_row(&row)?, row.try_get("bytes")?)))
            .transpose()
    }

    /// A blob's metadata only (its bytes are not read); `None` when `scope` has no blob
    /// `name` (or `name` is not a valid blob name).
    pub async fn blob_info(&self, scope: &str, name: &str) -> Result<Option<BlobInfo>> {
        if blob_name_problem(name).is_some() {
            return Ok(None);
        }
        sqlx::query(&format!(
            "SELECT {INFO_COLUMNS} FROM app_blobs WHERE scope = $1 AND name = $2"
        ))
        .bind(scope)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| BlobInfo::from_row(&row))
        .transpose()
    }

    /// Removes blob `name` of `scope`; `false` when it was absent (also for a name that is
    /// not a valid blob name). Always allowed, whatever the limits.
    pub async fn blob_delete(&self, scope: &str, name: &str) -> Result<bool> {
        if blob_name_problem(name).is_some() {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await?;
        let old_usage = lock_usage(&mut tx, scope).await?;
        let Some(old_size) = size_on(&mut tx, scope, name).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        sqlx::query("DELETE FROM app_blobs WHERE scope = $1 AND name = $2")
            .bind(scope)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let new_usage = BlobUsage {
            blobs: old_usage.blobs.saturating_sub(1),
            bytes: old_usage.bytes.saturating_sub(old_size),
        };
        store_usage(&mut tx, scope, new_usage).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Blobs of `scope` whose name starts with `prefix`, in name order, strictly after `after`
    /// when given, at most `limit`.
    ///
    /// Names are ordered by their bytes (`"B" < "a"`, `"a-b" < "a.b" < "a/b" < "ab"`) on both
    /// backends, whatever the database's collation. To page, pass the last name of one page
    /// as `after` for the next; it need not be a stored name. A prefix with a character no
    /// name may hold matches nothing.
    pub async fn blob_list(
        &self,
        scope: &str,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<BlobInfo>> {
        if limit == 0 || !prefix.bytes().all(is_name_byte) {
            return Ok(Vec::new());
        }
        // No name holds a NUL, so the names after `x\0y` are exactly those after `x`; and
        // Postgres TEXT cannot hold a NUL to compare with.
        let after = after.map(|after| after.split('\0').next().unwrap_or(after));
        let name = format!("name{}", bytewise(self.backend()));
        let upper = prefix_upper_bound(prefix);
        let mut sql =
            format!("SELECT {INFO_COLUMNS} FROM app_blobs WHERE scope = $1 AND {name} >= $2");
        let mut next = 3;
        if upper.is_some() {
            sql.push_str(&format!(" AND {name} < ${next}"));
            next += 1;
        }
        if after.is_some() {
            sql.push_str(&format!(" AND {name} > ${next}"));
            next += 1;
        }
        sql.push_str(&format!(" ORDER BY {name} LIMIT ${next}"));
        let mut query = sqlx::query(&sql).bind(scope).bind(prefix);
        if let Some(upper) = upper {
            query = query.bind(upper);
        }
        if let Some(after) = after {
            query = query.bind(after);
        }
        query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(BlobInfo::from_row)
            .collect()
    }

    /// The blobs and bytes `scope` holds (zero for a scope never written).
    pub async fn blob_usage(&self, scope: &str) -> Result<BlobUsage> {
        sqlx::query("SELECT blobs, bytes FROM blob_usage WHERE scope = $1")
            .bind(scope)
            .fetch_optional(&self.pool)
            .await?
            .map_or(Ok(BlobUsage::default()), |row| BlobUsage::from_row(&row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in [
            "a",
            "avatars/u1.png",
            "A-b_c.d/e",
            "a/.hidden",
            "a/b..c",
            "x...",
            &"n".repeat(MAX_BLOB_NAME_LEN),
        ] {
            assert_eq!(blob_name_problem(good), None, "{good}");
        }
        let long = "a".repeat(MAX_BLOB_NAME_LEN + 1);
        for bad in [
            "", "/a", ".a", "..", "../x", "a/../b", "a/..", "a//b", "a/", "a b", "\u{e9}", "a?b",
            "a\0", "a\\b", &long,
        ] {
            assert!(blob_name_problem(bad).is_some(), "{bad:?}");
            assert!(
                matches!(
                    validate_blob_name(bad),
                    Err(RegistryError::InvalidValue {
                        what: "blob name",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn content_types() {
        let longest = format!("text/{}", "x".repeat(MAX_CONTENT_TYPE_LEN - 5));
        for good in ["image/png", "text/plain; charset=utf-8", " ", "~", &longest] {
            assert!(validate_content_type(good).is_ok(), "{good:?}");
        }
        let long = format!("{longest}x");
        for bad in [
            "",
            "text/plain\n",
            "a\rb",
            "a\tb",
            "\u{7f}",
            "t\u{e9}xt",
            &long,
        ] {
            assert!(
                matches!(
                    validate_content_type(bad),
                    Err(RegistryError::InvalidValue {
                        what: "content type",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn upper_bounds() {
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("ab"), Some("ac".to_owned()));
        assert_eq!(prefix_upper_bound("a/"), Some("a0".to_owned()));
        assert_eq!(prefix_upper_bound("z"), Some("{".to_owned()));
        assert_eq!(prefix_upper_bound("a-"), Some("a.".to_owned()));
    }

    #[test]
    fn limits() {
        let limits = BlobLimits {
            max_blobs: 2,
            max_bytes: 10,
        };
        let usage = |blobs, bytes| BlobUsage { blobs, bytes };
        assert!(check_limits(usage(1, 5), usage(2, 10), limits).is_ok());
        assert!(matches!(
            check_limits(usage(2, 5), usage(3, 6), limits),
            Err(RegistryError::QuotaExceeded {
                quota: Quota::BlobCount,
                limit: 2
            })
        ));
        assert!(matches!(
            check_limits(usage(1, 5), usage(1, 11), limits),
            Err(RegistryError::QuotaExceeded {
                quota: Quota::BlobBytes,
                limit: 10
            })
        ));
        // Over already, but not growing.
        assert!(check_limits(usage(5, 50), usage(5, 40), limits).is_ok());
        assert!(check_limits(usage(5, 50), usage(4, 50), limits).is_ok());
    }
}
