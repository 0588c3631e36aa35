//! Per-scope blob storage, written once as async functions and run on SQLite (a temp file,
//! always) and on Postgres (a fresh schema per test, when `LIVEWASM_TEST_DATABASE_URL` is set;
//! `tests/postgres.sh` at the workspace root starts a throwaway server and prints such a URL),
//! with the fixture in `tests/common`, the same way as `tests/kv.rs`.
//!
//! After writes, `check_usage` recomputes a scope's totals from `app_blobs` with raw SQL and
//! compares them with what `blob_usage` reports, so the running totals are checked exact.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Setup, assert_quota};
use livewasm_registry::{
    AuditQuery, Backend, BlobInfo, BlobLimits, BlobUsage, Principal, Quota, QuotaDefaults,
    Registry, RegistryError,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Limits that never get in the way.
const ROOMY: BlobLimits = BlobLimits {
    max_blobs: 1_000_000,
    max_bytes: 1 << 40,
};

const SETUP: Setup = Setup {
    temp_dir_prefix: "livewasm-blobs-",
    db_path: "registry.db",
    schema_prefix: "lw_blobs_test_",
    quota_defaults: QuotaDefaults::default,
};

fn sha_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What each suite function gets: a freshly opened registry and a raw pool on its database.
type Blobs = common::Session;

common::backend_tests! {
    setup: SETUP,
    with_session: [
        put_get_info_replace_delete,
        list_prefix_order_and_paging,
        names_and_content_types_are_validated,
        scopes_are_isolated,
        quotas_count_and_bytes,
        shrinking_allowed_when_over,
        concurrent_puts_respect_quotas,
        large_blob_round_trips,
        delete_app_removes_its_blobs,
        data_survives_reopen,
    ],
}

fn usage(blobs: u64, bytes: u64) -> BlobUsage {
    BlobUsage { blobs, bytes }
}

fn limits(max_blobs: u64, max_bytes: u64) -> BlobLimits {
    BlobLimits {
        max_blobs,
        max_bytes,
    }
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, RegistryError>, expected: &str) {
    match result {
        Err(RegistryError::InvalidValue { what, .. }) if what == expected => {}
        other => panic!("expected InvalidValue({expected}), got {other:?}"),
    }
}

/// Checks that what `blob_usage` reports for `scope` is exactly what `app_blobs` holds, that
/// every row's size and sha256 match its bytes, that a scope holding nothing has no usage row,
/// and (on SQLite) that bytes are stored as blobs; returns the usage.
async fn check_usage(b: &Blobs, scope: &str) -> BlobUsage {
    let reported = b.registry.blob_usage(scope).await.unwrap();
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes \
         FROM app_blobs WHERE scope = $1",
    )
    .bind(scope)
    .fetch_one(&b.raw)
    .await
    .unwrap();
    let actual = usage(
        u64::try_from(row.get::<i64, _>("n")).unwrap(),
        u64::try_from(row.get::<i64, _>("bytes")).unwrap(),
    );
    assert_eq!(reported, actual, "blob_usage of {scope:?}");
    let rows = sqlx::query("SELECT name, sha256, size, bytes FROM app_blobs WHERE scope = $1")
        .bind(scope)
        .fetch_all(&b.raw)
        .await
        .unwrap();
    for row in rows {
        let name: String = row.get("name");
        let bytes: Vec<u8> = row.get("bytes");
        assert_eq!(
            row.get::<i64, _>("size"),
            bytes.len() as i64,
            "size of {name}"
        );
        assert_eq!(
            row.get::<String, _>("sha256"),
            sha_hex(&bytes),
            "sha of {name}"
        );
    }
    let usage_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM blob_usage WHERE scope = $1")
        .bind(scope)
        .fetch_one(&b.raw)
        .await
        .unwrap();
    if actual == BlobUsage::default() {
        assert_eq!(usage_rows, 0, "an empty scope keeps no usage row");
    }
    if b.registry.backend() == Backend::Sqlite {
        let not_blobs: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM app_blobs WHERE typeof(bytes) <> 'blob'")
                .fetch_one(&b.raw)
                .await
                .unwrap();
        assert_eq!(not_blobs, 0, "bytes are stored as blobs");
    }
    reported
}

