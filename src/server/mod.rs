//! The agent's HTTP endpoints: `/metrics` (Prometheus text), `/healthz` (the process serves)
//! and `/readyz` (watches are synced and this replica may reconcile or stand by).
//! Receivers' `/hook/<id>` routes are added by the notification module on `--webhook-addr`.

pub mod metrics;

pub use metrics::Metrics;

use axum::{extract::State, http::StatusCode, routing::get, Router};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What the probes report.
#[derive(Default)]
pub struct Health {
    /// Set once the controller's caches are filled.
    pub ready: AtomicBool,
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

/// The router serving `/metrics`, `/healthz` and `/readyz`.
pub fn router(metrics: Arc<Metrics>, health: Arc<Health>) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(AppState { metrics, health })
}

async fn render_metrics(State(s): State<AppState>) -> ([(&'static str, &'static str); 1], String) {
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

async fn readyz(State(s): State<AppState>) -> (StatusCode, &'static str) {
    if s.health.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

/// Binds `addr` and serves the router until the process ends. Returns the bound address
/// (port 0 picks a free one).
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = router(metrics, health);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    Ok(bound)
}

/// Parses `:8080` or `127.0.0.1:8080` (Go style; an empty host means all interfaces).
pub fn parse_addr(s: &str) -> Option<SocketAddr> {
    if let Some(port) = s.strip_prefix(':') {
        return port
            .parse::<u16>()
            .ok()
            .map(|p| SocketAddr::from(([0, 0, 0, 0], p)));
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_style_listen_addresses() {
        assert_eq!(
            parse_addr(":8080"),
            Some(SocketAddr::from(([0, 0, 0, 0], 8080)))
        );
        assert_eq!(
            parse_addr("127.0.0.1:9"),
            Some(SocketAddr::from(([127, 0, 0, 1], 9)))
        );
        assert_eq!(parse_addr("nope"), None);
    }

    #[tokio::test]
    async fn readyz_fails_until_ready_and_metrics_serve_text() {
        let health = Arc::new(Health::default());
        let addr = serve(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Arc::new(Metrics::new()),
            health.clone(),
        )
        .await
        .expect("binds");
        let get = |path: &'static str| async move {
            let mut s = tokio::net::TcpStream::connect(addr)
                .await
                .expect("connects");
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .expect("writes");
            let mut out = String::new();
            s.read_to_string(&mut out).await.expect("reads");
            out
        };
        assert!(get("/readyz").await.starts_with("HTTP/1.0 503"));
        health.ready.store(true, Ordering::Relaxed);
        assert!(get("/readyz").await.starts_with("HTTP/1.0 200"));
        assert!(get("/healthz").await.starts_with("HTTP/1.0 200"));
        assert!(get("/metrics")
            .await
            .contains("driftless_objects_applied_total"));
    }
}
