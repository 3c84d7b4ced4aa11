//! Push→applied latency through a Receiver, on the in-process sandbox. Run by `bench/push.sh`.
//!
//! The example monorepo is copied into a temp git repository and reconciled by a sandbox with
//! the checkout watcher off (`--no-watch`), so only the webhook makes the agent fetch. A
//! `github` Receiver targets the GitRepository and a Slack Provider (a local HTTP endpoint)
//! gets the Alerts of every Kustomization. Each round:
//!
//! ```text
//!  commit (frontend image tag 1.27.<i>)                          ─ not timed
//!  t0 ─► POST /hook/<path>, X-Hub-Signature-256 ─► 200
//!        poll the API server every 5 ms until the Deployment has the new image ─► applied
//!        wait for the Slack message naming the new revision ─► notified
//! ```
//!
//! Prints p50/p95/max of push→applied and push→notified over ROUNDS rounds.
//! Usage: `push_bench [ROUNDS]`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Router;
use driftless::cli::sandbox::{Sandbox, SandboxArgs};
use hmac::{Hmac, Mac};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, PostParams};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-token";

/// Slack messages received: arrival time and body.
type Inbox = Arc<Mutex<Vec<(Instant, String)>>>;
const NS: &str = "flux-system";

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(TOKEN.as_bytes()).expect("any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn report(what: &str, mut d: Vec<Duration>) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    println!(
        "{what}: {} rounds, p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        d.len(),
        ms(pct(&d, 0.5)),
        ms(pct(&d, 0.95)),
        ms(d.last().copied().unwrap_or_default())
    );
}

async fn create<K>(api: &Api<K>, value: Value)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    let obj: K = serde_json::from_value(value).expect("valid object");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("created");
}

async fn image(api: &Api<Deployment>) -> Option<String> {
    let d = api.get("frontend").await.ok()?;
    let v = serde_json::to_value(d).ok()?;
    v.pointer("/spec/template/spec/containers/0/image")?
        .as_str()
        .map(String::from)
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);

    // Slack stand-in: the arrival time of every message text.
    let messages: Inbox = Arc::default();
    let app = Router::new()
        .fallback(|State(m): State<Inbox>, body: Bytes| async move {
            let text = String::from_utf8_lossy(&body).into_owned();
            m.lock().expect("lock").push((Instant::now(), text));
            StatusCode::OK
        })
        .with_state(messages.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let slack = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for d in ["clusters", "apps", "infrastructure"] {
        let ok = Command::new("cp")
            .arg("-r")
            .arg(root.join(d))
            .arg(repo)
            .status()
            .expect("cp runs")
            .success();
        assert!(ok, "copy {d}");
    }
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "initial"]);

    let mut args = SandboxArgs::new(repo, "development");
    args.kubeconfig_out = Some(repo.join(".git/bench.kubeconfig"));
    args.watch_repo = false;
    let started = Instant::now();
    let sb = Sandbox::start(&args).await.expect("sandbox starts");
    sb.wait_ready(Duration::from_secs(120))
        .await
        .expect("everything Ready");
    println!(
        "sandbox Ready in {:.1}s (watcher off; webhooks on {})",
        started.elapsed().as_secs_f64(),
        sb.webhook_addr
    );

    let client = sb.server.client().expect("client");
    create(
        &Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), NS),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "github-webhook", "namespace": NS},
            "stringData": {"token": TOKEN}}),
    )
    .await;
    let receivers = Api::<driftless::api::notification::Receiver>::namespaced(client.clone(), NS);
    create(
        &receivers,
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
            "metadata": {"name": "github", "namespace": NS},
            "spec": {"type": "github", "events": ["push"], "secretRef": {"name": "github-webhook"},
                "resources": [{"apiVersion": "source.toolkit.fluxcd.io/v1",
                    "kind": "GitRepository", "name": "flux-system"}]}}),
    )
    .await;
    create(
        &Api::<driftless::api::notification::Provider>::namespaced(client.clone(), NS),
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
            "metadata": {"name": "slack", "namespace": NS},
            "spec": {"type": "slack", "address": format!("http://{slack}/services/T0/B0/x")}}),
    )
    .await;
    create(
        &Api::<driftless::api::notification::Alert>::namespaced(client.clone(), NS),
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
            "metadata": {"name": "deploys", "namespace": NS},
            "spec": {"providerRef": {"name": "slack"}, "eventSeverity": "info",
                "eventSources": [{"kind": "Kustomization", "name": "*"}]}}),
    )
    .await;
    let mut path = None;
    for _ in 0..200 {
        path = receivers
            .get("github")
            .await
            .ok()
            .and_then(|r| r.status)
            .and_then(|s| s.webhook_path);
        if path.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!(
        "http://{}{}",
        sb.webhook_addr,
        path.expect("Receiver status.webhookPath set")
    );
    // The agent re-reads Alerts every 5s.
    tokio::time::sleep(Duration::from_secs(6)).await;

    let http = reqwest::Client::new();
    let deployments = Api::<Deployment>::namespaced(client.clone(), "shop-development");
    let overlay = repo.join("apps/frontend/overlays/development/kustomization.yaml");
    let original = std::fs::read_to_string(&overlay).expect("overlay");
    let (mut applied, mut notified) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        let tag = format!("1.27.{i}");
        std::fs::write(
            &overlay,
            original.replace("newTag: \"1.27\"", &format!("newTag: \"{tag}\"")),
        )
        .expect("write");
        git(repo, &["commit", "-q", "-am", &format!("frontend {tag}")]);
        let sha = git(repo, &["rev-parse", "HEAD"]);
        let body =
            serde_json::to_vec(&json!({"ref": "refs/heads/main", "after": sha})).expect("json");
        let want = format!("nginxinc/nginx-unprivileged:{tag}");
        let t0 = Instant::now();
        let status = http
            .post(&url)
            .header("X-GitHub-Event", "push")
            .header("X-Hub-Signature-256", sign(&body))
            .body(body)
            .send()
            .await
            .expect("POST")
            .status();
        assert_eq!(status.as_u16(), 200, "webhook accepted");
        let deadline = t0 + Duration::from_secs(60);
        while image(&deployments).await.as_deref() != Some(want.as_str()) {
            assert!(Instant::now() < deadline, "round {i}: not applied in 60s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        applied.push(t0.elapsed());
        // The apps Kustomization's message names the changed Deployment and the revision.
        loop {
            let hit = messages
                .lock()
                .expect("lock")
                .iter()
                .find_map(|(at, text)| {
                    (*at >= t0
                        && text.contains(&sha)
                        && text.contains("Deployment/shop-development/frontend configured"))
                    .then_some(*at)
                });
            if let Some(at) = hit {
                notified.push(at - t0);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {i}: no notification in 60s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    report(
        "push → applied (webhook POST to new image in the API server)",
        applied,
    );
    report(
        "push → notified (webhook POST to Slack message received)",
        notified,
    );
    let stats = reqwest::get(format!("http://{}/metrics", sb.metrics_addr))
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    for line in stats
        .lines()
        .filter(|l| l.starts_with("driftless_notifications_total{"))
    {
        println!("{line}");
    }
}
