//! Git sources: fetch a repository with git2 into a local cache and turn a commit into an
//! artifact (a checked-out directory, a Flux-style revision string and a content digest).
//!
//! ```text
//!  GitSource{url, ref, auth, ignore} ──► fetch ──► FetchOutcome::Unchanged (one ls-remote)
//!                                              └─► FetchOutcome::Fetched(Artifact{revision, digest, dir})
//! ```
//!
//! **Cache layout.** Everything of one source lives in `cache_dir/<id>/`, where `<id>` is the
//! sha256 (hex) of the URL: a bare repository `repo.git/` that keeps the fetched references
//! under their remote names (so later fetches are incremental), and immutable artifact
//! directories `artifacts/<commit>` (`artifacts/<commit>-<12 hex of sha256(ignore)>` when
//! `spec.ignore` is set, so that changing the rules yields a new artifact). Artifacts are
//! written to a temporary directory and renamed into place, so a failed fetch never touches
//! an existing artifact. Fetches of the same source are serialised inside the process.
//!
//! **References** follow Flux's precedence commit > name > semver > tag > branch (default
//! branch `master`); revisions are Flux v1 strings (`main@sha1:<hex>`, `v1.2.3@sha1:<hex>`,
//! `refs/pull/1/head@sha1:<hex>`, `sha1:<hex>` for a commit without branch). Tags resolve to
//! the commit they peel to.
//!
//! **Unchanged remotes.** When `last` is given and the advertised reference still points at
//! its commit (and the artifact directory would be the same and still exists), `fetch`
//! returns [`FetchOutcome::Unchanged`] after one ls-remote, without downloading or writing
//! anything. A full commit hash that `last` already has needs no network at all.
//!
//! **Digest.** See [`artifact`]: sha256 over the sorted `(mode, sha256(contents), path)` lines
//! of the artifact's files.
//!
//! **Pruning.** Artifact directories are touched when used (fetched or found unchanged); after
//! each successful fetch, those of the source that are neither the new one nor `last` and
//! were unused for [`ARTIFACT_GRACE`] are removed ([`prune_artifacts`] does it on demand).
//!
//! **Transports and credentials.** `file://`, `http(s)://` (basic auth via git2's credential
//! callback, a bearer token as an `Authorization: Bearer` header, TLS checked by libgit2
//! against the system roots, proxies from the environment) and `ssh://` (a private key from
//! memory; the host key must be listed in `known_hosts`, see [`known_hosts`]). Custom CA
//! bundles (`ca.crt`) and mTLS are not supported.
//!
//! **Timeout.** `GitSource::timeout` is enforced while objects are transferred (the fetch is
//! aborted from git2's progress callbacks); a server that accepts the connection but never
//! answers is bounded only by the socket timeouts, so callers should also bound the blocking
//! task.
//!
//! **Errors.** Network, TLS, ssh host-key and credential failures are [`Error::Fetch`]
//! (transient); a missing branch/tag/commit or an unsatisfiable semver range is
//! [`Error::Reference`]; local I/O is [`Error::Cache`]. Messages name the URL without
//! credentials and never contain secrets.

pub mod artifact;
pub mod error;
#[cfg(test)]
mod http_tests;
pub mod known_hosts;
mod remote;
pub mod resolve;
#[cfg(test)]
mod ssh_tests;

pub use error::{Error, Result};
use git2::Oid;
use resolve::{NotFound, Wanted};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime};

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

impl GitAuth {
    /// Reads credentials from the data of a GitRepository's `secretRef` Secret, with Flux's
    /// keys: for `ssh://` URLs `identity` (private key), `known_hosts` and optional `password`
    /// (the key's passphrase); otherwise `bearerToken`, or `username` + `password`.
    /// `Ok(None)` when the Secret holds no credentials for the URL's scheme.
    pub fn from_secret_data(
        url: &str,
        data: &std::collections::BTreeMap<String, Vec<u8>>,
    ) -> std::result::Result<Option<GitAuth>, String> {
        let get = |key: &str| -> std::result::Result<Option<String>, String> {
            data.get(key)
                .map(|v| {
                    String::from_utf8(v.clone()).map_err(|_| format!("key '{key}' is not UTF-8"))
                })
                .transpose()
        };
        if is_ssh_url(url) {
            let Some(identity) = get("identity")? else {
                return Ok(None);
            };
            let known_hosts = get("known_hosts")?
                .filter(|k| !k.trim().is_empty())
                .ok_or_else(|| "ssh credentials need a 'known_hosts' key".to_string())?;
            return Ok(Some(GitAuth::Ssh {
                identity,
                passphrase: get("password")?,
                known_hosts,
            }));
        }
        if let Some(token) = get("bearerToken")? {
            return Ok(Some(GitAuth::Bearer { token }));
        }
        match (get("username")?, get("password")?) {
            (Some(username), Some(password)) => Ok(Some(GitAuth::Basic { username, password })),
            (None, None) => Ok(None),
            _ => Err("basic auth needs both 'username' and 'password' keys".to_string()),
        }
    }
}

