//! The per-scope key-value store, written once as async functions and run on SQLite (a temp
//! file, always) and on Postgres (a fresh schema per test, when `LIVEWASM_TEST_DATABASE_URL`
//! is set; `tests/postgres.sh` at the workspace root starts a throwaway server and prints such
//! a URL), with the fixture in `tests/common`, the same way as `tests/registry.rs`.
//!
//! After writes, `check_usage` recomputes a scope's totals from `kv_entries` with raw SQL and
//! compares them with what `kv_usage` reports, so the running totals are checked exact.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Setup, assert_quota};
use livewasm_registry::{
    Backend, KvLimits, KvUsage, Quota, QuotaDefaults, Registry, RegistryError,
};
use sqlx::Row;

/// Limits that never get in the way.
const ROOMY: KvLimits = KvLimits {
    max_keys: 1_000_000,
    max_bytes: 1 << 40,
};

const SETUP: Setup = Setup {
    temp_dir_prefix: "livewasm-kv-",
    db_path: "registry.db",
    schema_prefix: "lw_kv_test_",
    quota_defaults: QuotaDefaults::default,
};

/// What each suite function gets: a freshly opened registry and a raw pool on its database.
type Kv = common::Session;

common::backend_tests! {
    setup: SETUP,
    with_session: [
        get_set_overwrite_delete,
        list_prefix_order_and_paging,
        scopes_are_isolated,
        increment,
        compare_and_set,
        quotas_keys_and_bytes,
        shrinking_allowed_when_over,
        clear,
        concurrent_increments,
        concurrent_writes_respect_quotas,
        data_survives_reopen,
    ],
}

fn usage(keys: u64, bytes: u64) -> KvUsage {
    KvUsage { keys, bytes }
}

fn limits(max_keys: u64, max_bytes: u64) -> KvLimits {
    KvLimits {
        max_keys,
        max_bytes,
    }
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, RegistryError>, needle: &str) {
    match result {
        Err(RegistryError::InvalidValue { what, reason })
            if what == "kv value" && reason.contains(needle) => {}
        other => panic!("expected InvalidValue(kv value, ..{needle}..), got {other:?}"),
    }
}

/// Checks that what `kv_usage` reports for `scope` is exactly what `kv_entries` holds, that a
/// scope holding nothing has no usage row, and (on SQLite) that keys and values are stored as
/// blobs; returns the usage.
async fn check_usage(kv: &Kv, scope: &str) -> KvUsage {
    let reported = kv.registry.kv_usage(scope).await.unwrap();
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) AS bytes \
         FROM kv_entries WHERE scope = $1",
    )
    .bind(scope)
    .fetch_one(&kv.raw)
    .await
    .unwrap();
    let actual = usage(
        u64::try_from(row.get::<i64, _>("n")).unwrap(),
        u64::try_from(row.get::<i64, _>("bytes")).unwrap(),
    );
    assert_eq!(reported, actual, "kv_usage of {scope:?}");
    let usage_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kv_usage WHERE scope = $1")
        .bind(scope)
        .fetch_one(&kv.raw)
        .await
        .unwrap();
    if actual == KvUsage::default() {
        assert_eq!(usage_rows, 0, "an empty scope keeps no usage row");
    }
    if kv.registry.backend() == Backend::Sqlite {
        let not_blobs: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM kv_entries \
             WHERE typeof(key) <> 'blob' OR typeof(value) <> 'blob'",
        )
        .fetch_one(&kv.raw)
        .await
        .unwrap();
        assert_eq!(not_blobs, 0, "keys and values are stored as blobs");
    }
    reported
}

// ---------------------------------------------------------------------------------------------

