//! Load benchmark for the embedded API server: server-side apply requests per second over
//! loopback through `kube::Client`. Run by `bench/apiserver.sh`.
//!
//! Usage: `apiserver_bench URL [REQUESTS] [CONCURRENCY] [OBJECTS]`. Every request is a real
//! apply of a Deployment (the first round creates the objects, later rounds change the image,
//! so each request writes).

use futures::stream::{self, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use std::time::{Duration, Instant};

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: apiserver_bench URL [REQUESTS] [CONCURRENCY] [OBJECTS]")?;
    let requests = arg(2, 20_000);
    let concurrency = arg(3, 16);
    let objects = arg(4, 500).max(1);
    let client = kube::Client::try_from(kube::Config::new(url.parse()?))?;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let pp = PatchParams::apply("bench");
    let start = Instant::now();
    let results: Vec<Result<Duration, kube::Error>> = stream::iter(0..requests)
        .map(|i| {
            let api = api.clone();
            let pp = pp.clone();
            async move {
                let name = format!("web-{}", i % objects);
                let round = i / objects;
                let body = json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "labels": {"app": name}},
                    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}},
                            "spec": {"containers": [{"name": "web", "image": format!("nginx:1.{round}"),
                                "ports": [{"containerPort": 80}], "env": [{"name": "ROUND", "value": round.to_string()}]}]}}}
                });
                let t = Instant::now();
                api.patch(&name, &pp, &Patch::Apply(body)).await.map(|_| t.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = start.elapsed();
    let mut lat: Vec<Duration> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    let errors = results.len() - lat.len();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "server-side apply: {requests} requests, concurrency {concurrency}, {objects} objects: {:.0} req/s ({:.2}s), p50 {:.2}ms, p99 {:.2}ms, errors {errors}",
        requests as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
    if errors > 0 {
        return Err(format!("{errors} requests failed").into());
    }
    Ok(())
}
