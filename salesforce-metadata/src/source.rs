//! Finding and reading the files of an SFDX project in source format: a project root (the
//! package directory `sfdx-project.json` marks as default, else the first, else
//! `force-app`; its `main/default` is read) or a `main/default` directory itself; or the
//! repository's own project, embedded at compile time (`build.rs`).
//!
//! Only the files the model is built from are read: `objects/<Object>/<Object>.object-meta.xml`,
//! `objects/<Object>/fields/*.field-meta.xml`,
//! `objects/<Object>/validationRules/*.validationRule-meta.xml` and
//! `globalValueSets/*.globalValueSet-meta.xml`. Anything else in the project (permission
//! sets, layouts, ...) is left alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::MetadataError;

/// Source files by path relative to `main/default` (with `/` separators) → contents.
pub type SourceFiles = BTreeMap<String, String>;

/// The repository's project (`salesforce/force-app/main/default`), compiled in by `build.rs`
/// as (path under `main/default`, contents).
pub const EMBEDDED_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/embedded_files.rs"));

/// How errors and the model name the embedded project's directory: its path in the
/// repository.
pub const EMBEDDED_ROOT: &str = "salesforce/force-app/main/default";

/// The files of one `main/default` directory, and how to name that directory in messages.
#[derive(Debug, Clone)]
pub struct Source {
    /// The directory the relative paths start from, as shown to users.
    pub root: String,
    /// The files.
    pub files: SourceFiles,
}

impl Source {
    /// The embedded project.
    pub fn embedded() -> Self {
        Self {
            root: EMBEDDED_ROOT.to_owned(),
            files: EMBEDDED_FILES
                .iter()
                .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
                .collect(),
        }
    }

    /// Reads the model's files from a project root or a `main/default` directory.
    pub fn read_dir(dir: &Path) -> Result<Self, MetadataError> {
        let root = main_default(dir)?;
        let mut files = SourceFiles::new();
        let relative = |path: &Path| {
            path.strip_prefix(&root)
                .unwrap_or(path)
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        };
        for set in list(&root.join("globalValueSets"))? {
            if set.to_string_lossy().ends_with(".globalValueSet-meta.xml") {
                files.insert(relative(&set), read(&set)?);
            }
        }
        for object in list(&root.join("objects"))? {
            let nested = [
                object.clone(),
                object.join("fields"),
                object.join("validationRules"),
            ];
            for folder in nested {
                for file in list(&folder)? {
                    let name = file.to_string_lossy();
                    if [
                        ".object-meta.xml",
                        ".field-meta.xml",
                        ".validationRule-meta.xml",
                    ]
                    .iter()
                    .any(|suffix| name.ends_with(suffix))
                    {
                        files.insert(relative(&file), read(&file)?);
                    }
                }
            }
        }
        Ok(Self {
            root: root.display().to_string(),
            files,
        })
    }

    /// How a file under the root is named in messages and in the model.
    pub fn display(&self, relative: &str) -> String {
        format!("{}/{relative}", self.root.trim_end_matches('/'))
    }
}

/// `sfdx-project.json`: the parts that say where the source is.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectFile {
    #[serde(default)]
    package_directories: Vec<PackageDirectory>,
}

/// One entry of `packageDirectories`.
#[derive(Deserialize)]
struct PackageDirectory {
    path: String,
    #[serde(default)]
    default: bool,
}

/// The `main/default` directory of `dir`: `dir` itself when it holds `objects/`, else the
/// default package directory of the project `dir` is the root of.
fn main_default(dir: &Path) -> Result<PathBuf, MetadataError> {
    if dir.join("objects").is_dir() {
        return Ok(dir.to_path_buf());
    }
    let project_file = dir.join("sfdx-project.json");
    let package = if project_file.is_file() {
        let shown = project_file.display().to_string();
        let project: ProjectFile = serde_json::from_str(&read(&project_file)?)
            .map_err(|error| MetadataError::file(&shown, error.to_string()))?;
        let chosen = project
            .package_directories
            .iter()
            .find(|package| package.default)
            .or_else(|| project.package_directories.first())
            .ok_or_else(|| MetadataError::element(&shown, "packageDirectories", "empty"))?;
        chosen.path.clone()
    } else {
        "force-app".to_owned()
    };
    let root = dir.join(&package).join("main").join("default");
    if root.join("objects").is_dir() {
        Ok(root)
    } else {
        Err(MetadataError::file(
            dir.display().to_string(),
            format!("neither objects/ nor {package}/main/default/objects/ found"),
        ))
    }
}

fn read(path: &Path) -> Result<String, MetadataError> {
    std::fs::read_to_string(path)
        .map_err(|error| MetadataError::file(path.display().to_string(), error.to_string()))
}

/// The entries of `path` in name order; none when it is not a directory.
fn list(path: &Path) -> Result<Vec<PathBuf>, MetadataError> {
    if !path.is_dir() {
        return Ok(Vec::new());
    }
    let failed =
        |error: std::io::Error| MetadataError::file(path.display().to_string(), error.to_string());
    let mut paths = std::fs::read_dir(path)
        .map_err(failed)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    paths.sort();
    Ok(paths)
}
