//! `driftless tree ks NAME [-n NS] [--compact] [-o json|yaml] [--kubeconfig F]`: a
//! Kustomization's inventory as a tree, like `flux tree ks`.
//!
//! ```text
//!  Kustomization/flux-system/flux-system
//!  ├── ConfigMap/flux-system/cluster-vars
//!  ├── Kustomization/flux-system/apps          (inventory ids <ns>_<name>_<group>_<kind>)
//!  │   ├── Namespace/shop-development           child Kustomizations are expanded from
//!  │   └── Deployment/shop-development/frontend their own inventory, recursively
//!  └── Kustomization/flux-system/infrastructure
//! ```
//!
//! Entries keep the inventory's order. `--compact` keeps only `*.toolkit.fluxcd.io` objects.
//! `-o json|yaml` prints `{resource: {Namespace, Name, GroupKind: {Group, Kind}}, resources:
//! [...]}` as flux does. A child Kustomization that no longer exists is shown as a leaf; a
//! cycle is cut.

use super::output::{self, Format};
use crate::api::Kustomization;
use crate::apply::inventory::parse_id;
use anyhow::{anyhow, Result};
use kube::{Api, ResourceExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const KS_GROUP: &str = "kustomize.toolkit.fluxcd.io";

#[derive(clap::Args, Debug)]
pub struct TreeArgs {
    #[command(subcommand)]
    pub what: TreeWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum TreeWhat {
    /// The inventory of a Kustomization.
    #[command(visible_alias = "kustomization", alias = "kustomizations")]
    Ks(TreeKsArgs),
}

#[derive(clap::Args, Debug)]
pub struct TreeKsArgs {
    /// The Kustomization.
    pub name: String,
    /// Namespace of the Kustomization.
    #[arg(short = 'n', long, default_value = "flux-system")]
    pub namespace: String,
    /// Only Flux objects (`*.toolkit.fluxcd.io`).
    #[arg(long)]
    pub compact: bool,
    /// Output format (`table` is the text tree).
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// An object in the tree.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjMeta {
    pub namespace: String,
    pub name: String,
    pub group: String,
    pub kind: String,
}

impl ObjMeta {
    /// `Kind/ns/name`, or `Kind/name` for cluster-scoped objects (fluxcd/pkg `FmtObjMetadata`).
    pub fn text(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }

    fn is_kustomization(&self) -> bool {
        self.group == KS_GROUP && self.kind == "Kustomization"
    }
}

/// A node and its children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub obj: ObjMeta,
    pub children: Vec<Node>,
}

fn meta_of(ks: &Kustomization) -> ObjMeta {
    ObjMeta {
        namespace: ks.namespace().unwrap_or_default(),
        name: ks.name_any(),
        group: KS_GROUP.into(),
        kind: "Kustomization".into(),
    }
}

/// Builds the tree of `root` (pure): `all` holds the Kustomizations children are looked up in,
/// keyed by (namespace, name).
pub fn build(
    root: &Kustomization,
    all: &BTreeMap<(String, String), Kustomization>,
    compact: bool,
) -> Node {
    let mut visiting = BTreeSet::new();
    build_node(root, all, compact, &mut visiting)
}

fn build_node(
    ks: &Kustomization,
    all: &BTreeMap<(String, String), Kustomization>,
    compact: bool,
    visiting: &mut BTreeSet<ObjMeta>,
) -> Node {
    let me = meta_of(ks);
    visiting.insert(me.clone());
    let mut children = Vec::new();
    let entries = ks
        .status
        .as_ref()
        .and_then(|s| s.inventory.as_ref())
        .map(|i| i.entries.as_slice())
        .unwrap_or_default();
    for entry in entries {
        let Some(r) = parse_id(&entry.id, &entry.v) else {
            continue;
        };
        let obj = ObjMeta {
            namespace: r.namespace,
            name: r.name,
            group: r.group,
            kind: r.kind,
        };
        if compact && !obj.group.contains("toolkit.fluxcd.io") {
            continue;
        }
        if obj == me {
            continue;
        }
        let child = match all.get(&(obj.namespace.clone(), obj.name.clone())) {
            Some(k) if obj.is_kustomization() && !visiting.contains(&obj) => {
                build_node(k, all, compact, visiting)
            }
            _ => Node {
                obj,
                children: Vec::new(),
            },
        };
        children.push(child);
    }
    visiting.remove(&me);
    Node { obj: me, children }
}

/// The text tree with flux's box-drawing characters.
pub fn render(root: &Node) -> String {
    let mut out = root.obj.text();
    out.push('\n');
    render_children(&root.children, "", &mut out);
    out
}

fn render_children(children: &[Node], prefix: &str, out: &mut String) {
    for (i, c) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&c.obj.text());
        out.push('\n');
        if !c.children.is_empty() {
            let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
            render_children(&c.children, &deeper, out);
        }
    }
}

/// The JSON shape of `flux tree -o json`.
pub fn to_value(node: &Node) -> Value {
    let mut v = json!({
        "resource": {
            "Namespace": node.obj.namespace,
            "Name": node.obj.name,
            "GroupKind": {"Group": node.obj.group, "Kind": node.obj.kind},
        }
    });
    if !node.children.is_empty() {
        v["resources"] = Value::Array(node.children.iter().map(to_value).collect());
    }
    v
}

