//! `driftless diff DIR --name NAME [--namespace NS] [--prune] [--kubeconfig F]`: what an apply
//! would change, as unified diffs computed by server-side dry-run, with Secret values masked.
//!
//! Prints `► Kind/ns/name created|configured|drifted|deleted` and the diff for each changed
//! object. Exit 0 when nothing would change, 1 when something would, 2 on error.

use super::apply::{build_objects, runtime};
use crate::apply::{Action, Engine, Options, Owner};
use anyhow::{anyhow, Result};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The kustomization (or plain manifest) directory.
    pub dir: PathBuf,
    /// Owner name, as given to `driftless apply --name`.
    #[arg(long)]
    pub name: String,
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

/// Exit code when something would change.
const CHANGES: i32 = 1;
/// Exit code on error.
const FAILED: i32 = 2;

pub fn run(args: DiffArgs) -> i32 {
    match diff(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            FAILED
        }
    }
}

fn diff(args: DiffArgs) -> Result<i32> {
    let objects = build_objects(&args.dir)?;
    let mut opts = Options::new(Owner {
        name: args.name.clone(),
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
