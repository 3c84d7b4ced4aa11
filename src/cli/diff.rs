//! `driftless diff DIR --name NAME [--namespace NS] [--prune] [--kubeconfig F]`: what an apply
//! would change, as unified diffs computed by server-side dry-run, with Secret values masked.
//!
//! Prints `► Kind/ns/name created|configured|drifted|deleted` and the diff for each changed
//! object. Exit 0 when nothing would change, 1 when something would, 2 on error.
//!
//! `driftless diff ks NAME --path DIR` (Flux's `flux diff ks`) lives in `diff_ks.rs`; `ks` and
//! `kustomization` as the first word select it.

use super::apply::{build_objects, runtime};
use crate::apply::{Action, Engine, Options, Owner};
use anyhow::{anyhow, Result};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DiffArgs {
    #[command(subcommand)]
    pub what: Option<DiffWhat>,
    /// The kustomization (or plain manifest) directory.
    #[arg(required = true)]
    pub dir: Option<PathBuf>,
    /// Owner name, as given to `driftless apply --name`.
    #[arg(long, required = true)]
    pub name: Option<String>,
    /// Namespace of the inventory ConfigMap, as given to `driftless apply --namespace`.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// Also show the objects `apply --prune` would delete.
    #[arg(long)]
    pub prune: bool,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
pub enum DiffWhat {
    /// Diff a local directory against a Kustomization in the cluster (like `flux diff ks`).
    #[command(visible_alias = "kustomization")]
    Ks(super::diff_ks::DiffKsArgs),
}

/// Exit code when something would change.
pub(crate) const CHANGES: i32 = 1;
/// Exit code on error.
pub(crate) const FAILED: i32 = 2;

pub fn run(args: DiffArgs) -> i32 {
    if let Some(DiffWhat::Ks(ks)) = args.what {
        return super::diff_ks::run(ks);
    }
    match diff(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            FAILED
        }
    }
}

fn diff(args: DiffArgs) -> Result<i32> {
    let (Some(dir), Some(name)) = (&args.dir, &args.name) else {
        return Err(anyhow!(
            "diff needs DIR and --name (or `diff ks NAME --path DIR`)"
        ));
    };
    let objects = build_objects(dir)?;
    let mut opts = Options::new(Owner {
        name: name.clone(),
        namespace: args.namespace.clone(),
    });
    opts.dry_run = true;
    opts.diff = true;
    opts.prune = args.prune;
    let report = runtime()?.block_on(async {
        let client = crate::apply::engine::client_from_kubeconfig(args.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow!(e))?;
        let mut engine = Engine::new(client);
        Ok::<_, anyhow::Error>(engine.apply(objects, &opts).await)
    })?;
    if !report.is_success() {
        for e in &report.errors {
            eprintln!("error: {e}");
        }
        return Ok(FAILED);
    }
    let mut changed = false;
    for c in &report.changes.changes {
        if matches!(c.action, Action::Unchanged | Action::Skipped(_)) {
            continue;
        }
        changed = true;
        println!("► {c}");
    }
    for d in &report.diffs {
        print!("{d}");
    }
    Ok(if changed { CHANGES } else { 0 })
}
