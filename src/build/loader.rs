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

    /// A loader for a directory that is already canonical (no system call).
    pub fn for_canonical(root: &Path, kfile: String, restriction: LoadRestriction) -> Loader {
        Loader {
            root: root.to_path_buf(),
            kfile,
            restriction,
        }
    }

    /// Resolves `rel` against the root (no restriction check).
    pub fn join(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Resolves and checks a file path: it must exist and (RootOnly) lie in or below the root.
    pub fn check_file(&self, rel: &str) -> Result<PathBuf> {
        self.check(rel, false)
    }

    /// [`check_file`](Self::check_file) for a file the caller has just seen (with `lstat`) to
    /// exist and not be a symlink, which spares a system call.
    fn check(&self, rel: &str, seen_regular: bool) -> Result<PathBuf> {
        let joined = self.join(rel);
        let real = resolve(&self.root, rel, &joined, seen_regular).map_err(|e| Error::Invalid {
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
        self.read_text_checked(rel, false)
    }

    /// [`read_text`](Self::read_text) of a file the caller has just seen (with `lstat`) to
    /// exist and not be a symlink.
    pub fn read_text_seen(&self, rel: &str) -> Result<String> {
        self.read_text_checked(rel, true)
    }

    fn read_text_checked(&self, rel: &str, seen_regular: bool) -> Result<String> {
        let p = self.check(rel, seen_regular)?;
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

/// `canonicalize(base.join(rel))` for a directory, where `base` is already canonical: `..`
/// steps up lexically (exact, since nothing in `base` is a symlink) and each new component costs
/// one `lstat`, where `realpath` makes one `readlink` per component of the whole path. A
/// symlink, a part that is not a directory or any error is left to `canonicalize`, for its
/// exact result and error.
pub fn canonical_dir_in(base: &Path, rel: impl AsRef<Path>) -> std::io::Result<PathBuf> {
    use std::path::Component;
    let rel = rel.as_ref();
    let joined = base.join(rel);
    let mut out = base.to_path_buf();
    for c in rel.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => {
                out.push(name);
                match std::fs::symlink_metadata(&out) {
                    Ok(m) if m.is_dir() => {}
                    _ => return joined.canonicalize(),
                }
            }
            Component::RootDir | Component::Prefix(_) => return joined.canonicalize(),
        }
    }
    Ok(out)
}

/// `canonicalize(path)` for `path = root.join(rel)` with `root` canonical, the directory part
/// resolved once per directory (from `root`, see [`canonical_dir_in`]): a build reads thousands
/// of files from a few hundred directories, and each `realpath` costs one system call per path
/// component. A file that is itself a symlink is resolved in full. `seen_regular`: the caller
/// has just checked that `path` exists and is not a symlink.
fn resolve(root: &Path, rel: &str, path: &Path, seen_regular: bool) -> std::io::Result<PathBuf> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static DIRS: LazyLock<Mutex<HashMap<PathBuf, PathBuf>>> = LazyLock::new(Default::default);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return path.canonicalize();
    };
    if name == ".."
        || name == "."
        || (!seen_regular && std::fs::symlink_metadata(path)?.file_type().is_symlink())
    {
        return path.canonicalize();
    }
    let cached = DIRS.lock().ok().and_then(|d| d.get(parent).cloned());
    let dir = match cached {
        Some(d) => d,
        None => {
            let d = match Path::new(rel).parent() {
                Some(rel_parent) => canonical_dir_in(root, rel_parent)?,
                None => parent.canonicalize()?,
            };
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
    // The working directory, once per process (`getcwd` already resolves symlinks).
    static CWD: std::sync::LazyLock<Option<PathBuf>> =
        std::sync::LazyLock::new(|| std::env::current_dir().ok());
    if let Some(cwd) = CWD.as_ref() {
        if let Ok(rest) = p.strip_prefix(cwd) {
            return rest.display().to_string();
        }
    }
    p.display().to_string()
}
