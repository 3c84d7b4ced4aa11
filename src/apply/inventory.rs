//! The inventory: which objects the last apply owned, in Flux's format, plus what driftless
//! needs to skip unchanged objects without a dry-run.
//!
//! ```text
//!  entry  { id: "<ns>_<name>_<group>_<kind>", v: "<version>", digest: "sha256:…", rv: "<resourceVersion>" }
//!  stale  = old ids − new ids, in reverse apply order (what prune deletes)
//! ```
//!
//! `id`/`v` are exactly Flux's `status.inventory.entries[]` (cli-utils `ObjMetadata`: for RBAC
//! kinds a `:` in the name is written `__`). `digest` is the sha256 of the normalized desired
//! object and `rv` the live resourceVersion right after driftless applied it; together they let a
//! re-apply tell an untouched object from a drifted one with a single LIST per kind. When only
//! the resourceVersion moved, `live` (a digest of the live object minus status and bookkeeping)
//! tells a controller's status update from someone's edit, still without a request.
//! `driftless apply` stores the whole thing as JSON in a ConfigMap (see `engine`). Pure.

use super::object::ObjRef;
use super::plan;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// One owned object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Flux id: `<ns>_<name>_<group>_<kind>`.
    pub id: String,
    /// API version the object was applied with (`v1`).
    pub v: String,
    /// sha256 of the normalized desired object, `sha256:<hex>`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// Live resourceVersion right after the last apply (or after the last check that found the
    /// object in sync).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rv: String,
    /// sha256 of the live object right after the last apply, without status, resourceVersion and
    /// managedFields (see `normalize::live_digest`): tells a status-only update (controllers bump
    /// resourceVersion constantly) from an edit.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub live: String,
}

impl Entry {
    /// The object this entry points to, or `None` for a malformed id.
    pub fn obj_ref(&self) -> Option<ObjRef> {
        parse_id(&self.id, &self.v)
    }
}

/// REST mapping remembered between runs so a no-op apply needs no discovery request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindMapping {
    /// Resource plural (`deployments`).
    pub plural: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
}

/// The set of objects one apply owns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Source revision of the last successful apply, if the caller knows one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revision: String,
    /// sha256 of the whole applied set (every entry's id and desired digest), so two applies
    /// of the same build are recognisable whatever their revision.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    pub entries: Vec<Entry>,
    /// `apiVersion/Kind` → REST mapping, for every kind in `entries`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kinds: BTreeMap<String, KindMapping>,
}

fn is_rbac(group: &str, kind: &str) -> bool {
    group == "rbac.authorization.k8s.io"
        && matches!(
            kind,
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
        )
}

/// Flux's inventory id of an object: `<ns>_<name>_<group>_<kind>`.
pub fn entry_id(r: &ObjRef) -> String {
    let name = if is_rbac(&r.group, &r.kind) {
        r.name.replace(':', "__")
    } else {
        r.name.clone()
    };
    format!("{}_{}_{}_{}", r.namespace, name, r.group, r.kind)
}

/// Parses an inventory id back into a ref (Kubernetes names, namespaces, groups and kinds never
/// contain `_`, so the split is unambiguous apart from the RBAC `__` escape).
pub fn parse_id(id: &str, version: &str) -> Option<ObjRef> {
    let mut right = id.rsplitn(3, '_');
    let kind = right.next()?;
    let group = right.next()?;
    let rest = right.next()?;
    let (namespace, name) = rest.split_once('_')?;
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    let name = if is_rbac(group, kind) {
        name.replace("__", ":")
    } else {
        name.to_string()
    };
    Some(ObjRef {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
        namespace: namespace.to_string(),
        name,
    })
}

impl Inventory {
    /// Looks up an entry by Flux id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// An index id → entry for many lookups.
    pub fn index(&self) -> BTreeMap<&str, &Entry> {
        self.entries.iter().map(|e| (e.id.as_str(), e)).collect()
    }

    /// Objects in `self` (the old inventory) that `new` no longer has, in prune (reverse apply)
    /// order. Entries with unreadable ids are ignored: they cannot be resolved to an object.
    pub fn stale(&self, new: &Inventory) -> Vec<ObjRef> {
        let keep: HashSet<&str> = new.entries.iter().map(|e| e.id.as_str()).collect();
        let mut out: Vec<ObjRef> = self
            .entries
            .iter()
            .filter(|e| !keep.contains(e.id.as_str()))
            .filter_map(Entry::obj_ref)
            .collect();
        plan::reverse_order(&mut out);
        out
    }

