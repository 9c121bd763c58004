//! The command line: which parts to build, in which profile, into which site folder.

use std::path::PathBuf;

use crate::error::BuildError;

pub const USAGE: &str = "usage: build-site [--release] [--only server|front] [--site-root DIR]

  --release         optimised server binary and size-optimised, wasm-opt'ed bundle
  --only server     only the server binary
  --only front      only the site (WASM bundle, JS, stylesheet, assets)
  --site-root DIR   where the site goes (default: $LEPTOS_SITE_ROOT, else target/site)";

/// What one run builds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Part {
    Server,
    Front,
}

#[derive(Debug, Default)]
pub struct Options {
    pub release: bool,
    pub only: Option<Part>,
    pub site_root: Option<PathBuf>,
}

impl Options {
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, BuildError> {
        let mut options = Options {
            site_root: std::env::var_os("LEPTOS_SITE_ROOT")
                .filter(|root| !root.is_empty())
                .map(PathBuf::from),
            ..Options::default()
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--release" => options.release = true,
                "-h" | "--help" => return Err(BuildError::Help),
                "--only" => {
                    options.only = Some(match args.next().as_deref() {
                        Some("server") => Part::Server,
                        Some("front") => Part::Front,
                        other => {
                            return Err(BuildError::Usage(format!(
                                "--only takes server or front, not {other:?}"
                            )));
                        }
                    })
                }
                "--site-root" => {
                    let dir = args
                        .next()
                        .ok_or_else(|| BuildError::Usage("--site-root needs a folder".into()))?;
                    options.site_root = Some(PathBuf::from(dir));
                }
                other => return Err(BuildError::Usage(format!("unknown argument {other:?}"))),
            }
        }
        Ok(options)
    }

    pub fn builds(&self, part: Part) -> bool {
        self.only.is_none_or(|only| only == part)
    }
}
