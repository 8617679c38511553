//! Lists the console's files (`src/console/assets/`) for `console::ASSETS`:
//! every `.html`, `.css`, `.js` and `.svg` under it, embedded with its content
//! type, so a new console page is one new file there and no list to edit.
//! (`tests/it/console.rs` checks that the pages load exactly these files.)

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console/assets");
    // A directory: cargo reruns this when anything under it changes.
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut out = String::from("&[\n");
    for path in files {
        let name = path.strip_prefix(&root).expect("under the assets directory").to_str().expect("a UTF-8 file name").replace('\\', "/");
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let content_type = match path.extension().and_then(|e| e.to_str()) {
            Some("html") => "text/html; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("svg") => "image/svg+xml",
            // The vendored files' licences stay in the tree, not in the binary.
            _ if file_name.starts_with("LICENSE") || file_name.starts_with("README") => continue,
            _ => panic!("console asset {name}: no content type for this kind of file; add one in build.rs"),
        };
        writeln!(out, "    Asset {{ name: {name:?}, content_type: {content_type:?}, body: include_bytes!({:?}) }},", path.display().to_string()).unwrap();
    }
    out.push_str("]\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("console_assets.rs");
    std::fs::write(dest, out).expect("cannot write the console's asset list");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')) {
            continue;
        }
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}
