//! Webhook providers against local HTTP receivers (axum on 127.0.0.1:0): the exact Slack,
//! MS Teams, Discord, Telegram, generic and generic-hmac payloads and headers; dedup; retries;
//! redaction; and a dead provider never delaying `send`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use driftless::apply::{Action, ChangeSet};
use driftless::notification::event::REVISION_KEY;
use driftless::notification::{
    Changes, DispatchOptions, Dispatcher, Event, ProviderConfig, ProviderType, Severity,
};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "common/notify.rs"]
mod notify;
#[path = "common/tls.rs"]
mod tls;

use notify::{apps_event, obj};

#[derive(Clone, Debug)]
struct Hit {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone, Default)]
struct Shared {
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Status codes to answer with, in order; 200 once empty.
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

struct Capture {
    addr: SocketAddr,
    shared: Shared,
}

impl Capture {
    async fn start() -> Capture {
        let shared = Shared::default();
        let app = Router::new().fallback(record).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Capture { addr, shared }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    fn answer(&self, codes: &[u16]) {
        self.shared.statuses.lock().unwrap().extend(codes);
    }

    fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    async fn wait_hits(&self, n: usize) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.hits().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.hits()
    }
}

async fn record(State(s): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    s.hits.lock().unwrap().push(Hit {
        path: uri.to_string(),
        headers,
        body: body.to_vec(),
    });
    let code = s.statuses.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(code).unwrap()
}

fn sync_event() -> Event {
    let mut cs = ChangeSet::default();
    cs.push(obj("Namespace", "", "shop"), Action::Created);
    cs.push(obj("ConfigMap", "shop", "settings"), Action::Unchanged);
    cs.push(obj("Deployment", "shop", "web"), Action::Configured);
    let mut ev = Event {
        commit_message: Some("web: bump to 1.4".into()),
        cluster: Some("prod-eu".into()),
        changes: Some(Changes::from_changeset(&cs, 10)),
        timestamp: "2026-11-22T04:00:00Z".into(),
        ..apps_event()
    };
    ev.involved_object.api_version = "kustomize.toolkit.fluxcd.io/v1".into();
    ev.metadata.insert("env".into(), "prod".into());
    ev
}

const TEXT: &str = "Reconciliation finished in 1.2s\n\
    revision: main@sha1:4f2a9c1e \"web: bump to 1.4\"\n\
    cluster: prod-eu\n\
    2 changed: 1 created, 1 configured, 0 drifted, 0 deleted (1 unchanged)\n  \
    Namespace/shop created\n  \
    Deployment/shop/web configured";

const MARKDOWN: &str = "Reconciliation finished in 1.2s\n\
    *2 changed: 1 created, 1 configured, 0 drifted, 0 deleted (1 unchanged)*\n\
    ```\nNamespace/shop created\nDeployment/shop/web configured\n```";

fn fast() -> DispatchOptions {
    DispatchOptions {
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        ..Default::default()
    }
}

async fn deliver(p: ProviderConfig, ev: Event, cap: &Capture) -> Hit {
    let d = Dispatcher::start(fast()).unwrap();
    d.send(Arc::new(p), ev);
    assert!(d.wait_idle(Duration::from_secs(10)).await);
    assert_eq!(d.stats().delivered, 1, "{:?}", d.stats());
    let hits = cap.wait_hits(1).await;
    assert_eq!(hits.len(), 1);
    hits[0].clone()
}

#[tokio::test]
async fn slack_gets_block_kit_with_changes_revision_and_cluster() {
    let cap = Capture::start().await;
    let mut p = ProviderConfig::new(
        "flux-system/slack",
        ProviderType::Slack,
        &cap.url("/services/T0/B0/x"),
    );
    p.channel = "#deploys".into();
    let hit = deliver(p, sync_event(), &cap).await;
    assert_eq!(hit.path, "/services/T0/B0/x");
    assert_eq!(hit.header("content-type"), Some("application/json"));
    assert_eq!(hit.header("authorization"), None);
    assert_eq!(
        hit.json(),
        json!({
            "channel": "#deploys",
            "username": "driftless",
            "text": "Kustomization/flux-system/apps: ReconciliationSucceeded",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "✅ Kustomization/flux-system/apps ReconciliationSucceeded", "emoji": true}},
                {"type": "section", "text": {"type": "mrkdwn", "text": MARKDOWN}},
                {"type": "context", "elements": [
                    {"type": "mrkdwn", "text": "*revision* `main@sha1:4f2a9c1e \"web: bump to 1.4\"`"},
                    {"type": "mrkdwn", "text": "*cluster* `prod-eu`"}
                ]},
                {"type": "section", "fields": [{"type": "mrkdwn", "text": "*env*\nprod"}]}
            ]
        })
    );
}