async fn get_set_overwrite_delete(kv: Kv) {
    let r = &kv.registry;
    let s = "app_1";
    assert_eq!(r.kv_get(s, "greeting").await.unwrap(), None);
    assert_eq!(check_usage(&kv, s).await, KvUsage::default());

    r.kv_set(s, "greeting", b"hello", ROOMY).await.unwrap();
    assert_eq!(
        r.kv_get(s, "greeting").await.unwrap().as_deref(),
        Some(&b"hello"[..])
    );
    assert_eq!(check_usage(&kv, s).await, usage(1, 8 + 5));

    r.kv_set(s, "greeting", b"hi", ROOMY).await.unwrap();
    assert_eq!(
        r.kv_get(s, "greeting").await.unwrap().as_deref(),
        Some(&b"hi"[..])
    );
    assert_eq!(check_usage(&kv, s).await, usage(1, 8 + 2));

    // Values are opaque bytes; keys any string, even empty; values may be empty.
    let binary = [0u8, 0xff, 0x80, b'\n', 0];
    r.kv_set(s, "bin", &binary, ROOMY).await.unwrap();
    r.kv_set(s, "", b"empty key", ROOMY).await.unwrap();
    r.kv_set(s, "empty", b"", ROOMY).await.unwrap();
    r.kv_set(s, "ключ \u{1F600}", b"unicode", ROOMY)
        .await
        .unwrap();
    assert_eq!(r.kv_get(s, "bin").await.unwrap(), Some(binary.to_vec()));
    assert_eq!(r.kv_get(s, "").await.unwrap(), Some(b"empty key".to_vec()));
    assert_eq!(r.kv_get(s, "empty").await.unwrap(), Some(Vec::new()));
    assert_eq!(
        r.kv_get(s, "ключ \u{1F600}").await.unwrap(),
        Some(b"unicode".to_vec())
    );
    assert_eq!(r.kv_get(s, "Greeting").await.unwrap(), None);
    let unicode_key_len = "ключ \u{1F600}".len() as u64;
    assert_eq!(
        check_usage(&kv, s).await,
        usage(5, 10 + 3 + 5 + 9 + 5 + unicode_key_len + 7)
    );

    assert!(r.kv_delete(s, "greeting").await.unwrap());
    assert!(!r.kv_delete(s, "greeting").await.unwrap());
    assert!(!r.kv_delete(s, "never").await.unwrap());
    assert_eq!(r.kv_get(s, "greeting").await.unwrap(), None);
    assert_eq!(
        check_usage(&kv, s).await,
        usage(4, 3 + 5 + 9 + 5 + unicode_key_len + 7)
    );

    for key in ["bin", "", "empty", "ключ \u{1F600}"] {
        assert!(r.kv_delete(s, key).await.unwrap());
    }
    assert_eq!(check_usage(&kv, s).await, KvUsage::default());
    // Deleting in a scope never written leaves nothing behind either.
    assert!(!r.kv_delete("app_never", "x").await.unwrap());
    assert_eq!(check_usage(&kv, "app_never").await, KvUsage::default());
}

