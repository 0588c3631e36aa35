//! The guest profiles: how view crates are compiled.

/// How guests are compiled: a Cargo profile. The Livewasm workspace's `Cargo.toml` declares
/// both (a test keeps them equal to [`Profile::settings`]); a crate outside it gets them as
/// `--config` arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `guest`: small, fast components (what you deploy).
    Guest,
    /// `guest-dev`: quick rebuilds after an edit (the dev loop); larger, slower components.
    GuestDev,
}

impl Profile {
    /// The profile's name for `cargo build --profile`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Guest => "guest",
            Profile::GuestDev => "guest-dev",
        }
    }

    /// The profile's settings, `key = value` as written in a `Cargo.toml`.
    pub fn settings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Profile::Guest => &[
                ("inherits", "\"release\""),
                ("opt-level", "\"s\""),
                ("lto", "true"),
                ("codegen-units", "1"),
                ("panic", "\"abort\""),
                ("strip", "true"),
                ("debug", "false"),
            ],
            Profile::GuestDev => &[
                ("inherits", "\"dev\""),
                ("opt-level", "1"),
                ("panic", "\"abort\""),
                ("debug", "false"),
                ("incremental", "true"),
            ],
        }
    }
}
