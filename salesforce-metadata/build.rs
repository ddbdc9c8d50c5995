//! Embeds the repository's SFDX project (`../salesforce/force-app/main/default`: objects with
//! their fields and validation rules, and global value sets), listed into
//! `$OUT_DIR/embedded_files.rs` as a table of `include_str!`s. Every binary that depends on
//! this crate then carries the data model users deploy and needs no files at run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.join("../salesforce/force-app/main/default");
    let mut files = Vec::new();
    for part in ["objects", "globalValueSets"] {
        let dir = root.join(part);
        collect(&dir, &mut files)?;
    }
    files.sort();
    let mut table = String::from("&[\n");
    for file in &files {
        let relative = file
            .strip_prefix(&root)?
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let absolute = file.canonicalize()?;
        writeln!(table, "    ({relative:?}, include_str!({absolute:?})),")?;
    }
    table.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("embedded_files.rs");
    std::fs::write(out, table)?;
    Ok(())
}

/// Every `*-meta.xml` under `dir`; each directory is watched, so a new file reruns the script.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    println!("cargo:rerun-if-changed={}", dir.display());
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.to_string_lossy().ends_with("-meta.xml") {
            files.push(path);
        }
    }
    Ok(())
}
