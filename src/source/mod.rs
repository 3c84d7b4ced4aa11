//! Git sources: fetch a repository with git2 into a local cache and turn a commit into an
//! artifact (a checked-out directory, a Flux-style revision string and a content digest).
//! STUB: owned by the source helper; the signatures below are the contract the agent codes
//! against.
//!
//! ```text
//!  GitSource{url, ref, auth, ignore} ──► fetch ──► FetchOutcome::Unchanged (one ls-remote)
//!                                              └─► FetchOutcome::Fetched(Artifact{revision, digest, dir})
//! ```

pub mod error;

pub use error::{Error, Result};
use std::path::{Path, PathBuf};

/// Which commit to check out (Flux precedence: commit > name > semver > tag > branch).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitRef {
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub semver: Option<String>,
    pub commit: Option<String>,
    /// A full reference name such as `refs/heads/main` or `refs/pull/1/head`.
    pub name: Option<String>,
}

/// Credentials, as read from the GitRepository's `secretRef` Secret.
#[derive(Clone, PartialEq, Eq)]
pub enum GitAuth {
    /// `username` + `password` keys (https).
    Basic { username: String, password: String },
    /// `bearerToken` key (https).
    Bearer { token: String },
    /// `identity` (private key), optional `password`, `known_hosts` keys (ssh).
    Ssh {
        identity: String,
        passphrase: Option<String>,
        known_hosts: String,
    },
}

impl std::fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secret material.
        match self {
            GitAuth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            GitAuth::Bearer { .. } => f.write_str("Bearer(***)"),
            GitAuth::Ssh { .. } => f.write_str("Ssh(***)"),
        }
    }
}

/// What to fetch.
#[derive(Clone, Debug, Default)]
pub struct GitSource {
    /// `https://…`, `http://…`, `ssh://…` or `file://…`.
    pub url: String,
    pub reference: GitRef,
    pub auth: Option<GitAuth>,
    /// gitignore-syntax exclusions (Flux `spec.ignore`); `None` = Flux's default excludes.
    pub ignore: Option<String>,
    /// Per-fetch timeout.
    pub timeout: Option<std::time::Duration>,
}

/// A fetched commit, ready to build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Flux revision string: `main@sha1:<40 hex>` (branch), `v1.0.0@sha1:…` (tag),
    /// `sha1:…` (commit only), `refs/…@sha1:…` (name).
    pub revision: String,
    /// `sha256:<64 hex>` over the artifact's files (after `ignore`), stable across fetches.
    pub digest: String,
    /// The checked-out working tree (read-only for callers).
    pub dir: PathBuf,
    /// The first line of the commit message, for notifications.
    pub message: String,
}

/// The result of a fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The remote still points at the last artifact's commit; nothing was checked out.
    Unchanged,
    Fetched(Artifact),
}

/// Fetches `src` into `cache_dir` (one sub-directory per source). When `last` is given and the
/// remote reference still resolves to its commit, returns `Unchanged` after a single ls-remote.
/// Blocking (git2); call it from `tokio::task::spawn_blocking`.
pub fn fetch(src: &GitSource, cache_dir: &Path, last: Option<&Artifact>) -> Result<FetchOutcome> {
    let _ = (src, cache_dir, last);
    todo!("source::fetch")
}
