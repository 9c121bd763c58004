//! A real external broker for the tests: `rmqtt-test-broker` (testing/rmqtt-broker/), rmqtt 0.24
//! with its auth-http, http-api and web-hook plugins, in a process of its own that asks a running
//! Keygate's webhooks and takes its revocations over rmqtt's admin API.
//!
//! The binary is built separately (`cargo build -p rmqtt-test-broker`; `scripts/test.sh` does it
//! and sets `KEYGATE_TEST_RMQTT_BIN`).

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The environment variable naming the `rmqtt-test-broker` binary.
pub const BIN_VAR: &str = "KEYGATE_TEST_RMQTT_BIN";

/// How long the broker may take to print its ready line.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// How much of the broker's stderr is kept for failure messages (the most recent part).
const STDERR_KEPT: usize = 64 * 1024;

/// A running `rmqtt-test-broker`; killed when dropped.
pub struct ExternalRmqtt {
    /// Where devices connect: MQTT 3.1.1 and 5 over TCP on 127.0.0.1.
    pub mqtt: SocketAddr,
    /// The admin API's base URL (rmqtt-http-api), `http://127.0.0.1:PORT`.
    pub api: String,
    child: Child,
    /// Held open: the broker exits when its stdin reaches EOF, so it dies with the test.
    _stdin: ChildStdin,
    stderr: Arc<Mutex<String>>,
}

impl ExternalRmqtt {
    /// Starts a broker that asks the Keygate at `keygate_base` (`http://127.0.0.1:PORT`), with its
    /// webhook secret, and calls itself `name` (the broker target name Keygate knows it by);
    /// `flags` add to that, e.g. `["--api", "127.0.0.1:6060"]` or `["--api-token", TOKEN]`
    /// (`rmqtt-test-broker --help` lists them).
    pub fn start_with(keygate_base: &str, secret: &str, name: &str, flags: &[&str]) -> Self {
        // Without `--api`, the broker picks a free port for its admin API and binds it a moment
        // later (rmqtt-http-api cannot report the port of `:0`); another test's outgoing
        // connection can take that port in between. A new port on the next try is fine then.
        let chosen_api = flags.contains(&"--api");
        let mut tries = 0;
        loop {
            tries += 1;
            match Self::try_start(keygate_base, secret, name, flags) {
                Ok(broker) => return broker,
                Err(why) if !chosen_api && tries < 3 && why.contains("Address already in use") => {
                    eprintln!("rmqtt-test-broker lost its admin port, starting it again: {why}");
                }
                Err(why) => panic!("{why}"),
            }
        }
    }

    fn try_start(
        keygate_base: &str,
        secret: &str,
        name: &str,
        flags: &[&str],
    ) -> Result<Self, String> {
        let bin = binary();
        let mut child = Command::new(&bin)
            .args([
                "--keygate",
                keygate_base,
                "--secret",
                secret,
                "--name",
                name,
            ])
            .args(flags)
            // Under RUST_BACKTRACE=1 anyhow would capture a backtrace for every error rmqtt
            // makes (each refused webhook call, say): slow, and noise in the log.
            .env("RUST_LIB_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        let stdin = child.stdin.take().expect("a piped stdin");
        let stderr = keep_stderr(child.stderr.take().expect("a piped stderr"));

        // Read on a thread of its own, so a broker that hangs cannot hang the test past the
        // deadline.
        let stdout = child.stdout.take().expect("a piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        let line = match rx.recv_timeout(READY_WITHIN) {
            Ok(Ok(line)) if !line.trim().is_empty() => line,
            answer => {
                let _ = child.kill();
                let status = child.wait();
                // The stderr reader may still be taking the last lines.
                std::thread::sleep(Duration::from_millis(100));
                let why = match answer {
                    Err(_) => format!("no ready line within {READY_WITHIN:?}"),
                    Ok(Ok(_)) => format!("it exited ({status:?}) before it was ready"),
                    Ok(Err(e)) => format!("cannot read its stdout: {e}"),
                };
                return Err(format!(
                    "{} did not start: {why}. Its stderr:\n{}",
                    bin.display(),
                    stderr.lock().unwrap()
                ));
            }
        };
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the ready line {line:?} is not JSON: {e}"));
        let mqtt = ready["mqtt"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no MQTT address in the ready line {line:?}"));
        let api = ready["api"]
            .as_str()
            .unwrap_or_else(|| panic!("no admin API in the ready line {line:?}"))
            .to_owned();
        Ok(Self {
            mqtt,
            api,
            child,
            _stdin: stdin,
            stderr,
        })
    }

    /// What the broker has written to stderr so far (its most recent 64 KiB): rmqtt's warnings,
    /// such as webhook calls that failed.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for ExternalRmqtt {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drains the child's stderr on a thread, keeping the most recent [`STDERR_KEPT`] bytes: a pipe
/// nobody reads fills up and blocks the broker's next log line.
fn keep_stderr(mut stderr: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let kept = Arc::new(Mutex::new(String::new()));
    let sink = kept.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stderr.read(&mut buf) {
            let mut kept = sink.lock().unwrap();
            kept.push_str(&String::from_utf8_lossy(&buf[..n]));
            if kept.len() > STDERR_KEPT {
                let mut cut = kept.len() - STDERR_KEPT;
                while !kept.is_char_boundary(cut) {
                    cut += 1;
                }
                kept.drain(..cut);
            }
        }
    });
    kept
}

/// The `rmqtt-test-broker` binary: `KEYGATE_TEST_RMQTT_BIN`, or else the debug build in cargo's
/// target directory (`CARGO_TARGET_DIR`, relative to the workspace root if relative, or the
/// workspace's `target/`).
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os(BIN_VAR).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{BIN_VAR}={} is not a file; build it with `cargo build -p rmqtt-test-broker`",
            path.display()
        );
        return path;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ is inside the workspace");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|p| !p.is_empty())
        .map(|dir| workspace.join(dir))
        .unwrap_or_else(|| workspace.join("target"));
    let path = target.join("debug").join("rmqtt-test-broker");
    if path.is_file() {
        return path;
    }
    panic!(
        "the external-broker tests need the rmqtt-test-broker binary, and {} does not exist. \
         Build it with `cargo build -p rmqtt-test-broker` (scripts/test.sh does that before \
         `cargo test -p server`), or point {BIN_VAR} at it.",
        path.display()
    )
}
