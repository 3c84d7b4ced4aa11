//! `driftless suspend|resume ks|kustomization NAME` and `driftless suspend|resume source git
//! NAME` (`[--all] [-n flux-system] [--timeout 5m] [--kubeconfig F]`), as `flux suspend` and
//! `flux resume` do.
//!
//! ```text
//!  suspend: PATCH spec.suspend=true ─► ✔ kustomization suspended (the agent stops reconciling)
//!  resume:  PATCH spec.suspend=false + requestedAt ─► ✔ kustomization resumed
//!           ─► wait for lastHandledReconcileAt and Ready (as `reconcile`)
//!           ─► ✔ applied revision main@sha1:… (exit 0) | ✗ <Ready message> (exit 1)
//! ```

use super::reconcile::{
    action, failure, get, request, success, wait_handled, waiting, Outcome, Target,
};
use anyhow::{anyhow, Result};
use kube::api::{ListParams, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct SuspendArgs {
    #[command(subcommand)]
    pub what: SuspendWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum SuspendWhat {
    /// Kustomizations.
    #[command(visible_alias = "kustomization")]
    Ks(SuspendOpts),
    /// Sources.
    Source(SuspendSourceArgs),
}

#[derive(clap::Args, Debug)]
pub struct SuspendSourceArgs {
    #[command(subcommand)]
    pub kind: SuspendSourceKind,
}

#[derive(clap::Subcommand, Debug)]
pub enum SuspendSourceKind {
    /// GitRepositories.
    Git(SuspendOpts),
}

#[derive(clap::Args, Debug)]
pub struct SuspendOpts {
    /// The object's name.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub name: Option<String>,
    /// Every object of the kind in the namespace.
    #[arg(long)]
    pub all: bool,
    /// The objects' namespace.
    #[arg(short = 'n', long, default_value = "flux-system")]
    pub namespace: String,
    /// resume: give up waiting after this long, e.g. `90s`, `5m`.
    #[arg(long, default_value = "5m", value_parser = super::apply::parse_duration)]
    pub timeout: Duration,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

impl SuspendArgs {
    fn parts(&self) -> (Target, &SuspendOpts) {
        match &self.what {
            SuspendWhat::Ks(o) => (Target::Kustomization, o),
            SuspendWhat::Source(s) => match &s.kind {
                SuspendSourceKind::Git(o) => (Target::GitRepository, o),
            },
        }
    }
}

/// The names to act on: the one given, or every object in the namespace (sorted).
async fn names(client: &kube::Client, target: Target, opts: &SuspendOpts) -> Result<Vec<String>> {
    if let Some(n) = &opts.name {
        return Ok(vec![n.clone()]);
    }
    let list = target
        .api(client, &opts.namespace)
        .list(&ListParams::default())
        .await?;
    let mut names: Vec<String> = list.items.iter().map(|o| o.name_any()).collect();
    names.sort();
    if names.is_empty() {
        anyhow::bail!(
            "no {} objects found in {} namespace",
            target.kind(),
            opts.namespace
        );
    }
    Ok(names)
}

fn finish(result: Result<bool>) -> Result<i32> {
    match result {
        Ok(true) => Ok(0),
        Ok(false) => Ok(1),
        Err(e) => {
            failure(&format!("{e:#}"));
            Ok(1)
        }
    }
}

/// `driftless suspend …`.
pub fn run_suspend(args: SuspendArgs) -> Result<i32> {
    let (target, opts) = args.parts();
    let result = super::apply::runtime()?.block_on(async {
        let client = crate::apply::engine::client_from_kubeconfig(opts.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow!(e))?;
        let api = target.api(&client, &opts.namespace);
        for name in names(&client, target, opts).await? {
            get(&api, target, &opts.namespace, &name).await?;
            action(&format!(
                "suspending {} {name} in {} namespace",
                target.human(),
                opts.namespace
            ));
            api.patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"suspend": true}})),
            )
            .await?;
            success(&format!("{} suspended", target.human()));
        }
        Ok(true)
    });
    finish(result)
}

/// `driftless resume …`: unsuspends, asks for a reconcile, and waits for it.
pub fn run_resume(args: SuspendArgs) -> Result<i32> {
    let (target, opts) = args.parts();
    let deadline = Instant::now() + opts.timeout;
    let result = super::apply::runtime()?.block_on(async {
        let client = crate::apply::engine::client_from_kubeconfig(opts.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow!(e))?;
        let api = target.api(&client, &opts.namespace);
        let mut requested = Vec::new();
        for name in names(&client, target, opts).await? {
            get(&api, target, &opts.namespace, &name).await?;
            action(&format!(
                "resuming {} {name} in {} namespace",
                target.human(),
                opts.namespace
            ));
            let at = request(&api, &name, Some(json!({"spec": {"suspend": false}}))).await?;
            success(&format!("{} resumed", target.human()));
            requested.push((name, at));
        }
        let mut ok = true;
        for (name, at) in requested {
            waiting(&format!("waiting for {} reconciliation", target.kind()));
            match wait_handled(&api, target, &opts.namespace, &name, &at, deadline).await? {
                Outcome::Ready(obj) => {
                    success(&format!("{} reconciliation completed", target.kind()));
                    success(&target.success_message(&obj));
                }
                other => {
                    ok &= super::reconcile::report(target, other)?;
                }
            }
        }
        Ok(ok)
    });
    finish(result)
}
