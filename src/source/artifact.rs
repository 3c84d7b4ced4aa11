//! Turning a commit into an artifact directory: writes the commit's tree to disk, skipping
//! ignored paths (Flux's rules: `.git/`-style VCS files always, then either Flux's default
//! excludes or the repository's `.sourceignore` files plus `spec.ignore`), and computes the
//! artifact digest.
//!
//! Like Flux's archives, an artifact holds regular files only: symlinks and submodules are
//! left out.
//!
//! **Digest.** `sha256:<hex>` of a manifest with one line per file, sorted by path bytes:
//! `"<mode> <sha256 of contents, hex> <path>\n"`, where mode is `644` or `755` (executable)
//! and path is relative with `/` separators. It depends on paths, contents and the executable
//! bit only, so two checkouts of the same commit with the same ignore rules get the same
//! digest, and any content change changes it.

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Patterns Flux always excludes.
const VCS_PATTERNS: &[&str] = &[".git/", ".gitignore", ".gitmodules", ".gitattributes"];
/// Flux's default excludes, used when neither `.sourceignore` files nor `spec.ignore` give
/// patterns.
const DEFAULT_PATTERNS: &[&str] = &[
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
];
/// The per-directory ignore file Flux reads from the repository.
pub const IGNORE_FILE: &str = ".sourceignore";

/// The ignore rules of one artifact.
pub struct IgnoreRules(Gitignore);

impl IgnoreRules {
    /// Builds Flux's rules from `spec.ignore` and the `.sourceignore` files of the tree, given
    /// as `(directory relative to the root, "" for the root; file contents)` in walk order.
    pub fn new(
        spec: Option<&str>,
        sourceignore: &[(String, String)],
    ) -> Result<IgnoreRules, String> {
        let mut user: Vec<String> = Vec::new();
        for (dir, text) in sourceignore {
            user.extend(read_patterns(text).map(|p| scope(dir, p)));
        }
        if let Some(spec) = spec {
            user.extend(read_patterns(spec).map(str::to_string));
        }
        let mut b = GitignoreBuilder::new("");
        let defaults: &[&str] = if user.is_empty() {
            DEFAULT_PATTERNS
        } else {
            &[]
        };
        for p in VCS_PATTERNS.iter().chain(defaults) {
            b.add_line(None, p).map_err(|e| e.to_string())?;
        }
        for p in &user {
            b.add_line(None, p)
                .map_err(|e| format!("invalid ignore pattern '{p}': {e}"))?;
        }
        b.build().map(IgnoreRules).map_err(|e| e.to_string())
    }

    /// Whether a relative path (`/`-separated) is excluded.
    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        self.0.matched(path, is_dir).is_ignore()
    }
}

/// Non-empty, non-comment lines (Flux's `ReadPatterns`).
fn read_patterns(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
}

/// Rewrites a pattern of a nested `.sourceignore` so that it applies below its directory only.
fn scope(dir: &str, pattern: &str) -> String {
    if dir.is_empty() {
        return pattern.to_string();
    }
    let (neg, p) = match pattern.strip_prefix('!') {
        Some(p) => ("!", p),
        None => ("", pattern),
    };
    let body = p.trim_end_matches('/');
    if let Some(anchored) = p.strip_prefix('/') {
        format!("{neg}/{dir}/{anchored}")
    } else if body.contains('/') {
        format!("{neg}/{dir}/{p}")
    } else {
        format!("{neg}/{dir}/**/{p}")
    }
}

/// Collects the `.sourceignore` files of a tree (root first, then depth-first by name).
pub fn sourceignore_files(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
) -> Result<Vec<(String, String)>, git2::Error> {
    let mut out = Vec::new();
    collect_sourceignore(repo, tree, "", &mut out)?;
    Ok(out)
}