/// The names of `scope`'s blobs starting with `prefix`, after `after`, at most `limit`.
async fn names(
    r: &Registry,
    scope: &str,
    prefix: &str,
    after: Option<&str>,
    limit: u32,
) -> Vec<String> {
    r.blob_list(scope, prefix, after, limit)
        .await
        .unwrap()
        .into_iter()
        .map(|info| info.name)
        .collect()
}

// ---------------------------------------------------------------------------------------------

async fn put_get_info_replace_delete(b: Blobs) {
    let r = &b.registry;
    let s = "app_1";
    assert_eq!(r.blob_get(s, "a.txt").await.unwrap(), None);
    assert_eq!(r.blob_info(s, "a.txt").await.unwrap(), None);
    assert_eq!(check_usage(&b, s).await, BlobUsage::default());

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let info = r
        .blob_put(s, "a.txt", "text/plain; charset=utf-8", b"hello", ROOMY)
        .await
        .unwrap();
    assert_eq!(info.name, "a.txt");
    assert_eq!(info.content_type, "text/plain; charset=utf-8");
    assert_eq!(info.sha256, sha_hex(b"hello"));
    assert_eq!(
        info.sha256,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(info.size, 5);
    assert!(info.created_at >= before, "{} < {before}", info.created_at);
    assert_eq!(
        r.blob_get(s, "a.txt").await.unwrap(),
        Some((info.clone(), b"hello".to_vec()))
    );
    assert_eq!(r.blob_info(s, "a.txt").await.unwrap(), Some(info.clone()));
    assert_eq!(check_usage(&b, s).await, usage(1, 5));

    // Binary bytes, a nested name, and an empty blob.
    let binary = [0u8, 0xff, 0x80, b'\n', 0];
    let img = r
        .blob_put(s, "img/u1.png", "image/png", &binary, ROOMY)
        .await
        .unwrap();
    let empty = r
        .blob_put(s, "empty", "application/octet-stream", b"", ROOMY)
        .await
        .unwrap();
    assert_eq!(
        empty.sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(empty.size, 0);
    assert_eq!(
        r.blob_get(s, "img/u1.png").await.unwrap(),
        Some((img, binary.to_vec()))
    );
    assert_eq!(
        r.blob_get(s, "empty").await.unwrap(),
        Some((empty, Vec::new()))
    );
    // Names are case-sensitive.
    assert_eq!(r.blob_get(s, "A.txt").await.unwrap(), None);
    assert_eq!(check_usage(&b, s).await, usage(3, 5 + 5));

    // Replacing: new content type, bytes, hash, size and time; the count stays.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let replaced = r
        .blob_put(s, "a.txt", "text/markdown", b"# hi there", ROOMY)
        .await
        .unwrap();
    assert_eq!(replaced.content_type, "text/markdown");
    assert_eq!(replaced.sha256, sha_hex(b"# hi there"));
    assert_eq!(replaced.size, 10);
    assert!(replaced.created_at > info.created_at);
    assert_eq!(
        r.blob_get(s, "a.txt").await.unwrap(),
        Some((replaced.clone(), b"# hi there".to_vec()))
    );
    assert_eq!(r.blob_info(s, "a.txt").await.unwrap(), Some(replaced));
    assert_eq!(check_usage(&b, s).await, usage(3, 10 + 5));

    // Deleting.
    assert!(r.blob_delete(s, "a.txt").await.unwrap());
    assert!(!r.blob_delete(s, "a.txt").await.unwrap());
    assert!(!r.blob_delete(s, "never").await.unwrap());
    assert_eq!(r.blob_get(s, "a.txt").await.unwrap(), None);
    assert_eq!(r.blob_info(s, "a.txt").await.unwrap(), None);
    assert_eq!(check_usage(&b, s).await, usage(2, 5));
    assert!(r.blob_delete(s, "img/u1.png").await.unwrap());
    assert!(r.blob_delete(s, "empty").await.unwrap());
    assert_eq!(check_usage(&b, s).await, BlobUsage::default());
    // Deleting in a scope never written leaves nothing behind either.
    assert!(!r.blob_delete("app_never", "x").await.unwrap());
    assert_eq!(check_usage(&b, "app_never").await, BlobUsage::default());
    // No audit rows: blobs are app data.
    let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&b.raw)
        .await
        .unwrap();
    assert_eq!(audit, 0);
}

async fn list_prefix_order_and_paging(b: Blobs) {
    let r = &b.registry;
    // On Postgres, give the name column a collation that orders unlike bytes (ICU's root:
    // `_` before `-` before `.`, punctuation before digits before letters, `a` before `B`),
    // as a database created with such a default would. Listing must still be in byte order.
    if r.backend() == Backend::Postgres {
        let icu: Option<String> = sqlx::query_scalar(
            "SELECT collname::text FROM pg_collation \
             WHERE collname IN ('und-x-icu', 'en-US-x-icu', 'en_US.utf8', 'en_US') \
             ORDER BY collname DESC LIMIT 1",
        )
        .fetch_optional(&b.raw)
        .await
        .unwrap();
        match icu {
            Some(collation) => {
                sqlx::query(&format!(
                    "ALTER TABLE app_blobs ALTER COLUMN name TYPE TEXT COLLATE \"{collation}\""
                ))
                .execute(&b.raw)
                .await
                .unwrap();
                let ordered_unlike_bytes: bool =
                    sqlx::query_scalar(&format!("SELECT 'a' < ('B' COLLATE \"{collation}\")"))
                        .fetch_one(&b.raw)
                        .await
                        .unwrap();
                assert!(ordered_unlike_bytes, "{collation} orders `a` before `B`");
            }
            None => eprintln!("no non-C collation on this server; byte order is not stressed"),
        }
    }
    let s = "app_list";
    // In byte order: - . / 0-9 A-Z _ a-z.
    let ordered = [
        "-x",
        "0",
        "9",
        "B",
        "Z",
        "_x",
        "a",
        "a-b",
        "a.b",
        "a/b",
        "a/b/c",
        "a/bc",
        "a0",
        "aB",
        "a_b",
        "aa",
        "ab",
        "abc",
        "b",
        "img-1",
        "img/1.png",
        "img/10.png",
        "img/2.png",
        "z",
    ];
    let mut sorted = ordered.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, ordered, "the expectation itself is in byte order");
    // Insert in a scrambled order.
    for i in 0..ordered.len() {
        let name = ordered[(i * 7) % ordered.len()];
        r.blob_put(s, name, "text/plain", name.as_bytes(), ROOMY)
            .await
            .unwrap();
    }
    // Another scope with overlapping names must not show up.
    r.blob_put("app_other", "ab", "text/plain", b"x", ROOMY)
        .await
        .unwrap();
    r.blob_put("app_other", "aaa", "text/plain", b"x", ROOMY)
        .await
        .unwrap();

    let all: Vec<String> = ordered.iter().map(|n| (*n).to_owned()).collect();
    assert_eq!(names(r, s, "", None, 100).await, all);
    // The infos are complete.
    let infos = r.blob_list(s, "img/", None, 100).await.unwrap();
    let expected: Vec<BlobInfo> = {
        let mut v = Vec::new();
        for n in ["img/1.png", "img/10.png", "img/2.png"] {
            v.push(r.blob_info(s, n).await.unwrap().unwrap());
        }
        v
    };
    assert_eq!(infos, expected);
    assert_eq!(infos[0].size, 9);
    assert_eq!(infos[0].sha256, sha_hex(b"img/1.png"));

    assert_eq!(
        names(r, s, "a", None, 100).await,
        [
            "a", "a-b", "a.b", "a/b", "a/b/c", "a/bc", "a0", "aB", "a_b", "aa", "ab", "abc"
        ]
    );
    assert_eq!(names(r, s, "ab", None, 100).await, ["ab", "abc"]);
    assert_eq!(names(r, s, "abc", None, 100).await, ["abc"]);
    assert!(names(r, s, "abcd", None, 100).await.is_empty());
    assert_eq!(names(r, s, "a/", None, 100).await, ["a/b", "a/b/c", "a/bc"]);
    assert_eq!(names(r, s, "a/b/", None, 100).await, ["a/b/c"]);
    assert_eq!(names(r, s, "a-", None, 100).await, ["a-b"]);
    assert_eq!(
        names(r, s, "img", None, 100).await,
        ["img-1", "img/1.png", "img/10.png", "img/2.png"]
    );
    assert_eq!(names(r, s, "B", None, 100).await, ["B"]);
    assert_eq!(names(r, s, "z", None, 100).await, ["z"]);
    assert_eq!(names(r, s, "_", None, 100).await, ["_x"]);
    // A prefix with a byte no name may hold matches nothing (and is no error).
    for odd in ["a b", "\u{e9}", "a%", "~", "a\0"] {
        assert!(names(r, s, odd, None, 100).await.is_empty(), "{odd:?}");
    }

    // `after` is exclusive, need not be a stored name, and combines with the prefix.
    assert_eq!(names(r, s, "a", Some("aa"), 100).await, ["ab", "abc"]);
    assert_eq!(
        names(r, s, "a", Some("a/b"), 100).await,
        ["a/b/c", "a/bc", "a0", "aB", "a_b", "aa", "ab", "abc"]
    );
    assert_eq!(
        names(r, s, "a", Some("a\u{1}"), 3).await,
        ["a-b", "a.b", "a/b"]
    );
    assert_eq!(
        names(r, s, "a", Some("a\0b"), 3).await,
        ["a-b", "a.b", "a/b"]
    );
    assert_eq!(names(r, s, "", Some("a/b\0"), 2).await, ["a/b/c", "a/bc"]);
    assert_eq!(names(r, s, "ab", Some("a"), 100).await, ["ab", "abc"]);
    assert!(names(r, s, "ab", Some("abc"), 100).await.is_empty());
    assert!(names(r, s, "a", Some("zzz"), 100).await.is_empty());
    assert_eq!(names(r, s, "", Some("img/2.png"), 100).await, ["z"]);
    assert_eq!(
        names(r, s, "", Some("img-1"), 100).await,
        ["img/1.png", "img/10.png", "img/2.png", "z"]
    );
    assert_eq!(
        names(r, s, "", Some("\u{e9}"), 100).await,
        Vec::<String>::new()
    );
    assert_eq!(names(r, s, "", Some(""), 2).await, ["-x", "0"]);

    // Limits.
    assert!(names(r, s, "", None, 0).await.is_empty());
    assert_eq!(names(r, s, "", None, 1).await, ["-x"]);
    assert_eq!(names(r, s, "a", None, 2).await, ["a", "a-b"]);

    // Paging through everything.
    for page_size in [1u32, 3, 5, 100] {
        let mut paged: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = names(r, s, "", after.as_deref(), page_size).await;
            assert!(page.len() <= page_size as usize);
            let Some(last) = page.last().cloned() else {
                break;
            };
            paged.extend(page);
            after = Some(last);
        }
        assert_eq!(paged, all, "page size {page_size}");
    }
    // Paging within a prefix.
    let first = names(r, s, "a/", None, 2).await;
    assert_eq!(first, ["a/b", "a/b/c"]);
    let second = names(r, s, "a/", first.last().map(String::as_str), 2).await;
    assert_eq!(second, ["a/bc"]);
    let third = names(r, s, "a/", second.last().map(String::as_str), 2).await;
    assert!(third.is_empty());

    assert_eq!(check_usage(&b, s).await.blobs, ordered.len() as u64);
}

