//! kustomize's legacy output order (`--reorder legacy`, the CLI default) and custom
//! `sortOptions.legacySortOptions`.
//!
//! The comparator is kustomize's `SortOrderTransformer` legacy sorter:
//!
//! ```text
//!  different GVK:  rank(kind) (orderFirst negative, unknown 0, orderLast positive)
//!                  then "group_version_kind" with ~G/~V/~K for empty parts, byte-wise
//!                  (reversed when both are Namespace and one of them is in the core group)
//!  same GVK:       "namespace|name" with ~X/~N for empty parts, byte-wise
//! ```
//!
//! Keys are computed once per resource; the permutation is then applied in place.

use super::kustomization::LegacySortOptions;
use super::resource::Resource;
use foldhash::{HashMap, HashMapExt};
use std::cmp::Ordering;

/// kustomize's default `orderFirst` ("DO NOT CHANGE" upstream).
pub const DEFAULT_ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// kustomize's default `orderLast`.
pub const DEFAULT_ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The per-resource sort key, computed once.
struct Key {
    rank: i64,
    group: String,
    version: String,
    kind: String,
    /// `group_version_kind` with `~G`/`~V`/`~K` placeholders.
    gvk: String,
    /// `namespace|name` with `~X`/`~N` placeholders.
    id: String,
}

