//! What makes one guest's SQL run on both backends: the placeholders (`?`, `?NNN`, SQLite's
//! positional forms, rewritten to Postgres' `$N`), the second layer of refusals on Postgres
//! (statements that try to leave the app's role or schema, or reach the server's files,
//! extensions or notifications; the role's privileges are the first), and migrations that
//! carry one text per dialect (`livewasm_sdk::sql::Migration::per_dialect`).
//!
//! All three read SQL with one small lexer that knows what is not code: `'…'` strings (with
//! `''`, and backslash escapes in `E'…'`), `"…"` identifiers, `-- …` and nested `/* … */`
//! comments, and Postgres' `$tag$ … $tag$` strings.

use livewasm_runtime::SqlError;

/// The database a migration or statement is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite (the file backend).
    Sqlite,
    /// Postgres (one schema per app).
    Postgres,
}

impl Dialect {
    /// The name a per-dialect migration uses.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// How a per-dialect migration starts (the SDK's encoding: NUL never occurs in SQL text).
const PER_DIALECT: char = '\0';

/// The text of `migration` (as the manifest carries it) for `dialect`: a plain migration is
/// the same on both; a per-dialect one (`"\0sqlite\0<sql>\0postgres\0<sql>"`) gives its
/// variant, and an error when it has none for `dialect` or is malformed.
pub(crate) fn migration_for(migration: &str, dialect: Dialect) -> Result<&str, String> {
    let Some(rest) = migration.strip_prefix(PER_DIALECT) else {
        return Ok(migration);
    };
    let parts: Vec<&str> = rest.split(PER_DIALECT).collect();
    if !parts.len().is_multiple_of(2) {
        return Err("a per-dialect migration must pair each dialect with its SQL".into());
    }
    let mut found = None;
    for pair in parts.chunks(2) {
        let (name, sql) = (pair[0], pair[1]);
        if name != "sqlite" && name != "postgres" {
            return Err(format!("unknown SQL dialect {name:?} (sqlite or postgres)"));
        }
        if sql.trim().is_empty() {
            return Err(format!("its {name} variant is empty"));
        }
        if name == dialect.name() && found.replace(sql).is_some() {
            return Err(format!("it has two {name} variants"));
        }
    }
    found.ok_or_else(|| format!("it has no {} variant", dialect.name()))
}

/// One piece of SQL text as the lexer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// Code: keywords, names, operators, numbers, whitespace.
    Code,
    /// A string, quoted identifier or comment, copied as it is.
    Opaque,
}

/// Splits `sql` into code and what is not code, in order, covering every byte.
fn pieces(sql: &str) -> Vec<(Piece, &str)> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut code_start = 0;
    let mut i = 0;
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    while i < bytes.len() {
        let start = i;
        let end = match bytes[i] {
            b'\'' => {
                // `E'…'` (not part of a longer name) takes backslash escapes.
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'e' | b'E')
                    && (i < 2 || !is_ident(bytes[i - 2]));
                Some(quoted(bytes, i, b'\'', escapes))
            }
            b'"' => Some(quoted(bytes, i, b'"', false)),
            b'-' if bytes.get(i + 1) == Some(&b'-') => Some(
                bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| i + n + 1),
            ),
            b'/' if bytes.get(i + 1) == Some(&b'*') => Some(block_comment(bytes, i)),
            b'$' if i == 0 || !is_ident(bytes[i - 1]) => dollar_quoted(sql, i),
            _ => None,
        };
        match end {
            Some(end) => {
                if code_start < start {
                    out.push((Piece::Code, &sql[code_start..start]));
                }
                out.push((Piece::Opaque, &sql[start..end]));
                i = end;
                code_start = end;
            }
            None => i += 1,
        }
    }
    if code_start < bytes.len() {
        out.push((Piece::Code, &sql[code_start..]));
    }
    out
}

