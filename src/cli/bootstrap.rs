//! `driftless bootstrap --url URL [--branch main] --path clusters/NAME [--interval 1m]
//! [--name flux-system] [--namespace flux-system]`: creates the root GitRepository and
//! Kustomization, named like Flux's so repositories written for Flux work unchanged.

use crate::apply::Owner;
use anyhow::{anyhow, Result};
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct BootstrapArgs {
    /// Git URL of the repository (https://, ssh:// or file://).
    #[arg(long)]
    pub url: String,
    #[arg(long, default_value = "main")]
    pub branch: String,
    /// Directory of this cluster in the repository, e.g. `clusters/production`.
    #[arg(long)]
    pub path: String,
    /// How often the repository is checked.
    #[arg(long, default_value = "1m")]
    pub interval: String,
    #[arg(long, default_value = "flux-system")]
    pub name: String,
    #[arg(long, default_value = "flux-system")]
    pub namespace: String,
    /// Print the objects instead of applying them.
    #[arg(long)]
    pub export: bool,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// The namespace, GitRepository and Kustomization bootstrap creates.
pub fn manifests(args: &BootstrapArgs) -> Vec<Value> {
    let path = if args.path.starts_with("./") {
        args.path.clone()
    } else {
        format!("./{}", args.path.trim_start_matches('/'))
    };
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args.namespace}}),
        json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": args.name, "namespace": args.namespace},
            "spec": {"interval": args.interval, "ref": {"branch": args.branch}, "url": args.url}}),
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": args.name, "namespace": args.namespace},
            "spec": {"interval": "10m0s", "path": path, "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": args.name}}}),
    ]
}

/// Applies the bootstrap objects (labeled as owned by the root Kustomization, as Flux does).
pub async fn bootstrap(client: &kube::Client, args: &BootstrapArgs) -> Result<()> {
    super::install::apply_objects(
        client,
        manifests(args),
        Owner {
            name: args.name.clone(),
            namespace: args.namespace.clone(),
        },
    )
    .await
}

pub fn run(args: BootstrapArgs) -> Result<i32> {
    if args.export {
        print!("{}", super::install::to_yaml(&manifests(&args)));
        return Ok(0);
    }
    super::apply::runtime()?.block_on(async {
        let client = crate::apply::engine::client_from_kubeconfig(args.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow!(e))?;
        bootstrap(&client, &args).await?;
        println!(
            "✔ GitRepository/{ns}/{n} and Kustomization/{ns}/{n} created for {} ({})",
            args.url,
            args.path,
            ns = args.namespace,
            n = args.name
        );
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_objects_are_named_like_flux() {
        let args = BootstrapArgs {
            url: "https://example.com/r.git".into(),
            branch: "main".into(),
            path: "clusters/dev".into(),
            interval: "1m".into(),
            name: "flux-system".into(),
            namespace: "flux-system".into(),
            export: true,
            kubeconfig: None,
        };
        let m = manifests(&args);
        let ks: crate::api::Kustomization =
            serde_json::from_value(m[2].clone()).expect("valid Kustomization");
        assert_eq!(ks.spec.path.as_deref(), Some("./clusters/dev"));
        assert_eq!(ks.spec.source_ref.name, "flux-system");
        let repo: crate::api::GitRepository =
            serde_json::from_value(m[1].clone()).expect("valid GitRepository");
        assert_eq!(
            repo.spec.reference.and_then(|r| r.branch).as_deref(),
            Some("main")
        );
    }
}