pub fn run(args: TreeArgs) -> Result<i32> {
    let TreeWhat::Ks(args) = args.what;
    super::apply::runtime()?.block_on(async {
        let client = output::client(args.kubeconfig.as_deref()).await?;
        let root = Api::<Kustomization>::namespaced(client.clone(), &args.namespace)
            .get(&args.name)
            .await
            .map_err(|e| {
                if output::is_not_found(&e) {
                    anyhow!("Kustomization {}/{} not found", args.namespace, args.name)
                } else {
                    anyhow!(
                        "failed to get Kustomization {}/{}: {e}",
                        args.namespace,
                        args.name
                    )
                }
            })?;
        let all: BTreeMap<(String, String), Kustomization> = Api::<Kustomization>::all(client)
            .list(&Default::default())
            .await
            .map_err(|e| anyhow!("failed to list Kustomizations: {e}"))?
            .items
            .into_iter()
            .map(|k| ((k.namespace().unwrap_or_default(), k.name_any()), k))
            .collect();
        let tree = build(&root, &all, args.compact);
        match args.output {
            Format::Table => print!("{}", render(&tree)),
            f => print!("{}", output::render_value(f, &to_value(&tree))?),
        }
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::kustomize::{ResourceInventory, ResourceRef};

    fn ks(name: &str, ids: &[&str]) -> Kustomization {
        let mut k = Kustomization::new(name, Default::default());
        k.metadata.namespace = Some("flux-system".into());
        k.status = Some(crate::api::KustomizationStatus {
            inventory: Some(ResourceInventory {
                entries: ids
                    .iter()
                    .map(|id| ResourceRef {
                        id: id.to_string(),
                        v: "v1".into(),
                    })
                    .collect(),
            }),
            ..Default::default()
        });
        k
    }

    fn index(list: Vec<Kustomization>) -> BTreeMap<(String, String), Kustomization> {
        list.into_iter()
            .map(|k| ((k.namespace().unwrap_or_default(), k.name_any()), k))
            .collect()
    }

    #[test]
    fn inventory_renders_as_a_box_drawn_tree_recursing_into_child_kustomizations() {
        let root = ks(
            "flux-system",
            &[
                "flux-system_cluster-vars__ConfigMap",
                "flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization",
                "flux-system_flux-system_kustomize.toolkit.fluxcd.io_Kustomization",
                "flux-system_infra_kustomize.toolkit.fluxcd.io_Kustomization",
            ],
        );
        let apps = ks(
            "apps",
            &[
                "_shop__Namespace",
                "shop_web_apps_Deployment",
                "shop_web__Service",
            ],
        );
        let infra = ks(
            "infra",
            &["_crds.example.com_apiextensions.k8s.io_CustomResourceDefinition"],
        );
        let all = index(vec![root.clone(), apps, infra]);
        let text = render(&build(&root, &all, false));
        assert_eq!(
            text,
            "Kustomization/flux-system/flux-system\n\
             ├── ConfigMap/flux-system/cluster-vars\n\
             ├── Kustomization/flux-system/apps\n\
             │   ├── Namespace/shop\n\
             │   ├── Deployment/shop/web\n\
             │   └── Service/shop/web\n\
             └── Kustomization/flux-system/infra\n\
             \x20   └── CustomResourceDefinition/crds.example.com\n"
        );
        let compact = render(&build(&root, &all, true));
        assert_eq!(
            compact,
            "Kustomization/flux-system/flux-system\n\
             ├── Kustomization/flux-system/apps\n\
             └── Kustomization/flux-system/infra\n"
        );
    }

    #[test]
    fn cycles_and_missing_children_do_not_recurse() {
        let a = ks(
            "a",
            &["flux-system_b_kustomize.toolkit.fluxcd.io_Kustomization"],
        );
        let b = ks(
            "b",
            &[
                "flux-system_a_kustomize.toolkit.fluxcd.io_Kustomization",
                "flux-system_gone_kustomize.toolkit.fluxcd.io_Kustomization",
            ],
        );
        let all = index(vec![a.clone(), b]);
        let text = render(&build(&a, &all, false));
        assert_eq!(
            text,
            "Kustomization/flux-system/a\n\
             └── Kustomization/flux-system/b\n\
             \x20   ├── Kustomization/flux-system/a\n\
             \x20   └── Kustomization/flux-system/gone\n"
        );
    }

    #[test]
    fn json_shape_matches_flux_tree() {
        let root = ks("apps", &["shop_web_apps_Deployment"]);
        let v = to_value(&build(&root, &index(vec![root.clone()]), false));
        assert_eq!(v["resource"]["Name"], "apps");
        assert_eq!(v["resource"]["GroupKind"]["Kind"], "Kustomization");
        assert_eq!(v["resources"][0]["resource"]["GroupKind"]["Group"], "apps");
        assert!(v["resources"][0].get("resources").is_none());
    }
}
