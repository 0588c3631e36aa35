//! Building and starting the host binary for dev, browser tests and benchmarks.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::process::{Guard, root, status};

/// Builds `livewasm` (debug or release) and returns its path.
pub fn build_host(release: bool) -> Result<PathBuf> {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root()).args(["build", "-p", "livewasm"]);
    if release {
        cmd.arg("--release");
    }
    status(&mut cmd)?;
    Ok(root()
        .join("target")
        .join(if release { "release" } else { "debug" })
        .join("livewasm"))
}

/// A running host, killed when dropped.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its process id.
    pub pid: u32,
    _child: Guard,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The signing key file for local runs (created once, kept in target/).
pub fn dev_key_file() -> Result<PathBuf> {
    let path = root().join("target/dev-secret-key");
    if !path.exists() {
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::create_dir_all(root().join("target"))?;
        std::fs::write(&path, hex)?;
    }
    Ok(path)
}

impl Server {
    /// Starts `binary serve --dev` on `listen` (`127.0.0.1:0` picks a free port) with `apps`,
    /// and waits until `/health` answers.
    pub fn start(binary: &Path, listen: &str, apps: &[PathBuf], extra: &[&str]) -> Result<Server> {
        Server::start_as(binary, listen, apps, extra, true)
    }

    /// [`Server::start`], in dev mode (live reload, overlay) or not (production semantics:
    /// a deploy leaves open pages on their version).
    pub fn start_as(
        binary: &Path,
        listen: &str,
        apps: &[PathBuf],
        extra: &[&str],
        dev: bool,
    ) -> Result<Server> {
        let listen = if listen.ends_with(":0") {
            format!("127.0.0.1:{}", free_port()?)
        } else {
            listen.to_string()
        };
        let mut cmd = Command::new(binary);
        cmd.arg("serve");
        if dev {
            cmd.arg("--dev");
        }
        cmd.args(["--listen", &listen])
            .arg("--secret-key-file")
            .arg(dev_key_file()?)
            .args(extra)
            .stdin(Stdio::null());
        for app in apps {
            cmd.arg("--app").arg(app);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id();
        let guard = Guard(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if health(&listen) {
                return Ok(Server {
                    url: format!("http://{listen}"),
                    pid,
                    _child: guard,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the host did not answer /health on {listen} within 60 s")
    }
}

fn health(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}
