//! From the compiled `frontend.wasm` to what the browser loads: split chunks, wasm-bindgen's JS
//! glue, and (release) wasm-opt.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::BuildError;
use crate::site::OUTPUT_NAME;

/// The module the split chunks import the main module's exports from, as the browser sees it.
const MAIN_MODULE_URL: &str = "/pkg/keygate.js";
/// The loader module's name that Leptos's `HydrationScripts` expects (without file hashing).
const SPLIT_LOADER: &str = "./__wasm_split.______________________.js";
/// The manifest the server reads to preload a lazy route's chunks with its page.
const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";

/// Writes the bundle into `pkg_dir` (emptied first, so no chunk of an earlier build lingers) and
/// returns the files the browser may load.
pub fn write(wasm: &Path, pkg_dir: &Path, release: bool) -> Result<Vec<PathBuf>, BuildError> {
    if pkg_dir.exists() {
        std::fs::remove_dir_all(pkg_dir).map_err(BuildError::io(pkg_dir))?;
    }
    std::fs::create_dir_all(pkg_dir).map_err(BuildError::io(pkg_dir))?;

    let main = wasm.with_file_name("frontend_split.wasm");
    let chunks = split(wasm, &main, pkg_dir)?;
    bindgen(&main, pkg_dir)?;

    let mut files = vec![pkg_dir.join(format!("{OUTPUT_NAME}.wasm"))];
    files.extend(chunks);
    if release {
        optimize_all(&files)?;
    }
    files.push(pkg_dir.join(format!("{OUTPUT_NAME}.js")));
    Ok(files)
}

/// Moves the code reachable only from `#[lazy]` functions into chunks of their own, loaded the
/// first time one of them runs. Returns the chunks; the main module goes to `main_out`.
fn split(wasm: &Path, main_out: &Path, pkg_dir: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let input = std::fs::read(wasm).map_err(BuildError::io(wasm))?;
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = pkg_dir;
    options.main_out_path = main_out;
    options.main_module = MAIN_MODULE_URL;
    options.link_name = SPLIT_LOADER;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|error| BuildError::Split(format!("{error:?}")))?;
    let manifest_path = pkg_dir.join(SPLIT_MANIFEST);
    let manifest =
        serde_json::to_string_pretty(&split.prefetch_map).expect("a map of strings serialises");
    std::fs::write(&manifest_path, manifest).map_err(BuildError::io(&manifest_path))?;
    Ok(split.split_modules)
}

fn bindgen(main: &Path, pkg_dir: &Path) -> Result<(), BuildError> {
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(main)
        .out_name(OUTPUT_NAME)
        .web(true)
        .map_err(|error| BuildError::Bindgen(format!("{error:#}")))?
        .typescript(false)
        // The chunks call the main module through the linker's own export names.
        .keep_lld_exports(true)
        .demangle(false)
        .generate(pkg_dir)
        .map_err(|error| BuildError::Bindgen(format!("{error:#}")))?;
    // Leptos's hydration script asks for `keygate.wasm` (LEPTOS_OUTPUT_NAME is set at compile
    // time), not wasm-bindgen's `keygate_bg.wasm`.
    let emitted = pkg_dir.join(format!("{OUTPUT_NAME}_bg.wasm"));
    let served = pkg_dir.join(format!("{OUTPUT_NAME}.wasm"));
    std::fs::rename(&emitted, &served).map_err(BuildError::io(&emitted))
}

/// Runs wasm-opt on every module, one process per core: the main module and a couple of hundred
/// chunks, each optimised on its own.
fn optimize_all(files: &[PathBuf]) -> Result<(), BuildError> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let queue = std::sync::Mutex::new(files.iter());
    let next = || {
        queue
            .lock()
            .expect("no worker panics holding the queue")
            .next()
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    while let Some(file) = next() {
                        optimize(file)?;
                    }
                    Ok(())
                })
            })
            .collect();
        // The scope joins whatever is left after a first error.
        handles
            .into_iter()
            .try_for_each(|handle| handle.join().expect("wasm-opt workers do not panic"))
    })
}

fn optimize(file: &Path) -> Result<(), BuildError> {
    let mut command = Command::new("wasm-opt");
    command
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            // Each chunk carries the linker's `target_features` and `producers` sections,
            // about 180 bytes a chunk that the browser never reads.
            "--strip-target-features",
            "--strip-producers",
        ])
        .arg(file)
        .arg("-o")
        .arg(file);
    let status = match command.status() {
        Ok(status) => status,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(BuildError::NoWasmOpt);
        }
        Err(source) => {
            return Err(BuildError::Spawn {
                command: format!("wasm-opt {}", file.display()),
                source,
            });
        }
    };
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Command {
            command: format!("wasm-opt -Oz {}", file.display()),
            status,
        })
    }
}