fn collect_sourceignore(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    dir: &str,
    out: &mut Vec<(String, String)>,
) -> Result<(), git2::Error> {
    if let Some(e) = tree.get_name(IGNORE_FILE) {
        if e.kind() == Some(git2::ObjectType::Blob) {
            let blob = repo.find_blob(e.id())?;
            out.push((
                dir.to_string(),
                String::from_utf8_lossy(blob.content()).into_owned(),
            ));
        }
    }
    for e in tree.iter() {
        if e.kind() != Some(git2::ObjectType::Tree) {
            continue;
        }
        let Some(name) = e
            .name()
            .ok()
            .filter(|n| safe_name(n.as_bytes()) && *n != ".git")
        else {
            continue;
        };
        let sub = repo.find_tree(e.id())?;
        let path = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        collect_sourceignore(repo, &sub, &path, out)?;
    }
    Ok(())
}

/// Why writing an artifact failed.
#[derive(Debug)]
pub enum WriteError {
    Git(git2::Error),
    Io(PathBuf, std::io::Error),
}

/// Writes the non-ignored regular files of `tree` below `dir` (which must not exist yet).
pub fn write_tree(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    dir: &Path,
    rules: &IgnoreRules,
) -> Result<(), WriteError> {
    fs::create_dir_all(dir).map_err(|e| WriteError::Io(dir.to_path_buf(), e))?;
    write_subtree(repo, tree, dir, Path::new(""), rules)
}

fn write_subtree(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    root: &Path,
    rel: &Path,
    rules: &IgnoreRules,
) -> Result<(), WriteError> {
    for e in tree.iter() {
        let Some(name) = entry_name(&e) else { continue };
        let path = rel.join(name);
        match e.kind() {
            Some(git2::ObjectType::Tree) => {
                if rules.is_ignored(&path, true) {
                    continue;
                }
                let sub = repo.find_tree(e.id()).map_err(WriteError::Git)?;
                let abs = root.join(&path);
                fs::create_dir_all(&abs).map_err(|err| WriteError::Io(abs.clone(), err))?;
                write_subtree(repo, &sub, root, &path, rules)?;
            }
            Some(git2::ObjectType::Blob) => {
                let mode = e.filemode();
                // 0o120000 = symlink: Flux archives regular files only.
                if mode & 0o170000 != 0o100000 || rules.is_ignored(&path, false) {
                    continue;
                }
                let blob = repo.find_blob(e.id()).map_err(WriteError::Git)?;
                let abs = root.join(&path);
                write_file(&abs, blob.content(), mode & 0o111 != 0)
                    .map_err(|err| WriteError::Io(abs.clone(), err))?;
            }
            // Submodules (commits) and anything else are not part of the artifact.
            _ => {}
        }
    }
    Ok(())
}

/// A tree entry's name, when it is a safe single path component.
fn entry_name(e: &git2::TreeEntry<'_>) -> Option<PathBuf> {
    let bytes = e.name_bytes();
    if !safe_name(bytes) {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).ok().map(PathBuf::from)
    }
}

fn safe_name(b: &[u8]) -> bool {
    !b.is_empty() && b != b"." && b != b".." && !b.contains(&b'/') && !b.contains(&0)
}

fn write_file(path: &Path, content: &[u8], executable: bool) -> std::io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(content)?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o755))?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    Ok(())
}

/// The artifact digest of a directory (see the module doc for the exact definition).
pub fn digest_dir(dir: &Path) -> std::io::Result<String> {
    let mut files: Vec<(Vec<u8>, bool, PathBuf)> = Vec::new();
    collect_files(dir, Path::new(""), &mut files)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut manifest = Sha256::new();
    for (rel, executable, abs) in &files {
        let content = fs::read(abs)?;
        let h = Sha256::digest(&content);
        manifest.update(if *executable { b"755 " } else { b"644 " });
        manifest.update(hex(&h).as_bytes());
        manifest.update(b" ");
        manifest.update(rel);
        manifest.update(b"\n");
    }
    Ok(format!("sha256:{}", hex(&manifest.finalize())))
}