/// The end of the `quote`-quoted text starting at `start` (a doubled quote stays inside).
fn quoted(bytes: &[u8], start: usize, quote: u8, escapes: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of the (nested) block comment starting at `start`.
fn block_comment(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of the `$tag$ … $tag$` string starting at `start`, if one starts there.
fn dollar_quoted(sql: &str, start: usize) -> Option<usize> {
    let bytes = sql.as_bytes();
    let tag_len = bytes[start + 1..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80))?;
    let close = start + 1 + tag_len;
    if bytes.get(close) != Some(&b'$') || bytes.get(start + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let tag = &sql[start..=close];
    let body = close + 1;
    Some(
        sql[body..]
            .find(tag)
            .map_or(sql.len(), |n| body + n + tag.len()),
    )
}

/// `sql` with SQLite's positional placeholders as Postgres' (`?` → `$N`, one past the
/// highest number so far, as SQLite counts; `?NNN` → `$NNN`), outside strings, quoted names
/// and comments; and how many parameters it names (the highest number).
pub(crate) fn to_postgres(sql: &str) -> (String, usize) {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut highest = 0usize;
    let pieces = pieces(sql);
    for (at, &(piece, text)) in pieces.iter().enumerate() {
        if piece == Piece::Opaque {
            out.push_str(text);
            continue;
        }
        // The first character after this piece (a string, name or comment right after it).
        let after = pieces.get(at + 1).and_then(|(_, next)| next.chars().next());
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            if c != '?' {
                out.push(c);
                continue;
            }
            let mut digits = String::new();
            while i < chars.len() && chars[i].is_ascii_digit() {
                digits.push(chars[i]);
                i += 1;
            }
            let n = if digits.is_empty() {
                highest + 1
            } else {
                digits.parse().unwrap_or(usize::MAX)
            };
            highest = highest.max(n);
            // Nor may it run into what comes before (`a$1` is a name, `$$1` a quote).
            if out
                .chars()
                .last()
                .is_some_and(|d| d.is_alphanumeric() || matches!(d, '_' | '$'))
            {
                out.push(' ');
            }
            out.push('$');
            out.push_str(&n.to_string());
            // `?x`, `??` or `?$t$` must not run into the number. A `$` in this same piece of
            // code was part of a name already (`?1$$` is no quote), and stays so: a space
            // would turn it into one.
            let next = chars.get(i).copied().or(after);
            let glued_dollar = chars.get(i) == Some(&'$');
            if !glued_dollar
                && next.is_some_and(|d| d.is_alphanumeric() || matches!(d, '_' | '$' | '?'))
            {
                out.push(' ');
            }
        }
    }
    (out, highest)
}

/// What the Postgres backend refuses before the server sees it: the second layer behind
/// the app role's privileges (which alone keep an app in its schema).
const REFUSED_FIRST_WORDS: &[&str] = &[
    "set",
    "reset",
    "do",
    "copy",
    "listen",
    "unlisten",
    "notify",
    "load",
    "grant",
    "revoke",
    "discard",
    "checkpoint",
];

/// Pairs of words refused anywhere in a statement.
const REFUSED_PAIRS: &[(&str, &str)] = &[
    ("session", "authorization"),
    ("create", "extension"),
    ("alter", "extension"),
    ("create", "role"),
    ("create", "user"),
    ("create", "group"),
    ("alter", "role"),
    ("alter", "user"),
    ("drop", "role"),
    ("drop", "user"),
    ("alter", "system"),
    ("create", "database"),
    ("alter", "database"),
    ("create", "schema"),
    ("alter", "schema"),
    ("drop", "schema"),
    ("create", "language"),
    ("create", "subscription"),
    ("create", "publication"),
    ("create", "tablespace"),
    ("create", "server"),
    ("foreign", "data"),
];

/// Functions refused anywhere in a statement (a name followed by `(`).
const REFUSED_FUNCTIONS: &[&str] = &[
    "set_config",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_notify",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "lo_import",
    "lo_export",
    "dblink",
    "dblink_exec",
];

/// Why the Postgres backend refuses `sql` before running it, if it does.
pub(crate) fn refusal(sql: &str) -> Option<SqlError> {
    let mut words: Vec<String> = Vec::new();
    for (piece, text) in pieces(sql) {
        if piece == Piece::Opaque {
            // A string or name separates words (and may hide a function name; the role's
            // privileges are the guard there).
            words.push(String::new());
            continue;
        }
        let mut word = String::new();
        for c in text.chars() {
            if c.is_alphanumeric() || c == '_' {
                word.push(c.to_ascii_lowercase());
            } else {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                if c == '(' {
                    words.push("(".into());
                }
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    let code: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !w.is_empty())
        .collect();
    let denied = |what: &str| Some(SqlError::Denied(format!("apps may not {what}")));
    if let Some(first) = code.first()
        && REFUSED_FIRST_WORDS.contains(first)
    {
        return denied(&format!(
            "run {} statements (settings, roles, copies, notifications and grants are the host's)",
            first.to_uppercase()
        ));
    }
    for pair in code.windows(2) {
        if REFUSED_PAIRS.contains(&(pair[0], pair[1])) {
            return denied(&format!(
                "use {} {} (an app keeps its own role and schema)",
                pair[0].to_uppercase(),
                pair[1].to_uppercase()
            ));
        }
        if pair[1] == "(" && is_refused_function(pair[0]) {
            return denied(&format!("call {}", pair[0]));
        }
    }
    None
}

fn is_refused_function(name: &str) -> bool {
    REFUSED_FUNCTIONS.contains(&name)
        || name.starts_with("pg_advisory")
        || name.starts_with("pg_try_advisory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered() {
        let cases = [
            ("SELECT ?", "SELECT $1", 1),
            ("SELECT ?, ?", "SELECT $1, $2", 2),
            ("SELECT ?2, ?1", "SELECT $2, $1", 2),
            // SQLite: a bare `?` is one past the highest number so far.
            ("SELECT ?3, ?, ?1, ?", "SELECT $3, $4, $1, $5", 5),
            (
                "SELECT '?', \"a?\", ? -- ?\n",
                "SELECT '?', \"a?\", $1 -- ?\n",
                1,
            ),
            ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1),
            ("SELECT E'\\' ?', ?", "SELECT E'\\' ?', $1", 1),
            // Not an escape string: the backslash is plain.
            ("SELECT name'\\', ?", "SELECT name'\\', $1", 1),
            (
                "SELECT /* ? /* ? */ ? */ ?",
                "SELECT /* ? /* ? */ ? */ $1",
                1,
            ),
            (
                "SELECT $$ ? $$, $a$ ?$ $a$, ?",
                "SELECT $$ ? $$, $a$ ?$ $a$, $1",
                1,
            ),
            ("SELECT $1, ?", "SELECT $1, $1", 1),
            ("SELECT a$b, ?", "SELECT a$b, $1", 1),
            ("SELECT 'unterminated ?", "SELECT 'unterminated ?", 0),
            ("SELECT ?é", "SELECT $1 é", 1),
            ("SELECT (?$x$ ? $x$)", "SELECT ($1 $x$ ? $x$)", 1),
            // A `$` glued to the number was a name's, not a quote's: no space makes it one.
            ("\"\"?0$$", "\"\"$0$$", 0),
        ];
        for (sqlite, postgres, n) in cases {
            assert_eq!(to_postgres(sqlite), (postgres.to_string(), n), "{sqlite}");
        }
    }

    #[test]
    fn migrations_choose_their_dialect() {
        assert_eq!(
            migration_for("CREATE TABLE t (x)", Dialect::Postgres),
            Ok("CREATE TABLE t (x)")
        );
        let both = "\0sqlite\0CREATE TABLE a (id INTEGER PRIMARY KEY)\0postgres\0CREATE TABLE a (id BIGSERIAL PRIMARY KEY)";
        assert_eq!(
            migration_for(both, Dialect::Sqlite),
            Ok("CREATE TABLE a (id INTEGER PRIMARY KEY)")
        );
        assert_eq!(
            migration_for(both, Dialect::Postgres),
            Ok("CREATE TABLE a (id BIGSERIAL PRIMARY KEY)")
        );
        assert!(migration_for("\0sqlite\0SELECT 1", Dialect::Postgres).is_err());
        assert!(migration_for("\0oracle\0SELECT 1", Dialect::Sqlite).is_err());
        assert!(migration_for("\0sqlite", Dialect::Sqlite).is_err());
        assert!(migration_for("\0sqlite\0 ", Dialect::Sqlite).is_err());
    }

    #[test]
    fn statements_leaving_the_role_or_schema_are_refused() {
        for sql in [
            "SET ROLE postgres",
            "set role none",
            "RESET ROLE",
            "SET SESSION AUTHORIZATION postgres",
            "SET search_path = public",
            "SET LOCAL statement_timeout = 0",
            "SELECT set_config('role', 'postgres', true)",
            "SELECT pg_catalog.set_config ('search_path', 'public', true)",
            "COPY t TO PROGRAM 'id'",
            "CREATE EXTENSION dblink",
            "LISTEN livewasm_registry",
            "NOTIFY livewasm_registry",
            "SELECT pg_notify('livewasm_registry', '')",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT pg_advisory_lock(1)",
            "DO $$ BEGIN END $$",
            "GRANT SELECT ON t TO PUBLIC",
            "CREATE ROLE x SUPERUSER",
            "ALTER ROLE lw_app_1 SUPERUSER",
            "CREATE SCHEMA other",
            "/* hi */ SET role postgres",
        ] {
            assert!(
                matches!(refusal(sql), Some(SqlError::Denied(_))),
                "{sql}: {:?}",
                refusal(sql)
            );
        }
        for sql in [
            "SELECT 'SET ROLE postgres'",
            "UPDATE users SET role = 'admin' WHERE id = $1",
            "SELECT \"set_config\" FROM t",
            "INSERT INTO notes (title) VALUES ('do it') RETURNING id",
            "CREATE TABLE settings (name TEXT, role TEXT)",
            "SELECT 1 -- SET ROLE postgres",
        ] {
            assert_eq!(refusal(sql), None, "{sql}");
        }
    }

    proptest::proptest! {
        /// Whatever the text, the rewrite keeps everything but `?…` placeholders in code, and
        /// never touches strings, names or comments.
        #[test]
        fn rewriting_only_touches_placeholders(sql in "[a-z ?'\"$0-9/*\\-\n]{0,40}") {
            let (rewritten, _) = to_postgres(&sql);
            let strip = |s: &str| -> String {
                pieces(s).into_iter().filter(|(p, _)| *p == Piece::Opaque).map(|(_, t)| t).collect()
            };
            proptest::prop_assert_eq!(strip(&sql), strip(&rewritten));
            let no_marks = |s: &str| {
                s.chars()
                    .filter(|c| !matches!(c, '?' | '$' | ' ') && !c.is_ascii_digit())
                    .count()
            };
            proptest::prop_assert_eq!(no_marks(&sql), no_marks(&rewritten));
        }
    }
}