async fn names_and_content_types_are_validated(b: Blobs) {
    let r = &b.registry;
    let s = "app_valid";
    let long = "a".repeat(201);
    for bad in [
        "../x", "/x", "a b", "", &long, ".x", "a/../b", "a/..", "a//b", "a/", "\u{e9}", "a?b",
        "a\\b", "a\nb",
    ] {
        // Invalid before anything else, even the quota.
        assert_invalid(
            r.blob_put(s, bad, "text/plain", b"x", limits(0, 0)).await,
            "blob name",
        );
        assert_invalid(
            r.blob_put(s, bad, "text/plain", b"x", ROOMY).await,
            "blob name",
        );
        // No blob can have such a name, so reads and deletes find nothing.
        assert_eq!(r.blob_get(s, bad).await.unwrap(), None, "{bad:?}");
        assert_eq!(r.blob_info(s, bad).await.unwrap(), None, "{bad:?}");
        assert!(!r.blob_delete(s, bad).await.unwrap(), "{bad:?}");
    }
    let long_type = format!("text/{}", "x".repeat(96));
    for bad in [
        "",
        "text/plain\n",
        "text/plain\r\nX-Evil: 1",
        "a\u{1}b",
        "a\tb",
        "\u{7f}",
        "t\u{e9}xt/plain",
        &long_type,
    ] {
        assert_invalid(r.blob_put(s, "ok", bad, b"x", ROOMY).await, "content type");
    }
    assert_eq!(r.blob_get(s, "ok").await.unwrap(), None);
    assert_eq!(check_usage(&b, s).await, BlobUsage::default());
    let message = r
        .blob_put(s, "../x", "text/plain", b"x", ROOMY)
        .await
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("invalid blob name: "), "{message}");

    // The longest name and content type, and other edge cases, are fine.
    let longest = "n".repeat(200);
    let longest_type = &long_type[..100];
    for good in [
        longest.as_str(),
        "a",
        "-",
        "_",
        "0",
        "a/.hidden",
        "a/b..c",
        "x...",
        "A-b_c.d/e",
    ] {
        let info = r
            .blob_put(s, good, longest_type, b"x", ROOMY)
            .await
            .unwrap();
        assert_eq!(info.name, good);
        assert_eq!(
            r.blob_info(s, good).await.unwrap().unwrap().content_type,
            longest_type
        );
    }
    r.blob_put(s, "semi", "text/html; charset=utf-8", b"", ROOMY)
        .await
        .unwrap();
    assert_eq!(check_usage(&b, s).await, usage(10, 9));
}

