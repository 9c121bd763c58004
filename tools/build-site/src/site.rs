//! The site folder beside the bundle: the stylesheet under `pkg/`, `public/` at the root.

use std::path::Path;

use crate::error::BuildError;

/// `output-name` in Cargo.toml and `LEPTOS_OUTPUT_NAME` in .cargo/config.toml.
pub const OUTPUT_NAME: &str = "keygate";
/// `site-pkg-dir` in Cargo.toml: the folder the page loads its JS, WASM and CSS from.
pub const PKG_DIR: &str = "pkg";

const STYLE_FILE: &str = "style/main.css";
const ASSETS_DIR: &str = "public";

pub fn copy_style_and_assets(workspace_root: &Path, site_root: &Path) -> Result<(), BuildError> {
    let style = workspace_root.join(STYLE_FILE);
    let served = site_root.join(PKG_DIR).join(format!("{OUTPUT_NAME}.css"));
    std::fs::copy(&style, &served).map_err(BuildError::io(&style))?;
    copy_tree(&workspace_root.join(ASSETS_DIR), site_root)
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(to).map_err(BuildError::io(to))?;
    for entry in std::fs::read_dir(from).map_err(BuildError::io(from))? {
        let entry = entry.map_err(BuildError::io(from))?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest).map_err(BuildError::io(&path))?;
        }
    }
    Ok(())
}