/// Kind → rank, as kustomize builds it (later entries overwrite earlier ones).
fn type_orders<'a>(first: &[&'a str], last: &[&'a str]) -> HashMap<&'a str, i64> {
    let mut m = HashMap::new();
    let n = first.len() as i64;
    for (i, k) in first.iter().enumerate() {
        m.insert(*k, -n + i as i64);
    }
    for (i, k) in last.iter().enumerate() {
        m.insert(*k, 1 + i as i64);
    }
    m
}

fn or<'a>(s: &'a str, placeholder: &'a str) -> &'a str {
    if s.is_empty() {
        placeholder
    } else {
        s
    }
}

fn key(r: &Resource, orders: &HashMap<&str, i64>) -> Key {
    let gvk = r.gvk();
    let rank = orders.get(gvk.kind.as_str()).copied().unwrap_or(0);
    let gvk_s = format!(
        "{}_{}_{}",
        or(&gvk.group, "~G"),
        or(&gvk.version, "~V"),
        or(&gvk.kind, "~K")
    );
    let id = format!("{}|{}", or(r.namespace(), "~X"), or(r.name(), "~N"));
    Key {
        rank,
        group: gvk.group,
        version: gvk.version,
        kind: gvk.kind,
        gvk: gvk_s,
        id,
    }
}

fn compare(a: &Key, b: &Key) -> Ordering {
    let same_gvk = a.group == b.group && a.version == b.version && a.kind == b.kind;
    if same_gvk {
        return a.id.cmp(&b.id);
    }
    if a.rank != b.rank {
        return a.rank.cmp(&b.rank);
    }
    if a.kind == "Namespace" && b.kind == "Namespace" && (a.group.is_empty() || b.group.is_empty())
    {
        return b.gvk.cmp(&a.gvk);
    }
    a.gvk.cmp(&b.gvk)
}

/// Sorts in place with kustomize's legacy comparator. `opts` (the root kustomization's
/// `sortOptions.legacySortOptions`) replaces the default kind lists when given.
pub fn legacy_sort(resources: &mut [Resource], opts: Option<&LegacySortOptions>) {
    let orders = match opts {
        Some(o) => {
            let first: Vec<&str> = o.order_first.iter().map(String::as_str).collect();
            let last: Vec<&str> = o.order_last.iter().map(String::as_str).collect();
            type_orders(&first, &last)
        }
        None => type_orders(DEFAULT_ORDER_FIRST, DEFAULT_ORDER_LAST),
    };
    let keys: Vec<Key> = resources.iter().map(|r| key(r, &orders)).collect();
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.sort_by(|&i, &j| compare(&keys[i], &keys[j]));
    // dest[old index] = new index; then move every element to its destination by swaps.
    let mut dest = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        dest[old] = new;
    }
    for i in 0..dest.len() {
        while dest[i] != i {
            let j = dest[i];
            resources.swap(i, j);
            dest.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Map, Value};
    use std::sync::Arc;

    fn res(api: &str, kind: &str, name: &str, ns: &str) -> Resource {
        let mut md = Map::default();
        md.insert("name".into(), Value::str(name));
        if !ns.is_empty() {
            md.insert("namespace".into(), Value::str(ns));
        }
        let mut m = Map::default();
        m.insert("apiVersion".into(), Value::str(api));
        m.insert("kind".into(), Value::str(kind));
        m.insert("metadata".into(), Value::Map(md));
        Resource::new(Value::Map(m), Arc::from("all.yaml"), 1)
    }

    /// The documents of the oracle experiment, in file (FIFO) order.
    fn ex4() -> Vec<Resource> {
        vec![
            res(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "vwc",
                "",
            ),
            res("example.com/v1", "Zebra", "z", ""),
            res("example.com/v1", "Apple", "a", ""),
            res("apps/v1", "Deployment", "d", "a"),
            res("apps/v1", "Deployment", "d", "a-b"),
            res("apps/v1", "Deployment", "d", ""),
            res("v1", "Service", "svc", ""),
            res("v1", "Namespace", "ns1", ""),
            res("foo.io/v1", "Namespace", "ns2", ""),
            res("aaa.io/v1", "Namespace", "ns3", ""),
            res("networking.k8s.io/v1", "Ingress", "ing", ""),
            res("batch/v1", "Job", "job", ""),
            res("v1", "ConfigMap", "cm", ""),
            res("v1", "Thing", "t", ""),
            res("apps/v1beta1", "Deployment", "d", ""),
        ]
    }

    fn names(rs: &[Resource]) -> Vec<String> {
        rs.iter()
            .map(|r| format!("{}/{}", r.api_version(), r.id().display()))
            .collect()
    }

    #[test]
    fn legacy_order_matches_kubectl_kustomize() {
        let mut rs = ex4();
        legacy_sort(&mut rs, None);
        // Output of `kubectl kustomize` on the same documents.
        assert_eq!(
            names(&rs),
            [
                "v1/Namespace/ns1",
                "aaa.io/v1/Namespace/ns3",
                "foo.io/v1/Namespace/ns2",
                "v1/ConfigMap/cm",
                "v1/Service/svc",
                "apps/v1/Deployment/a-b/d",
                "apps/v1/Deployment/a/d",
                "apps/v1/Deployment/d",
                "apps/v1beta1/Deployment/d",
                "batch/v1/Job/job",
                "example.com/v1/Apple/a",
                "example.com/v1/Zebra/z",
                "networking.k8s.io/v1/Ingress/ing",
                "v1/Thing/t",
                "admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration/vwc",
            ]
        );
    }

    #[test]
    fn custom_legacy_sort_options_replace_the_default_lists() {
        // ex4 of the spec: orderFirst [Service], orderLast [Namespace].
        let mut rs = vec![
            res(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "vwc",
                "",
            ),
            res("example.com/v1", "Zebra", "z", ""),
            res("example.com/v1", "Apple", "a", ""),
            res("apps/v1", "Deployment", "d", "a"),
            res("apps/v1", "Deployment", "d", "a-b"),
            res("apps/v1", "Deployment", "d", ""),
            res("v1", "Service", "svc", ""),
            res("v1", "Namespace", "ns1", ""),
            res("networking.k8s.io/v1", "Ingress", "ing", ""),
            res("batch/v1", "Job", "job", ""),
            res("v1", "ConfigMap", "cm", ""),
            res("v1", "ConfigMap", "from-list", ""),
        ];
        let opts = LegacySortOptions {
            order_first: vec!["Service".into()],
            order_last: vec!["Namespace".into()],
        };
        legacy_sort(&mut rs, Some(&opts));
        let got: Vec<&str> = rs.iter().map(|r| r.name()).collect();
        assert_eq!(
            got,
            [
                "svc",
                "vwc",
                "d",
                "d",
                "d",
                "job",
                "a",
                "z",
                "ing",
                "cm",
                "from-list",
                "ns1"
            ]
        );
    }

    #[test]
    fn repeated_kinds_in_sort_lists_take_their_last_position() {
        // Checked with kubectl kustomize: Widget ranks by its second orderFirst entry, Pod by
        // its orderLast entry.
        let mut rs = vec![
            res("v1", "ConfigMap", "cm", ""),
            res("v1", "Pod", "pod", ""),
            res("v1", "Namespace", "ns", ""),
            res("example.com/v1", "Widget", "w", ""),
            res("apps/v1", "Deployment", "d", ""),
        ];
        let opts = LegacySortOptions {
            order_first: ["Widget", "Namespace", "Pod", "Widget"]
                .map(String::from)
                .to_vec(),
            order_last: ["ConfigMap", "Pod"].map(String::from).to_vec(),
        };
        legacy_sort(&mut rs, Some(&opts));
        let got: Vec<&str> = rs.iter().map(|r| r.name()).collect();
        assert_eq!(got, ["ns", "w", "d", "cm", "pod"]);
    }

    #[test]
    fn namespace_with_hyphen_sorts_before_shorter_prefix_and_empty_namespace_last() {
        let mut rs = vec![
            res("apps/v1", "Deployment", "d", ""),
            res("apps/v1", "Deployment", "d", "a"),
            res("apps/v1", "Deployment", "d", "a-b"),
        ];
        legacy_sort(&mut rs, None);
        let got: Vec<&str> = rs.iter().map(|r| r.namespace()).collect();
        assert_eq!(got, ["a-b", "a", ""]);
    }

    #[test]
    fn same_kind_sorts_by_name_bytewise() {
        let mut rs = vec![
            res("v1", "ConfigMap", "b", ""),
            res("v1", "ConfigMap", "B", ""),
            res("v1", "ConfigMap", "a-1", ""),
            res("v1", "ConfigMap", "a", ""),
        ];
        legacy_sort(&mut rs, None);
        let got: Vec<&str> = rs.iter().map(|r| r.name()).collect();
        assert_eq!(got, ["B", "a", "a-1", "b"]);
    }

    #[test]
    fn empty_sort_lists_order_purely_by_gvk_string() {
        let mut rs = vec![
            res("v1", "Namespace", "n", ""),
            res("apps/v1", "Deployment", "d", ""),
            res("v1", "ConfigMap", "c", ""),
        ];
        legacy_sort(&mut rs, Some(&LegacySortOptions::default()));
        let got: Vec<&str> = rs.iter().map(|r| r.kind()).collect();
        assert_eq!(got, ["Deployment", "ConfigMap", "Namespace"]);
    }
}
