//! REST mapping: which URL serves a kind, and whether it is namespaced.
//!
//! ```text
//!  lookup (group, version, kind)
//!    1. cache: built-in kinds (static table) + CRDs in the objects being applied
//!              + mappings remembered in the inventory from the last run
//!    2. miss ──► GET /api/v1 or /apis/<group>/<version> (once per group-version until
//!                invalidated) ──► cache
//!    3. still missing ──► Error::UnknownKind naming the object and the missing CRD
//! ```
//!
//! A no-op apply therefore sends no discovery request at all. Applying a CRD invalidates what
//! was fetched for its group, so a changed CRD is seen on the next lookup.

use super::error::{Error, Result};
use super::inventory::KindMapping;
use super::object::ObjRef;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Built-in kinds that every supported Kubernetes version (1.25+) serves:
/// (apiVersion, kind, plural, namespaced).
const BUILTIN: &[(&str, &str, &str, bool)] = &[
    ("v1", "ConfigMap", "configmaps", true),
    ("v1", "Endpoints", "endpoints", true),
    ("v1", "Event", "events", true),
    ("v1", "LimitRange", "limitranges", true),
    ("v1", "Namespace", "namespaces", false),
    ("v1", "Node", "nodes", false),
    ("v1", "PersistentVolume", "persistentvolumes", false),
    (
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    ("v1", "Pod", "pods", true),
    (
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        true,
    ),
    ("v1", "ResourceQuota", "resourcequotas", true),
    ("v1", "Secret", "secrets", true),
    ("v1", "Service", "services", true),
    ("v1", "ServiceAccount", "serviceaccounts", true),
    ("apps/v1", "DaemonSet", "daemonsets", true),
    ("apps/v1", "Deployment", "deployments", true),
    ("apps/v1", "ReplicaSet", "replicasets", true),
    ("apps/v1", "StatefulSet", "statefulsets", true),
    ("batch/v1", "CronJob", "cronjobs", true),
    ("batch/v1", "Job", "jobs", true),
    (
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    (
        "policy/v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
    ("networking.k8s.io/v1", "Ingress", "ingresses", true),
    (
        "networking.k8s.io/v1",
        "IngressClass",
        "ingressclasses",
        false,
    ),
    (
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    ("storage.k8s.io/v1", "StorageClass", "storageclasses", false),
    ("storage.k8s.io/v1", "CSIDriver", "csidrivers", false),
    (
        "scheduling.k8s.io/v1",
        "PriorityClass",
        "priorityclasses",
        false,
    ),
    ("node.k8s.io/v1", "RuntimeClass", "runtimeclasses", false),
    ("coordination.k8s.io/v1", "Lease", "leases", true),
    (
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
];

/// `apiVersion/Kind`, the cache key (also used in the inventory's `kinds`).
pub fn kind_key(api_version: &str, kind: &str) -> String {
    format!("{api_version}/{kind}")
}

/// The REST mapping cache.
#[derive(Debug, Clone)]
pub struct Discovery {
    map: HashMap<String, KindMapping>,
    /// Group-versions already fetched from the server (a miss there is a real miss).
    fetched: HashSet<String>,
    /// Kinds known only from a CRD in the current apply (may not be served yet).
    pending_crd: HashSet<String>,
}

impl Default for Discovery {
    fn default() -> Self {
        let map = BUILTIN
            .iter()
            .map(|(av, k, p, ns)| {
                (
                    kind_key(av, k),
                    KindMapping {
                        plural: p.to_string(),
                        namespaced: *ns,
                    },
                )
            })
            .collect();
        Discovery {
            map,
            fetched: HashSet::new(),
            pending_crd: HashSet::new(),
        }
    }
}

impl Discovery {
    /// Remembers mappings stored with an inventory.
    pub fn learn(&mut self, kinds: &BTreeMap<String, KindMapping>) {
        for (k, m) in kinds {
            self.map.entry(k.clone()).or_insert_with(|| m.clone());
        }
    }

    /// Learns the kinds a CRD object defines (every served version).
    pub fn learn_crd(&mut self, crd: &Value) {
        let Some(spec) = crd.get("spec") else { return };
        let group = spec.get("group").and_then(Value::as_str).unwrap_or("");
        let kind = spec
            .pointer("/names/kind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let plural = spec
            .pointer("/names/plural")
            .and_then(Value::as_str)
            .unwrap_or("");
        if group.is_empty() || kind.is_empty() || plural.is_empty() {
            return;
        }
        let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
        for v in spec
            .get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if v.get("served").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            if let Some(name) = v.get("name").and_then(Value::as_str) {
                let key = kind_key(&format!("{group}/{name}"), kind);
                self.map.insert(
                    key.clone(),
                    KindMapping {
                        plural: plural.to_string(),
                        namespaced,
                    },
                );
                self.pending_crd.insert(key);
            }
        }
        self.fetched
            .retain(|gv| gv.rsplit_once('/').map(|(g, _)| g) != Some(group));
    }

    /// True when the kind is known only from a CRD being applied right now.
    pub fn is_pending_crd(&self, r: &ObjRef) -> bool {
        self.pending_crd
            .contains(&kind_key(&r.api_version(), &r.kind))
    }

    /// The cached mapping, without asking the server.
    pub fn cached(&self, r: &ObjRef) -> Option<&KindMapping> {
        self.map.get(&kind_key(&r.api_version(), &r.kind))
    }

    /// Resolves a kind, asking the server once per group-version on a cache miss.
    pub async fn resolve(&mut self, client: &kube::Client, r: &ObjRef) -> Result<KindMapping> {
        if let Some(m) = self.cached(r) {
            return Ok(m.clone());
        }
        let gv = r.api_version();
        if self.fetched.insert(gv.clone()) {
            let listed = if r.group.is_empty() {
                client.list_core_api_resources(&r.version).await
            } else {
                client.list_api_group_resources(&gv).await
            };
            match listed {
                Ok(list) => {
                    for res in list.resources {
                        if res.name.contains('/') {
                            continue; // subresources such as deployments/status
                        }
                        self.map
                            .entry(kind_key(&gv, &res.kind))
                            .or_insert(KindMapping {
                                plural: res.name,
                                namespaced: res.namespaced,
                            });
                    }
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(source) => {
                    self.fetched.remove(&gv);
                    return Err(Error::Transport {
                        action: "discover",
                        object: gv,
                        source,
                    });
                }
            }
        }
        self.cached(r).cloned().ok_or_else(|| Error::UnknownKind {
            object: r.clone(),
            api_version: gv,
            kind: r.kind.clone(),
        })
    }

    /// Mappings of the given refs, for storing with the inventory.
    pub fn mappings_for<'a>(
        &self,
        refs: impl Iterator<Item = &'a ObjRef>,
    ) -> BTreeMap<String, KindMapping> {
        let mut out = BTreeMap::new();
        for r in refs {
            let key = kind_key(&r.api_version(), &r.kind);
            if let Some(m) = self.map.get(&key) {
                out.insert(key, m.clone());
            }
        }
        out
    }
}

/// The collection URL of a kind (`/apis/apps/v1/namespaces/shop/deployments`); `namespace` is
/// ignored for cluster-scoped kinds and `None` lists across all namespaces.
pub fn collection_url(r: &ObjRef, m: &KindMapping, namespace: Option<&str>) -> String {
    let base = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    match namespace {
        Some(ns) if m.namespaced && !ns.is_empty() => {
            format!("{base}/namespaces/{ns}/{}", m.plural)
        }
        _ => format!("{base}/{}", m.plural),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(av: &str, kind: &str) -> ObjRef {
        let (g, v) = super::super::object::split_api_version(av);
        ObjRef {
            group: g.into(),
            version: v.into(),
            kind: kind.into(),
            namespace: "a".into(),
            name: "x".into(),
        }
    }

    #[test]
    fn knows_builtin_kinds_without_asking() {
        let d = Discovery::default();
        let m = d.cached(&r("apps/v1", "Deployment")).unwrap();
        assert_eq!((m.plural.as_str(), m.namespaced), ("deployments", true));
        assert!(!d.cached(&r("v1", "Namespace")).unwrap().namespaced);
        assert!(d.cached(&r("example.com/v1", "Widget")).is_none());
    }

    #[test]
    fn learns_kinds_from_crd_objects() {
        let mut d = Discovery::default();
        d.learn_crd(&json!({"spec":{"group":"example.com","scope":"Cluster",
            "names":{"kind":"Widget","plural":"widgets"},
            "versions":[{"name":"v1","served":true},{"name":"v0","served":false}]}}));
        let w = r("example.com/v1", "Widget");
        assert_eq!(
            d.cached(&w),
            Some(&KindMapping {
                plural: "widgets".into(),
                namespaced: false
            })
        );
        assert!(d.is_pending_crd(&w));
        assert!(d.cached(&r("example.com/v0", "Widget")).is_none());
    }

    #[test]
    fn builds_collection_urls() {
        let m = KindMapping {
            plural: "deployments".into(),
            namespaced: true,
        };
        assert_eq!(
            collection_url(&r("apps/v1", "Deployment"), &m, Some("shop")),
            "/apis/apps/v1/namespaces/shop/deployments"
        );
        assert_eq!(
            collection_url(&r("apps/v1", "Deployment"), &m, None),
            "/apis/apps/v1/deployments"
        );
        let m = KindMapping {
            plural: "namespaces".into(),
            namespaced: false,
        };
        assert_eq!(
            collection_url(&r("v1", "Namespace"), &m, Some("x")),
            "/api/v1/namespaces"
        );
    }
}
