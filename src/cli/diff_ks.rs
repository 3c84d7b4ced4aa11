//! `driftless diff ks|kustomization NAME --path DIR [-n flux-system] [--timeout 5m]
//! [--kubeconfig F]`: what the agent would change if DIR were the Kustomization's source path,
//! like `flux diff ks`.
//!
//! ```text
//!  GET Kustomization ─► postBuild vars (substitute + substituteFrom, read from the cluster)
//!  DIR ─► controller build (targetNamespace, namePrefix/Suffix, patches, images, components,
//!         commonMetadata, postBuild) ─► engine dry-run (server-side apply, owner = the
//!         Kustomization, previous inventory = its status) ─► ChangeSet + diffs
//!  ► Kind/ns/name created | drifted (+ unified diff, Secret values masked) | deleted (prune)
//! ```
//!
//! Exit 0 when nothing would change, 1 when something would, 2 on error. Nothing is written.

use super::diff::{CHANGES, FAILED};
use crate::api::Kustomization;
use crate::apply::inventory::{Entry, Inventory};
use crate::apply::{plan, Action, Engine, ObjRef, Options, Owner, Report};
use crate::controller::kustomization::{build_objects, substitution_vars};
use anyhow::{anyhow, bail, Result};
use kube::Api;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct DiffKsArgs {
    /// The Kustomization's name.
    pub name: String,
    /// The local directory to build in place of the Kustomization's `spec.path`.
    #[arg(long)]
    pub path: PathBuf,
    /// The Kustomization's namespace.
    #[arg(short = 'n', long, default_value = "flux-system")]
    pub namespace: String,
    /// Give up after this long, e.g. `90s`, `5m`.
    #[arg(long, default_value = "5m", value_parser = super::apply::parse_duration)]
    pub timeout: Duration,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

pub fn run(args: DiffKsArgs) -> i32 {
    match diff(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("✗ {e:#}");
            FAILED
        }
    }
}

