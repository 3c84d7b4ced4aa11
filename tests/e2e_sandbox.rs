//! End-to-end tests of `driftless sandbox`: the example monorepo (a Flux-format layout:
//! `clusters/development/{infrastructure,apps}.yaml` with dependsOn and postBuild) copied into a
//! temp git repository, reconciled in-process by the embedded API server and the agent.

use driftless::api::condition::{self, ConditionStatus, READY};
use driftless::api::Kustomization;
use driftless::cli::sandbox::{Sandbox, SandboxArgs};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use std::time::{Duration, Instant};

#[path = "common/sandbox.rs"]
mod sandbox;

use sandbox::{start_ready, TestRepo};

const WAIT: Duration = Duration::from_secs(60);

async fn start(repo: &TestRepo) -> Sandbox {
    let mut args = SandboxArgs::new(repo.path(), "development");
    args.kubeconfig_out = Some(repo.path().join(".driftless/kubeconfig"));
    start_ready(&args, WAIT).await
}

fn client(sb: &Sandbox) -> kube::Client {
    sb.server.client().expect("client")
}

/// Polls `f` every 100ms until it returns true, or panics with `what` after `WAIT`.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn ks(sb: &Sandbox, name: &str) -> Kustomization {
    Api::<Kustomization>::namespaced(client(sb), "flux-system")
        .get(name)
        .await
        .expect("kustomization exists")
}

fn ready(ks: &Kustomization) -> Option<(ConditionStatus, String, String)> {
    let s = ks.status.as_ref()?;
    condition::find(&s.conditions, READY).map(|c| (c.status, c.reason.clone(), c.message.clone()))
}

