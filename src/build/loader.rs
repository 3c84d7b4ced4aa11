//! Reads files for one kustomization root, enforcing kustomize's root-only load restriction:
//! a file (resource, patch, generator source, ...) must be in or below the kustomization's own
//! directory after resolving symlinks. Directories (bases, components) are not restricted.

use super::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Whether file loads are confined to the kustomization root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LoadRestriction {
    #[default]
    RootOnly,
    None,
}

/// File access for one kustomization directory.
#[derive(Clone, Debug)]
pub struct Loader {
    /// The kustomization directory, canonicalised.
    pub root: PathBuf,
    /// The kustomization file (for error messages).
    pub kfile: String,
    pub restriction: LoadRestriction,
}

impl Loader {
    pub fn new(root: &Path, kfile: String, restriction: LoadRestriction) -> Result<Loader> {
        let root = root.canonicalize().map_err(|e| Error::Io {
            path: root.display().to_string(),
            source: e,
        })?;
        Ok(Loader {
            root,
            kfile,
            restriction,
        })
    }

    /// Resolves `rel` against the root (no restriction check).
    pub fn join(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Resolves and checks a file path: it must exist and (RootOnly) lie in or below the root.
    pub fn check_file(&self, rel: &str) -> Result<PathBuf> {
        let joined = self.join(rel);
        let real = resolve(&joined).map_err(|e| Error::Invalid {
            context: self.kfile.clone(),
            message: format!("evalsymlink failure on '{}' : {e}", joined.display()),
        })?;
        if self.restriction == LoadRestriction::RootOnly && !real.starts_with(&self.root) {
            return Err(Error::Restricted {
                file: self.kfile.clone(),
                path: joined.display().to_string(),
                root: self.root.display().to_string(),
            });
        }
        Ok(real)
    }

    /// Reads a file as bytes, after the restriction check.
    pub fn read_bytes(&self, rel: &str) -> Result<Vec<u8>> {
        let p = self.check_file(rel)?;
        std::fs::read(&p).map_err(|e| Error::Io {
            path: p.display().to_string(),
            source: e,
        })
    }

    /// Reads a file as UTF-8 text, after the restriction check.
    pub fn read_text(&self, rel: &str) -> Result<String> {
        let p = self.check_file(rel)?;
        std::fs::read_to_string(&p).map_err(|e| Error::Io {
            path: p.display().to_string(),
            source: e,
        })
    }

    /// A path relative to the current directory for messages, when possible.
    pub fn display(&self, rel: &str) -> String {
        display_path(&self.join(rel))
    }
}

/// `canonicalize`, with the directory part resolved once per directory: a build reads thousands
/// of files from a few hundred directories, and each `realpath` costs one syscall per path
/// component. A file that is itself a symlink is resolved in full.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static DIRS: LazyLock<Mutex<HashMap<PathBuf, PathBuf>>> = LazyLock::new(Default::default);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return path.canonicalize();
    };
    if name == ".." || name == "." || std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return path.canonicalize();
    }
    let cached = DIRS.lock().ok().and_then(|d| d.get(parent).cloned());
    let dir = match cached {
        Some(d) => d,
        None => {
            let d = parent.canonicalize()?;
            if let Ok(mut dirs) = DIRS.lock() {
                dirs.insert(parent.to_path_buf(), d.clone());
            }
            d
        }
    };
    Ok(dir.join(name))
}

/// Shortens an absolute path to one relative to the working directory when it lies below it.
pub fn display_path(p: &Path) -> String {
    // The working directory, resolved once per process.
    static CWD: std::sync::LazyLock<Option<PathBuf>> =
        std::sync::LazyLock::new(|| std::env::current_dir().ok()?.canonicalize().ok());
    if let Some(cwd) = CWD.as_ref() {
        if let Ok(rest) = p.strip_prefix(cwd) {
            return rest.display().to_string();
        }
    }
    p.display().to_string()
}