/// The previous inventory as the Kustomization's status records it (ids and versions only, so
/// every listed object is compared by a dry-run).
fn status_inventory(ks: &Kustomization) -> Inventory {
    let entries = ks
        .status
        .as_ref()
        .and_then(|s| s.inventory.as_ref())
        .map(|i| {
            i.entries
                .iter()
                .map(|e| Entry {
                    id: e.id.clone(),
                    v: e.v.clone(),
                    digest: String::new(),
                    rv: String::new(),
                    live: String::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    Inventory {
        entries,
        ..Default::default()
    }
}

/// Builds `args.path` as the agent would build the Kustomization, and dry-runs it.
async fn dry_run(args: &DiffKsArgs) -> Result<Report> {
    let client = crate::apply::engine::client_from_kubeconfig(args.kubeconfig.as_deref())
        .await
        .map_err(|e| anyhow!(e))?;
    let api: Api<Kustomization> = Api::namespaced(client.clone(), &args.namespace);
    let ks = api
        .get_opt(&args.name)
        .await
        .map_err(|e| anyhow!("failed to get kustomization object: {e}"))?
        .ok_or_else(|| {
            anyhow!(
                "failed to get kustomization object: Kustomization '{}/{}' not found",
                args.namespace,
                args.name
            )
        })?;
    if !args.path.is_dir() {
        bail!(
            "invalid resource path {:?}",
            args.path.display().to_string()
        );
    }
    let vars = substitution_vars(&client, &ks)
        .await
        .map_err(|e| anyhow!(e.message))?;
    let mut spec = ks.spec.clone();
    spec.path = None;
    let dir = args.path.clone();
    let scratch =
        std::env::temp_dir().join(format!("driftless-diff-ks-{:016x}", fastrand::u64(..)));
    let objects = tokio::task::spawn_blocking(move || {
        let res = build_objects(&dir, &spec, &vars, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        res
    })
    .await
    .map_err(|e| anyhow!("build aborted: {e}"))?
    .map_err(|e| anyhow!("build failed: {e}"))?;

    let mut opts = Options::new(Owner {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
    });
    opts.dry_run = true;
    opts.diff = true;
    opts.prune = ks.spec.prune;
    opts.timeout = args.timeout;
    opts.store_inventory = false;
    opts.agent_namespace = Some(crate::controller::Config::default().agent_namespace);
    let old = status_inventory(&ks);
    let mut engine = Engine::new(client);
    let mut report = Report::default();
    tokio::time::timeout(
        args.timeout,
        engine.apply_with_inventory(objects, &old, &opts, &mut report),
    )
    .await
    .map_err(|_| anyhow!("timeout after {:?} while diffing", args.timeout))?;
    Ok(report)
}

/// Flux's lines for a dry-run: `► X created`, `► X drifted` + diff, `► X deleted`.
pub fn render(report: &Report) -> (String, bool) {
    let diffs: HashMap<&str, &str> = report
        .diffs
        .iter()
        .filter_map(|d| {
            let title = d.lines().next()?.strip_prefix("--- live/")?;
            Some((title, d.as_str()))
        })
        .collect();
    let mut out = String::new();
    // Pruned objects last, in apply order as Flux lists them (the engine prunes in reverse).
    let mut deleted: Vec<&ObjRef> = Vec::new();
    for c in &report.changes.changes {
        let title = c.object.to_string();
        match c.action {
            Action::Created => out.push_str(&format!("► {title} created\n")),
            Action::Configured | Action::Drifted => {
                out.push_str(&format!("► {title} drifted\n"));
                if let Some(d) = diffs.get(title.as_str()) {
                    out.push_str(d);
                }
            }
            Action::Deleted => deleted.push(&c.object),
            Action::Unchanged | Action::Skipped(_) => {}
        }
    }
    deleted.sort_by(|a, b| plan::compare(a, b));
    for d in deleted {
        out.push_str(&format!("► {d} deleted\n"));
    }
    let changed = !out.is_empty();
    (out, changed)
}

fn diff(args: &DiffKsArgs) -> Result<i32> {
    let report = super::apply::runtime()?.block_on(dry_run(args))?;
    if !report.is_success() {
        for e in &report.errors {
            eprintln!("✗ {e}");
        }
        return Ok(FAILED);
    }
    let (out, changed) = render(&report);
    print!("{out}");
    Ok(if changed { CHANGES } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, name: &str) -> ObjRef {
        ObjRef::from_object(&json!({"apiVersion": "v1", "kind": kind,
            "metadata": {"name": name, "namespace": "shop"}}))
        .unwrap()
    }

    #[test]
    fn render_uses_flux_words_and_shows_diffs_only_for_drift() {
        let mut r = Report::default();
        r.changes.push(obj("ConfigMap", "a"), Action::Unchanged);
        r.changes.push(obj("ConfigMap", "b"), Action::Configured);
        r.changes.push(obj("ConfigMap", "c"), Action::Created);
        r.changes.push(obj("Service", "d"), Action::Deleted);
        r.changes.push(obj("ConfigMap", "e"), Action::Deleted);
        r.diffs
            .push("--- live/ConfigMap/shop/b\n+++ desired/ConfigMap/shop/b\n-x\n+y\n".into());
        r.diffs
            .push("--- live/ConfigMap/shop/c\n+++ desired/ConfigMap/shop/c\n+z\n".into());
        let (out, changed) = render(&r);
        assert!(changed);
        assert_eq!(
            out,
            "► ConfigMap/shop/b drifted\n--- live/ConfigMap/shop/b\n+++ desired/ConfigMap/shop/b\n\
             -x\n+y\n► ConfigMap/shop/c created\n► ConfigMap/shop/e deleted\n\
             ► Service/shop/d deleted\n"
        );
    }

    #[test]
    fn nothing_to_render_when_unchanged() {
        let mut r = Report::default();
        r.changes.push(obj("ConfigMap", "a"), Action::Unchanged);
        assert_eq!(render(&r), (String::new(), false));
    }
}