async fn scopes_are_isolated(b: Blobs) {
    let r = &b.registry;
    let scopes = ["app_a", "app_b", "local/app_a", "app_a/"];
    for (i, s) in scopes.iter().enumerate() {
        r.blob_put(s, "shared", "text/plain", format!("{i}").as_bytes(), ROOMY)
            .await
            .unwrap();
        r.blob_put(s, &format!("only-{i}"), "text/plain", b"xy", ROOMY)
            .await
            .unwrap();
    }
    for (i, s) in scopes.iter().enumerate() {
        assert_eq!(
            r.blob_get(s, "shared").await.unwrap().unwrap().1,
            format!("{i}").into_bytes()
        );
        assert_eq!(
            names(r, s, "", None, 100).await,
            [format!("only-{i}"), "shared".to_owned()]
        );
        for j in 0..scopes.len() {
            if j != i {
                assert_eq!(r.blob_info(s, &format!("only-{j}")).await.unwrap(), None);
            }
        }
        assert_eq!(check_usage(&b, s).await, usage(2, 3));
    }
    assert_eq!(r.blob_get("app", "shared").await.unwrap(), None);
    assert!(names(r, "app", "", None, 100).await.is_empty());

    // Writes in one scope leave the others alone.
    assert!(r.blob_delete("app_a", "shared").await.unwrap());
    r.blob_put("app_b", "shared", "text/plain", b"replaced", ROOMY)
        .await
        .unwrap();
    assert_eq!(r.blob_get("app_a", "shared").await.unwrap(), None);
    assert_eq!(
        r.blob_get("local/app_a", "shared")
            .await
            .unwrap()
            .unwrap()
            .1,
        b"2"
    );
    assert_eq!(
        r.blob_get("app_a/", "shared").await.unwrap().unwrap().1,
        b"3"
    );
    assert_eq!(check_usage(&b, "app_a").await, usage(1, 2));
    assert_eq!(check_usage(&b, "app_b").await, usage(2, 10));
    for s in scopes {
        check_usage(&b, s).await;
    }

    // Quotas are per scope: a full scope does not stop another.
    let tight = limits(2, 1000);
    assert_quota(
        r.blob_put("app_b", "third", "text/plain", b"x", tight)
            .await,
        Quota::BlobCount,
        2,
    );
    r.blob_put("app_a", "second", "text/plain", b"x", tight)
        .await
        .unwrap();
}

