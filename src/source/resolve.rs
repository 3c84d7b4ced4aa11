//! Resolves a [`GitRef`] against the references a remote advertises (its ls-remote listing),
//! with Flux's precedence (commit > name > semver > tag > branch, default branch `master`),
//! and formats Flux v1 revision strings (`main@sha1:<hex>`, `v1.2.3@sha1:<hex>`,
//! `refs/heads/main@sha1:<hex>`, `sha1:<hex>`).

use super::GitRef;
use git2::Oid;

/// The branch Flux checks out when a GitRepository names no reference.
pub const DEFAULT_BRANCH: &str = "master";

/// One advertised reference: its full name, the object it points at and, for an annotated
/// tag, the commit it peels to (the `^{}` entry of the listing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteRef {
    pub name: String,
    pub oid: Oid,
    pub peeled: Option<Oid>,
}

impl RemoteRef {
    /// The commit this reference designates, as far as the listing tells.
    pub fn commit(&self) -> Oid {
        self.peeled.unwrap_or(self.oid)
    }
}

/// The reference kind selected by Flux's precedence, before looking at the remote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// A commit, optionally on a branch (which is what gets fetched).
    Commit {
        commit: String,
        branch: Option<String>,
    },
    /// A full reference name (`refs/...`).
    Name(String),
    /// A semver range over the tags.
    Semver(String),
    Tag(String),
    Branch(String),
}

impl Wanted {
    /// Applies Flux's precedence to a [`GitRef`].
    pub fn from_ref(r: &GitRef) -> Wanted {
        fn set(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        if let Some(commit) = set(&r.commit) {
            Wanted::Commit {
                commit: commit.to_ascii_lowercase(),
                branch: set(&r.branch).map(str::to_string),
            }
        } else if let Some(name) = set(&r.name) {
            Wanted::Name(name.to_string())
        } else if let Some(range) = set(&r.semver) {
            Wanted::Semver(range.to_string())
        } else if let Some(tag) = set(&r.tag) {
            Wanted::Tag(tag.to_string())
        } else {
            Wanted::Branch(set(&r.branch).unwrap_or(DEFAULT_BRANCH).to_string())
        }
    }

    /// How the reference is named in error messages (`branch 'main'`, `semver '>=1'`, …).
    pub fn describe(&self) -> String {
        match self {
            Wanted::Commit {
                commit,
                branch: Some(b),
            } => format!("commit '{commit}' on branch '{b}'"),
            Wanted::Commit {
                commit,
                branch: None,
            } => format!("commit '{commit}'"),
            Wanted::Name(n) => format!("name '{n}'"),
            Wanted::Semver(s) => format!("semver '{s}'"),
            Wanted::Tag(t) => format!("tag '{t}'"),
            Wanted::Branch(b) => format!("branch '{b}'"),
        }
    }
}

/// A reference resolved against the listing: the remote ref to fetch, the label of the
/// revision string, and the commit the listing says it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The full remote reference name to fetch (`refs/heads/main`, `refs/tags/v1.0.0`, …).
    pub refname: String,
    /// The object the reference points at (a tag object for annotated tags).
    pub oid: Oid,
    /// The commit, when the listing tells it (always, except for an annotated tag whose
    /// peeled entry the server did not advertise).
    pub commit: Option<Oid>,
    /// The part of the revision before `@` (`main`, `v1.2.3`, `refs/pull/1/head`).
    pub label: String,
}

/// Why a reference did not resolve (turned into `Error::Reference` by the caller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotFound(pub String);

/// Resolves a non-commit [`Wanted`] against the advertised references.
pub fn resolve(wanted: &Wanted, refs: &[RemoteRef]) -> Result<Resolved, NotFound> {
    let find = |full: &str| refs.iter().find(|r| r.name == full);
    let done = |r: &RemoteRef, label: &str| Resolved {
        refname: r.name.clone(),
        oid: r.oid,
        commit: commit_of(r, refs),
        label: label.to_string(),
    };
    match wanted {
        Wanted::Branch(b) => {
            let full = format!("refs/heads/{b}");
            find(&full)
                .map(|r| done(r, b))
                .ok_or_else(|| NotFound(format!("couldn't find remote ref '{full}'")))
        }
        Wanted::Tag(t) => {
            let full = format!("refs/tags/{t}");
            find(&full)
                .map(|r| done(r, t))
                .ok_or_else(|| NotFound(format!("couldn't find remote ref '{full}'")))
        }
        Wanted::Name(n) => {
            if !n.starts_with("refs/") {
                return Err(NotFound(format!(
                    "reference name '{n}' must start with 'refs/'"
                )));
            }
            find(n)
                .map(|r| done(r, n))
                .ok_or_else(|| NotFound(format!("couldn't find remote ref '{n}'")))
        }
        Wanted::Semver(range) => {
            let req = SemverRange::parse(range)
                .map_err(|e| NotFound(format!("invalid semver range '{range}': {e}")))?;
            let mut best: Option<(semver::Version, &RemoteRef, &str)> = None;
            for r in refs {
                let Some(tag) = r.name.strip_prefix("refs/tags/") else {
                    continue;
                };
                if tag.ends_with("^{}") {
                    continue;
                }
                let Some(v) = parse_tag_version(tag) else {
                    continue;
                };
                if !req.matches(&v) {
                    continue;
                }
                // Highest version wins; on equal versions (`v1.0.0` and `1.0.0`) the
                // lexicographically smaller tag name, so the choice is deterministic.
                let better = match &best {
                    None => true,
                    Some((bv, _, bt)) => v > *bv || (v == *bv && tag < *bt),
                };
                if better {
                    best = Some((v, r, tag));
                }
            }
            best.map(|(_, r, tag)| done(r, tag))
                .ok_or_else(|| NotFound(format!("no tag matches semver range '{range}'")))
        }
        Wanted::Commit { .. } => Err(NotFound(
            "commit references are not resolved from the listing".into(),
        )),
    }
}