#[tokio::test]
async fn slack_bot_token_is_sent_as_bearer_and_not_in_the_body() {
    let cap = Capture::start().await;
    let mut p = ProviderConfig::new(
        "flux-system/slack",
        ProviderType::Slack,
        &cap.url("/api/chat.postMessage"),
    );
    p.secrets.insert("token".into(), "xoxb-secret-token".into());
    let hit = deliver(p, sync_event(), &cap).await;
    assert_eq!(
        hit.header("authorization"),
        Some("Bearer xoxb-secret-token")
    );
    assert!(!String::from_utf8_lossy(&hit.body).contains("xoxb-secret-token"));
}

#[tokio::test]
async fn msteams_gets_flux_adaptive_card() {
    let cap = Capture::start().await;
    let p = ProviderConfig::new(
        "flux-system/teams",
        ProviderType::MsTeams,
        &cap.url("/workflows/1"),
    );
    let mut ev = sync_event();
    ev.severity = Severity::Error;
    let hit = deliver(p, ev, &cap).await;
    assert_eq!(hit.header("content-type"), Some("application/json"));
    assert_eq!(
        hit.json(),
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{
                        "type": "Container",
                        "items": [
                            {"type": "TextBlock", "text": "kustomization/apps.flux-system", "size": "large", "weight": "bolder", "wrap": true},
                            {"type": "TextBlock", "text": TEXT, "wrap": true, "color": "attention"},
                            {"type": "FactSet", "facts": [
                                {"title": "cluster", "value": "prod-eu"},
                                {"title": "commit", "value": "web: bump to 1.4"},
                                {"title": "env", "value": "prod"},
                                {"title": REVISION_KEY, "value": "main@sha1:4f2a9c1e"}
                            ]}
                        ]
                    }],
                    "msteams": {"width": "Full"}
                }
            }]
        })
    );
}

#[tokio::test]
async fn discord_gets_slack_attachments_on_the_slack_path_like_flux() {
    let cap = Capture::start().await;
    let p = ProviderConfig::new(
        "flux-system/discord",
        ProviderType::Discord,
        &cap.url("/api/webhooks/1/tok"),
    );
    let hit = deliver(p, sync_event(), &cap).await;
    assert_eq!(hit.path, "/api/webhooks/1/tok/slack");
    assert_eq!(
        hit.json(),
        json!({
            "channel": "",
            "username": "driftless",
            "icon_url": "",
            "icon_emoji": "",
            "attachments": [{
                "color": "good",
                "author_name": "kustomization/apps.flux-system",
                "text": MARKDOWN,
                "mrkdwn_in": ["text"],
                "fields": [
                    {"title": "cluster", "value": "prod-eu", "short": false},
                    {"title": "commit", "value": "web: bump to 1.4", "short": false},
                    {"title": "env", "value": "prod", "short": false},
                    {"title": REVISION_KEY, "value": "main@sha1:4f2a9c1e", "short": false}
                ]
            }]
        })
    );
}

#[tokio::test]
async fn telegram_send_message_uses_bot_token_path_and_html() {
    let cap = Capture::start().await;
    let mut p = ProviderConfig::new("flux-system/tg", ProviderType::Telegram, &cap.url(""));
    p.channel = "-100123".into();
    p.secrets.insert("token".into(), "123:ABC".into());
    let hit = deliver(p, sync_event(), &cap).await;
    assert_eq!(hit.path, "/bot123:ABC/sendMessage");
    let escaped = TEXT.replace('"', "&quot;");
    assert_eq!(
        hit.json(),
        json!({
            "chat_id": "-100123",
            "text": format!("✅ <b>Kustomization/flux-system/apps</b> ReconciliationSucceeded\n<pre>{escaped}</pre>"),
            "parse_mode": "HTML",
            "disable_web_page_preview": true
        })
    );
}

fn flux_event_json() -> Value {
    json!({
        "involvedObject": {
            "kind": "Kustomization",
            "namespace": "flux-system",
            "name": "apps",
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1"
        },
        "severity": "info",
        "timestamp": "2026-11-22T04:00:00Z",
        "message": TEXT,
        "reason": "ReconciliationSucceeded",
        "metadata": {
            "cluster": "prod-eu",
            "commit": "web: bump to 1.4",
            "env": "prod",
            REVISION_KEY: "main@sha1:4f2a9c1e"
        },
        "reportingController": "driftless"
    })
}