async fn list_prefix_order_and_paging(kv: Kv) {
    let r = &kv.registry;
    let s = "app_list";
    // In byte (= code point) order. A collation-ordered TEXT column would put "a" before "B",
    // and "cafe"/"café"/"cafê" in another order.
    let ordered = [
        "",
        "B",
        "a",
        "a\0b",
        "aa",
        "ab",
        "abc",
        "b",
        "cafe",
        "caf\u{e9}",   // café: ...C3 A9
        "caf\u{e9}s",  // cafés
        "caf\u{ea}",   // cafê: ...C3 AA, the upper bound of the "café" range
        "\u{e9}",      // é: C3 A9
        "\u{1F600}",   // F0 9F 98 80
        "\u{10FFFF}",  // F4 8F BF BF
        "\u{10FFFF}x", // F4 8F BF BF 78
        "\u{10FFFF}\u{10FFFF}",
    ];
    // Insert in a scrambled order.
    for i in 0..ordered.len() {
        let key = ordered[(i * 7) % ordered.len()];
        r.kv_set(s, key, key.as_bytes(), ROOMY).await.unwrap();
    }
    // Another scope with overlapping keys must not show up.
    r.kv_set("app_other", "ab", b"x", ROOMY).await.unwrap();
    r.kv_set("app_other", "aaa", b"x", ROOMY).await.unwrap();

    let list = move |prefix: &'static str, after: Option<&'static str>, limit: u32| async move {
        r.kv_list(s, prefix, after, limit).await.unwrap()
    };
    let all: Vec<String> = ordered.iter().map(|k| (*k).to_owned()).collect();
    assert_eq!(list("", None, 100).await, all);
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(all, sorted, "the expectation itself is in byte order");

    assert_eq!(list("a", None, 100).await, ["a", "a\0b", "aa", "ab", "abc"]);
    assert_eq!(list("ab", None, 100).await, ["ab", "abc"]);
    assert_eq!(list("abc", None, 100).await, ["abc"]);
    assert_eq!(list("abcd", None, 100).await, Vec::<String>::new());
    assert_eq!(list("B", None, 100).await, ["B"]);
    assert_eq!(list("z", None, 100).await, Vec::<String>::new());
    assert_eq!(
        list("caf", None, 100).await,
        ["cafe", "caf\u{e9}", "caf\u{e9}s", "caf\u{ea}"]
    );
    assert_eq!(
        list("caf\u{e9}", None, 100).await,
        ["caf\u{e9}", "caf\u{e9}s"]
    );
    assert_eq!(list("\u{e9}", None, 100).await, ["\u{e9}"]);
    assert_eq!(
        list("\u{10FFFF}", None, 100).await,
        ["\u{10FFFF}", "\u{10FFFF}x", "\u{10FFFF}\u{10FFFF}"]
    );
    assert_eq!(
        list("\u{10FFFF}\u{10FFFF}", None, 100).await,
        ["\u{10FFFF}\u{10FFFF}"]
    );

    // `after` is exclusive, need not be a stored key, and combines with the prefix.
    assert_eq!(list("a", Some("aa"), 100).await, ["ab", "abc"]);
    assert_eq!(list("a", Some("a\u{1}"), 100).await, ["aa", "ab", "abc"]);
    assert_eq!(list("ab", Some("a"), 100).await, ["ab", "abc"]);
    assert_eq!(list("ab", Some("abc"), 100).await, Vec::<String>::new());
    assert_eq!(list("a", Some("zzz"), 100).await, Vec::<String>::new());
    assert_eq!(
        list("", Some("\u{1F600}"), 100).await,
        ["\u{10FFFF}", "\u{10FFFF}x", "\u{10FFFF}\u{10FFFF}"]
    );
    assert_eq!(list("", Some(""), 2).await, ["B", "a"]);

    // Limits.
    assert_eq!(list("", None, 0).await, Vec::<String>::new());
    assert_eq!(list("", None, 1).await, [""]);
    assert_eq!(list("a", None, 2).await, ["a", "a\0b"]);

    // Paging through everything, three at a time.
    for page_size in [1u32, 3, 5] {
        let mut paged: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = r.kv_list(s, "", after.as_deref(), page_size).await.unwrap();
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
    let first = r.kv_list(s, "caf", None, 2).await.unwrap();
    assert_eq!(first, ["cafe", "caf\u{e9}"]);
    let second = r
        .kv_list(s, "caf", first.last().map(String::as_str), 2)
        .await
        .unwrap();
    assert_eq!(second, ["caf\u{e9}s", "caf\u{ea}"]);
    let third = r
        .kv_list(s, "caf", second.last().map(String::as_str), 2)
        .await
        .unwrap();
    assert!(third.is_empty());

    assert_eq!(check_usage(&kv, s).await.keys, ordered.len() as u64);
}

async fn scopes_are_isolated(kv: Kv) {
    let r = &kv.registry;
    let scopes = ["app_a", "app_b", "local/app_a", "app_a/"];
    for (i, s) in scopes.iter().enumerate() {
        r.kv_set(s, "shared", format!("{i}").as_bytes(), ROOMY)
            .await
            .unwrap();
        r.kv_set(s, &format!("only-{i}"), b"x", ROOMY)
            .await
            .unwrap();
    }
    for (i, s) in scopes.iter().enumerate() {
        assert_eq!(
            r.kv_get(s, "shared").await.unwrap(),
            Some(format!("{i}").into_bytes())
        );
        assert_eq!(
            r.kv_list(s, "", None, 100).await.unwrap(),
            [format!("only-{i}"), "shared".to_owned()]
        );
        for j in 0..scopes.len() {
            if j != i {
                assert_eq!(r.kv_get(s, &format!("only-{j}")).await.unwrap(), None);
            }
        }
        assert_eq!(check_usage(&kv, s).await, usage(2, 6 + 1 + 6 + 1));
    }
    assert_eq!(r.kv_get("app", "shared").await.unwrap(), None);
    assert!(r.kv_list("app", "", None, 100).await.unwrap().is_empty());

    // Writes in one scope leave the others alone.
    assert!(r.kv_delete("app_a", "shared").await.unwrap());
    assert_eq!(
        r.kv_increment("app_b", "shared", 5, ROOMY).await.unwrap(),
        6
    );
    assert!(
        r.kv_compare_and_set("local/app_a", "only-0", None, Some(b"y"), ROOMY)
            .await
            .unwrap()
    );
    assert_eq!(r.kv_get("app_a", "shared").await.unwrap(), None);
    assert_eq!(
        r.kv_get("local/app_a", "shared").await.unwrap(),
        Some(b"2".to_vec())
    );
    assert_eq!(
        r.kv_get("app_a", "only-0").await.unwrap(),
        Some(b"x".to_vec())
    );
    assert_eq!(
        r.kv_get("app_a/", "shared").await.unwrap(),
        Some(b"3".to_vec())
    );
    for s in scopes {
        check_usage(&kv, s).await;
    }

    // Quotas are per scope: a full scope does not stop another.
    let tight = limits(2, 1000);
    assert_quota(
        r.kv_set("app_b", "third", b"x", tight).await,
        Quota::KvKeys,
        2,
    );
    r.kv_set("app_a", "second", b"x", tight).await.unwrap();
}

async fn increment(kv: Kv) {
    let r = &kv.registry;
    let s = "app_inc";
    assert_eq!(r.kv_increment(s, "n", 1, ROOMY).await.unwrap(), 1);
    assert_eq!(r.kv_increment(s, "n", 1, ROOMY).await.unwrap(), 2);
    assert_eq!(r.kv_increment(s, "n", 40, ROOMY).await.unwrap(), 42);
    assert_eq!(r.kv_get(s, "n").await.unwrap(), Some(b"42".to_vec()));
    assert_eq!(check_usage(&kv, s).await, usage(1, 1 + 2));
    assert_eq!(r.kv_increment(s, "n", -50, ROOMY).await.unwrap(), -8);
    assert_eq!(r.kv_get(s, "n").await.unwrap(), Some(b"-8".to_vec()));
    assert_eq!(r.kv_increment(s, "n", 0, ROOMY).await.unwrap(), -8);
    assert_eq!(check_usage(&kv, s).await, usage(1, 1 + 2));
    // Absent counts as zero, also for a zero or negative delta.
    assert_eq!(r.kv_increment(s, "zero", 0, ROOMY).await.unwrap(), 0);
    assert_eq!(r.kv_get(s, "zero").await.unwrap(), Some(b"0".to_vec()));
    assert_eq!(r.kv_increment(s, "neg", -3, ROOMY).await.unwrap(), -3);
    // A value set by hand as decimal text counts.
    r.kv_set(s, "set", b"100", ROOMY).await.unwrap();
    assert_eq!(r.kv_increment(s, "set", 1, ROOMY).await.unwrap(), 101);
    let before = check_usage(&kv, s).await;

    // Not an integer: refused, nothing changes.
    for bad in [
        &b"abc"[..],
        b"",
        b"1.5",
        b" 7",
        b"7 ",
        b"0x10",
        b"\xff\xfe",
        b"1e3",
    ] {
        r.kv_set(s, "bad", bad, ROOMY).await.unwrap();
        let before_bad = check_usage(&kv, s).await;
        assert_invalid(
            r.kv_increment(s, "bad", 1, ROOMY).await,
            "is not an integer",
        );
        assert_eq!(r.kv_get(s, "bad").await.unwrap(), Some(bad.to_vec()));
        assert_eq!(check_usage(&kv, s).await, before_bad);
    }
    r.kv_delete(s, "bad").await.unwrap();
    assert_eq!(check_usage(&kv, s).await, before);

    // Overflow either way: refused, nothing changes.
    assert_eq!(
        r.kv_increment(s, "big", i64::MAX, ROOMY).await.unwrap(),
        i64::MAX
    );
    assert_invalid(r.kv_increment(s, "big", 1, ROOMY).await, "overflow");
    assert_eq!(
        r.kv_get(s, "big").await.unwrap(),
        Some(i64::MAX.to_string().into_bytes())
    );
    assert_eq!(
        r.kv_increment(s, "small", i64::MIN, ROOMY).await.unwrap(),
        i64::MIN
    );
    assert_invalid(r.kv_increment(s, "small", -1, ROOMY).await, "overflow");
    assert_eq!(
        r.kv_increment(s, "small", i64::MAX, ROOMY).await.unwrap(),
        -1
    );
    // A value one past i64 is not an integer either.
    r.kv_set(s, "huge", b"9223372036854775808", ROOMY)
        .await
        .unwrap();
    assert_invalid(
        r.kv_increment(s, "huge", 0, ROOMY).await,
        "is not an integer",
    );
    check_usage(&kv, s).await;
}

async fn compare_and_set(kv: Kv) {
    let r = &kv.registry;
    let s = "app_cas";
    // Absent → set.
    assert!(
        r.kv_compare_and_set(s, "k", None, Some(b"one"), ROOMY)
            .await
            .unwrap()
    );
    assert_eq!(r.kv_get(s, "k").await.unwrap(), Some(b"one".to_vec()));
    assert_eq!(check_usage(&kv, s).await, usage(1, 1 + 3));
    // Expecting absent when present: refused, unchanged.
    assert!(
        !r.kv_compare_and_set(s, "k", None, Some(b"two"), ROOMY)
            .await
            .unwrap()
    );
    // Wrong expected value (also a prefix of the real one, and the empty value): unchanged.
    for wrong in [&b"on"[..], b"one ", b"", b"ONE"] {
        assert!(
            !r.kv_compare_and_set(s, "k", Some(wrong), Some(b"two"), ROOMY)
                .await
                .unwrap()
        );
        assert!(
            !r.kv_compare_and_set(s, "k", Some(wrong), None, ROOMY)
                .await
                .unwrap()
        );
    }
    assert_eq!(r.kv_get(s, "k").await.unwrap(), Some(b"one".to_vec()));
    assert_eq!(check_usage(&kv, s).await, usage(1, 1 + 3));
    // Right expected value: swapped.
    assert!(
        r.kv_compare_and_set(s, "k", Some(b"one"), Some(b"three"), ROOMY)
            .await
            .unwrap()
    );
    assert_eq!(r.kv_get(s, "k").await.unwrap(), Some(b"three".to_vec()));
    assert_eq!(check_usage(&kv, s).await, usage(1, 1 + 5));
    // Delete via None.
    assert!(
        r.kv_compare_and_set(s, "k", Some(b"three"), None, ROOMY)
            .await
            .unwrap()
    );
    assert_eq!(r.kv_get(s, "k").await.unwrap(), None);
    assert_eq!(check_usage(&kv, s).await, KvUsage::default());
    // Expecting a value when absent: refused, still absent.
    assert!(
        !r.kv_compare_and_set(s, "k", Some(b"three"), Some(b"x"), ROOMY)
            .await
            .unwrap()
    );
    assert_eq!(r.kv_get(s, "k").await.unwrap(), None);
    // Absent and wanted absent: true, and still nothing there.
    assert!(
        r.kv_compare_and_set(s, "k", None, None, ROOMY)
            .await
            .unwrap()
    );
    assert_eq!(r.kv_get(s, "k").await.unwrap(), None);
    assert_eq!(check_usage(&kv, s).await, KvUsage::default());
    // Empty values compare as present-and-empty, not absent.
    r.kv_set(s, "e", b"", ROOMY).await.unwrap();
    assert!(
        !r.kv_compare_and_set(s, "e", None, Some(b"x"), ROOMY)
            .await
            .unwrap()
    );
    assert!(
        r.kv_compare_and_set(s, "e", Some(b""), Some(b"x"), ROOMY)
            .await
            .unwrap()
    );
    assert_eq!(r.kv_get(s, "e").await.unwrap(), Some(b"x".to_vec()));
    // A swap past the limits is refused, even when the expectation holds.
    assert_quota(
        r.kv_compare_and_set(s, "e", Some(b"x"), Some(b"xxxxx"), limits(10, 4))
            .await,
        Quota::KvBytes,
        4,
    );
    assert_quota(
        r.kv_compare_and_set(s, "f", None, Some(b"y"), limits(1, 100))
            .await,
        Quota::KvKeys,
        1,
    );
    assert_eq!(r.kv_get(s, "e").await.unwrap(), Some(b"x".to_vec()));
    assert_eq!(r.kv_get(s, "f").await.unwrap(), None);
    assert_eq!(check_usage(&kv, s).await, usage(1, 2));
}

async fn quotas_keys_and_bytes(kv: Kv) {
    let r = &kv.registry;
    let s = "app_quota";
    let lim = limits(3, 20);
    assert_eq!(Quota::KvKeys.name(), "kv_keys");
    assert_eq!(Quota::KvBytes.name(), "kv_bytes");

    r.kv_set(s, "a", b"1234", lim).await.unwrap(); // 5
    r.kv_set(s, "b", b"1234", lim).await.unwrap(); // 5
    r.kv_set(s, "c", b"1", lim).await.unwrap(); // 2
    assert_eq!(check_usage(&kv, s).await, usage(3, 12));

    // A fourth key: refused, nothing written.
    let err = r.kv_set(s, "d", b"", lim).await;
    assert_quota(err, Quota::KvKeys, 3);
    assert_quota(r.kv_increment(s, "d", 1, lim).await, Quota::KvKeys, 3);
    assert_eq!(r.kv_get(s, "d").await.unwrap(), None);
    assert_eq!(check_usage(&kv, s).await, usage(3, 12));
    assert_eq!(
        r.kv_set(s, "d", b"", lim).await.unwrap_err().to_string(),
        "quota kv_keys exceeded (limit 3)"
    );

    // Overwrites count only the difference: up to exactly the limit is fine...
    r.kv_set(s, "a", b"123456789012", lim).await.unwrap(); // 13: 12 - 5 + 13 = 20
    assert_eq!(check_usage(&kv, s).await, usage(3, 20));
    // ...one byte past it is not, and leaves the old value.
    assert_quota(r.kv_set(s, "b", b"12345", lim).await, Quota::KvBytes, 20);
    assert_eq!(r.kv_get(s, "b").await.unwrap(), Some(b"1234".to_vec()));
    assert_eq!(check_usage(&kv, s).await, usage(3, 20));
    // An increment that lengthens the value is held to the limit too.
    r.kv_set(s, "c", b"9", lim).await.unwrap();
    assert_quota(r.kv_increment(s, "c", 1, lim).await, Quota::KvBytes, 20);
    assert_eq!(r.kv_get(s, "c").await.unwrap(), Some(b"9".to_vec()));
    assert_eq!(r.kv_increment(s, "c", -1, lim).await.unwrap(), 8);
    // A same-size overwrite at the limit is fine.
    r.kv_set(s, "b", b"abcd", lim).await.unwrap();
    assert_eq!(check_usage(&kv, s).await, usage(3, 20));

    // Deleting frees room for a new key.
    assert!(r.kv_delete(s, "c").await.unwrap());
    assert_eq!(check_usage(&kv, s).await, usage(2, 18));
    assert_quota(r.kv_set(s, "d", b"xx", lim).await, Quota::KvBytes, 20);
    r.kv_set(s, "d", b"x", lim).await.unwrap();
    assert_eq!(check_usage(&kv, s).await, usage(3, 20));

    // A single entry larger than the whole budget.
    let fresh = "app_quota_2";
    assert_quota(
        r.kv_set(fresh, "k", &[0u8; 20], lim).await,
        Quota::KvBytes,
        20,
    );
    assert_eq!(check_usage(&kv, fresh).await, KvUsage::default());
    // Keys count toward bytes as well as values.
    let long_key = "k".repeat(21);
    assert_quota(
        r.kv_set(fresh, &long_key, b"", lim).await,
        Quota::KvBytes,
        20,
    );
    r.kv_set(fresh, &long_key[..20], b"", lim).await.unwrap();
    assert_eq!(check_usage(&kv, fresh).await, usage(1, 20));
    // Zero limits refuse any new key.
    assert_quota(
        r.kv_set("app_quota_3", "k", b"", limits(0, 100)).await,
        Quota::KvKeys,
        0,
    );
    assert_quota(
        r.kv_set("app_quota_3", "k", b"", limits(5, 0)).await,
        Quota::KvBytes,
        0,
    );
    assert_eq!(check_usage(&kv, "app_quota_3").await, KvUsage::default());
}

async fn shrinking_allowed_when_over(kv: Kv) {
    let r = &kv.registry;
    let s = "app_over";
    for key in ["a", "b", "c", "d"] {
        r.kv_set(s, key, b"0123456789", ROOMY).await.unwrap();
    }
    assert_eq!(check_usage(&kv, s).await, usage(4, 44));
    // The limits drop below what the scope holds.
    let lim = limits(2, 20);
    // Growing is refused (no new key, no longer value)...
    assert_quota(r.kv_set(s, "e", b"", lim).await, Quota::KvKeys, 2);
    assert_quota(
        r.kv_set(s, "a", b"0123456789x", lim).await,
        Quota::KvBytes,
        20,
    );
    assert_eq!(check_usage(&kv, s).await, usage(4, 44));
    // ...but same-size and shorter overwrites, deletes and swaps are fine.
    r.kv_set(s, "a", b"9876543210", lim).await.unwrap();
    r.kv_set(s, "b", b"short", lim).await.unwrap();
    assert_eq!(check_usage(&kv, s).await, usage(4, 39));
    assert!(
        r.kv_compare_and_set(s, "c", Some(b"0123456789"), Some(b""), lim)
            .await
            .unwrap()
    );
    assert!(
        r.kv_compare_and_set(s, "c", Some(b""), None, lim)
            .await
            .unwrap()
    );
    assert!(r.kv_delete(s, "d").await.unwrap());
    assert_eq!(check_usage(&kv, s).await, usage(2, 11 + 6));
    // Back within the limits, growing to them works again.
    r.kv_set(s, "b", b"short+", lim).await.unwrap();
    assert_eq!(check_usage(&kv, s).await, usage(2, 18));
    assert_quota(
        r.kv_set(s, "b", b"short+++x", lim).await,
        Quota::KvBytes,
        20,
    );
}

async fn clear(kv: Kv) {
    let r = &kv.registry;
    for i in 0..5 {
        r.kv_set("app_gone", &format!("k{i}"), b"v", ROOMY)
            .await
            .unwrap();
    }
    r.kv_increment("app_gone", "counter", 3, ROOMY)
        .await
        .unwrap();
    r.kv_set("app_kept", "k0", b"v", ROOMY).await.unwrap();
    assert_eq!(check_usage(&kv, "app_gone").await, usage(6, 5 * 3 + 8));

    assert_eq!(r.kv_clear("app_gone").await.unwrap(), 6);
    assert_eq!(check_usage(&kv, "app_gone").await, KvUsage::default());
    assert!(
        r.kv_list("app_gone", "", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(r.kv_get("app_gone", "k0").await.unwrap(), None);
    assert_eq!(r.kv_clear("app_gone").await.unwrap(), 0);
    assert_eq!(r.kv_clear("app_never").await.unwrap(), 0);
    assert_eq!(check_usage(&kv, "app_never").await, KvUsage::default());

    // The other scope is untouched.
    assert_eq!(
        r.kv_get("app_kept", "k0").await.unwrap(),
        Some(b"v".to_vec())
    );
    assert_eq!(check_usage(&kv, "app_kept").await, usage(1, 3));

    // A cleared scope starts over from zero, quotas included.
    r.kv_set("app_gone", "k0", b"v", limits(1, 3))
        .await
        .unwrap();
    assert_eq!(
        r.kv_increment("app_gone", "counter", 1, ROOMY)
            .await
            .unwrap(),
        1
    );
    assert_eq!(check_usage(&kv, "app_gone").await, usage(2, 3 + 8));
}

async fn concurrent_increments(kv: Kv) {
    const TASKS: i64 = 8;
    const EACH: i64 = 25;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let registry = kv.registry.clone();
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..EACH {
                seen.push(
                    registry
                        .kv_increment("app_hot", "hits", 1, ROOMY)
                        .await
                        .unwrap_or_else(|e| panic!("task {t}: {e}")),
                );
                // Other keys of the same scope and another scope, written meanwhile.
                registry
                    .kv_increment("app_hot", &format!("task-{t}"), 1, ROOMY)
                    .await
                    .unwrap();
                registry
                    .kv_increment(&format!("app_cold_{}", t % 2), "hits", 1, ROOMY)
                    .await
                    .unwrap();
            }
            seen
        }));
    }
    let mut all_seen = Vec::new();
    for handle in handles {
        all_seen.extend(handle.await.unwrap());
    }
    // Every increment returned a distinct value: 1..=200.
    all_seen.sort_unstable();
    assert_eq!(all_seen, (1..=TASKS * EACH).collect::<Vec<_>>());
    let r = &kv.registry;
    assert_eq!(
        r.kv_get("app_hot", "hits").await.unwrap(),
        Some(b"200".to_vec())
    );
    for t in 0..TASKS {
        assert_eq!(
            r.kv_get("app_hot", &format!("task-{t}")).await.unwrap(),
            Some(EACH.to_string().into_bytes())
        );
    }
    for c in 0..2 {
        assert_eq!(
            r.kv_get(&format!("app_cold_{c}"), "hits").await.unwrap(),
            Some(b"100".to_vec())
        );
        check_usage(&kv, &format!("app_cold_{c}")).await;
    }
    // "hits" = "200", each "task-N" = "25".
    assert_eq!(
        check_usage(&kv, "app_hot").await,
        usage(1 + 8, 4 + 3 + 8 * (6 + 2))
    );
}

