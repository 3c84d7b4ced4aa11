//! `source.toolkit.fluxcd.io/v1` GitRepository: where to fetch a repository from and, in its
//! status, the artifact (revision and digest) the last fetch produced.

use super::condition::Condition;
use super::LocalObjectReference;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What to fetch (Flux `GitRepositorySpec`).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "GitRepository",
    namespaced,
    status = "GitRepositoryStatus",
    shortname = "gitrepo",
    category = "fluxcd",
    doc = "A Git repository to fetch artifacts from (Flux compatible)",
    printcolumn = r#"{"name":"URL","type":"string","jsonPath":".spec.url"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].message"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositorySpec {
    /// `https://`, `http://`, `ssh://` or `file://` URL.
    pub url: String,
    /// Which commit to check out; defaults to the `master` branch.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<GitRepositoryRef>,
    /// How often to check the remote (Go duration).
    pub interval: String,
    /// Fetch timeout (Go duration, default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Secret with `username`/`password`, `bearerToken` or `identity`/`known_hosts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// gitignore-style exclusions, replacing the default excludes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Stop fetching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// Flux's `GitRepositoryRef` (precedence: commit > name > semver > tag > branch).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GitRepositoryRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// The fetched artifact.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Path of the artifact in the agent's cache.
    pub path: String,
    pub url: String,
    /// `main@sha1:<40 hex>`.
    pub revision: String,
    /// `sha256:<64 hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub last_update_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// Flux `GitRepositoryStatus`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

impl GitRepository {
    /// The contract type the git source fetches with.
    pub fn to_source(&self) -> crate::source::GitSource {
        let r = self.spec.reference.clone().unwrap_or_default();
        let mut reference = crate::source::GitRef {
            branch: r.branch,
            tag: r.tag,
            semver: r.semver,
            commit: r.commit,
            name: r.name,
        };
        if reference == crate::source::GitRef::default() {
            reference.branch = Some("master".into());
        }
        crate::source::GitSource {
            url: self.spec.url.clone(),
            reference,
            auth: None,
            ignore: self.spec.ignore.clone(),
            timeout: Some(
                self.spec
                    .timeout
                    .as_deref()
                    .and_then(super::parse_duration)
                    .unwrap_or(std::time::Duration::from_secs(60)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_gitrepository_yaml_deserializes_and_defaults_to_master() {
        let y = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m0s\n  url: https://example.com/x.git\n";
        let g: GitRepository = serde_yaml::from_str(y).expect("parses");
        assert_eq!(g.spec.interval, "1m0s");
        assert_eq!(g.to_source().reference.branch.as_deref(), Some("master"));
        let y2 = y.replace("spec:\n", "spec:\n  ref:\n    branch: main\n");
        let g2: GitRepository = serde_yaml::from_str(&y2).expect("parses");
        assert_eq!(g2.to_source().reference.branch.as_deref(), Some("main"));
    }
}
