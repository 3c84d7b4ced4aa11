//! Notification and receiver benchmark, all on loopback. Run by `bench/notify.sh`.
//!
//! 1. Dispatcher throughput: EVENTS distinct sync events with a change list go through
//!    `Dispatcher::send` to a local generic-webhook receiver (axum); prints events/s from the
//!    first send to the last delivery, and the p50/p99 time of one `send` call.
//! 2. Receiver latency: PUSHES GitHub-style signed push requests to the `/hook/<digest>`
//!    router; prints p50/p95 from request start to the trigger callback (the part of
//!    push→applied this crate owns; the agent's reconcile comes after).
//!
//! Usage: `notify_bench [EVENTS] [PUSHES]`.

use axum::http::StatusCode;
use axum::Router;
use driftless::apply::{Action, ChangeSet, ObjRef};
use driftless::notification::{
    Changes, DispatchOptions, Dispatcher, Event, InvolvedObject, ProviderConfig, ProviderType,
    Severity,
};
use driftless::receiver::{router, ReceiverConfig, ReceiverType, Registry, Trigger};
use hmac::{Hmac, Mac};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn event(i: usize) -> Event {
    let mut cs = ChangeSet::default();
    for j in 0..20 {
        cs.push(
            ObjRef {
                kind: "Deployment".into(),
                version: "v1".into(),
                namespace: "shop".into(),
                name: format!("web-{j}"),
                ..Default::default()
            },
            if j % 4 == 0 {
                Action::Configured
            } else {
                Action::Unchanged
            },
        );
    }
    Event {
        involved_object: InvolvedObject {
            kind: "Kustomization".into(),
            namespace: "flux-system".into(),
            name: format!("app-{}", i % 50),
            ..Default::default()
        },
        severity: Severity::Info,
        reason: "ReconciliationSucceeded".into(),
        message: format!("Reconciliation finished ({i})"),
        revision: Some(format!("main@sha1:{i:040x}")),
        cluster: Some("bench".into()),
        changes: Some(Changes::from_changeset(&cs, 10)),
        ..Default::default()
    }
}

async fn dispatcher_throughput(n: usize) {
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let app = Router::new().fallback(move || {
        let c = counter.clone();
        async move {
            c.fetch_add(1, Ordering::Relaxed);
            StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let d = Dispatcher::start(DispatchOptions {
        queue_capacity: n.max(1),
        concurrency: 16,
        ..Default::default()
    })
    .unwrap();
    let provider = Arc::new(ProviderConfig::new(
        "bench/generic",
        ProviderType::Generic,
        &url,
    ));
    let mut send_times = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let ev = event(i);
        let t = Instant::now();
        d.send(provider.clone(), ev);
        send_times.push(t.elapsed());
    }
    let idle = d.wait_idle(Duration::from_secs(300)).await;
    let took = start.elapsed();
    send_times.sort();
    let s = d.stats();
    println!(
        "dispatcher: {n} events -> {} delivered, {} failed, {} dropped in {:.2}s = {:.0} events/s{}",
        s.delivered,
        s.failed,
        s.dropped,
        took.as_secs_f64(),
        s.delivered as f64 / took.as_secs_f64(),
        if idle { "" } else { " (timed out)" }
    );
    println!(
        "send(): p50 {:?} p99 {:?} max {:?}; receiver saw {}",
        pct(&send_times, 0.5),
        pct(&send_times, 0.99),
        send_times.last().copied().unwrap_or_default(),
        received.load(Ordering::Relaxed)
    );
}

async fn receiver_latency(n: usize) {
    let token = "bench-token";
    let registry = Registry::new();
    let path = registry.upsert(ReceiverConfig {
        name: "github".into(),
        namespace: "flux-system".into(),
        kind: ReceiverType::Github,
        token: token.into(),
        events: vec!["push".into()],
        resources: vec![],
        suspend: false,
    });
    let fired: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let sink = fired.clone();
    let trigger: Trigger = Arc::new(move |_| {
        if let Ok(mut f) = sink.lock() {
            *f = Some(Instant::now());
        }
    });
    let app = router(registry, trigger, 1 << 20);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{}", listener.local_addr().unwrap(), path);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client = reqwest::Client::new();
    let body = br#"{"ref":"refs/heads/main","after":"4f2a9c1e","commits":[]}"#.repeat(20);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(&body);
    let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let resp = client
            .post(&url)
            .header("X-Hub-Signature-256", &sig)
            .header("X-GitHub-Event", "push")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let at = fired.lock().unwrap().take().expect("trigger fired");
        lat.push(at.duration_since(t));
    }
    lat.sort();
    println!(
        "receiver: {n} signed GitHub pushes, request start -> trigger: p50 {:?} p95 {:?} max {:?}",
        pct(&lat, 0.5),
        pct(&lat, 0.95),
        lat.last().copied().unwrap_or_default()
    );
}

#[tokio::main]
async fn main() {
    dispatcher_throughput(arg(1, 20_000)).await;
    receiver_latency(arg(2, 2_000)).await;
}
