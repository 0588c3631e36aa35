//! Durable key-value storage for the views of tenant apps, one store per scope (an opaque
//! string the server chooses, such as an app id). Keys are strings kept as their UTF-8 bytes,
//! so listing is in byte order on both backends; values are opaque bytes.
//!
//! Every write is one transaction that keeps the scope's [`KvUsage`] row exact and holds the
//! scope to the [`KvLimits`] it is given. Its first statement writes that usage row, which
//! takes SQLite's write lock up front (no lock upgrade that could deadlock) and the row's lock
//! on Postgres, so writers of a scope are serialized and their read-check-write holds until
//! commit. These are app data, not registry changes: no audit row is written.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::db::Registry;
use crate::error::{Quota, RegistryError, Result};
use crate::sql::{get_u64, to_i64};

/// Limits one scope's store is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvLimits {
    /// Most keys the scope may hold.
    pub max_keys: u64,
    /// Most bytes the scope may hold, counting every key and value.
    pub max_bytes: u64,
}

/// What one scope holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvUsage {
    /// Number of keys.
    pub keys: u64,
    /// Sum over the entries of key length plus value length, in bytes.
    pub bytes: u64,
}

impl KvUsage {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(KvUsage {
            keys: get_u64(row, "keys")?,
            bytes: get_u64(row, "bytes")?,
        })
    }
}

/// What a write does to the one key it looked at.
enum Write {
    /// Nothing: the transaction is rolled back.
    Keep,
    /// Store this value.
    Put(Vec<u8>),
    /// Remove the key.
    Remove,
}

/// Bytes an entry counts for.
fn entry_bytes(key: &[u8], value: &[u8]) -> u64 {
    u64::try_from(key.len().saturating_add(value.len())).unwrap_or(u64::MAX)
}

/// The smallest byte string greater than every string starting with `prefix`: the prefix with
/// its trailing 0xFF bytes stripped and its last byte incremented. `None` when there is none
/// (an empty or all-0xFF prefix), i.e. the range has no upper bound.
fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut upper = prefix.to_vec();
    while let Some(last) = upper.pop() {
        if let Some(next) = last.checked_add(1) {
            upper.push(next);
            return Some(upper);
        }
    }
    None
}

