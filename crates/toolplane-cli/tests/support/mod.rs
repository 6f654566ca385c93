//! Shared by the tests that run `toolplane serve` as a process: start it on
//! 127.0.0.1, wait until it says where it listens (and the key it printed,
//! when it made one), stop it with SIGTERM, and kill it when the test lets
//! go of it.
//!
//! Usable from plain and from tokio tests: starting blocks the calling
//! thread until the process has printed its address, which in a tokio test
//! is the test's own thread, not a runtime worker.

// Test support: a failed set-up should stop the test loudly.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a `toolplane serve` may take to start, or to stop after SIGTERM.
const PATIENCE: Duration = Duration::from_secs(60);

/// A running `toolplane serve`, killed when dropped.
pub struct ServeProcess {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The key it printed (`key (this run only): ...`): only when it made
    /// one, that is without `--config`.
    pub key: Option<String>,
    /// The experts it printed (`experts: a, b`), as printed.
    pub experts: String,
}

/// Starts `toolplane serve ARGS --bind 127.0.0.1:0` with `env` (`Some`
/// sets a variable, `None` removes it) and waits until it has printed its
/// address, its key if any, and its experts.
pub fn start_serve(args: &[&str], env: &[(&str, Option<&str>)]) -> ServeProcess {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolplane"));
    cmd.arg("serve")
        .args(args)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (name, value) in env {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut url, mut key) = (None, None);
        let mut told = false;
        // Keep reading after the start, so the process never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if told {
                continue;
            }
            if let Some(u) = line.strip_prefix("toolplane serve listening on ") {
                url = Some(u.to_owned());
            } else if let Some(k) = line.strip_prefix("key (this run only): ") {
                key = Some(k.to_owned());
            } else if let Some(e) = line.strip_prefix("experts: ") {
                let _ = tx.send((url.take(), key.take(), e.to_owned()));
                told = true;
            }
        }
    });
    let mut serve = ServeProcess {
        child: Some(child),
        url: String::new(),
        key: None,
        experts: String::new(),
    };
    match rx.recv_timeout(PATIENCE) {
        Ok((Some(url), key, experts)) => {
            serve.url = url;
            serve.key = key;
            serve.experts = experts;
            serve
        }
        Ok((None, ..)) => panic!("toolplane serve printed its experts but not where it listens"),
        Err(e) => panic!("toolplane serve {args:?} did not start ({e})"),
    }
}

impl ServeProcess {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends SIGTERM (a graceful stop).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end (after [`ServeProcess::sigterm`]); kills
    /// it and fails the test when it has not ended within a minute.
    pub fn wait(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(PATIENCE) {
            Ok(status) => status.unwrap(),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
                panic!("toolplane serve did not stop within {PATIENCE:?}");
            }
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// SHA-256 of `key` as `toolplane serve --hash-key` prints it, for `[[server.keys]]`.
pub fn hash_key(key: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(["serve", "--hash-key", key])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Where `scripts/ci/*.sh` install the pinned clients (SDK venvs, npm
/// packages): `TOOLPLANE_CACHE`, else `$XDG_CACHE_HOME/toolplane`, else
/// `~/.cache/toolplane`.
pub fn cache_dir() -> std::path::PathBuf {
    if let Some(d) = std::env::var_os("TOOLPLANE_CACHE") {
        return std::path::PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| std::path::PathBuf::from(".cache"));
    base.join("toolplane")
}
