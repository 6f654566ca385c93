//! Embeds the console's files (`console/`, without its `tests/`) when the
//! `console` feature is on: writes `$OUT_DIR/console_assets.rs`, a table of
//! `(path, include_bytes!(...))`, so new files need no code change and the
//! binary serves them with no files on disk and no Node at build time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        // Hidden files and the browser tests (Node scripts, not served) stay out.
        if name.starts_with('.') || (dir == root && name == "tests") {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path.clone()));
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.join("console");
    println!("cargo::rerun-if-changed=console");
    let mut files = Vec::new();
    if std::env::var_os("CARGO_FEATURE_CONSOLE").is_some() && root.is_dir() {
        collect(&root, &root, &mut files)?;
    }
    files.sort();
    let mut code = String::from(
        "/// The console's files: path under `console/`, bytes.\npub(crate) static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for (rel, path) in &files {
        writeln!(code, "    ({rel:?}, include_bytes!({:?})),", path.display().to_string())?;
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("console_assets.rs");
    std::fs::write(out, code)?;
    Ok(())
}