/// Whether a URL uses ssh (`ssh://…`, or scp-like `user@host:path`).
fn is_ssh_url(url: &str) -> bool {
    if let Some((scheme, _)) = url.split_once("://") {
        return scheme.eq_ignore_ascii_case("ssh") || scheme.eq_ignore_ascii_case("git+ssh");
    }
    url.split_once(':')
        .is_some_and(|(host, _)| !host.contains('/'))
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
///
/// Pass as `last` the artifact of the previous successful fetch of the same spec; a failed
/// fetch leaves that artifact's directory untouched, so it can keep being served.
pub fn fetch(src: &GitSource, cache_dir: &Path, last: Option<&Artifact>) -> Result<FetchOutcome> {
    let url = remote::redact_url(&src.url);
    let wanted = Wanted::from_ref(&src.reference);
    let reference_error = |message: String| Error::Reference {
        url: url.clone(),
        reference: wanted.describe(),
        message: remote::scrub(src, &message),
    };
    let root = cache_dir.join(source_id(&src.url));
    let lock = source_lock(&root);
    let _guard = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let repo = open_cache(&root)?;
    let deadline = src.timeout.map(|t| Instant::now() + t);
    let unchanged = |label: &str, commit: Oid| {
        last.is_some_and(|l| {
            l.revision == resolve::revision(label, commit)
                && l.dir == artifact_dir(&root, commit, src.ignore.as_deref())
                && l.dir.is_dir()
        })
    };

    let (label, commit_id) = match &wanted {
        Wanted::Commit { commit, branch } => {
            let label = branch.clone().unwrap_or_default();
            if let Ok(oid) = full_oid(commit) {
                if unchanged(&label, oid) {
                    return Ok(still_current(last));
                }
            }
            let oid = match find_commit(&repo, commit) {
                Some(oid) if branch.is_none() => oid,
                found => {
                    let mut session = remote::Session::new(&repo, src, deadline)?;
                    let refs = session.ls_remote()?;
                    // The references to fetch and record: the branch, or every branch and
                    // tag when the commit is given alone.
                    let wanted_refs: Vec<&resolve::RemoteRef> = match branch {
                        Some(b) => {
                            let full = format!("refs/heads/{b}");
                            let head = refs.iter().find(|r| r.name == full).ok_or_else(|| {
                                reference_error(format!("couldn't find remote ref '{full}'"))
                            })?;
                            vec![head]
                        }
                        None => refs
                            .iter()
                            .filter(|r| {
                                (r.name.starts_with("refs/heads/")
                                    || r.name.starts_with("refs/tags/"))
                                    && !r.name.ends_with("^{}")
                            })
                            .collect(),
                    };
                    if found.is_none() {
                        let specs: Vec<String> = wanted_refs
                            .iter()
                            .map(|r| format!("+{0}:{0}", r.name))
                            .collect();
                        if !specs.is_empty() {
                            session.download(&specs)?;
                        }
                        for r in &wanted_refs {
                            set_ref(&repo, &r.name, r.oid)?;
                        }
                    }
                    find_commit(&repo, commit).ok_or_else(|| {
                        reference_error("commit not found in the repository".into())
                    })?
                }
            };
            (label, oid)
        }
        _ => {
            let mut session = remote::Session::new(&repo, src, deadline)?;
            let refs = session.ls_remote()?;
            let resolved =
                resolve::resolve(&wanted, &refs).map_err(|NotFound(m)| reference_error(m))?;
            if let Some(commit) = resolved.commit {
                if unchanged(&resolved.label, commit) {
                    return Ok(still_current(last));
                }
            }
            if repo.find_object(resolved.oid, None).is_err() {
                session.download(&[format!("+{0}:{0}", resolved.refname)])?;
            }
            drop(session);
            set_ref(&repo, &resolved.refname, resolved.oid)?;
            let commit = repo
                .find_object(resolved.oid, None)
                .and_then(|o| o.peel_to_commit())
                .map_err(|e| {
                    reference_error(format!(
                        "{} does not point at a commit: {}",
                        resolved.refname,
                        e.message()
                    ))
                })?;
            (resolved.label, commit.id())
        }
    };

    if unchanged(&label, commit_id) {
        return Ok(still_current(last));
    }
    let commit = repo
        .find_commit(commit_id)
        .map_err(|e| cache_error(&root, &e.to_string()))?;
    let dir = artifact_dir(&root, commit_id, src.ignore.as_deref());
    if !dir.is_dir() {
        write_artifact(
            &repo,
            &commit,
            &dir,
            src.ignore.as_deref(),
            &reference_error,
        )?;
    }
    let digest = artifact::digest_dir(&dir).map_err(|e| cache_error(&dir, &e.to_string()))?;
    touch(&dir);
    let mut keep = vec![dir.as_path()];
    keep.extend(last.map(|l| l.dir.as_path()));
    prune_stale_artifacts(&root.join("artifacts"), &keep, ARTIFACT_GRACE);
    Ok(FetchOutcome::Fetched(Artifact {
        revision: resolve::revision(&label, commit_id),
        digest,
        dir,
        message: commit
            .summary_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default(),
    }))
}

/// How long an artifact that is neither the one just fetched nor the caller's `last` survives
/// after its last use: other callers (builds of an older revision, another GitRepository with
/// the same URL) may still read it.
pub const ARTIFACT_GRACE: Duration = Duration::from_secs(600);

/// `Unchanged`, after marking `last`'s artifact as in use.
fn still_current(last: Option<&Artifact>) -> FetchOutcome {
    if let Some(l) = last {
        touch(&l.dir);
    }
    FetchOutcome::Unchanged
}

/// Marks an artifact directory as used now (its mtime drives pruning); best effort.
fn touch(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Removes the artifact directories of one source that are not in `keep` and were not used
/// for `grace`; returns how many were removed. `fetch` calls it with [`ARTIFACT_GRACE`]; call
/// it with a zero grace to drop everything but `keep` (for example when a GitRepository is
/// deleted, with the artifacts of the other sources sharing its URL in `keep`).
pub fn prune_artifacts(cache_dir: &Path, url: &str, keep: &[&Path], grace: Duration) -> usize {
    prune_stale_artifacts(
        &cache_dir.join(source_id(url)).join("artifacts"),
        keep,
        grace,
    )
}

fn prune_stale_artifacts(artifacts: &Path, keep: &[&Path], grace: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(artifacts) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for e in entries.flatten() {
        let path = e.path();
        if keep.iter().any(|k| *k == path) || e.file_name().to_string_lossy().starts_with(".tmp-") {
            continue;
        }
        let age = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or(Duration::ZERO);
        if age >= grace && std::fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The cache sub-directory name of a URL: the sha256 of the URL, hex.
pub fn source_id(url: &str) -> String {
    artifact::hex(&Sha256::digest(url.as_bytes()))
}

/// Where the artifact of `commit` lives for the given ignore rules.
fn artifact_dir(root: &Path, commit: Oid, ignore: Option<&str>) -> PathBuf {
    let name = match ignore {
        None => commit.to_string(),
        Some(rules) => format!(
            "{commit}-{}",
            &artifact::hex(&Sha256::digest(rules.as_bytes()))[..12]
        ),
    };
    root.join("artifacts").join(name)
}

/// One lock per cache directory: fetches of the same URL run one at a time.
fn source_lock(root: &Path) -> Arc<Mutex<()>> {
    static LOCKS: LazyLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> =
        LazyLock::new(Default::default);
    let mut locks = LOCKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    locks.entry(root.to_path_buf()).or_default().clone()
}

/// Opens (or creates, or re-creates when corrupt) the bare cache repository.
fn open_cache(root: &Path) -> Result<git2::Repository> {
    let path = root.join("repo.git");
    if path.exists() {
        if let Ok(repo) = git2::Repository::open_bare(&path) {
            return Ok(repo);
        }
        std::fs::remove_dir_all(&path).map_err(|e| cache_error(&path, &e.to_string()))?;
    }
    std::fs::create_dir_all(root).map_err(|e| cache_error(root, &e.to_string()))?;
    git2::Repository::init_bare(&path).map_err(|e| cache_error(&path, e.message()))
}

/// Records a fetched remote reference in the cache (so later fetches negotiate from it).
fn set_ref(repo: &git2::Repository, name: &str, oid: Oid) -> Result<()> {
    if repo.find_object(oid, None).is_err() {
        // Not part of what was downloaded.
        return Ok(());
    }
    repo.reference(name, oid, true, "driftless: fetch")
        .map(|_| ())
        .map_err(|e| cache_error(repo.path(), e.message()))
}

fn full_oid(hex: &str) -> std::result::Result<Oid, ()> {
    if hex.len() == 40 {
        Oid::from_str(hex).map_err(|_| ())
    } else {
        Err(())
    }
}

/// A commit of the cache by full hash or unique prefix.
fn find_commit(repo: &git2::Repository, hex: &str) -> Option<Oid> {
    if let Ok(oid) = full_oid(hex) {
        return repo.find_commit(oid).ok().map(|c| c.id());
    }
    if hex.len() < 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    repo.find_commit_by_prefix(hex).ok().map(|c| c.id())
}

/// Writes the artifact of `commit` to `dir` through a temporary directory.
fn write_artifact(
    repo: &git2::Repository,
    commit: &git2::Commit<'_>,
    dir: &Path,
    ignore: Option<&str>,
    reference_error: &dyn Fn(String) -> Error,
) -> Result<()> {
    let parent = dir.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| cache_error(parent, &e.to_string()))?;
    // Leftovers of an interrupted write (fetches of one source are serialised).
    if let Ok(entries) = std::fs::read_dir(parent) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let tree = commit
        .tree()
        .map_err(|e| cache_error(repo.path(), e.message()))?;
    let files = artifact::sourceignore_files(repo, &tree)
        .map_err(|e| cache_error(repo.path(), e.message()))?;
    let rules = artifact::IgnoreRules::new(ignore, &files)
        .map_err(|m| reference_error(format!("ignore rules: {m}")))?;
    let tmp = parent.join(format!(".tmp-{}-{}", commit.id(), std::process::id()));
    let written = artifact::write_tree(repo, &tree, &tmp, &rules).map_err(|e| match e {
        artifact::WriteError::Git(e) => cache_error(repo.path(), e.message()),
        artifact::WriteError::Io(p, e) => cache_error(&p, &e.to_string()),
    });
    let renamed = written
        .and_then(|()| std::fs::rename(&tmp, dir).map_err(|e| cache_error(dir, &e.to_string())));
    if renamed.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    renamed
}

fn cache_error(path: &Path, message: &str) -> Error {
    Error::Cache {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod testrepo {
    //! Real upstream repositories for the tests: a bare repository on disk, with commits
    //! built from in-memory file lists.

    use git2::{IndexEntry, IndexTime, Oid, Repository, Signature};
    use std::path::Path;

    pub struct Upstream {
        pub dir: tempfile::TempDir,
        pub repo: Repository,
    }

    impl Upstream {
        pub fn new() -> Upstream {
            let dir = tempfile::tempdir().expect("tempdir");
            let repo = Repository::init_bare(dir.path()).expect("init upstream");
            Upstream { dir, repo }
        }

        pub fn path(&self) -> &Path {
            self.dir.path()
        }

        pub fn url(&self) -> String {
            format!("file://{}", self.dir.path().display())
        }

        /// Commits exactly `files` (path, contents, executable) on `branch`.
        pub fn commit_files(
            &self,
            branch: &str,
            files: &[(&str, &str, bool)],
            message: &str,
        ) -> Oid {
            let mut index = git2::Index::new().expect("index");
            for (path, content, exec) in files {
                let id = self.repo.blob(content.as_bytes()).expect("blob");
                let t = IndexTime::new(0, 0);
                index
                    .add(&IndexEntry {
                        ctime: t,
                        mtime: t,
                        dev: 0,
                        ino: 0,
                        mode: if *exec { 0o100755 } else { 0o100644 },
                        uid: 0,
                        gid: 0,
                        file_size: content.len() as u32,
                        id,
                        flags: 0,
                        flags_extended: 0,
                        path: path.as_bytes().to_vec(),
                    })
                    .expect("add");
            }
            let tree_id = index.write_tree_to(&self.repo).expect("tree");
            let tree = self.repo.find_tree(tree_id).expect("find tree");
            let sig = Signature::new(
                "Test",
                "test@example.com",
                &git2::Time::new(1_700_000_000, 0),
            )
            .expect("sig");
            let refname = format!("refs/heads/{branch}");
            let parent = self
                .repo
                .find_reference(&refname)
                .ok()
                .and_then(|r| r.peel_to_commit().ok());
            let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
            self.repo
                .commit(Some(&refname), &sig, &sig, message, &tree, &parents)
                .expect("commit")
        }

        pub fn commit(&self, branch: &str, files: &[(&str, &str)], message: &str) -> Oid {
            let files: Vec<(&str, &str, bool)> =
                files.iter().map(|(p, c)| (*p, *c, false)).collect();
            self.commit_files(branch, &files, message)
        }

        pub fn tag_lightweight(&self, name: &str, commit: Oid) {
            let obj = self.repo.find_object(commit, None).expect("object");
            self.repo.tag_lightweight(name, &obj, false).expect("tag");
        }

        pub fn tag_annotated(&self, name: &str, commit: Oid) -> Oid {
            let obj = self.repo.find_object(commit, None).expect("object");
            let sig = Signature::new(
                "Test",
                "test@example.com",
                &git2::Time::new(1_700_000_000, 0),
            )
            .expect("sig");
            self.repo
                .tag(name, &obj, &sig, "release", false)
                .expect("tag")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testrepo::Upstream;
    use super::*;

    fn src(up: &Upstream, reference: GitRef) -> GitSource {
        GitSource {
            url: up.url(),
            reference,
            ..GitSource::default()
        }
    }

    fn branch(b: &str) -> GitRef {
        GitRef {
            branch: Some(b.into()),
            ..GitRef::default()
        }
    }

    fn fetched(outcome: Result<FetchOutcome>) -> Artifact {
        match outcome {
            Ok(FetchOutcome::Fetched(a)) => a,
            other => panic!("expected Fetched, got {other:?}"),
        }
    }

    /// Names of files below `dir`, relative, sorted.
    fn files(dir: &Path) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    out.push(p.strip_prefix(root).expect("prefix").display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    /// Objects and packs in a bare repository (to see whether a fetch downloaded anything).
    fn object_files(repo: &Path) -> usize {
        files(&repo.join("objects")).len()
    }

    #[test]
    fn fetches_a_branch_over_file_url_with_a_flux_revision() {
        let up = Upstream::new();
        let c = up.commit(
            "main",
            &[
                ("app/deploy.yaml", "kind: Deployment\n"),
                ("kustomization.yaml", "resources: []\n"),
            ],
            "first commit\n\nbody",
        );
        let cache = tempfile::tempdir().expect("cache");
        let a = fetched(fetch(&src(&up, branch("main")), cache.path(), None));
        assert_eq!(a.revision, format!("main@sha1:{c}"));
        assert_eq!(a.message, "first commit");
        assert_eq!(
            a.dir,
            cache
                .path()
                .join(source_id(&up.url()))
                .join("artifacts")
                .join(c.to_string())
        );
        assert_eq!(files(&a.dir), vec!["app/deploy.yaml", "kustomization.yaml"]);
        assert_eq!(
            std::fs::read_to_string(a.dir.join("app/deploy.yaml")).expect("read"),
            "kind: Deployment\n"
        );
        assert!(
            a.digest.starts_with("sha256:") && a.digest.len() == 71,
            "{}",
            a.digest
        );
    }

    #[test]
    fn no_reference_fetches_master() {
        let up = Upstream::new();
        up.commit("main", &[("a", "main")], "m");
        let c = up.commit("master", &[("a", "master")], "m");
        let cache = tempfile::tempdir().expect("cache");
        let a = fetched(fetch(&src(&up, GitRef::default()), cache.path(), None));
        assert_eq!(a.revision, format!("master@sha1:{c}"));
        assert_eq!(
            std::fs::read_to_string(a.dir.join("a")).expect("read"),
            "master"
        );
    }

    #[test]
    fn tags_resolve_to_the_tagged_commit_with_the_tag_as_label() {
        let up = Upstream::new();
        let c1 = up.commit("main", &[("v", "1")], "one");
        up.tag_lightweight("light", c1);
        let c2 = up.commit("main", &[("v", "2")], "two");
        up.tag_annotated("v2.0.0", c2);
        up.commit("main", &[("v", "3")], "three");
        let cache = tempfile::tempdir().expect("cache");
        let tag = |t: &str| GitRef {
            tag: Some(t.into()),
            branch: Some("main".into()),
            ..GitRef::default()
        };
        let a = fetched(fetch(&src(&up, tag("light")), cache.path(), None));
        assert_eq!(
            (
                a.revision,
                std::fs::read_to_string(a.dir.join("v")).expect("read")
            ),
            (format!("light@sha1:{c1}"), "1".into())
        );
        let a = fetched(fetch(&src(&up, tag("v2.0.0")), cache.path(), None));
        assert_eq!(
            a.revision,
            format!("v2.0.0@sha1:{c2}"),
            "annotated tags report the commit, not the tag object"
        );
        assert_eq!(std::fs::read_to_string(a.dir.join("v")).expect("read"), "2");
        let again = fetch(&src(&up, tag("v2.0.0")), cache.path(), Some(&a)).expect("fetch");
        assert_eq!(
            again,
            FetchOutcome::Unchanged,
            "an annotated tag still on its commit is unchanged"
        );
    }

    #[test]
    fn semver_fetches_the_highest_matching_tag() {
        let up = Upstream::new();
        let mut commits = Vec::new();
        for (i, t) in ["v1.0.0", "v1.4.2", "v2.0.0", "v1.5.0-rc.1"]
            .iter()
            .enumerate()
        {
            let c = up.commit("main", &[("v", &i.to_string())], t);
            up.tag_annotated(t, c);
            commits.push(c);
        }
        let cache = tempfile::tempdir().expect("cache");
        let r = GitRef {
            semver: Some(">=1.0.0 <2.0.0".into()),
            tag: Some("v2.0.0".into()),
            ..GitRef::default()
        };
        let a = fetched(fetch(&src(&up, r), cache.path(), None));
        assert_eq!(
            a.revision,
            format!("v1.4.2@sha1:{}", commits[1]),
            "semver wins over tag; pre-releases excluded"
        );
    }

    #[test]
    fn commit_reference_reports_sha1_only_or_branch_at_commit() {
        let up = Upstream::new();
        let c1 = up.commit("main", &[("v", "1")], "one");
        up.commit("main", &[("v", "2")], "two");
        let cache = tempfile::tempdir().expect("cache");
        let r = GitRef {
            commit: Some(c1.to_string()),
            ..GitRef::default()
        };
        let a = fetched(fetch(&src(&up, r), cache.path(), None));
        assert_eq!(a.revision, format!("sha1:{c1}"));
        assert_eq!(std::fs::read_to_string(a.dir.join("v")).expect("read"), "1");
        let r = GitRef {
            commit: Some(c1.to_string()),
            branch: Some("main".into()),
            ..GitRef::default()
        };
        let other_cache = tempfile::tempdir().expect("cache");
        let a = fetched(fetch(&src(&up, r), other_cache.path(), None));
        assert_eq!(a.revision, format!("main@sha1:{c1}"));
    }

    #[test]
    fn name_reference_keeps_the_full_reference_in_the_revision() {
        let up = Upstream::new();
        let c = up.commit("feature/x", &[("f", "x")], "x");
        let cache = tempfile::tempdir().expect("cache");
        let r = GitRef {
            name: Some("refs/heads/feature/x".into()),
            branch: Some("main".into()),
            ..GitRef::default()
        };
        let a = fetched(fetch(&src(&up, r), cache.path(), None));
        assert_eq!(a.revision, format!("refs/heads/feature/x@sha1:{c}"));
    }

    #[test]
    fn unchanged_remote_returns_unchanged_without_download_or_checkout_and_new_commit_is_fetched() {
        let up = Upstream::new();
        up.commit("main", &[("a.yaml", "a: 1\n")], "one");
        let cache = tempfile::tempdir().expect("cache");
        let s = src(&up, branch("main"));
        let first = fetched(fetch(&s, cache.path(), None));
        let root = cache.path().join(source_id(&s.url));
        let objects = object_files(&root.join("repo.git"));
        let artifacts = files(&root.join("artifacts"));
        // Make a later (wrong) checkout detectable.
        std::fs::write(first.dir.join("marker"), "untouched").expect("marker");

        assert_eq!(
            fetch(&s, cache.path(), Some(&first)).expect("fetch"),
            FetchOutcome::Unchanged
        );
        assert_eq!(
            object_files(&root.join("repo.git")),
            objects,
            "nothing downloaded"
        );
        assert_eq!(
            std::fs::read_to_string(first.dir.join("marker")).expect("marker"),
            "untouched",
            "no checkout"
        );
        std::fs::remove_file(first.dir.join("marker")).expect("rm marker");
        assert_eq!(files(&root.join("artifacts")), artifacts);

        let c2 = up.commit("main", &[("a.yaml", "a: 2\n")], "two");
        let second = fetched(fetch(&s, cache.path(), Some(&first)));
        assert_eq!(second.revision, format!("main@sha1:{c2}"));
        assert_ne!(second.dir, first.dir);
        assert_ne!(second.digest, first.digest);
        assert_eq!(
            std::fs::read_to_string(second.dir.join("a.yaml")).expect("read"),
            "a: 2\n"
        );
        assert!(
            first.dir.is_dir(),
            "the previous artifact stays for callers still using it"
        );
    }

    #[test]
    fn digest_is_stable_across_fetches_and_follows_content() {
        let up = Upstream::new();
        up.commit(
            "main",
            &[("a.yaml", "a: 1\n"), ("b/c.yaml", "c: 1\n")],
            "one",
        );
        let s = src(&up, branch("main"));
        let (c1, c2) = (
            tempfile::tempdir().expect("cache"),
            tempfile::tempdir().expect("cache"),
        );
        let a1 = fetched(fetch(&s, c1.path(), None));
        let a2 = fetched(fetch(&s, c2.path(), None));
        assert_eq!(
            a1.digest, a2.digest,
            "same commit, same digest in another cache"
        );
        // A change to an ignored file only does not change the artifact's digest.
        up.commit(
            "main",
            &[
                ("a.yaml", "a: 1\n"),
                ("b/c.yaml", "c: 1\n"),
                ("logo.png", "png"),
            ],
            "logo",
        );
        let a3 = fetched(fetch(&s, c1.path(), Some(&a1)));
        assert_eq!(a3.digest, a1.digest);
        up.commit(
            "main",
            &[("a.yaml", "a: 1\n"), ("b/c.yaml", "c: 2\n")],
            "change",
        );
        let a4 = fetched(fetch(&s, c1.path(), Some(&a3)));
        assert_ne!(a4.digest, a1.digest);
        // The executable bit is part of the artifact and of the digest.
        up.commit_files(
            "main",
            &[("a.yaml", "a: 1\n", false), ("b/c.yaml", "c: 2\n", true)],
            "exec",
        );
        let a5 = fetched(fetch(&s, c1.path(), Some(&a4)));
        assert_ne!(a5.digest, a4.digest);
    }

    #[test]
    fn default_excludes_drop_vcs_ci_and_image_files() {
        let up = Upstream::new();
        up.commit(
            "main",
            &[
                (".github/workflows/ci.yaml", "on: push\n"),
                (".gitignore", "target\n"),
                ("docs/logo.png", "png"),
                ("apps/.sops.yaml", "creation_rules: []\n"),
                ("apps/app.yaml", "kind: A\n"),
                ("kustomization.yaml", "resources: [apps/app.yaml]\n"),
            ],
            "files",
        );
        let cache = tempfile::tempdir().expect("cache");
        let a = fetched(fetch(&src(&up, branch("main")), cache.path(), None));
        assert_eq!(files(&a.dir), vec!["apps/app.yaml", "kustomization.yaml"]);
    }

    #[test]
    fn spec_ignore_and_sourceignore_files_exclude_paths() {
        let up = Upstream::new();
        up.commit(
            "main",
            &[
                ("docs/readme.md", "docs"),
                ("apps/app.yaml", "kind: A\n"),
                ("apps/notes.txt", "notes"),
                ("apps/.sourceignore", "*.txt\n"),
                ("logo.png", "png"),
                (
                    "keep.txt",
                    "kept: the nested .sourceignore only applies below apps/",
                ),
            ],
            "files",
        );
        let cache = tempfile::tempdir().expect("cache");
        let s = GitSource {
            ignore: Some("/docs/\n".into()),
            ..src(&up, branch("main"))
        };
        let a = fetched(fetch(&s, cache.path(), None));
        assert_eq!(
            files(&a.dir),
            vec![
                "apps/.sourceignore",
                "apps/app.yaml",
                "keep.txt",
                "logo.png"
            ]
        );
        // Different ignore rules give a different artifact directory for the same commit.
        let plain = fetched(fetch(&src(&up, branch("main")), cache.path(), None));
        assert_ne!(plain.dir, a.dir);
        assert_eq!(
            files(&plain.dir),
            vec![
                "apps/.sourceignore",
                "apps/app.yaml",
                "docs/readme.md",
                "keep.txt",
                "logo.png"
            ]
        );
    }

    #[test]
    fn missing_branch_is_a_reference_error_naming_url_and_ref() {
        let up = Upstream::new();
        up.commit("main", &[("a", "a")], "a");
        let cache = tempfile::tempdir().expect("cache");
        match fetch(&src(&up, branch("nope")), cache.path(), None) {
            Err(Error::Reference { url, reference, .. }) => {
                assert_eq!(url, up.url());
                assert!(reference.contains("nope"), "{reference}");
            }
            other => panic!("expected a reference error, got {other:?}"),
        }
        let r = GitRef {
            semver: Some(">=5".into()),
            ..GitRef::default()
        };
        assert!(matches!(
            fetch(&src(&up, r), cache.path(), None),
            Err(Error::Reference { .. })
        ));
        let r = GitRef {
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            ..GitRef::default()
        };
        assert!(matches!(
            fetch(&src(&up, r), cache.path(), None),
            Err(Error::Reference { .. })
        ));
    }

    #[test]
    fn unreachable_url_is_a_fetch_error() {
        let cache = tempfile::tempdir().expect("cache");
        let missing = cache.path().join("does-not-exist");
        let s = GitSource {
            url: format!("file://{}", missing.display()),
            reference: branch("main"),
            ..GitSource::default()
        };
        match fetch(&s, cache.path(), None) {
            Err(Error::Fetch { url, .. }) => assert_eq!(url, s.url),
            other => panic!("expected a fetch error, got {other:?}"),
        }
        let s = GitSource {
            url: String::new(),
            ..GitSource::default()
        };
        assert!(matches!(
            fetch(&s, cache.path(), None),
            Err(Error::Fetch { .. })
        ));
    }

    #[test]
    fn failed_fetch_after_a_good_one_keeps_the_previous_artifact() {
        let up = Upstream::new();
        up.commit("main", &[("a.yaml", "a: 1\n")], "one");
        let cache = tempfile::tempdir().expect("cache");
        let s = src(&up, branch("main"));
        let good = fetched(fetch(&s, cache.path(), None));
        // The server goes away.
        let moved = up.path().with_extension("gone");
        std::fs::rename(up.path(), &moved).expect("move upstream");
        let err = fetch(&s, cache.path(), Some(&good)).expect_err("remote is gone");
        assert!(matches!(err, Error::Fetch { .. }), "{err:?}");
        assert_eq!(files(&good.dir), vec!["a.yaml"]);
        assert_eq!(
            artifact::digest_dir(&good.dir).expect("digest"),
            good.digest
        );
        std::fs::rename(&moved, up.path()).expect("restore upstream");
    }

    #[test]
    fn symlinks_are_left_out_and_exec_bits_kept() {
        let up = Upstream::new();
        let c = up.commit_files(
            "main",
            &[("run.sh", "#!/bin/sh\n", true), ("a.yaml", "a: 1\n", false)],
            "x",
        );
        // Add a symlink entry pointing outside the artifact.
        let commit = up.repo.find_commit(c).expect("commit");
        let mut tb = up
            .repo
            .treebuilder(Some(&commit.tree().expect("tree")))
            .expect("tb");
        let target = up.repo.blob(b"/etc/passwd").expect("blob");
        tb.insert("link", target, 0o120000).expect("insert");
        let tree = up.repo.find_tree(tb.write().expect("write")).expect("tree");
        let sig =
            git2::Signature::new("T", "t@e", &git2::Time::new(1_700_000_000, 0)).expect("sig");
        up.repo
            .commit(
                Some("refs/heads/main"),
                &sig,
                &sig,
                "link",
                &tree,
                &[&commit],
            )
            .expect("commit");
        let cache = tempfile::tempdir().expect("cache");
        let a = fetched(fetch(&src(&up, branch("main")), cache.path(), None));
        assert_eq!(files(&a.dir), vec!["a.yaml", "run.sh"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(a.dir.join("run.sh"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111);
        }
    }

    #[test]
    fn debug_of_git_auth_never_shows_secrets() {
        let auths = [
            GitAuth::Basic {
                username: "bob".into(),
                password: "hunter2-pw".into(),
            },
            GitAuth::Bearer {
                token: "tok-secret".into(),
            },
            GitAuth::Ssh {
                identity: "-----BEGIN KEY-----".into(),
                passphrase: Some("phrase-x".into()),
                known_hosts: "h k".into(),
            },
        ];
        for a in &auths {
            let s = format!(
                "{a:?} {:?}",
                GitSource {
                    auth: Some(a.clone()),
                    ..GitSource::default()
                }
            );
            for secret in ["hunter2-pw", "tok-secret", "BEGIN KEY", "phrase-x"] {
                assert!(!s.contains(secret), "{s}");
            }
        }
    }

    #[test]
    fn stale_artifacts_are_pruned_but_last_and_recent_ones_kept() {
        let up = Upstream::new();
        let s = src(&up, branch("main"));
        let cache = tempfile::tempdir().expect("cache");
        up.commit("main", &[("v", "1")], "1");
        let a1 = fetched(fetch(&s, cache.path(), None));
        up.commit("main", &[("v", "2")], "2");
        let a2 = fetched(fetch(&s, cache.path(), Some(&a1)));
        up.commit("main", &[("v", "3")], "3");
        let a3 = fetched(fetch(&s, cache.path(), Some(&a2)));
        assert!(
            a1.dir.is_dir(),
            "recently used artifacts survive the grace period"
        );
        // Age a1 and a2 beyond the grace period.
        let old = SystemTime::now() - ARTIFACT_GRACE - Duration::from_secs(60);
        for d in [&a1.dir, &a2.dir] {
            std::fs::File::open(d)
                .and_then(|f| f.set_modified(old))
                .expect("age");
        }
        up.commit("main", &[("v", "4")], "4");
        let a4 = fetched(fetch(&s, cache.path(), Some(&a3)));
        assert!(
            !a1.dir.exists() && !a2.dir.exists(),
            "stale artifacts are removed"
        );
        assert!(
            a3.dir.is_dir() && a4.dir.is_dir(),
            "last and new artifacts stay"
        );
        assert_eq!(
            prune_artifacts(cache.path(), &s.url, &[&a4.dir], Duration::ZERO),
            1
        );
        assert!(!a3.dir.exists() && a4.dir.is_dir());
    }

    #[test]
    fn concurrent_fetches_of_one_source_both_succeed() {
        let up = Upstream::new();
        let c = up.commit("main", &[("a.yaml", "a: 1\n")], "one");
        let cache = tempfile::tempdir().expect("cache");
        let s = src(&up, branch("main"));
        let results: Vec<Artifact> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| fetched(fetch(&s, cache.path(), None))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        for a in &results {
            assert_eq!(a.revision, format!("main@sha1:{c}"));
            assert_eq!(a.digest, results[0].digest);
        }
    }

    #[test]
    fn ssh_transport_is_built_in_and_unreachable_hosts_are_fetch_errors() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let s = GitSource {
            url: format!("ssh://git@127.0.0.1:{port}/repo.git"),
            reference: branch("main"),
            auth: Some(GitAuth::Ssh {
                identity: "not a key".into(),
                passphrase: None,
                known_hosts: String::new(),
            }),
            ..GitSource::default()
        };
        let cache = tempfile::tempdir().expect("cache");
        match fetch(&s, cache.path(), None) {
            Err(Error::Fetch { url, message }) => {
                assert_eq!(
                    url,
                    format!("ssh://127.0.0.1:{port}/repo.git"),
                    "no user in messages"
                );
                assert!(
                    !message.contains("unsupported"),
                    "ssh support is compiled in: {message}"
                );
            }
            other => panic!("expected a fetch error, got {other:?}"),
        }
    }

    #[test]
    fn changed_ignore_rules_produce_a_new_artifact_for_the_same_commit() {
        let up = Upstream::new();
        up.commit("main", &[("a.yaml", "a: 1\n"), ("b.yaml", "b: 1\n")], "one");
        let cache = tempfile::tempdir().expect("cache");
        let s = src(&up, branch("main"));
        let first = fetched(fetch(&s, cache.path(), None));
        let narrowed = GitSource {
            ignore: Some("b.yaml\n".into()),
            ..s
        };
        let second = fetched(fetch(&narrowed, cache.path(), Some(&first)));
        assert_eq!(second.revision, first.revision);
        assert_eq!(files(&second.dir), vec!["a.yaml"]);
        assert_ne!(second.digest, first.digest);
    }

    #[test]
    fn exceeding_the_timeout_aborts_the_download_with_a_fetch_error() {
        let up = Upstream::new();
        let big = "x".repeat(1 << 16);
        let files: Vec<(String, String)> = (0..50)
            .map(|i| (format!("f{i}.txt"), format!("{i}{big}")))
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        up.commit("main", &refs, "big");
        let cache = tempfile::tempdir().expect("cache");
        let s = GitSource {
            timeout: Some(Duration::from_nanos(1)),
            ..src(&up, branch("main"))
        };
        match fetch(&s, cache.path(), None) {
            Err(Error::Fetch { message, .. }) => {
                assert!(message.contains("timed out"), "{message}")
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        let relaxed = GitSource {
            timeout: Some(Duration::from_secs(30)),
            ..s
        };
        assert!(matches!(
            fetch(&relaxed, cache.path(), None),
            Ok(FetchOutcome::Fetched(_))
        ));
    }

    #[test]
    fn secret_data_maps_to_credentials_with_flux_keys() {
        let data = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, Vec<u8>> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect()
        };
        let https = "https://example.com/r.git";
        assert_eq!(
            GitAuth::from_secret_data(https, &data(&[("username", "u"), ("password", "p")])),
            Ok(Some(GitAuth::Basic {
                username: "u".into(),
                password: "p".into()
            }))
        );
        assert_eq!(
            GitAuth::from_secret_data(https, &data(&[("bearerToken", "t")])),
            Ok(Some(GitAuth::Bearer { token: "t".into() }))
        );
        assert_eq!(
            GitAuth::from_secret_data(https, &data(&[("ca.crt", "x")])),
            Ok(None)
        );
        assert!(GitAuth::from_secret_data(https, &data(&[("username", "u")])).is_err());
        let ssh = "ssh://git@example.com/r.git";
        assert_eq!(
            GitAuth::from_secret_data(
                ssh,
                &data(&[
                    ("identity", "KEY"),
                    ("known_hosts", "h k v"),
                    ("password", "pp")
                ])
            ),
            Ok(Some(GitAuth::Ssh {
                identity: "KEY".into(),
                passphrase: Some("pp".into()),
                known_hosts: "h k v".into()
            }))
        );
        assert!(GitAuth::from_secret_data(ssh, &data(&[("identity", "KEY")])).is_err());
        assert!(is_ssh_url("git@github.com:org/repo.git"));
        assert!(!is_ssh_url("https://github.com/org/repo.git"));
    }
}