#[tokio::test]
async fn generic_gets_flux_event_json_with_component_and_secret_headers() {
    let cap = Capture::start().await;
    let mut p = ProviderConfig::new(
        "flux-system/hook",
        ProviderType::Generic,
        &cap.url("/events"),
    );
    p.secrets
        .insert("headers".into(), "X-Team: shop\nX-Env: prod\n".into());
    let hit = deliver(p, sync_event(), &cap).await;
    assert_eq!(hit.path, "/events");
    assert_eq!(hit.header("content-type"), Some("application/json"));
    assert_eq!(hit.header("gotk-component"), Some("driftless"));
    assert_eq!(hit.header("x-team"), Some("shop"));
    assert_eq!(hit.header("x-env"), Some("prod"));
    assert_eq!(hit.header("x-signature"), None);
    assert_eq!(hit.json(), flux_event_json());
}

#[tokio::test]
async fn generic_hmac_signs_the_exact_body_and_redacts_the_token() {
    let cap = Capture::start().await;
    let token = "hmac-key-7731";
    let mut p = ProviderConfig::new(
        "flux-system/hook",
        ProviderType::GenericHmac,
        &cap.url("/events"),
    );
    p.secrets.insert("token".into(), token.into());
    let mut ev = sync_event();
    let hit = deliver(p.clone(), ev.clone(), &cap).await;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(&hit.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(hit.header("x-signature"), Some(expected.as_str()));
    assert_eq!(hit.header("gotk-component"), Some("driftless"));
    assert_eq!(hit.json(), flux_event_json());

    // A message quoting the token is masked before it leaves.
    let cap2 = Capture::start().await;
    p.address = cap2.url("/events");
    ev.message = format!("auth with {token} failed");
    let hit = deliver(p, ev, &cap2).await;
    let body = String::from_utf8_lossy(&hit.body);
    assert!(!body.contains(token));
    assert!(body.contains("auth with ***** failed"));
}

fn failure_event() -> Event {
    Event {
        severity: Severity::Error,
        reason: "HealthCheckFailed".into(),
        message: "timeout waiting for: [Deployment/shop/web status: 'InProgress']".into(),
        ..apps_event()
    }
}

#[tokio::test]
async fn the_same_failure_twenty_times_sends_one_message() {
    let cap = Capture::start().await;
    let p = Arc::new(ProviderConfig::new(
        "flux-system/hook",
        ProviderType::Generic,
        &cap.url("/events"),
    ));
    let d = Dispatcher::start(fast()).unwrap();
    for _ in 0..20 {
        d.send(p.clone(), failure_event());
    }
    assert!(d.wait_idle(Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(cap.hits().len(), 1);
    let s = d.stats();
    assert_eq!((s.delivered, s.duplicates), (1, 19));
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_and_client_errors_are_not() {
    let cap = Capture::start().await;
    cap.answer(&[500, 503]);
    let p = Arc::new(ProviderConfig::new(
        "flux-system/hook",
        ProviderType::Generic,
        &cap.url("/events"),
    ));
    let d = Dispatcher::start(fast()).unwrap();
    d.send(p.clone(), failure_event());
    assert!(d.wait_idle(Duration::from_secs(10)).await);
    assert_eq!(cap.hits().len(), 3);
    let s = d.stats();
    assert_eq!((s.delivered, s.failed, s.attempts), (1, 0, 3));

    cap.answer(&[400]);
    let mut other = failure_event();
    other.message = "another failure".into();
    d.send(p, other);
    assert!(d.wait_idle(Duration::from_secs(10)).await);
    let s = d.stats();
    assert_eq!((s.delivered, s.failed, s.attempts), (1, 1, 4));
    assert!(s.last_error.unwrap().contains("HTTP 400"));
}

#[tokio::test]
async fn delivery_errors_never_show_the_token() {
    let cap = Capture::start().await;
    cap.answer(&[401]);
    let mut p = ProviderConfig::new("flux-system/tg", ProviderType::Telegram, &cap.url(""));
    p.channel = "1".into();
    p.secrets.insert("token".into(), "999:SECRETBOT".into());
    let d = Dispatcher::start(fast()).unwrap();
    d.send(Arc::new(p), failure_event());
    assert!(d.wait_idle(Duration::from_secs(10)).await);
    let err = d.stats().last_error.expect("an error");
    assert!(err.contains("HTTP 401"), "{err}");
    assert!(!err.contains("SECRETBOT"), "{err}");
}

#[tokio::test]
async fn a_dead_provider_never_delays_send_or_other_providers() {
    // A blackhole: accepts connections and never answers.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole_addr = hole.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in hole.incoming() {
            held.push(s);
        }
    });
    // A closed port: connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);

    let mut dead = ProviderConfig::new(
        "ns/blackhole",
        ProviderType::Generic,
        &format!("http://{hole_addr}/"),
    );
    dead.timeout = Duration::from_secs(5);
    let dead = Arc::new(dead);
    let refused = Arc::new(ProviderConfig::new(
        "ns/refused",
        ProviderType::Slack,
        &format!("http://{closed_addr}/"),
    ));
    let cap = Capture::start().await;
    let good = Arc::new(ProviderConfig::new(
        "ns/good",
        ProviderType::Generic,
        &cap.url("/ok"),
    ));

    let d = Dispatcher::start(DispatchOptions {
        concurrency: 4,
        ..Default::default()
    })
    .unwrap();
    let mut slowest = Duration::ZERO;
    for i in 0..50 {
        let mut ev = failure_event();
        ev.message = format!("failure {i}");
        let t = Instant::now();
        d.send(dead.clone(), ev.clone());
        d.send(refused.clone(), ev);
        slowest = slowest.max(t.elapsed());
    }
    assert!(slowest < Duration::from_millis(50), "send took {slowest:?}");

    let t = Instant::now();
    d.send(good, failure_event());
    assert!(t.elapsed() < Duration::from_millis(50));
    let hits = cap.wait_hits(1).await;
    assert_eq!(hits.len(), 1);
    // Deliveries to the dead providers are still retrying (5 s timeout, 2 s backoff).
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "good provider waited {:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn alerts_route_by_severity_and_source_and_merge_their_metadata() {
    use driftless::notification::{compile_patterns, AlertConfig, EventSource, Route};
    use std::collections::BTreeMap;
    let errors_only = Capture::start().await;
    let everything = Capture::start().await;
    let source = |name: &str| EventSource {
        kind: "Kustomization".into(),
        name: name.into(),
        ..Default::default()
    };
    let routes = vec![
        Route {
            alert: AlertConfig {
                name: "flux-system/oncall".into(),
                namespace: "flux-system".into(),
                event_severity: Severity::Error,
                event_sources: vec![source("*")],
                ..Default::default()
            },
            provider: Arc::new(ProviderConfig::new(
                "flux-system/pager",
                ProviderType::Generic,
                &errors_only.url("/e"),
            )),
        },
        Route {
            alert: AlertConfig {
                name: "flux-system/team".into(),
                namespace: "flux-system".into(),
                event_severity: Severity::Info,
                event_sources: vec![source("apps")],
                exclusion_list: compile_patterns("team", &["^skip me".into()]).unwrap(),
                event_metadata: BTreeMap::from([("team".to_string(), "shop".to_string())]),
                summary: Some("shop apps".into()),
                ..Default::default()
            },
            provider: Arc::new(ProviderConfig::new(
                "flux-system/chat",
                ProviderType::Generic,
                &everything.url("/i"),
            )),
        },
    ];
    let d = Dispatcher::start(fast()).unwrap();
    let none = BTreeMap::new();
    d.route(&routes, &sync_event(), &none);
    let mut excluded = sync_event();
    excluded.message = "skip me please".into();
    d.route(&routes, &excluded, &none);
    let mut other = sync_event();
    other.involved_object.name = "infra".into();
    d.route(&routes, &other, &none);
    assert!(d.wait_idle(Duration::from_secs(10)).await);

    assert!(errors_only.hits().is_empty());
    let hits = everything.hits();
    assert_eq!(hits.len(), 1);
    let meta = &hits[0].json()["metadata"];
    assert_eq!(meta["team"], "shop");
    assert_eq!(meta["summary"], "shop apps");
    assert_eq!(meta["env"], "prod");

    d.route(&routes, &failure_event(), &none);
    assert!(d.wait_idle(Duration::from_secs(10)).await);
    assert_eq!(errors_only.hits().len(), 1);
    assert_eq!(everything.hits().len(), 2);
}
