//! `driftless trace KIND NAME [-n NS]` (or `KIND/NAME`): which Kustomization manages an object,
//! from which source and revision, and how the last reconcile went, as `flux trace` prints it.
//!
//! ```text
//!  KIND ──► discovery (kind, plural, singular or short name, any case) ──► GET the object
//!  ──► labels kustomize.toolkit.fluxcd.io/name + /namespace ──► Kustomization
//!  ──► spec.sourceRef ──► GitRepository (URL, branch/tag, artifact revision, Ready)
//! ```
//!
//! An object without both ownership labels is "not managed by Flux" (exit 1).

use super::output;
use crate::api::condition::{self, ConditionStatus, READY};
use crate::api::{GitRepository, Kustomization};
use crate::apply::policy::{OWNER_NAMESPACE_LABEL, OWNER_NAME_LABEL};
use anyhow::{anyhow, bail, Result};
use kube::api::{ApiResource, DynamicObject};
use kube::{Api, ResourceExt};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// `KIND NAME` or `KIND/NAME` (kind, plural or short name, e.g. `deployment`, `deploy`).
    #[arg(required = true, num_args = 1..=2, value_name = "KIND NAME")]
    pub object: Vec<String>,
    /// Namespace of the object.
    #[arg(short = 'n', long, default_value = "flux-system")]
    pub namespace: String,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// Splits `KIND NAME` / `KIND/NAME`.
pub fn parse_object(args: &[String]) -> Result<(String, String)> {
    match args {
        [one] => match one.split_once('/') {
            Some((k, n)) if !k.is_empty() && !n.is_empty() => Ok((k.into(), n.into())),
            _ => bail!("either `<kind>/<name>` or `<kind> <name>` is required as an argument"),
        },
        [k, n] if !k.is_empty() && !n.is_empty() && !k.contains('/') => Ok((k.clone(), n.clone())),
        _ => bail!("either `<kind>/<name>` or `<kind> <name>` is required as an argument"),
    }
}

