//! `livewasm deploy`: uploads a component as a new version of an app.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::Value;

use super::{AppRef, ClientOpts, human_bytes, print_json, str_field, version_number};

/// Uploads at least this large get a progress line on stderr.
const PROGRESS_THRESHOLD: u64 = 1024 * 1024;

/// How often the in-place progress line is redrawn.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Options of `livewasm deploy`.
#[derive(Args)]
pub struct DeployArgs {
    /// The app, as `<tenant>/<app>`.
    target: AppRef,
    /// The component to upload (`.wasm`).
    file: PathBuf,
    /// Upload without making it the version the app serves.
    #[arg(long)]
    no_activate: bool,
    #[command(flatten)]
    client: ClientOpts,
}

/// `POST …/versions[?activate=false]` with the file's bytes, then `GET` the app for its URL.
pub fn run(args: DeployArgs) -> Result<()> {
    let client = args.client.client()?;
    let file =
        File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let total = file
        .metadata()
        .with_context(|| format!("reading {}", args.file.display()))?
        .len();
    let mut path = format!("{}/versions", args.target.path());
    if args.no_activate {
        path.push_str("?activate=false");
    }
    let mut body = Progress::new(file, total);
    let uploaded = client.post_stream(&path, "application/wasm", total, &mut body);
    body.finish();
    let mut response = uploaded?;

    // The upload succeeded; a failure to learn the URL only costs the last line.
    let url = match client.get(&args.target.path()) {
        Ok(app) => app.get("url").and_then(Value::as_str).map(str::to_owned),
        Err(error) => {
            eprintln!("warning: could not fetch the app's URL: {error:#}");
            None
        }
    };
    if args.client.json {
        if let (Some(url), Some(object)) = (&url, response.as_object_mut()) {
            object.insert("url".to_owned(), Value::String(url.clone()));
        }
        return print_json(&response);
    }
    let version = &response["version"];
    let number = version_number(version).map_or_else(|| "?".to_owned(), |n| n.to_string());
    println!(
        "uploaded {} as version {number} of {}",
        args.file.display(),
        args.target
    );
    println!("sha256  {}", str_field(version, "sha256"));
    if response.get("active").and_then(Value::as_bool) == Some(true) {
        println!("active  yes");
    } else {
        println!(
            "active  no (activate with: livewasm activate {} {number})",
            args.target
        );
    }
    if let Some(url) = url {
        println!("url     {url}");
    }
    Ok(())
}

/// A reader that reports how much of it was read on stderr: redrawn in place on a terminal,
/// one final line otherwise; silent for small uploads.
struct Progress<R> {
    /// The data.
    inner: R,
    /// Bytes read so far.
    sent: u64,
    /// Bytes expected.
    total: u64,
    /// Whether to report at all.
    enabled: bool,
    /// Whether stderr is a terminal (redraw in place).
    terminal: bool,
    /// When the line was last drawn.
    last_draw: Option<Instant>,
}

impl<R: Read> Progress<R> {
    /// Wraps `inner`, which holds `total` bytes.
    fn new(inner: R, total: u64) -> Self {
        Progress {
            inner,
            sent: 0,
            total,
            enabled: total >= PROGRESS_THRESHOLD,
            terminal: io::stderr().is_terminal(),
            last_draw: None,
        }
    }

    /// The progress text.
    fn line(&self) -> String {
        let percent = (self.sent.saturating_mul(100))
            .checked_div(self.total)
            .unwrap_or(100);
        format!(
            "uploading: {} / {} ({percent}%)",
            human_bytes(self.sent),
            human_bytes(self.total)
        )
    }

    /// Redraws the in-place line if due.
    fn draw(&mut self) {
        if !(self.enabled && self.terminal) {
            return;
        }
        if self
            .last_draw
            .is_some_and(|at| at.elapsed() < PROGRESS_INTERVAL)
        {
            return;
        }
        self.last_draw = Some(Instant::now());
        let mut stderr = io::stderr().lock();
        // Progress is best effort: a closed stderr must not fail the upload.
        let _ = write!(stderr, "\r\x1b[2K{}", self.line());
        let _ = stderr.flush();
    }

    /// Writes the final line (none when the server refused the upload before its body).
    fn finish(&mut self) {
        if !self.enabled || self.sent == 0 {
            return;
        }
        let line = self.line();
        if self.terminal {
            eprintln!("\r\x1b[2K{line}");
        } else {
            eprintln!("{line}");
        }
    }
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent += n as u64;
        self.draw();
        Ok(n)
    }
}