async fn concurrent_writes_respect_quotas(kv: Kv) {
    const TASKS: usize = 12;
    let lim = limits(5, 1000);
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let registry = kv.registry.clone();
        handles.push(tokio::spawn(async move {
            let key = format!("key-{t:02}");
            let set = registry.kv_set("app_race", &key, b"v", lim).await;
            let cas = registry
                .kv_compare_and_set("app_race", &format!("cas-{t:02}"), None, Some(b"v"), lim)
                .await;
            (set, cas)
        }));
    }
    let mut ok = 0;
    for handle in handles {
        let (set, cas) = handle.await.unwrap();
        for result in [set.map(|()| true), cas] {
            match result {
                Ok(true) => ok += 1,
                Err(RegistryError::QuotaExceeded {
                    quota: Quota::KvKeys,
                    limit: 5,
                }) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(ok, 5, "exactly max_keys writes succeed");
    assert_eq!(check_usage(&kv, "app_race").await.keys, 5);
    assert_eq!(
        kv.registry
            .kv_list("app_race", "", None, 100)
            .await
            .unwrap()
            .len(),
        5
    );
}

async fn data_survives_reopen(kv: Kv) {
    let r = &kv.registry;
    r.kv_set("app_p", "k", b"v", ROOMY).await.unwrap();
    r.kv_increment("app_p", "n", 7, ROOMY).await.unwrap();
    // Running the migrations again changes nothing.
    r.migrate().await.unwrap();
    r.close().await;
    let reopened = Registry::open(&kv.location, QuotaDefaults::default())
        .await
        .unwrap();
    assert_eq!(
        reopened.kv_get("app_p", "k").await.unwrap(),
        Some(b"v".to_vec())
    );
    assert_eq!(
        reopened.kv_increment("app_p", "n", 1, ROOMY).await.unwrap(),
        8
    );
    assert_eq!(
        reopened.kv_list("app_p", "", None, 10).await.unwrap(),
        ["k", "n"]
    );
    let kv = Kv {
        registry: reopened,
        ..kv
    };
    assert_eq!(check_usage(&kv, "app_p").await, usage(2, 2 + 2));
    kv.registry.close().await;
    let migrations: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&kv.raw)
            .await
            .unwrap();
    assert_eq!(migrations, [1, 2, 3, 4, 5]);
    // Keys and values are byte strings on Postgres too (SQLite's storage class is checked by
    // `check_usage`), so ordering never depends on a collation.
    if kv.registry.backend() == Backend::Postgres {
        let types: Vec<String> = sqlx::query_scalar(
            "SELECT data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'kv_entries' \
             ORDER BY ordinal_position",
        )
        .fetch_all(&kv.raw)
        .await
        .unwrap();
        assert_eq!(types, ["text", "bytea", "bytea"]);
    }
}