async fn quotas_count_and_bytes(b: Blobs) {
    let r = &b.registry;
    let s = "app_quota";
    let lim = limits(3, 20);
    assert_eq!(Quota::BlobCount.name(), "blob_count");
    assert_eq!(Quota::BlobBytes.name(), "blob_bytes");

    let a = r
        .blob_put(s, "a", "text/plain", b"12345", lim)
        .await
        .unwrap();
    r.blob_put(s, "b", "text/plain", b"12345", lim)
        .await
        .unwrap();
    r.blob_put(s, "c", "text/plain", b"1", lim).await.unwrap();
    assert_eq!(check_usage(&b, s).await, usage(3, 11));

    // A fourth blob, even empty: refused, nothing written.
    assert_quota(
        r.blob_put(s, "d", "text/plain", b"", lim).await,
        Quota::BlobCount,
        3,
    );
    assert_eq!(r.blob_info(s, "d").await.unwrap(), None);
    assert_eq!(check_usage(&b, s).await, usage(3, 11));
    assert_eq!(
        r.blob_put(s, "d", "text/plain", b"", lim)
            .await
            .unwrap_err()
            .to_string(),
        "quota blob_count exceeded (limit 3)"
    );

    // Replacements count only the difference: up to exactly the limit is fine...
    let a2 = r
        .blob_put(s, "a", "text/plain", b"1234567890123!", lim)
        .await
        .unwrap(); // 14: 11 - 5 + 14 = 20
    assert_eq!(check_usage(&b, s).await, usage(3, 20));
    // ...one byte past it is not, and leaves the old blob exactly as it was.
    let b_before = r.blob_get(s, "b").await.unwrap().unwrap();
    assert_quota(
        r.blob_put(s, "b", "image/png", b"123456", lim).await,
        Quota::BlobBytes,
        20,
    );
    assert_eq!(r.blob_get(s, "b").await.unwrap().unwrap(), b_before);
    assert_eq!(check_usage(&b, s).await, usage(3, 20));
    assert_eq!(
        r.blob_put(s, "b", "text/plain", b"123456", lim)
            .await
            .unwrap_err()
            .to_string(),
        "quota blob_bytes exceeded (limit 20)"
    );
    // A same-size replacement at the limit is fine.
    r.blob_put(s, "b", "text/css", b"abcde", lim).await.unwrap();
    assert_eq!(check_usage(&b, s).await, usage(3, 20));
    assert_ne!(a.sha256, a2.sha256);

    // Deleting frees room.
    assert!(r.blob_delete(s, "c").await.unwrap());
    assert_eq!(check_usage(&b, s).await, usage(2, 19));
    assert_quota(
        r.blob_put(s, "d", "text/plain", b"xx", lim).await,
        Quota::BlobBytes,
        20,
    );
    r.blob_put(s, "d", "text/plain", b"x", lim).await.unwrap();
    assert_eq!(check_usage(&b, s).await, usage(3, 20));

    // A single blob larger than the whole budget.
    let fresh = "app_quota_2";
    assert_quota(
        r.blob_put(fresh, "k", "application/octet-stream", &[0u8; 21], lim)
            .await,
        Quota::BlobBytes,
        20,
    );
    assert_eq!(check_usage(&b, fresh).await, BlobUsage::default());
    r.blob_put(fresh, "k", "application/octet-stream", &[0u8; 20], lim)
        .await
        .unwrap();
    assert_eq!(check_usage(&b, fresh).await, usage(1, 20));
    // Zero limits refuse any new blob (bytes: any non-empty one).
    let zero = "app_quota_3";
    assert_quota(
        r.blob_put(zero, "k", "text/plain", b"", limits(0, 100))
            .await,
        Quota::BlobCount,
        0,
    );
    assert_quota(
        r.blob_put(zero, "k", "text/plain", b"x", limits(5, 0))
            .await,
        Quota::BlobBytes,
        0,
    );
    assert_eq!(check_usage(&b, zero).await, BlobUsage::default());
}

