//! Everything that stops a build, each with the message a developer acts on.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Usage(String),
    #[error("builds the keygate binary and the site it serves")]
    Help,
    #[error("`{command}` failed ({status}); its output is above")]
    Command {
        command: String,
        status: std::process::ExitStatus,
    },
    #[error("could not start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`cargo metadata` printed no target directory")]
    NoTargetDir,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("splitting the WASM at its #[lazy] points failed: {0}")]
    Split(String),
    #[error("wasm-bindgen failed: {0}")]
    Bindgen(String),
    #[error(
        "wasm-opt (binaryen 123) is not on PATH; ./scripts/install.sh installs it from npm \
         (Debian's binaryen 108 breaks hydration)"
    )]
    NoWasmOpt,
}

impl BuildError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BuildError {
        let path = path.into();
        move |source| BuildError::Io { path, source }
    }
}
