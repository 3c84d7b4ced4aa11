//! End-to-end push flow on `driftless sandbox --no-watch`: a commit is only synced because a
//! signed GitHub push webhook reaches the Receiver; the new object lands in the API server, a
//! Slack Provider (a local HTTP endpoint) gets a message naming the changed object and the
//! revision, and `/metrics` counts the delivery. A generic Provider over HTTPS trusts its
//! server's private CA through `certSecretRef` (`ca.crt`).
//!
//! ```text
//!  commit ──► POST /hook/<webhookPath> (X-Hub-Signature-256) ──► GitRepository requestedAt
//!         ──► fetch ──► Kustomizations apply ──► Alert ──► Slack endpoint (this test)
//! ```

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Router;
use clap::Parser;
use driftless::api::notification::{Alert, Provider, Receiver};
use driftless::api::GitRepository;
use driftless::cli::sandbox::Sandbox;
use driftless::cli::{Cli, Command as CliCommand};
use hmac::{Hmac, Mac};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "common/tls.rs"]
mod tls;

const WAIT: Duration = Duration::from_secs(60);
const TOKEN: &str = "push-token-9f1c";

/// A temp copy of the example monorepo as a git repository on branch `main`.
struct TestRepo {
    dir: tempfile::TempDir,
}

impl TestRepo {
    fn example() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for d in ["clusters", "apps", "infrastructure"] {
            let ok = Command::new("cp")
                .arg("-r")
                .arg(root.join(d))
                .arg(dir.path())
                .status()
                .expect("cp runs")
                .success();
            assert!(ok, "copy {d}");
        }
        let repo = TestRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.commit("initial");
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.dir.path())
            .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
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

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let p = self.dir.path().join(rel);
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(text.contains(from), "{rel} contains {from:?}");
        std::fs::write(p, text.replace(from, to)).expect("write");
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    fn head(&self) -> String {
        format!("main@sha1:{}", self.git(&["rev-parse", "HEAD"]))
    }
}

