//! The `keygate` binary as a child process, for the tests that need the real binary rather than
//! `server::start` in this process: a crash (SIGKILL), a service manager's stop (SIGTERM), or
//! every line the binary writes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

/// A running `keygate`, killed when dropped, so a failing test leaves no process behind.
pub struct KeygateProcess {
    child: Child,
    log: PathBuf,
}

impl KeygateProcess {
    /// Starts `keygate --listen LISTEN --open-signup ARGS…`, its standard output and error in
    /// `log`, and returns once the dashboard answers: the whole server, its broker included, has
    /// started by then.
    pub async fn start(listen: SocketAddr, log: PathBuf, args: &[String]) -> Self {
        let output = std::fs::File::create(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_keygate"))
            .args(["--listen", &listen.to_string()])
            .arg("--open-signup")
            .args(args)
            // Plain text: tests search the lines as they are written.
            .env("NO_COLOR", "1")
            .stdout(output.try_clone().expect("the log file"))
            .stderr(output)
            .spawn()
            .expect("keygate starts");
        let process = Self { child, log };
        // reqwest is built with rustls and no provider of its own (the server in a process of its
        // own installs one there, not here); already installed is fine.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let url = format!("http://{listen}/signin");
        for _ in 0..300 {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("keygate did not come up; its log:\n{}", process.log_text());
    }

    /// Its process id (for reading its resident memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory now, in KiB (`VmRSS` in /proc).
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the process's status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in kB")
    }

    /// Everything it has logged so far.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// SIGTERM, as a service manager stops it: the shutdown code runs (the revocation workers
    /// give their leases back, SQLite checkpoints its WAL). Returns everything it logged.
    pub fn stop(mut self) -> Vec<u8> {
        // SAFETY: kill(2) on our own child's pid; it has not been reaped, so the pid is still its.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(sent, 0, "SIGTERM sent");
        let status = self.child.wait().expect("reaped");
        assert!(status.success(), "keygate stopped cleanly: {status}");
        std::fs::read(&self.log).expect("the log file")
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for KeygateProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