async fn deployment(sb: &Sandbox, name: &str) -> Option<Deployment> {
    Api::<Deployment>::namespaced(client(sb), "shop-development")
        .get_opt(name)
        .await
        .expect("get works")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_brings_infrastructure_then_apps_to_ready_in_order() {
    let repo = TestRepo::example();
    let mut args = SandboxArgs::new(repo.path(), "development");
    args.kubeconfig_out = Some(repo.path().join("kc"));
    // Without the trigger on Ready, apps would only retry after this.
    args.requeue_dependency = Duration::from_secs(120);
    let sb = Sandbox::start(&args).await.expect("sandbox starts");
    // Record when each Kustomization is first Ready at the current revision.
    let head = repo.head();
    let start = Instant::now();
    let (mut infra, mut apps) = (None, None);
    while start.elapsed() < WAIT && !(infra.is_some() && apps.is_some()) {
        for k in sb.ctx.kustomizations() {
            let Some(s) = &k.status else { continue };
            let at_head = s.last_applied_revision.as_deref() == Some(head.as_str());
            if condition::is_ready(&s.conditions) && at_head {
                match k.metadata.name.as_deref() {
                    Some("infrastructure") if infra.is_none() => infra = Some(Instant::now()),
                    Some("apps") if apps.is_none() => apps = Some(Instant::now()),
                    _ => {}
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (infra, apps) = (
        infra.expect("infrastructure Ready"),
        apps.expect("apps Ready"),
    );
    assert!(infra <= apps, "apps became Ready before infrastructure");
    // Dependents are queued the moment their dependency is Ready, not after the dependency
    // retry (120s here).
    assert!(
        apps - infra < Duration::from_secs(30),
        "apps waited {:?} after infrastructure was Ready",
        apps - infra
    );
    sb.wait_ready(WAIT).await.expect("all Ready");
    // Objects of both layers exist; postBuild filled ${cluster_name} from cluster-vars.
    let front = deployment(&sb, "frontend")
        .await
        .expect("frontend deployed");
    let ann = front.metadata.annotations.unwrap_or_default();
    assert_eq!(
        ann.get("platform.example.com/cluster").map(String::as_str),
        Some("development")
    );
    let crd: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client(&sb));
    assert!(crd
        .get_opt("backuppolicies.platform.example.com")
        .await
        .expect("get")
        .is_some());
    // The kubeconfig works for clients outside the process.
    assert!(repo.path().join("kc").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_format_repository_reconciles_unchanged_with_flux_status() {
    let repo = TestRepo::example();
    let sb = start(&repo).await;
    let head = repo.head();
    let root = ks(&sb, "flux-system").await;
    let status = root.status.clone().expect("status");
    assert_eq!(status.last_applied_revision.as_deref(), Some(head.as_str()));
    assert_eq!(
        status.last_attempted_revision.as_deref(),
        Some(head.as_str())
    );
    assert_eq!(status.observed_generation, root.metadata.generation);
    let (st, reason, message) = ready(&root).expect("Ready condition");
    assert_eq!(st, ConditionStatus::True);
    assert_eq!(reason, "ReconciliationSucceeded");
    assert_eq!(message, format!("Applied revision: {head}"));
    let ids: Vec<String> = status
        .inventory
        .expect("inventory")
        .entries
        .into_iter()
        .map(|e| format!("{} {}", e.id, e.v))
        .collect();
    assert!(
        ids.contains(&"flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization v1".to_string()),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"flux-system_cluster-vars__ConfigMap v1".to_string()),
        "{ids:?}"
    );
    assert!(root
        .metadata
        .finalizers
        .unwrap_or_default()
        .contains(&"finalizers.fluxcd.io".to_string()));
    let apps = ks(&sb, "apps").await;
    let labels = deployment(&sb, "backend")
        .await
        .expect("backend")
        .metadata
        .labels
        .unwrap_or_default();
    assert_eq!(
        labels
            .get("kustomize.toolkit.fluxcd.io/name")
            .map(String::as_str),
        Some("apps")
    );
    assert_eq!(
        labels
            .get("kustomize.toolkit.fluxcd.io/namespace")
            .map(String::as_str),
        Some("flux-system")
    );
    assert_eq!(ready(&apps).map(|r| r.0), Some(ConditionStatus::True));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_removing_an_app_prunes_it() {
    let repo = TestRepo::example();
    let sb = start(&repo).await;
    assert!(deployment(&sb, "frontend").await.is_some());
    let k = repo
        .read("apps/development/kustomization.yaml")
        .replace("  - ../frontend/overlays/development\n", "");
    repo.write("apps/development/kustomization.yaml", &k);
    let pushed = Instant::now();
    repo.commit("remove frontend");
    // No explicit trigger: the sandbox watches the refs.
    eventually("frontend pruned", || async {
        deployment(&sb, "frontend").await.is_none()
    })
    .await;
    eprintln!("commit -> pruned in {:?}", pushed.elapsed());
    assert!(deployment(&sb, "backend").await.is_some());
    let head = repo.head();
    eventually("apps at the new revision", || async {
        ks(&sb, "apps")
            .await
            .status
            .and_then(|s| s.last_applied_revision)
            == Some(head.clone())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubectl_edit_is_corrected_on_requested_reconcile() {
    let repo = TestRepo::example();
    let sb = start(&repo).await;
    let api = Api::<Deployment>::namespaced(client(&sb), "shop-development");
    let want = deployment(&sb, "backend")
        .await
        .expect("backend")
        .spec
        .replicas;
    api.patch(
        "backend",
        &PatchParams::apply("kubectl").force(),
        &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "backend"}, "spec": {"replicas": 7}})),
    )
    .await
    .expect("edit");
    assert_eq!(
        deployment(&sb, "backend")
            .await
            .and_then(|d| d.spec.replicas),
        Some(7)
    );
    // `flux reconcile ks apps`: the requestedAt annotation.
    let ks_api = Api::<Kustomization>::namespaced(client(&sb), "flux-system");
    ks_api
        .patch(
            "apps",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "2026-01-01T00:00:00Z"}}})),
        )
        .await
        .expect("annotate");
    eventually("replicas restored", || async {
        deployment(&sb, "backend")
            .await
            .and_then(|d| d.spec.replicas)
            == want
    })
    .await;
    eventually("requestedAt handled", || async {
        ks(&sb, "apps")
            .await
            .status
            .and_then(|s| s.last_handled_reconcile_at)
            .as_deref()
            == Some("2026-01-01T00:00:00Z")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_yaml_sets_build_failed_prunes_nothing_and_next_commit_recovers() {
    let repo = TestRepo::example();
    let sb = start(&repo).await;
    let good = repo.read("apps/development/kustomization.yaml");
    let good_rev = repo.head();
    // Remove frontend AND break the build in one commit: nothing may be pruned.
    let broken = good.replace("  - ../frontend/overlays/development\n", "") + "resources: [: bad\n";
    repo.write("apps/development/kustomization.yaml", &broken);
    repo.commit("broken");
    let bad_rev = repo.head();
    eventually("BuildFailed", || async {
        let k = ks(&sb, "apps").await;
        ready(&k).is_some_and(|r| r.0 == ConditionStatus::False && r.1 == "BuildFailed")
            && k.status
                .as_ref()
                .and_then(|s| s.last_attempted_revision.clone())
                == Some(bad_rev.clone())
    })
    .await;
    let k = ks(&sb, "apps").await;
    assert_eq!(
        k.status.and_then(|s| s.last_applied_revision),
        Some(good_rev)
    );
    assert!(
        deployment(&sb, "frontend").await.is_some(),
        "nothing pruned after a failed build"
    );
    // The next good commit (frontend removed for real) recovers and prunes.
    repo.write(
        "apps/development/kustomization.yaml",
        &good.replace("  - ../frontend/overlays/development\n", ""),
    );
    repo.commit("fixed");
    let fixed = repo.head();
    eventually("recovered", || async {
        let k = ks(&sb, "apps").await;
        ready(&k).is_some_and(|r| r.0 == ConditionStatus::True)
            && k.status.and_then(|s| s.last_applied_revision) == Some(fixed.clone())
    })
    .await;
    assert!(deployment(&sb, "frontend").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_server_outage_keeps_the_last_revision_applied() {
    let repo = TestRepo::example();
    let sb = start(&repo).await;
    let rev = repo.head();
    // The "server" goes away.
    let moved = repo.path().with_extension("gone");
    std::fs::rename(repo.path(), &moved).expect("move repo away");
    sb.refresh();
    let repos: Api<driftless::api::GitRepository> = Api::namespaced(client(&sb), "flux-system");
    eventually("GitRepository not Ready", || async {
        let r = repos.get("flux-system").await.expect("get");
        r.status.is_some_and(|s| {
            condition::find(&s.conditions, READY)
                .is_some_and(|c| c.status == ConditionStatus::False)
        })
    })
    .await;
    // A reconcile during the outage still applies the last good artifact.
    Api::<Deployment>::namespaced(client(&sb), "shop-development")
        .delete("backend", &DeleteParams::default())
        .await
        .expect("delete");
    Api::<Kustomization>::namespaced(client(&sb), "flux-system")
        .patch(
            "apps",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "outage"}}}),
            ),
        )
        .await
        .expect("annotate");
    eventually("backend re-applied from the last artifact", || async {
        deployment(&sb, "backend").await.is_some()
    })
    .await;
    let k = ks(&sb, "apps").await;
    assert_eq!(ready(&k).map(|r| r.0), Some(ConditionStatus::True));
    assert_eq!(k.status.and_then(|s| s.last_applied_revision), Some(rev));
    std::fs::rename(&moved, repo.path()).expect("move back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_stops_changes_and_resume_applies_them() {
    let repo = TestRepo::example();
    let sb = start(&repo).await;
    let ks_api = Api::<Kustomization>::namespaced(client(&sb), "flux-system");
    ks_api
        .patch("apps", &PatchParams::apply("flux-cli").force(),
            &Patch::Apply(json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": "apps", "namespace": "flux-system"}, "spec": {"suspend": true}})))
        .await
        .expect("suspend");
    eventually("suspend observed", || async {
        sb.ctx
            .kustomization(&driftless::controller::Key::new(
                driftless::controller::Kind::Kustomization,
                "flux-system",
                "apps",
            ))
            .is_some_and(|k| k.spec.suspended())
    })
    .await;
    let k = repo
        .read("apps/development/kustomization.yaml")
        .replace("  - ../frontend/overlays/development\n", "");
    repo.write("apps/development/kustomization.yaml", &k);
    repo.commit("remove frontend while suspended");
    let head = repo.head();
    eventually("source at the new revision", || async {
        sb.ctx
            .artifact(&driftless::controller::Key::new(
                driftless::controller::Kind::GitRepository,
                "flux-system",
                "flux-system",
            ))
            .is_some_and(|a| a.revision == head)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        deployment(&sb, "frontend").await.is_some(),
        "suspended: nothing changes"
    );
    ks_api
        .patch("apps", &PatchParams::apply("flux-cli").force(),
            &Patch::Apply(json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": "apps", "namespace": "flux-system"}, "spec": {"suspend": false}})))
        .await
        .expect("resume");
    eventually("resumed: frontend pruned", || async {
        deployment(&sb, "frontend").await.is_none()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_kustomization_honours_deletion_policy() {
    let repo = TestRepo::example();
    for name in ["delete-me", "orphan-me"] {
        repo.write(
            &format!("extra/{name}/cm.yaml"),
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  k: v\n"),
        );
    }
    repo.commit("extras");
    let sb = start(&repo).await;
    let ks_api = Api::<Kustomization>::namespaced(client(&sb), "flux-system");
    for (name, policy, prune) in [
        ("delete-me", "Delete", false),
        ("orphan-me", "Orphan", true),
    ] {
        let k: Kustomization = serde_json::from_value(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"interval": "10m", "path": format!("./extra/{name}"), "prune": prune,
                "deletionPolicy": policy,
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}))
        .expect("valid");
        ks_api
            .create(&PostParams::default(), &k)
            .await
            .expect("create");
    }
    let cms = Api::<ConfigMap>::namespaced(client(&sb), "default");
    eventually("both applied", || async {
        cms.get_opt("delete-me").await.ok().flatten().is_some()
            && cms.get_opt("orphan-me").await.ok().flatten().is_some()
    })
    .await;
    sb.wait_ready(WAIT).await.expect("Ready");
    for name in ["delete-me", "orphan-me"] {
        ks_api
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete");
    }
    eventually("both Kustomizations gone", || async {
        ks_api.get_opt("delete-me").await.ok().flatten().is_none()
            && ks_api.get_opt("orphan-me").await.ok().flatten().is_none()
    })
    .await;
    assert!(
        cms.get_opt("delete-me").await.expect("get").is_none(),
        "Delete removes objects"
    );
    assert!(
        cms.get_opt("orphan-me").await.expect("get").is_some(),
        "Orphan keeps objects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_webhook_requests_a_reconcile_of_its_targets() {
    let repo = TestRepo::example();
    let sb = start(&repo).await;
    let secret: k8s_openapi::api::core::v1::Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "webhook-token", "namespace": "flux-system"},
        "stringData": {"token": "s3cret"}}))
    .expect("valid");
    Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client(&sb), "flux-system")
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret");
    let receiver: driftless::api::notification::Receiver = serde_json::from_value(json!({
        "apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
        "metadata": {"name": "hook", "namespace": "flux-system"},
        "spec": {"type": "generic", "secretRef": {"name": "webhook-token"},
            "resources": [{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "name": "apps"}]}}))
    .expect("valid");
    let receivers =
        Api::<driftless::api::notification::Receiver>::namespaced(client(&sb), "flux-system");
    receivers
        .create(&PostParams::default(), &receiver)
        .await
        .expect("receiver");
    let want = driftless::receiver::webhook_path("s3cret", "hook", "flux-system");
    eventually("webhookPath in status", || async {
        receivers
            .get("hook")
            .await
            .ok()
            .and_then(|r| r.status)
            .and_then(|s| s.webhook_path)
            == Some(want.clone())
    })
    .await;
    let before = ks(&sb, "apps")
        .await
        .status
        .and_then(|s| s.last_handled_reconcile_at);
    assert!(before.is_none());
    let res = reqwest::Client::new()
        .post(format!("http://{}{want}", sb.webhook_addr))
        .body("{}")
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status().as_u16(), 200);
    eventually("apps reconciled on request", || async {
        ks(&sb, "apps")
            .await
            .status
            .and_then(|s| s.last_handled_reconcile_at)
            .is_some()
    })
    .await;
    // A wrong path triggers nothing.
    let res = reqwest::Client::new()
        .post(format!("http://{}/hook/0000", sb.webhook_addr))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_kustomization_does_not_delay_the_others() {
    let repo = TestRepo::example();
    repo.write(
        "extra/slow/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: slow\n  namespace: default\n",
    );
    repo.commit("slow app");
    let sb = start(&repo).await;
    // Its health check waits for an object that never appears (until its 2m timeout).
    let k: Kustomization = serde_json::from_value(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "slow", "namespace": "flux-system"},
        "spec": {"interval": "10m", "timeout": "2m", "path": "./extra/slow", "prune": true,
            "healthChecks": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "never", "namespace": "default"}],
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}))
    .expect("valid");
    Api::<Kustomization>::namespaced(client(&sb), "flux-system")
        .create(&PostParams::default(), &k)
        .await
        .expect("create");
    let cms = Api::<ConfigMap>::namespaced(client(&sb), "default");
    eventually("slow applied (and now waiting)", || async {
        cms.get_opt("slow").await.ok().flatten().is_some()
    })
    .await;
    let k = repo
        .read("apps/development/kustomization.yaml")
        .replace("  - ../frontend/overlays/development\n", "");
    repo.write("apps/development/kustomization.yaml", &k);
    let pushed = Instant::now();
    repo.commit("remove frontend");
    eventually("frontend pruned", || async {
        deployment(&sb, "frontend").await.is_none()
    })
    .await;
    assert!(
        pushed.elapsed() < Duration::from_secs(30),
        "apps waited {:?} behind the stuck Kustomization",
        pushed.elapsed()
    );
    let slow = ks(&sb, "slow").await;
    // Still in its health wait: progressing, not failed and not Ready.
    assert_eq!(ready(&slow).map(|r| r.0), Some(ConditionStatus::Unknown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_sends_what_changed_to_a_generic_provider() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A webhook endpoint that records request bodies.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            sink.lock().expect("lock").push(body.to_string());
                            break;
                        }
                    }
                }
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    let repo = TestRepo::example();
    let sb = start(&repo).await;
    let provider: driftless::api::notification::Provider = serde_json::from_value(json!({
        "apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
        "metadata": {"name": "hook", "namespace": "flux-system"},
        "spec": {"type": "generic", "address": format!("http://{addr}/")}}))
    .expect("valid");
    let alert: driftless::api::notification::Alert = serde_json::from_value(json!({
        "apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
        "metadata": {"name": "all", "namespace": "flux-system"},
        "spec": {"providerRef": {"name": "hook"}, "eventSeverity": "info",
            "eventSources": [{"kind": "Kustomization", "name": "*"}]}}))
    .expect("valid");
    Api::<driftless::api::notification::Provider>::namespaced(client(&sb), "flux-system")
        .create(&PostParams::default(), &provider)
        .await
        .expect("provider");
    Api::<driftless::api::notification::Alert>::namespaced(client(&sb), "flux-system")
        .create(&PostParams::default(), &alert)
        .await
        .expect("alert");
    // Routes are re-read every 5s.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let k = repo
        .read("apps/development/kustomization.yaml")
        .replace("  - ../frontend/overlays/development\n", "");
    repo.write("apps/development/kustomization.yaml", &k);
    repo.commit("remove frontend");
    eventually("a notification naming the pruned frontend", || async {
        bodies
            .lock()
            .expect("lock")
            .iter()
            .any(|b| b.contains("ReconciliationSucceeded") && b.contains("frontend"))
    })
    .await;
}