/// Refuses going from `old` to `new` when a total grows past its limit. Totals that do not
/// grow are always allowed, even when over.
fn check_limits(old: KvUsage, new: KvUsage, limits: KvLimits) -> Result<()> {
    if new.keys > old.keys && new.keys > limits.max_keys {
        return Err(RegistryError::QuotaExceeded {
            quota: Quota::KvKeys,
            limit: limits.max_keys,
        });
    }
    if new.bytes > old.bytes && new.bytes > limits.max_bytes {
        return Err(RegistryError::QuotaExceeded {
            quota: Quota::KvBytes,
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

/// The integer stored under `key` as decimal ASCII text.
fn parse_integer(key: &str, value: &[u8]) -> Result<i64> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .ok_or_else(|| RegistryError::InvalidValue {
            what: "kv value",
            reason: format!("the value of {key:?} is not an integer"),
        })
}

/// Takes the write lock on `scope`'s usage row (creating the row at zero if absent) and
/// returns the scope's totals. Must be the first statement of a write transaction.
async fn lock_usage(conn: &mut AnyConnection, scope: &str) -> Result<KvUsage> {
    let row = sqlx::query(
        "INSERT INTO kv_usage (scope, keys, bytes) VALUES ($1, 0, 0) \
         ON CONFLICT (scope) DO UPDATE SET keys = kv_usage.keys \
         RETURNING keys, bytes",
    )
    .bind(scope)
    .fetch_one(conn)
    .await?;
    KvUsage::from_row(&row)
}

/// Stores `scope`'s new totals; a scope back at zero loses its row.
async fn store_usage(conn: &mut AnyConnection, scope: &str, usage: KvUsage) -> Result<()> {
    if usage == KvUsage::default() {
        sqlx::query("DELETE FROM kv_usage WHERE scope = $1")
            .bind(scope)
            .execute(conn)
            .await?;
    } else {
        sqlx::query("UPDATE kv_usage SET keys = $2, bytes = $3 WHERE scope = $1")
            .bind(scope)
            .bind(to_i64("kv key count", usage.keys)?)
            .bind(to_i64("kv byte count", usage.bytes)?)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The value under `key` in `scope`.
async fn value_on(conn: &mut AnyConnection, scope: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM kv_entries WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .fetch_optional(conn)
            .await?,
    )
}

impl Registry {
    /// The value stored under `key` in `scope`, if any.
    pub async fn kv_get(&self, scope: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let mut conn = self.pool.acquire().await?;
        value_on(&mut conn, scope, key.as_bytes()).await
    }

    /// Stores `value` under `key` in `scope`, replacing any value there. Fails with
    /// [`RegistryError::QuotaExceeded`] ([`Quota::KvKeys`] or [`Quota::KvBytes`]), changing
    /// nothing, when that would take the scope past `limits`; shrinking is always allowed.
    pub async fn kv_set(
        &self,
        scope: &str,
        key: &str,
        value: &[u8],
        limits: KvLimits,
    ) -> Result<()> {
        self.kv_write(scope, key, Some(limits), |_| {
            Ok((Write::Put(value.to_vec()), ()))
        })
        .await
    }

    /// Removes `key` from `scope`; `false` when it was absent.
    pub async fn kv_delete(&self, scope: &str, key: &str) -> Result<bool> {
        self.kv_write(scope, key, None, |current| {
            Ok(match current {
                Some(_) => (Write::Remove, true),
                None => (Write::Keep, false),
            })
        })
        .await
    }

    /// Keys starting with `prefix` in byte order, strictly after `after` when given, at most
    /// `limit`.
    ///
    /// Byte order of UTF-8 is code point order (`"B" < "a" < "é"`), whatever the database's
    /// collation. To page, pass the last key of one page as `after` for the next.
    pub async fn kv_list(
        &self,
        scope: &str,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let upper = prefix_upper_bound(prefix.as_bytes());
        let mut sql = String::from("SELECT key FROM kv_entries WHERE scope = $1 AND key >= $2");
        let mut next = 3;
        if upper.is_some() {
            sql.push_str(&format!(" AND key < ${next}"));
            next += 1;
        }
        if after.is_some() {
            sql.push_str(&format!(" AND key > ${next}"));
            next += 1;
        }
        sql.push_str(&format!(" ORDER BY key LIMIT ${next}"));
        let mut query = sqlx::query_scalar::<_, Vec<u8>>(&sql)
            .bind(scope)
            .bind(prefix.as_bytes());
        if let Some(upper) = upper {
            query = query.bind(upper);
        }
        if let Some(after) = after {
            query = query.bind(after.as_bytes());
        }
        query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|key| {
                String::from_utf8(key).map_err(|e| RegistryError::InvalidValue {
                    what: "kv key",
                    reason: format!("stored key is not UTF-8: {e}"),
                })
            })
            .collect()
    }

    /// Adds `delta` to the integer stored under `key` as decimal ASCII text (absent = 0),
    /// stores the sum the same way and returns it. A value that is not such an integer, or a
    /// sum that overflows `i64`, gives [`RegistryError::InvalidValue`]; going past `limits`
    /// gives [`RegistryError::QuotaExceeded`]. Either way nothing changes.
    pub async fn kv_increment(
        &self,
        scope: &str,
        key: &str,
        delta: i64,
        limits: KvLimits,
    ) -> Result<i64> {
        self.kv_write(scope, key, Some(limits), |current| {
            let old = match current {
                Some(value) => parse_integer(key, value)?,
                None => 0,
            };
            let new = old
                .checked_add(delta)
                .ok_or_else(|| RegistryError::InvalidValue {
                    what: "kv value",
                    reason: format!("{old} + {delta} (under {key:?}) overflows a 64-bit integer"),
                })?;
            Ok((Write::Put(new.to_string().into_bytes()), new))
        })
        .await
    }

    /// Sets `key` to `new` (removes it when `None`) only if its current value equals
    /// `expected` (`None` = absent); `true` when it did. A swap that would take the scope past
    /// `limits` gives [`RegistryError::QuotaExceeded`] and changes nothing.
    pub async fn kv_compare_and_set(
        &self,
        scope: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
        limits: KvLimits,
    ) -> Result<bool> {
        self.kv_write(scope, key, Some(limits), |current| {
            if current != expected {
                return Ok((Write::Keep, false));
            }
            let write = match (current, new) {
                (_, Some(new)) => Write::Put(new.to_vec()),
                (Some(_), None) => Write::Remove,
                (None, None) => Write::Keep,
            };
            Ok((write, true))
        })
        .await
    }

    /// What `scope` holds (zero for a scope never written).
    pub async fn kv_usage(&self, scope: &str) -> Result<KvUsage> {
        sqlx::query("SELECT keys, bytes FROM kv_usage WHERE scope = $1")
            .bind(scope)
            .fetch_optional(&self.pool)
            .await?
            .map_or(Ok(KvUsage::default()), |row| KvUsage::from_row(&row))
    }

    /// Removes everything in `scope` (an app deleted); returns the number of keys removed.
    pub async fn kv_clear(&self, scope: &str) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        lock_usage(&mut tx, scope).await?;
        let removed = sqlx::query("DELETE FROM kv_entries WHERE scope = $1")
            .bind(scope)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        store_usage(&mut tx, scope, KvUsage::default()).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// One write to one key: locks the scope's usage row, reads the key's value, lets `decide`
    /// choose what to do with it, checks the new totals against `limits` (`None`: the write
    /// can only shrink the scope), writes the entry and the totals, and commits. Returns what
    /// `decide` returned; on any error nothing changes.
    async fn kv_write<T>(
        &self,
        scope: &str,
        key: &str,
        limits: Option<KvLimits>,
        decide: impl FnOnce(Option<&[u8]>) -> Result<(Write, T)>,
    ) -> Result<T> {
        let key = key.as_bytes();
        let mut tx = self.pool.begin().await?;
        let old_usage = lock_usage(&mut tx, scope).await?;
        let current = value_on(&mut tx, scope, key).await?;
        let (write, out) = decide(current.as_deref())?;
        let old_bytes = current.as_deref().map_or(0, |v| entry_bytes(key, v));
        let (new_keys, new_bytes) = match &write {
            Write::Keep => {
                tx.rollback().await?;
                return Ok(out);
            }
            Write::Put(value) => (1, entry_bytes(key, value)),
            Write::Remove => (0, 0),
        };
        let old_keys = u64::from(current.is_some());
        let new_usage = KvUsage {
            keys: old_usage
                .keys
                .saturating_sub(old_keys)
                .saturating_add(new_keys),
            bytes: old_usage
                .bytes
                .saturating_sub(old_bytes)
                .saturating_add(new_bytes),
        };
        if let Some(limits) = limits {
            check_limits(old_usage, new_usage, limits)?;
        }
        match (&write, current.is_some()) {
            (Write::Put(value), true) => {
                sqlx::query("UPDATE kv_entries SET value = $3 WHERE scope = $1 AND key = $2")
                    .bind(scope)
                    .bind(key)
                    .bind(value.as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
            (Write::Put(value), false) => {
                sqlx::query("INSERT INTO kv_entries (scope, key, value) VALUES ($1, $2, $3)")
                    .bind(scope)
                    .bind(key)
                    .bind(value.as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
            (Write::Remove, _) => {
                sqlx::query("DELETE FROM kv_entries WHERE scope = $1 AND key = $2")
                    .bind(scope)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
            (Write::Keep, _) => {}
        }
        store_usage(&mut tx, scope, new_usage).await?;
        tx.commit().await?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bounds() {
        assert_eq!(prefix_upper_bound(b""), None);
        assert_eq!(prefix_upper_bound(b"\xff\xff"), None);
        assert_eq!(prefix_upper_bound(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_upper_bound(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_upper_bound(b"a\xfe\xff"), Some(b"a\xff".to_vec()));
        // "é" is C3 A9.
        assert_eq!(
            prefix_upper_bound("caf\u{e9}".as_bytes()),
            Some(b"caf\xc3\xaa".to_vec())
        );
    }

    #[test]
    fn limits() {
        let limits = KvLimits {
            max_keys: 2,
            max_bytes: 10,
        };
        let usage = |keys, bytes| KvUsage { keys, bytes };
        assert!(check_limits(usage(1, 5), usage(2, 10), limits).is_ok());
        assert!(matches!(
            check_limits(usage(2, 5), usage(3, 6), limits),
            Err(RegistryError::QuotaExceeded {
                quota: Quota::KvKeys,
                limit: 2
            })
        ));
        assert!(matches!(
            check_limits(usage(1, 5), usage(1, 11), limits),
            Err(RegistryError::QuotaExceeded {
                quota: Quota::KvBytes,
                limit: 10
            })
        ));
        // Over already, but not growing.
        assert!(check_limits(usage(5, 50), usage(5, 40), limits).is_ok());
        assert!(check_limits(usage(5, 50), usage(4, 50), limits).is_ok());
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer("k", b"42").unwrap(), 42);
        assert_eq!(parse_integer("k", b"-7").unwrap(), -7);
        assert_eq!(
            parse_integer("k", i64::MIN.to_string().as_bytes()).unwrap(),
            i64::MIN
        );
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"x",
            b"1.5",
            b"\xff",
            b"99999999999999999999",
        ] {
            assert!(parse_integer("k", bad).is_err(), "{bad:?}");
        }
    }
}
