//! `build-site`: builds what `keygate` serves, the way the scripts and CI need it and nothing more.
//!
//! 1. the server binary (`cargo build -p server --bin keygate`) and the browser crate
//!    (`cargo build -p frontend --target wasm32-unknown-unknown`), side by side;
//! 2. the WASM split at Leptos's `#[lazy]` points, so a page loads only the code it runs;
//! 3. wasm-bindgen's JS glue, and in release builds `wasm-opt -Oz` over every WASM file;
//! 4. the stylesheet and the `public/` assets.
//!
//! The result is the site folder (`target/site` unless `--site-root` or `LEPTOS_SITE_ROOT` says
//! otherwise): `pkg/keygate.{js,wasm,css}`, the split chunks and their manifest, and the assets.
//! It is the layout cargo-leptos writes, so `cargo leptos watch` keeps working for developers who
//! have it; the scripts no longer need it.

mod bundle;
mod cargo;
mod error;
mod options;
mod site;

use std::process::ExitCode;
use std::time::Instant;

use error::BuildError;
use options::{Options, Part};

fn main() -> ExitCode {
    let options = match Options::from_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(BuildError::Help) => {
            println!("build-site: {}\n\n{}", BuildError::Help, options::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("build-site: {error}\n\n{}", options::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("build-site: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), BuildError> {
    let started = Instant::now();
    let layout = cargo::Layout::discover()?;
    let site_root = options
        .site_root
        .clone()
        .unwrap_or_else(|| layout.default_site_root());

    // The two compilations share no artifacts (different targets and target folders), so running
    // them together keeps both cores busy through each one's single-threaded link step. The
    // bundle (the split, wasm-bindgen, wasm-opt over every chunk) runs as soon as the WASM is
    // there, while the server, the longer of the two, is still compiling.
    let server = options
        .builds(Part::Server)
        .then(|| cargo::spawn_server_build(&layout, options.release))
        .transpose()?;
    let front = if options.builds(Part::Front) {
        Some(build_front(options, &layout, &site_root))
    } else {
        None
    };
    let server_result = server.map(cargo::wait).transpose();
    front.transpose()?;
    server_result?;

    println!(
        "build-site: {} build done in {:.1} s (site: {})",
        if options.release { "release" } else { "debug" },
        started.elapsed().as_secs_f64(),
        site_root.display()
    );
    Ok(())
}

/// The browser side: the WASM build, then the bundle, the stylesheet and the assets.
fn build_front(
    options: &Options,
    layout: &cargo::Layout,
    site_root: &std::path::Path,
) -> Result<(), BuildError> {
    let wasm = cargo::build_front(layout, options.release)?;
    let step = Instant::now();
    let files = bundle::write(&wasm, &site_root.join(site::PKG_DIR), options.release)?;
    for file in &files {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        println!("build-site: {} ({size} bytes)", file.display());
    }
    println!(
        "build-site: bundle written in {:.1} s",
        step.elapsed().as_secs_f64()
    );
    site::copy_style_and_assets(&layout.workspace_root, site_root)
}