/// The commit an advertised ref designates: its peeled `^{}` entry when listed separately
/// (libgit2 lists it as its own head), otherwise the ref's own peeled id or oid.
fn commit_of(r: &RemoteRef, refs: &[RemoteRef]) -> Option<Oid> {
    if let Some(p) = r.peeled {
        return Some(p);
    }
    if r.name.starts_with("refs/tags/") {
        let peeled_name = format!("{}^{{}}", r.name);
        if let Some(p) = refs.iter().find(|x| x.name == peeled_name) {
            return Some(p.oid);
        }
        // Lightweight tag (no peeled entry) or a server that does not advertise peeled
        // tags: the caller peels after fetching.
        return None;
    }
    Some(r.oid)
}

/// The Flux v1 revision string for a commit reached through `label` (empty = commit only).
pub fn revision(label: &str, commit: Oid) -> String {
    if label.is_empty() {
        format!("sha1:{commit}")
    } else {
        format!("{label}@sha1:{commit}")
    }
}

/// Parses a tag as a version the way Flux does: an optional `v` prefix, and partial versions
/// (`1`, `1.2`) completed with zeros.
pub fn parse_tag_version(tag: &str) -> Option<semver::Version> {
    let t = tag
        .strip_prefix('v')
        .or_else(|| tag.strip_prefix('V'))
        .unwrap_or(tag);
    if let Ok(v) = semver::Version::parse(t) {
        return Some(v);
    }
    // Complete `1` / `1.2` (optionally with a pre-release/build suffix) to three parts.
    let split = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(split);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 2
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut full = parts.join(".");
    for _ in parts.len()..3 {
        full.push_str(".0");
    }
    full.push_str(rest);
    semver::Version::parse(&full).ok()
}

/// A semver constraint in the Masterminds syntax Flux accepts: alternatives separated by
/// `||`, each a list of comparators separated by spaces or commas (`>=1.0.0 <2.0.0`,
/// `~1.2`, `^1`, `1.x`, `*`).
#[derive(Clone, Debug)]
pub struct SemverRange(Vec<semver::VersionReq>);

impl SemverRange {
    pub fn parse(s: &str) -> Result<SemverRange, semver::Error> {
        let mut alts = Vec::new();
        for alt in s.split("||") {
            // Glue operators to their version (`>= 1.0` → `>=1.0`), then join with commas.
            let mut comparators: Vec<String> = Vec::new();
            let mut pending_op = String::new();
            for tok in alt.split([' ', ',', '\t']).filter(|t| !t.is_empty()) {
                if tok
                    .chars()
                    .all(|c| matches!(c, '<' | '>' | '=' | '~' | '^' | '!'))
                {
                    pending_op.push_str(tok);
                    continue;
                }
                let tok = tok.strip_prefix('v').unwrap_or(tok);
                let tok = tok.replacen(">=v", ">=", 1).replacen("<=v", "<=", 1);
                comparators.push(format!(
                    "{}{}",
                    std::mem::take(&mut pending_op),
                    strip_op_v(&tok)
                ));
            }
            let joined = if comparators.is_empty() {
                "*".to_string()
            } else {
                comparators.join(", ")
            };
            alts.push(semver::VersionReq::parse(&joined)?);
        }
        Ok(SemverRange(alts))
    }

    pub fn matches(&self, v: &semver::Version) -> bool {
        self.0.iter().any(|r| r.matches(v))
    }
}