fn collect_files(
    root: &Path,
    rel: &Path,
    out: &mut Vec<(Vec<u8>, bool, PathBuf)>,
) -> std::io::Result<()> {
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let path = rel.join(entry.file_name());
        if ft.is_dir() {
            collect_files(root, &path, out)?;
        } else if ft.is_file() {
            let executable = is_executable(&entry.metadata()?);
            out.push((rel_bytes(&path), executable, root.join(&path)));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(m: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &fs::Metadata) -> bool {
    false
}

/// A relative path as `/`-separated bytes.
fn rel_bytes(p: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, c) in p.components().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(c.as_os_str().as_encoded_bytes());
    }
    out
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignored(rules: &IgnoreRules, p: &str) -> bool {
        rules.is_ignored(Path::new(p.trim_end_matches('/')), p.ends_with('/'))
    }

    #[test]
    fn default_rules_exclude_vcs_ci_and_binary_files_like_flux() {
        let r = IgnoreRules::new(None, &[]).expect("rules");
        for p in [
            ".git/",
            ".gitignore",
            "sub/.gitattributes",
            ".github/",
            "logo.png",
            "a/b/.sops.yaml",
            ".gitlab-ci.yml",
        ] {
            assert!(ignored(&r, p), "{p} should be ignored");
        }
        for p in [
            "kustomization.yaml",
            "apps/",
            "apps/deploy.yaml",
            "README.md",
        ] {
            assert!(!ignored(&r, p), "{p} should be kept");
        }
    }

    #[test]
    fn spec_ignore_replaces_the_defaults_but_not_the_vcs_patterns() {
        let r = IgnoreRules::new(Some("# comment\n/docs/\n*.md\n!keep.md\n"), &[]).expect("rules");
        assert!(ignored(&r, "docs/"));
        assert!(
            !ignored(&r, "sub/docs/"),
            "anchored pattern applies at the root only"
        );
        assert!(ignored(&r, "x/README.md"));
        assert!(!ignored(&r, "keep.md"), "negation re-includes");
        assert!(!ignored(&r, "logo.png"), "defaults no longer apply");
        assert!(
            ignored(&r, ".git/") && ignored(&r, ".gitignore"),
            "VCS patterns always apply"
        );
    }

    #[test]
    fn nested_sourceignore_patterns_apply_below_their_directory() {
        let files = vec![("apps".to_string(), "*.txt\n/local/\n".to_string())];
        let r = IgnoreRules::new(None, &files).expect("rules");
        assert!(ignored(&r, "apps/notes.txt"));
        assert!(ignored(&r, "apps/x/notes.txt"));
        assert!(!ignored(&r, "notes.txt"));
        assert!(ignored(&r, "apps/local/"));
        assert!(!ignored(&r, "apps/x/local/"));
    }

    #[test]
    fn digest_depends_on_paths_contents_and_exec_bit_only() {
        let t = tempfile::tempdir().expect("tempdir");
        let a = t.path().join("a");
        let b = t.path().join("b");
        for d in [&a, &b] {
            fs::create_dir_all(d.join("sub")).expect("mkdir");
            fs::write(d.join("sub/x.yaml"), "x: 1\n").expect("write");
            fs::write(d.join("y.yaml"), "y: 1\n").expect("write");
        }
        let da = digest_dir(&a).expect("digest");
        assert!(da.starts_with("sha256:") && da.len() == 7 + 64, "{da}");
        assert_eq!(
            da,
            digest_dir(&b).expect("digest"),
            "same files, same digest"
        );
        fs::write(b.join("y.yaml"), "y: 2\n").expect("write");
        assert_ne!(da, digest_dir(&b).expect("digest"), "content change");
        fs::write(b.join("y.yaml"), "y: 1\n").expect("write");
        fs::rename(b.join("sub/x.yaml"), b.join("sub/z.yaml")).expect("rename");
        assert_ne!(da, digest_dir(&b).expect("digest"), "rename");
    }

    #[test]
    fn scope_anchors_nested_patterns() {
        assert_eq!(scope("", "*.md"), "*.md");
        assert_eq!(scope("a/b", "*.md"), "/a/b/**/*.md");
        assert_eq!(scope("a", "/x/"), "/a/x/");
        assert_eq!(scope("a", "x/y"), "/a/x/y");
        assert_eq!(scope("a", "!keep"), "!/a/**/keep");
    }
}