/// A kind the server serves.
#[derive(Clone, Debug)]
pub struct Served {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// Whether an API resource answers to `wanted` (kind, plural, singular or short name, any
/// case; `kind.group` also works).
pub fn answers_to(
    r: &k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResource,
    group: &str,
    wanted: &str,
) -> bool {
    let w = wanted.to_ascii_lowercase();
    let (w, g) = match w.split_once('.') {
        Some((n, g)) => (n.to_string(), Some(g.to_string())),
        None => (w, None),
    };
    if g.is_some_and(|g| g != group) {
        return false;
    }
    r.kind.to_ascii_lowercase() == w
        || r.name == w
        || r.singular_name == w
        || r.short_names.iter().flatten().any(|s| *s == w)
}

/// Finds the served kind `wanted` refers to (core group first, then groups in server order,
/// each at its preferred version).
async fn resolve_kind(client: &kube::Client, wanted: &str) -> Result<Served> {
    let mut candidates: Vec<(String, String)> = vec![(String::new(), "v1".into())];
    let groups = client
        .list_api_groups()
        .await
        .map_err(|e| anyhow!("failed to discover API groups: {e}"))?;
    for g in groups.groups {
        let version = g
            .preferred_version
            .map(|v| v.version)
            .or_else(|| g.versions.first().map(|v| v.version.clone()));
        if let Some(v) = version {
            candidates.push((g.name, v));
        }
    }
    for (group, version) in candidates {
        let list = if group.is_empty() {
            client.list_core_api_resources(&version).await
        } else {
            client
                .list_api_group_resources(&format!("{group}/{version}"))
                .await
        };
        let Ok(list) = list else { continue };
        if let Some(r) = list
            .resources
            .iter()
            .find(|r| !r.name.contains('/') && answers_to(r, &group, wanted))
        {
            let api_version = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            return Ok(Served {
                resource: ApiResource {
                    group: group.clone(),
                    version: version.clone(),
                    api_version,
                    kind: r.kind.clone(),
                    plural: r.name.clone(),
                },
                namespaced: r.namespaced,
            });
        }
    }
    bail!("the server doesn't have a resource type \"{wanted}\"")
}

/// The traced object, as the report names it.
#[derive(Clone, Debug)]
pub struct Traced {
    pub kind: String,
    pub name: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
}

/// The report, in `flux trace`'s layout (pure).
pub fn render(obj: &Traced, ks: &Kustomization, repo: Option<&GitRepository>) -> String {
    let mut out = String::from("\n");
    let mut line = |label: &str, value: &str| {
        out.push_str(&format!("{:<17}{value}\n", format!("{label}:")));
    };
    line("Object", &format!("{}/{}", obj.kind, obj.name));
    if !obj.namespace.is_empty() {
        line("Namespace", &obj.namespace);
    }
    line("Status", "Managed by Flux");
    out.push_str("---\n");
    let mut line = |label: &str, value: &str| {
        out.push_str(&format!("{:<17}{value}\n", format!("{label}:")));
    };
    line("Kustomization", &ks.name_any());
    line("Namespace", &ks.namespace().unwrap_or_default());
    if let Some(t) = &ks.spec.target_namespace {
        line("Target", t);
    }
    line("Path", ks.spec.path.as_deref().unwrap_or(""));
    let status = ks.status.clone().unwrap_or_default();
    line(
        "Revision",
        status.last_applied_revision.as_deref().unwrap_or(""),
    );
    match condition::find(&status.conditions, READY) {
        Some(c) => {
            line(
                "Status",
                &format!("Last reconciled at {}", c.last_transition_time),
            );
            line("Message", &c.message);
        }
        None => line("Status", "Unknown"),
    }
    if let Some(repo) = repo {
        out.push_str("---\n");
        let mut line = |label: &str, value: &str| {
            out.push_str(&format!("{:<17}{value}\n", format!("{label}:")));
        };
        line("GitRepository", &repo.name_any());
        line("Namespace", &repo.namespace().unwrap_or_default());
        line("URL", &repo.spec.url);
        if let Some(r) = &repo.spec.reference {
            if let Some(t) = r.tag.as_deref().or(r.semver.as_deref()) {
                line("Tag", t);
            } else if let Some(b) = &r.branch {
                line("Branch", b);
            }
        }
        let status = repo.status.clone().unwrap_or_default();
        if let Some(a) = &status.artifact {
            line("Revision", &a.revision);
        }
        match condition::find(&status.conditions, READY) {
            Some(c) => {
                let what = if c.status == ConditionStatus::False {
                    "Last reconciliation failed at"
                } else {
                    "Last reconciled at"
                };
                line("Status", &format!("{what} {}", c.last_transition_time));
                line("Message", &c.message);
            }
            None => line("Status", "Unknown"),
        }
    }
    out
}

pub fn run(args: TraceArgs) -> Result<i32> {
    let (kind, name) = parse_object(&args.object)?;
    super::apply::runtime()?.block_on(async {
        let client = output::client(args.kubeconfig.as_deref()).await?;
        let served = resolve_kind(&client, &kind).await?;
        let api: Api<DynamicObject> = if served.namespaced {
            Api::namespaced_with(client.clone(), &args.namespace, &served.resource)
        } else {
            Api::all_with(client.clone(), &served.resource)
        };
        let kind = served.resource.kind.clone();
        let where_ = if served.namespaced {
            format!("{kind} {}/{name}", args.namespace)
        } else {
            format!("{kind} {name}")
        };
        let obj = api.get(&name).await.map_err(|e| {
            if output::is_not_found(&e) {
                anyhow!("{where_} not found")
            } else {
                anyhow!("failed to get {where_}: {e}")
            }
        })?;
        let labels = obj.labels();
        let (Some(ks_name), Some(ks_ns)) = (
            labels.get(OWNER_NAME_LABEL),
            labels.get(OWNER_NAMESPACE_LABEL),
        ) else {
            bail!(
                "failed to trace {where_}: object not managed by Flux (no {OWNER_NAME_LABEL} and \
                 {OWNER_NAMESPACE_LABEL} labels)"
            );
        };
        let ks = Api::<Kustomization>::namespaced(client.clone(), ks_ns)
            .get(ks_name)
            .await
            .map_err(|e| {
                anyhow!(
                    "failed to trace {where_}: failed to find Kustomization {ks_ns}/{ks_name}: {e}"
                )
            })?;
        let src = &ks.spec.source_ref;
        let repo = if src.kind == "GitRepository" {
            let ns = src.namespace.clone().unwrap_or_else(|| ks_ns.clone());
            Some(
                Api::<GitRepository>::namespaced(client.clone(), &ns)
                    .get(&src.name)
                    .await
                    .map_err(|e| {
                        anyhow!(
                            "failed to trace {where_}: failed to find GitRepository {ns}/{}: {e}",
                            src.name
                        )
                    })?,
            )
        } else {
            None
        };
        let traced = Traced {
            kind,
            name,
            namespace: if served.namespaced {
                args.namespace.clone()
            } else {
                String::new()
            },
        };
        print!("{}", render(&traced, &ks, repo.as_ref()));
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::source::{Artifact, GitRepositoryRef};

    #[test]
    fn object_is_given_as_kind_name_or_kind_slash_name() {
        let p = |a: &[&str]| parse_object(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            p(&["deploy", "web"]).expect("ok"),
            ("deploy".into(), "web".into())
        );
        assert_eq!(
            p(&["Deployment/web"]).expect("ok"),
            ("Deployment".into(), "web".into())
        );
        assert!(p(&["web"]).is_err());
        assert!(p(&["a/b", "c"]).is_err());
    }

    #[test]
    fn kinds_answer_to_plural_singular_short_names_and_group() {
        let r: k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResource =
            serde_json::from_value(serde_json::json!({
                "name": "deployments", "singularName": "deployment", "namespaced": true,
                "kind": "Deployment", "verbs": ["get"], "shortNames": ["deploy"]
            }))
            .expect("resource");
        for w in [
            "Deployment",
            "deployments",
            "deploy",
            "DEPLOYMENT",
            "deployment.apps",
        ] {
            assert!(answers_to(&r, "apps", w), "{w}");
        }
        assert!(!answers_to(&r, "apps", "deployment.batch"));
        assert!(!answers_to(&r, "apps", "pod"));
    }

    #[test]
    fn report_follows_flux_trace_layout() {
        let mut ks = Kustomization::new("apps", Default::default());
        ks.metadata.namespace = Some("flux-system".into());
        ks.spec.path = Some("./apps/development".into());
        let mut st = crate::api::KustomizationStatus {
            last_applied_revision: Some("main@sha1:abc".into()),
            ..Default::default()
        };
        condition::set(
            &mut st.conditions,
            READY,
            ConditionStatus::True,
            "ReconciliationSucceeded",
            "Applied revision: main@sha1:abc",
            None,
            "2026-01-01T00:00:00Z",
        );
        ks.status = Some(st);
        let mut repo = GitRepository::new("flux-system", Default::default());
        repo.metadata.namespace = Some("flux-system".into());
        repo.spec.url = "https://example.com/repo.git".into();
        repo.spec.reference = Some(GitRepositoryRef {
            branch: Some("main".into()),
            ..Default::default()
        });
        let mut rs = crate::api::GitRepositoryStatus {
            artifact: Some(Artifact {
                revision: "main@sha1:abc".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        condition::set(
            &mut rs.conditions,
            READY,
            ConditionStatus::False,
            "GitOperationFailed",
            "boom",
            None,
            "2026-01-01T00:00:01Z",
        );
        repo.status = Some(rs);
        let obj = Traced {
            kind: "Deployment".into(),
            name: "web".into(),
            namespace: "shop".into(),
        };
        assert_eq!(
            render(&obj, &ks, Some(&repo)),
            "\nObject:          Deployment/web\n\
             Namespace:       shop\n\
             Status:          Managed by Flux\n\
             ---\n\
             Kustomization:   apps\n\
             Namespace:       flux-system\n\
             Path:            ./apps/development\n\
             Revision:        main@sha1:abc\n\
             Status:          Last reconciled at 2026-01-01T00:00:00Z\n\
             Message:         Applied revision: main@sha1:abc\n\
             ---\n\
             GitRepository:   flux-system\n\
             Namespace:       flux-system\n\
             URL:             https://example.com/repo.git\n\
             Branch:          main\n\
             Revision:        main@sha1:abc\n\
             Status:          Last reconciliation failed at 2026-01-01T00:00:01Z\n\
             Message:         boom\n"
        );
    }
}