/// A Slack incoming-webhook stand-in: records every POST body, answers 200.
#[derive(Clone, Default)]
struct Slack {
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Slack {
    async fn start() -> (Slack, SocketAddr) {
        let slack = Slack::default();
        let app = Router::new()
            .fallback(|State(s): State<Slack>, body: Bytes| async move {
                match serde_json::from_slice(&body) {
                    Ok(v) => {
                        s.bodies.lock().expect("lock").push(v);
                        StatusCode::OK
                    }
                    Err(_) => StatusCode::BAD_REQUEST,
                }
            })
            .with_state(slack.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        (slack, addr)
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().expect("lock").clone()
    }
}

/// Every text of a Block Kit message (header, sections, context elements), one per line.
fn slack_text(v: &Value) -> String {
    let mut out = vec![v["text"].as_str().unwrap_or_default().to_string()];
    for block in v["blocks"].as_array().into_iter().flatten() {
        if let Some(t) = block["text"]["text"].as_str() {
            out.push(t.to_string());
        }
        for e in block["elements"].as_array().into_iter().flatten() {
            if let Some(t) = e["text"].as_str() {
                out.push(t.to_string());
            }
        }
    }
    out.join("\n")
}

/// A free loopback port (bound, then released for the sandbox to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Polls `f` every 50ms until it returns `Some`, or panics with `what` after `WAIT`.
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(TOKEN.as_bytes()).expect("any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn push(url: &str, body: &[u8], signature: &str) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        .header("X-Hub-Signature-256", signature)
        .body(body.to_vec())
        .send()
        .await
        .expect("POST")
        .status()
        .as_u16()
}

fn frontend_image(d: &Deployment) -> Option<String> {
    let v = serde_json::to_value(d).ok()?;
    v.pointer("/spec/template/spec/containers/0/image")?
        .as_str()
        .map(String::from)
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

async fn metrics(addr: SocketAddr) -> String {
    reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body")
}

/// The value of one sample line `name{labels} value` in a Prometheus text exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_github_push_syncs_the_commit_and_slack_lists_what_changed() {
    let (slack, slack_addr) = Slack::start().await;
    let repo = TestRepo::example();
    let (hook_port, metrics_port) = (free_port(), free_port());
    // The flags as a user types them.
    let cli = Cli::try_parse_from([
        "driftless".to_string(),
        "sandbox".into(),
        "--repo".into(),
        repo.path().display().to_string(),
        "--no-watch".into(),
        "--webhook-addr".into(),
        format!("127.0.0.1:{hook_port}"),
        "--metrics-addr".into(),
        format!("127.0.0.1:{metrics_port}"),
        "--kubeconfig-out".into(),
        repo.path().join(".driftless/kc").display().to_string(),
    ])
    .expect("flags parse");
    let CliCommand::Sandbox(args) = cli.command else {
        panic!("not the sandbox command");
    };
    assert!(!args.watch_repo);
    let sb = Sandbox::start(&args).await.expect("sandbox starts");
    assert_eq!(
        sb.webhook_addr,
        SocketAddr::from(([127, 0, 0, 1], hook_port))
    );
    assert_eq!(
        sb.metrics_addr,
        SocketAddr::from(([127, 0, 0, 1], metrics_port))
    );
    sb.wait_ready(WAIT).await.expect("everything Ready");
    let first = repo.head();

    let client = sb.server.client().expect("client");
    let ns = "flux-system";
    create(
        &Api::<Secret>::namespaced(client.clone(), ns),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "github-webhook", "namespace": ns},
            "stringData": {"token": TOKEN}}),
    )
    .await;
    let receivers = Api::<Receiver>::namespaced(client.clone(), ns);
    create(
        &receivers,
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
            "metadata": {"name": "github", "namespace": ns},
            "spec": {"type": "github", "events": ["ping", "push"],
                "secretRef": {"name": "github-webhook"},
                "resources": [{"apiVersion": "source.toolkit.fluxcd.io/v1",
                    "kind": "GitRepository", "name": "flux-system"}]}}),
    )
    .await;
    create(
        &Api::<Provider>::namespaced(client.clone(), ns),
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
            "metadata": {"name": "slack", "namespace": ns},
            "spec": {"type": "slack", "channel": "deploys",
                "address": format!("http://{slack_addr}/services/T0/B0/x")}}),
    )
    .await;
    create(
        &Api::<Alert>::namespaced(client.clone(), ns),
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
            "metadata": {"name": "deploys", "namespace": ns},
            "spec": {"providerRef": {"name": "slack"}, "eventSeverity": "info",
                "eventSources": [{"kind": "Kustomization", "name": "*"}]}}),
    )
    .await;
    // An HTTPS audit endpoint whose certificate only the Provider's certSecretRef CA signs.
    let (audit_port, audit) = tls::https_server();
    create(
        &Api::<Secret>::namespaced(client.clone(), ns),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "audit-ca", "namespace": ns},
            "stringData": {"ca.crt": tls::ca_pem()}}),
    )
    .await;
    create(
        &Api::<Provider>::namespaced(client.clone(), ns),
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
            "metadata": {"name": "audit", "namespace": ns},
            "spec": {"type": "generic", "certSecretRef": {"name": "audit-ca"},
                "address": format!("https://127.0.0.1:{audit_port}/events")}}),
    )
    .await;
    create(
        &Api::<Alert>::namespaced(client.clone(), ns),
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
            "metadata": {"name": "audit", "namespace": ns},
            "spec": {"providerRef": {"name": "audit"}, "eventSeverity": "info",
                "eventSources": [{"kind": "Kustomization", "name": "apps"}]}}),
    )
    .await;
    // The agent re-reads Alerts every 5s; the push below comes after that.
    let routes_loaded = Instant::now() + Duration::from_secs(6);

    let path = eventually("Receiver status.webhookPath", || async {
        receivers.get("github").await.ok()?.status?.webhook_path
    })
    .await;
    assert_eq!(
        path,
        driftless::receiver::webhook_path(TOKEN, "github", ns),
        "the path Flux computes from token, name and namespace"
    );
    let url = format!("http://{}{path}", sb.webhook_addr);

    repo.edit(
        "apps/frontend/overlays/development/kustomization.yaml",
        "newTag: \"1.27\"",
        "newTag: \"1.28\"",
    );
    repo.commit("frontend: nginx 1.28");
    let head = repo.head();
    let body = serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "after": head.trim_start_matches("main@sha1:"),
        "repository": {"full_name": "example/fleet"}
    }))
    .expect("json");

    let deployments = Api::<Deployment>::namespaced(client.clone(), "shop-development");
    let gitrepos = Api::<GitRepository>::namespaced(client.clone(), ns);
    let image =
        || async { frontend_image(&deployments.get("frontend").await.expect("frontend exists")) };
    assert_eq!(
        image().await.as_deref(),
        Some("nginxinc/nginx-unprivileged:1.27")
    );

    // A wrong signature is refused and triggers nothing: no reconcile request, no fetch.
    let forged = sign(b"another body");
    assert_eq!(push(&url, &body, &forged).await, 401);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let source = gitrepos.get("flux-system").await.expect("GitRepository");
    let annotations = source.metadata.annotations.clone().unwrap_or_default();
    assert!(
        !annotations.contains_key("reconcile.fluxcd.io/requestedAt"),
        "a refused webhook requested a reconcile"
    );
    let fetched = source.status.and_then(|s| s.artifact).map(|a| a.revision);
    assert_eq!(fetched.as_deref(), Some(first.as_str()), "nothing fetched");
    assert_eq!(
        image().await.as_deref(),
        Some("nginxinc/nginx-unprivileged:1.27"),
        "the commit was applied without the push (is the repository still watched?)"
    );

    tokio::time::sleep(routes_loaded.saturating_duration_since(Instant::now())).await;
    let pushed = Instant::now();
    assert_eq!(push(&url, &body, &sign(&body)).await, 200);
    eventually("the pushed image applied", || async {
        (image().await.as_deref() == Some("nginxinc/nginx-unprivileged:1.28")).then_some(())
    })
    .await;
    eprintln!("push → applied: {:?}", pushed.elapsed());
    let first_push = pushed;

    let message = eventually("a Slack message about apps at the new revision", || async {
        slack
            .bodies()
            .into_iter()
            .map(|b| (slack_text(&b), b))
            .find(|(t, _)| t.contains("Kustomization/flux-system/apps") && t.contains(&head))
    })
    .await;
    let (text, payload) = message;
    assert_eq!(payload["channel"], "deploys");
    assert!(
        text.contains("Deployment/shop-development/frontend configured"),
        "the change list names the changed Deployment:\n{text}"
    );
    assert!(text.contains(&format!("*revision* `{head}")), "{text}");
    assert!(
        !slack.bodies().iter().any(|b| slack_text(b).contains(TOKEN)),
        "the webhook token never appears in a notification"
    );

    // The HTTPS provider got the apps event: its CA came from the certSecretRef Secret.
    let want = head.clone();
    let audit_body = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            match audit.recv_timeout(Duration::from_secs(1)) {
                Ok(b) if b.contains(&want) => return Some(b),
                _ => {}
            }
        }
        None
    })
    .await
    .expect("join")
    .expect("the HTTPS provider received the apps event at the new revision");
    let v: Value = serde_json::from_str(&audit_body).expect("JSON");
    assert_eq!(v["involvedObject"]["name"], "apps");

    // A follow-up push soon after the first is synced too, not left for the 1m interval
    // (requestedAt has sub-second precision, so the second request still changes it).
    repo.edit(
        "apps/frontend/overlays/development/kustomization.yaml",
        "newTag: \"1.28\"",
        "newTag: \"1.29\"",
    );
    repo.commit("frontend: nginx 1.29");
    let body =
        serde_json::to_vec(&json!({"ref": "refs/heads/main", "after": repo.head()})).expect("json");
    eprintln!("second push {:?} after the first", first_push.elapsed());
    assert_eq!(push(&url, &body, &sign(&body)).await, 200);
    let start = Instant::now();
    while image().await.as_deref() != Some("nginxinc/nginx-unprivileged:1.29") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the second push was not synced (only the 1m interval would fetch it)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The deliveries are counted on the sandbox's /metrics.
    let sent = "driftless_notifications_total{provider=\"flux-system/slack\",result=\"sent\",type=\"slack\"}";
    let exposition = eventually("the Slack delivery counted on /metrics", || async {
        let text = metrics(sb.metrics_addr).await;
        sample(&text, sent)
            .is_some_and(|n| n >= 1.0)
            .then_some(text)
    })
    .await;
    let attempts = sample(
        &exposition,
        "driftless_notification_delivery_duration_seconds_count{provider=\"flux-system/slack\",type=\"slack\"}",
    )
    .expect("delivery attempts timed");
    assert!(attempts >= sample(&exposition, sent).unwrap_or(0.0));
    assert_eq!(
        sample(
            &exposition,
            "driftless_notifications_total{provider=\"flux-system/slack\",result=\"failed\",type=\"slack\"}"
        )
        .unwrap_or(0.0),
        0.0
    );
}
