//! The multi-tenant path, driven the way an operator and a tenant drive it: the `livewasm` CLI
//! against a host started with a registry (`--database`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::process::output;
use crate::server::Server;

/// A CLI session against one host: the binary, the host's URL and a token.
pub struct Cli<'a> {
    binary: &'a Path,
    url: String,
    token: String,
}

impl<'a> Cli<'a> {
    /// Creates an operator token offline in `database` and returns a session with it.
    pub fn operator(binary: &'a Path, server: &Server, database: &Path) -> Result<Cli<'a>> {
        let token = output(
            Command::new(binary)
                .args([
                    "token",
                    "create",
                    "--operator",
                    "--label",
                    "xtask",
                    "--database",
                ])
                .arg(database),
        )
        .context("creating an operator token")?;
        Ok(Cli {
            binary,
            url: server.url.clone(),
            token: token.trim().to_string(),
        })
    }

    /// A session with a token kept in `file` (created offline in `database` the first time).
    pub fn kept_operator(
        binary: &'a Path,
        server: &Server,
        database: &Path,
        file: &Path,
    ) -> Result<Cli<'a>> {
        if let Ok(token) = std::fs::read_to_string(file) {
            return Ok(Cli {
                binary,
                url: server.url.clone(),
                token: token.trim().to_string(),
            });
        }
        let cli = Cli::operator(binary, server, database)?;
        std::fs::write(file, &cli.token)?;
        Ok(cli)
    }

    /// Creates `tenant` unless it exists.
    pub fn ensure_tenant(&self, tenant: &str) -> Result<()> {
        if self.run(&["tenant", "create", tenant]).is_ok() {
            return Ok(());
        }
        // It may exist already (a kept database): listing its apps proves it.
        self.run(&["app", "list", tenant])
            .with_context(|| format!("tenant {tenant} could neither be created nor read"))?;
        Ok(())
    }

    /// Runs `livewasm <args> --server … --token …` and returns its stdout.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        output(Command::new(self.binary).args(args).args([
            "--server",
            &self.url,
            "--token",
            &self.token,
        ]))
    }

    /// The whole command line `livewasm <args> --server … --token …`, for another program to run.
    pub fn argv(&self, args: &[&str]) -> Vec<String> {
        let mut argv = vec![self.binary.to_string_lossy().into_owned()];
        argv.extend(args.iter().map(|a| a.to_string()));
        argv.extend([
            "--server".to_string(),
            self.url.clone(),
            "--token".to_string(),
            self.token.clone(),
        ]);
        argv
    }

    /// The same session with another token.
    pub fn with_token(&self, token: String) -> Cli<'a> {
        Cli {
            binary: self.binary,
            url: self.url.clone(),
            token,
        }
    }

    /// The session's token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Creates `tenant` unless it exists; returns a session with a new tenant token.
    pub fn tenant(&self, tenant: &str) -> Result<Cli<'a>> {
        self.ensure_tenant(tenant)?;
        let token = self
            .run(&["token", "create", "--tenant", tenant, "--label", "xtask"])
            .with_context(|| format!("creating a token for tenant {tenant}"))?;
        Ok(self.with_token(token.trim().to_string()))
    }

    /// Creates `tenant/app` unless it exists and deploys `wasm` to it (the registry keeps one
    /// copy per content, and activating the same bytes again changes nothing).
    pub fn deploy(&self, tenant: &str, app: &str, wasm: &Path) -> Result<()> {
        let listed = self.run(&["app", "list", tenant, "--json"])?;
        let exists = serde_json::from_str::<serde_json::Value>(&listed)
            .ok()
            .and_then(|v| v["apps"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .any(|a| a["name"] == app);
        if !exists {
            self.run(&["app", "create", tenant, app])?;
        }
        self.run(&[
            "deploy",
            &format!("{tenant}/{app}"),
            &wasm.to_string_lossy(),
        ])
        .with_context(|| format!("deploying {} to {tenant}/{app}", wasm.display()))?;
        Ok(())
    }
}

/// A directory under target/ removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory `target/tmp/<name>-<pid>`.
    pub fn new(name: &str) -> Result<TempDir> {
        let path = crate::process::root()
            .join("target/tmp")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
