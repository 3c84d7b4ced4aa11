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
    action, exit_code, get, request, success, wait_handled, waiting, ClusterOpts, Outcome, Target,
};
use anyhow::Result;
use kube::api::{ListParams, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::json;
use std::time::Instant;

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
    /// Namespace, kubeconfig, and (resume) how long to wait.
    #[command(flatten)]
    pub cluster: ClusterOpts,
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
    let ns = &opts.cluster.namespace;
    let list = target.api(client, ns).list(&ListParams::default()).await?;
    let mut names: Vec<String> = list.items.iter().map(|o| o.name_any()).collect();
    names.sort();
    if names.is_empty() {
        anyhow::bail!("no {} objects found in {ns} namespace", target.kind());
    }
    Ok(names)
}

/// `driftless suspend …`.
pub fn run_suspend(args: SuspendArgs) -> Result<i32> {
    let (target, opts) = args.parts();
    let ns = &opts.cluster.namespace;
    exit_code(async {
        let client = opts.cluster.client().await?;
        let api = target.api(&client, ns);
        for name in names(&client, target, opts).await? {
            get(&api, target, ns, &name).await?;
            action(&format!(
                "suspending {} {name} in {ns} namespace",
                target.human(),
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
    })
}

/// `driftless resume …`: unsuspends, asks for a reconcile, and waits for it.
pub fn run_resume(args: SuspendArgs) -> Result<i32> {
    let (target, opts) = args.parts();
    let deadline = Instant::now() + opts.cluster.timeout;
    let ns = &opts.cluster.namespace;
    exit_code(async {
        let client = opts.cluster.client().await?;
        let api = target.api(&client, ns);
        let mut requested = Vec::new();
        for name in names(&client, target, opts).await? {
            get(&api, target, ns, &name).await?;
            action(&format!(
                "resuming {} {name} in {ns} namespace",
                target.human(),
            ));
            let at = request(&api, &name, Some(json!({"spec": {"suspend": false}}))).await?;
            success(&format!("{} resumed", target.human()));
            requested.push((name, at));
        }
        let mut ok = true;
        for (name, at) in requested {
            waiting(&format!("waiting for {} reconciliation", target.kind()));
            match wait_handled(&api, target, ns, &name, &at, deadline).await? {
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
    })
}