    /// The digest of the applied set: sha256 over the sorted `id=digest` lines of the entries.
    pub fn set_digest(&self) -> String {
        let mut lines: Vec<String> = self
            .entries
            .iter()
            .map(|e| format!("{}={}", e.id, e.digest))
            .collect();
        lines.sort();
        super::normalize::digest(&serde_json::Value::from(lines))
    }

    /// Sorts entries by id so the stored form is stable (and a no-op apply rewrites nothing).
    pub fn normalize(&mut self) {
        self.entries.sort_by(|a, b| a.id.cmp(&b.id));
        self.entries.dedup_by(|a, b| a.id == b.id);
    }

    /// The Flux `status.inventory` view: `{entries: [{id, v}]}`.
    pub fn to_flux_status(&self) -> serde_json::Value {
        let entries: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|e| serde_json::json!({"id": e.id, "v": e.v}))
            .collect();
        serde_json::json!({ "entries": entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(group: &str, kind: &str, ns: &str, name: &str) -> ObjRef {
        ObjRef {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    fn entry(r: &ObjRef) -> Entry {
        Entry {
            id: entry_id(r),
            v: r.version.clone(),
            digest: String::new(),
            rv: String::new(),
            live: String::new(),
        }
    }

    #[test]
    fn ids_match_flux_format() {
        assert_eq!(
            entry_id(&r("", "Service", "default", "podinfo")),
            "default_podinfo__Service"
        );
        assert_eq!(
            entry_id(&r("apps", "Deployment", "shop", "web")),
            "shop_web_apps_Deployment"
        );
        assert_eq!(
            entry_id(&r("", "Namespace", "", "shop")),
            "_shop__Namespace"
        );
    }

    #[test]
    fn rbac_colons_are_escaped_and_restored() {
        let cr = r(
            "rbac.authorization.k8s.io",
            "ClusterRole",
            "",
            "system:reader",
        );
        let id = entry_id(&cr);
        assert_eq!(id, "_system__reader_rbac.authorization.k8s.io_ClusterRole");
        assert_eq!(parse_id(&id, "v1"), Some(cr));
    }

    #[test]
    fn ids_round_trip() {
        for o in [
            r("apps", "Deployment", "shop", "web"),
            r("", "Namespace", "", "shop"),
            r("example.com", "Widget", "a", "w.x-1"),
        ] {
            assert_eq!(parse_id(&entry_id(&o), "v1"), Some(o));
        }
        assert_eq!(parse_id("garbage", "v1"), None);
    }

    #[test]
    fn stale_is_old_minus_new_in_reverse_apply_order() {
        let ns = r("", "Namespace", "", "shop");
        let cm = r("", "ConfigMap", "shop", "cfg");
        let dep = r("apps", "Deployment", "shop", "web");
        let kept = r("", "Service", "shop", "web");
        let old = Inventory {
            entries: vec![entry(&ns), entry(&cm), entry(&dep), entry(&kept)],
            ..Default::default()
        };
        let new = Inventory {
            entries: vec![entry(&kept)],
            ..Default::default()
        };
        assert_eq!(old.stale(&new), vec![dep, cm, ns]);
    }

    #[test]
    fn version_change_is_not_stale() {
        let mut v2 = r("example.com", "Widget", "a", "w");
        v2.version = "v2".into();
        let old = Inventory {
            entries: vec![entry(&r("example.com", "Widget", "a", "w"))],
            ..Default::default()
        };
        let new = Inventory {
            entries: vec![entry(&v2)],
            ..Default::default()
        };
        assert!(old.stale(&new).is_empty());
    }

    #[test]
    fn set_digest_depends_on_content_not_order() {
        let a = entry(&r("", "ConfigMap", "a", "c"));
        let mut b = entry(&r("", "Secret", "a", "s"));
        let one = Inventory {
            entries: vec![a.clone(), b.clone()],
            ..Default::default()
        };
        let two = Inventory {
            entries: vec![b.clone(), a.clone()],
            ..Default::default()
        };
        assert_eq!(one.set_digest(), two.set_digest());
        b.digest = "sha256:changed".into();
        let three = Inventory {
            entries: vec![a, b],
            ..Default::default()
        };
        assert_ne!(one.set_digest(), three.set_digest());
    }

    #[test]
    fn flux_status_view_has_only_id_and_version() {
        let mut e = entry(&r("", "ConfigMap", "a", "c"));
        e.digest = "sha256:00".into();
        let inv = Inventory {
            entries: vec![e],
            ..Default::default()
        };
        assert_eq!(
            inv.to_flux_status(),
            serde_json::json!({"entries":[{"id":"a_c__ConfigMap","v":"v1"}]})
        );
    }
}
