//! The two `cargo build`s: the server binary for this machine, the browser crate for WASM.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::error::BuildError;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Size over speed for the bundle (Cargo.toml's `[profile.wasm-release]`).
const WASM_RELEASE_PROFILE: &str = "wasm-release";

/// Where the workspace and its target folder are, as cargo sees them (so `CARGO_TARGET_DIR` and
/// `.cargo/config.toml` count).
pub struct Layout {
    pub workspace_root: PathBuf,
    pub target_dir: PathBuf,
}

impl Layout {
    pub fn discover() -> Result<Self, BuildError> {
        let output = run_captured(Command::new(cargo()).args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
        ]))?;
        let metadata: serde_json::Value =
            serde_json::from_slice(&output).map_err(|_| BuildError::NoTargetDir)?;
        let path = |key: &str| metadata[key].as_str().map(PathBuf::from);
        Ok(Layout {
            workspace_root: path("workspace_root").ok_or(BuildError::NoTargetDir)?,
            target_dir: path("target_directory").ok_or(BuildError::NoTargetDir)?,
        })
    }

    /// `site-root` of Cargo.toml's `[workspace.metadata.leptos]`, resolved the way cargo-leptos
    /// resolves it: against the workspace, not the target folder.
    pub fn default_site_root(&self) -> PathBuf {
        self.workspace_root.join("target/site")
    }

    /// The browser crate builds in a folder of its own (as with cargo-leptos), so the server's
    /// build never waits for its lock and neither evicts the other's artifacts.
    fn front_target_dir(&self) -> PathBuf {
        self.target_dir.join("front")
    }
}

/// A running `cargo build` and the line that started it, for the error message.
pub struct Running {
    child: Child,
    line: String,
}

/// Starts `cargo build -p server --bin keygate` (release or debug) and returns at once.
pub fn spawn_server_build(layout: &Layout, release: bool) -> Result<Running, BuildError> {
    let mut command = Command::new(cargo());
    command.current_dir(&layout.workspace_root).args([
        "build",
        "--package",
        "server",
        "--bin",
        "keygate",
    ]);
    if release {
        command.arg("--release");
    }
    let line = describe(&command);
    println!("build-site: {line}");
    let child = command.spawn().map_err(|source| BuildError::Spawn {
        command: line.clone(),
        source,
    })?;
    Ok(Running { child, line })
}

pub fn wait(mut running: Running) -> Result<(), BuildError> {
    let status = running.child.wait().map_err(|source| BuildError::Spawn {
        command: running.line.clone(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Command {
            command: running.line,
            status,
        })
    }
}

/// Builds the browser crate and returns the path of its WASM file.
pub fn build_front(layout: &Layout, release: bool) -> Result<PathBuf, BuildError> {
    let target_dir = layout.front_target_dir();
    let mut command = Command::new(cargo());
    command
        .current_dir(&layout.workspace_root)
        .args([
            "build",
            "--package",
            "frontend",
            "--lib",
            "--target",
            WASM_TARGET,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        // RUSTFLAGS replaces .cargo/config.toml's flags, so `erase_components` is repeated here.
        // `--emit-relocs` keeps the linker's relocations, which the splitter needs to move
        // functions into chunks.
        .env(
            "RUSTFLAGS",
            "--cfg erase_components -Clink-args=--emit-relocs",
        );
    if release {
        command.args(["--profile", WASM_RELEASE_PROFILE]);
    }
    let line = describe(&command);
    println!("build-site: RUSTFLAGS='--cfg erase_components -Clink-args=--emit-relocs' {line}");
    wait(Running {
        child: command.spawn().map_err(|source| BuildError::Spawn {
            command: line.clone(),
            source,
        })?,
        line,
    })?;
    let profile_dir = if release {
        WASM_RELEASE_PROFILE
    } else {
        "debug"
    };
    Ok(target_dir
        .join(WASM_TARGET)
        .join(profile_dir)
        .join("frontend.wasm"))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run_captured(command: &mut Command) -> Result<Vec<u8>, BuildError> {
    let line = describe(command);
    let output = command.output().map_err(|source| BuildError::Spawn {
        command: line.clone(),
        source,
    })?;
    if !output.status.success() {
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        return Err(BuildError::Command {
            command: line,
            status: output.status,
        });
    }
    Ok(output.stdout)
}

fn describe(command: &Command) -> String {
    let mut line = Path::new(command.get_program()).display().to_string();
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}