/// `>v1.2` → `>1.2`: Masterminds accepts a `v` after the operator.
fn strip_op_v(tok: &str) -> String {
    let op_len = tok.len() - tok.trim_start_matches(['<', '>', '=', '~', '^']).len();
    let (op, rest) = tok.split_at(op_len);
    format!("{op}{}", rest.strip_prefix('v').unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("20 bytes")
    }

    fn r(name: &str, n: u8) -> RemoteRef {
        RemoteRef {
            name: name.to_string(),
            oid: oid(n),
            peeled: None,
        }
    }

    fn listing() -> Vec<RemoteRef> {
        vec![
            r("HEAD", 1),
            r("refs/heads/main", 1),
            r("refs/heads/master", 2),
            r("refs/pull/7/head", 3),
            r("refs/tags/v1.0.0", 4),
            r("refs/tags/v1.2.0", 10),
            r("refs/tags/v1.2.0^{}", 5),
            r("refs/tags/v2.0.0", 6),
            r("refs/tags/v1.3.0-rc.1", 7),
            r("refs/tags/not-a-version", 8),
        ]
    }

    #[test]
    fn precedence_is_commit_then_name_then_semver_then_tag_then_branch() {
        let all = GitRef {
            branch: Some("b".into()),
            tag: Some("t".into()),
            semver: Some("1".into()),
            commit: Some("ABC".into()),
            name: Some("refs/x".into()),
        };
        assert_eq!(
            Wanted::from_ref(&all),
            Wanted::Commit {
                commit: "abc".into(),
                branch: Some("b".into())
            }
        );
        let no_commit = GitRef {
            commit: None,
            ..all.clone()
        };
        assert_eq!(Wanted::from_ref(&no_commit), Wanted::Name("refs/x".into()));
        let no_name = GitRef {
            name: None,
            ..no_commit
        };
        assert_eq!(Wanted::from_ref(&no_name), Wanted::Semver("1".into()));
        let no_semver = GitRef {
            semver: None,
            ..no_name
        };
        assert_eq!(Wanted::from_ref(&no_semver), Wanted::Tag("t".into()));
        let no_tag = GitRef {
            tag: None,
            ..no_semver
        };
        assert_eq!(Wanted::from_ref(&no_tag), Wanted::Branch("b".into()));
    }

    #[test]
    fn no_reference_means_branch_master_like_flux() {
        assert_eq!(
            Wanted::from_ref(&GitRef::default()),
            Wanted::Branch("master".into())
        );
        let empty = GitRef {
            branch: Some(" ".into()),
            ..GitRef::default()
        };
        assert_eq!(Wanted::from_ref(&empty), Wanted::Branch("master".into()));
    }

    #[test]
    fn branch_tag_and_name_resolve_to_their_labels() {
        let refs = listing();
        let b = resolve(&Wanted::Branch("main".into()), &refs).expect("branch");
        assert_eq!(
            (b.refname.as_str(), b.label.as_str(), b.commit),
            ("refs/heads/main", "main", Some(oid(1)))
        );
        let t = resolve(&Wanted::Tag("v1.0.0".into()), &refs).expect("tag");
        assert_eq!((t.label.as_str(), t.commit), ("v1.0.0", None));
        let n = resolve(&Wanted::Name("refs/pull/7/head".into()), &refs).expect("name");
        assert_eq!(
            (n.label.as_str(), n.commit),
            ("refs/pull/7/head", Some(oid(3)))
        );
    }

    #[test]
    fn annotated_tag_resolves_to_its_peeled_commit() {
        let t = resolve(&Wanted::Tag("v1.2.0".into()), &listing()).expect("tag");
        assert_eq!((t.oid, t.commit), (oid(10), Some(oid(5))));
    }

    #[test]
    fn semver_picks_the_highest_matching_release_tag() {
        let refs = listing();
        let pick = |range: &str| resolve(&Wanted::Semver(range.into()), &refs).map(|r| r.label);
        assert_eq!(pick(">=1.0.0 <2.0.0"), Ok("v1.2.0".to_string()));
        assert_eq!(pick("~1.0"), Ok("v1.0.0".to_string()));
        assert_eq!(pick("1.x"), Ok("v1.2.0".to_string()));
        assert_eq!(pick("*"), Ok("v2.0.0".to_string()));
        assert_eq!(pick(">= 1.0, < 1.1 || >=2"), Ok("v2.0.0".to_string()));
        assert!(pick(">=3.0.0").is_err());
        assert!(pick("not a range").is_err());
    }

    #[test]
    fn missing_branch_is_not_found() {
        let e = resolve(&Wanted::Branch("nope".into()), &listing()).expect_err("missing");
        assert!(e.0.contains("refs/heads/nope"), "{e:?}");
    }

    #[test]
    fn name_must_be_a_full_reference() {
        assert!(resolve(&Wanted::Name("main".into()), &listing()).is_err());
    }

    #[test]
    fn revision_strings_match_flux_v1() {
        let c = Oid::from_str("0123456789abcdef0123456789abcdef01234567").expect("oid");
        assert_eq!(
            revision("main", c),
            "main@sha1:0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(
            revision("", c),
            "sha1:0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(
            revision("refs/heads/x", c),
            "refs/heads/x@sha1:0123456789abcdef0123456789abcdef01234567"
        );
    }

    #[test]
    fn tag_versions_accept_v_prefix_and_partial_versions() {
        assert_eq!(
            parse_tag_version("v1.2.3"),
            Some(semver::Version::new(1, 2, 3))
        );
        assert_eq!(
            parse_tag_version("1.2"),
            Some(semver::Version::new(1, 2, 0))
        );
        assert_eq!(parse_tag_version("v2"), Some(semver::Version::new(2, 0, 0)));
        assert_eq!(parse_tag_version("release"), None);
        assert_eq!(parse_tag_version("1.2.3.4"), None);
    }
}