async fn shrinking_allowed_when_over(b: Blobs) {
    let r = &b.registry;
    let s = "app_over";
    for name in ["a", "b", "c", "d"] {
        r.blob_put(s, name, "text/plain", b"0123456789", ROOMY)
            .await
            .unwrap();
    }
    assert_eq!(check_usage(&b, s).await, usage(4, 40));
    // The limits drop below what the scope holds.
    let lim = limits(2, 15);
    // Growing is refused (no new blob, no larger one)...
    assert_quota(
        r.blob_put(s, "e", "text/plain", b"", lim).await,
        Quota::BlobCount,
        2,
    );
    assert_quota(
        r.blob_put(s, "a", "text/plain", b"0123456789x", lim).await,
        Quota::BlobBytes,
        15,
    );
    assert_eq!(check_usage(&b, s).await, usage(4, 40));
    // ...but same-size and smaller replacements and deletes are fine.
    r.blob_put(s, "a", "text/html", b"9876543210", lim)
        .await
        .unwrap();
    r.blob_put(s, "b", "text/plain", b"short", lim)
        .await
        .unwrap();
    assert_eq!(check_usage(&b, s).await, usage(4, 35));
    assert_eq!(r.blob_get(s, "b").await.unwrap().unwrap().1, b"short");
    assert!(r.blob_delete(s, "c").await.unwrap());
    assert!(r.blob_delete(s, "d").await.unwrap());
    assert_eq!(check_usage(&b, s).await, usage(2, 15));
    // Back within the limits: at them, growing is refused, and shrinking then growing back
    // to them works.
    assert_quota(
        r.blob_put(s, "b", "text/plain", b"short+", lim).await,
        Quota::BlobBytes,
        15,
    );
    r.blob_put(s, "a", "text/plain", b"012345678", lim)
        .await
        .unwrap();
    r.blob_put(s, "b", "text/plain", b"short+", lim)
        .await
        .unwrap();
    assert_eq!(check_usage(&b, s).await, usage(2, 15));
}

