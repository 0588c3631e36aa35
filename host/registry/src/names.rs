//! Tenant and app names: DNS labels, since they become parts of an app's origin
//! (`<app>.<tenant>.<base-domain>`).

use crate::error::{RegistryError, Result};

/// The longest name accepted.
pub const MAX_NAME_LEN: usize = 40;

/// Checks that `name` is a DNS label as the registry accepts it: 1 to 40 characters of
/// lowercase `a-z`, `0-9` and `-`, neither starting nor ending with `-`. `kind` (`tenant` or
/// `app`) only goes into the error.
pub fn validate_name(kind: &'static str, name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("must not be empty")
    } else if name.len() > MAX_NAME_LEN {
        Some("must be at most 40 characters")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Some("may only contain lowercase letters a-z, digits and '-'")
    } else if name.starts_with('-') || name.ends_with('-') {
        Some("must not start or end with '-'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(RegistryError::InvalidName {
            kind,
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn dns_labels() {
        for ok in ["a", "acme", "my-app-2", "0", &"x".repeat(40)] {
            assert!(validate_name("app", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Acme",
            "my_app",
            "-a",
            "a-",
            "é",
            "a.b",
            " a",
            &"x".repeat(41),
        ] {
            assert!(validate_name("app", bad).is_err(), "{bad}");
        }
    }
}
