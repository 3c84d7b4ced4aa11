//! `driftless install [--export]`: the CRDs, the `driftless-system` namespace, a ServiceAccount,
//! RBAC and the agent Deployment (probes, limits, non-root). `--export` prints them as YAML;
//! otherwise they are server-side applied to the cluster of `--kubeconfig`.

use crate::apply::{Engine, Options, Owner};
use crate::controller::AGENT_NAMESPACE;
use anyhow::{anyhow, Result};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The image the Deployment runs.
pub const IMAGE: &str = concat!("ghcr.io/driftless/driftless:v", env!("CARGO_PKG_VERSION"));

#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Print the manifests instead of applying them.
    #[arg(long)]
    pub export: bool,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// Every object `install` creates, in apply order.
pub fn manifests() -> Vec<Value> {
    let ns = AGENT_NAMESPACE;
    let labels =
        json!({"app.kubernetes.io/name": "driftless", "app.kubernetes.io/component": "agent"});
    let mut out = vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})];
    for crd in crate::api::crds() {
        if let Ok(mut v) = serde_json::to_value(&crd) {
            if let Some(o) = v.as_object_mut() {
                o.insert("apiVersion".into(), json!("apiextensions.k8s.io/v1"));
                o.insert("kind".into(), json!("CustomResourceDefinition"));
            }
            out.push(v);
        }
    }
    out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "driftless", "namespace": ns}}));
    // The agent applies whatever the repository holds, so (like Flux's kustomize-controller)
    // it needs every verb on every resource.
    out.push(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "driftless-agent"},
        "rules": [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["*"]}
        ]}),
    );
    out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "driftless-agent"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "driftless-agent"},
        "subjects": [{"kind": "ServiceAccount", "name": "driftless", "namespace": ns}]}));
    out.push(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "webhook-receiver", "namespace": ns, "labels": labels},
        "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http-webhook"}]}}));
    out.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "driftless", "namespace": ns, "labels": labels},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels,
                "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}},
            "spec": {
                "serviceAccountName": "driftless",
                "terminationGracePeriodSeconds": 10,
                "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "fsGroup": 65532,
                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": "agent",
                    "image": IMAGE,
                    "args": ["agent", "--metrics-addr=:8080", "--webhook-addr=:9292",
                             "--concurrent=10", "--cache-dir=/tmp/driftless"],
                    "env": [{"name": "POD_NAMESPACE",
                             "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
                    "ports": [
                        {"name": "http-prom", "containerPort": 8080, "protocol": "TCP"},
                        {"name": "http-webhook", "containerPort": 9292, "protocol": "TCP"}
                    ],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http-prom"}},
                    "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http-prom"}},
                    "resources": {
                        "limits": {"cpu": "1", "memory": "256Mi"},
                        "requests": {"cpu": "100m", "memory": "64Mi"}
                    },
                    "securityContext": {"allowPrivilegeEscalation": false,
                        "readOnlyRootFilesystem": true,
                        "capabilities": {"drop": ["ALL"]}},
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]
                }],
                "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory"}}]
            }
        }
    }}));
    out
}

/// Renders objects as a multi-document YAML stream.
pub fn to_yaml(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(o).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Server-side applies `objects` owned by `owner`, failing on any error.
pub async fn apply_objects(client: &kube::Client, objects: Vec<Value>, owner: Owner) -> Result<()> {
    let mut opts = Options::new(owner);
    opts.store_inventory = false;
    opts.timeout = std::time::Duration::from_secs(60);
    let mut engine = Engine::new(client.clone());
    let report = engine.apply(objects, &opts).await;
    if let Some(e) = report.errors.first() {
        return Err(anyhow!("{e}"));
    }
    Ok(())
}

/// Installs the agent's CRDs and workload into the cluster.
pub async fn install(client: &kube::Client) -> Result<()> {
    apply_objects(
        client,
        manifests(),
        Owner {
            name: "driftless-install".into(),
            namespace: AGENT_NAMESPACE.into(),
        },
    )
    .await
}

pub fn run(args: InstallArgs) -> Result<i32> {
    if args.export {
        print!("{}", to_yaml(&manifests()));
        return Ok(0);
    }
    super::apply::runtime()?.block_on(async {
        let client = crate::apply::engine::client_from_kubeconfig(args.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow!(e))?;
        install(&client).await?;
        println!("✔ installed driftless in {AGENT_NAMESPACE}");
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_runs_non_root_with_probes_and_limits() {
        let all = manifests();
        let dep = all
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .expect("deployment");
        let pod = &dep["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        let c = &pod["containers"][0];
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert!(c["resources"]["limits"]["memory"].is_string());
        assert_eq!(dep["metadata"]["namespace"], AGENT_NAMESPACE);
        let crds = all
            .iter()
            .filter(|o| o["kind"] == "CustomResourceDefinition")
            .count();
        assert_eq!(crds, 5);
    }

    #[tokio::test]
    async fn install_registers_flux_kinds_on_the_api_server() {
        let server = crate::apiserver::ApiServer::start(Default::default())
            .await
            .expect("server");
        let client = server.client().expect("client");
        install(&client).await.expect("installs");
        let api: kube::Api<crate::api::Kustomization> = kube::Api::all(client);
        let list = api.list(&Default::default()).await.expect("kind is served");
        assert!(list.items.is_empty());
    }
}