async fn concurrent_puts_respect_quotas(b: Blobs) {
    const TASKS: usize = 16;
    for (scope, lim, quota, limit) in [
        ("app_race_count", limits(5, 1 << 20), Quota::BlobCount, 5),
        ("app_race_bytes", limits(1000, 550), Quota::BlobBytes, 550),
    ] {
        let mut handles = Vec::new();
        for t in 0..TASKS {
            let registry = b.registry.clone();
            handles.push(tokio::spawn(async move {
                registry
                    .blob_put(scope, &format!("f-{t:02}"), "text/plain", &[b'x'; 100], lim)
                    .await
            }));
        }
        let mut ok = 0;
        for handle in handles {
            match handle.await.unwrap() {
                Ok(info) => {
                    assert_eq!(info.size, 100);
                    ok += 1;
                }
                Err(RegistryError::QuotaExceeded { quota: q, limit: l })
                    if q == quota && l == limit => {}
                other => panic!("{scope}: unexpected {other:?}"),
            }
        }
        assert_eq!(ok, 5, "{scope}: exactly 5 puts succeed");
        assert_eq!(check_usage(&b, scope).await, usage(5, 500), "{scope}");
        assert_eq!(names(&b.registry, scope, "", None, 100).await.len(), 5);
    }

    // Concurrent replacements and deletes of one scope keep the totals exact.
    let s = "app_churn";
    let mut handles = Vec::new();
    for t in 0..8usize {
        let registry = b.registry.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..10usize {
                let name = format!("n{}", (t + i) % 4);
                let bytes = vec![b'y'; (t * 10 + i) % 37];
                if (t + i) % 3 == 0 {
                    registry.blob_delete(s, &name).await.unwrap();
                } else {
                    registry
                        .blob_put(s, &name, "text/plain", &bytes, ROOMY)
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    check_usage(&b, s).await;
}

async fn large_blob_round_trips(b: Blobs) {
    let r = &b.registry;
    let s = "app_large";
    let mut bytes = vec![0u8; 3 << 20];
    rand::rng().fill_bytes(&mut bytes);
    // Every byte value appears, including NULs and invalid UTF-8.
    for (i, byte) in bytes.iter_mut().take(256).enumerate() {
        *byte = i as u8;
    }
    let info = r
        .blob_put(s, "big/video.bin", "video/mp4", &bytes, ROOMY)
        .await
        .unwrap();
    assert_eq!(info.size, 3 << 20);
    assert_eq!(info.sha256, sha_hex(&bytes));
    let (got_info, got) = r.blob_get(s, "big/video.bin").await.unwrap().unwrap();
    assert_eq!(got_info, info);
    assert!(got == bytes, "the 3 MiB blob comes back byte-exact");
    assert_eq!(check_usage(&b, s).await, usage(1, 3 << 20));
    // A byte quota just short of it refuses it; exactly it admits it.
    assert_quota(
        r.blob_put(
            "app_large_2",
            "b",
            "video/mp4",
            &bytes,
            limits(1, (3 << 20) - 1),
        )
        .await,
        Quota::BlobBytes,
        (3 << 20) - 1,
    );
    r.blob_put("app_large_2", "b", "video/mp4", &bytes, limits(1, 3 << 20))
        .await
        .unwrap();
    assert_eq!(check_usage(&b, "app_large_2").await, usage(1, 3 << 20));
    // Replaced by a small one, the usage shrinks to match.
    r.blob_put(s, "big/video.bin", "text/plain", b"small", ROOMY)
        .await
        .unwrap();
    assert_eq!(check_usage(&b, s).await, usage(1, 5));
}

async fn delete_app_removes_its_blobs(b: Blobs) {
    let r = &b.registry;
    let op = Principal::system("test");
    let acme = r.create_tenant(&op, "acme").await.unwrap();
    let blog = r.create_app(&op, &acme.id, "blog").await.unwrap();
    let shop = r.create_app(&op, &acme.id, "shop").await.unwrap();
    let (blog_scope, shop_scope) = (blog.id.as_str(), shop.id.as_str());
    for name in ["a.png", "b/c.css", "d"] {
        r.blob_put(blog_scope, name, "text/plain", name.as_bytes(), ROOMY)
            .await
            .unwrap();
    }
    r.blob_put(shop_scope, "a.png", "image/png", b"shop", ROOMY)
        .await
        .unwrap();
    r.kv_set(
        blog_scope,
        "k",
        b"v",
        livewasm_registry::KvLimits {
            max_keys: 10,
            max_bytes: 100,
        },
    )
    .await
    .unwrap();
    assert_eq!(check_usage(&b, blog_scope).await, usage(3, 5 + 7 + 1));

    r.delete_app(&op, &blog).await.unwrap();

    assert_eq!(check_usage(&b, blog_scope).await, BlobUsage::default());
    for name in ["a.png", "b/c.css", "d"] {
        assert_eq!(r.blob_get(blog_scope, name).await.unwrap(), None);
    }
    assert!(names(r, blog_scope, "", None, 100).await.is_empty());
    for table in ["app_blobs", "blob_usage"] {
        let left: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE scope = $1"))
                .bind(blog_scope)
                .fetch_one(&b.raw)
                .await
                .unwrap();
        assert_eq!(left, 0, "{table} rows of the deleted app");
    }
    assert_eq!(r.kv_get(blog_scope, "k").await.unwrap(), None);
    // The other app keeps its blobs.
    assert_eq!(
        r.blob_get(shop_scope, "a.png").await.unwrap().unwrap().1,
        b"shop"
    );
    assert_eq!(check_usage(&b, shop_scope).await, usage(1, 4));
    // The audit row counts them.
    let entry = r
        .audit_log(&op, &AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(entry.action, "app.delete");
    assert_eq!(entry.detail["app_blobs"], 3);
    assert_eq!(entry.detail["kv_keys"], 1);

    // Deleting an app with no blobs counts zero; a recreated app starts empty.
    r.delete_app(&op, &shop).await.unwrap();
    assert_eq!(check_usage(&b, shop_scope).await, BlobUsage::default());
    let again = r.create_app(&op, &acme.id, "blog").await.unwrap();
    assert!(names(r, again.id.as_str(), "", None, 100).await.is_empty());
    let empty = r.create_app(&op, &acme.id, "empty").await.unwrap();
    r.delete_app(&op, &empty).await.unwrap();
    let entry = r
        .audit_log(&op, &AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(entry.detail["app_blobs"], 0);
}

async fn data_survives_reopen(b: Blobs) {
    let r = &b.registry;
    let info = r
        .blob_put("app_p", "k", "text/plain", b"v", ROOMY)
        .await
        .unwrap();
    // Running the migrations again changes nothing.
    r.migrate().await.unwrap();
    r.close().await;
    let reopened = Registry::open(&b.location, QuotaDefaults::default())
        .await
        .unwrap();
    assert_eq!(
        reopened.blob_get("app_p", "k").await.unwrap(),
        Some((info, b"v".to_vec()))
    );
    reopened
        .blob_put("app_p", "n", "text/plain", b"vv", ROOMY)
        .await
        .unwrap();
    let b = Blobs {
        registry: reopened,
        ..b
    };
    assert_eq!(check_usage(&b, "app_p").await, usage(2, 3));
    b.registry.close().await;
    let migrations: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&b.raw)
            .await
            .unwrap();
    assert_eq!(migrations, [1, 2, 3, 4, 5]);
    if b.registry.backend() == Backend::Postgres {
        let types: Vec<String> = sqlx::query_scalar(
            "SELECT data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'app_blobs' \
             ORDER BY ordinal_position",
        )
        .fetch_all(&b.raw)
        .await
        .unwrap();
        assert_eq!(
            types,
            ["text", "text", "text", "text", "bigint", "bigint", "bytea"]
        );
    }
}
