//! `driftless agent [--kubeconfig F] [--metrics-addr :8080] [--webhook-addr :9292]
//! [--concurrent N]`: the in-cluster reconciler (see `crate::controller`), with `/metrics`,
//! `/healthz` and `/readyz`, and leader election on a Lease.

use crate::controller::{self, Config, Context, LeaseConfig};
use crate::server::{self, Health, Metrics};
use anyhow::{anyhow, Context as _, Result};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct AgentArgs {
    /// Kubeconfig file (default: in-cluster config, $KUBECONFIG, ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    #[arg(long, default_value = ":8080")]
    pub metrics_addr: String,
    /// Where Receiver webhooks (`/hook/<id>`) are served.
    #[arg(long, default_value = ":9292")]
    pub webhook_addr: String,
    /// Reconciles in flight at once.
    #[arg(long, default_value_t = 10)]
    pub concurrent: usize,
    /// Where git checkouts are cached.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Run without leader election (only safe with a single replica).
    #[arg(long)]
    pub no_leader_election: bool,
}

/// Initialises logging to stderr (`RUST_LOG`-less: info, or warn when quiet).
pub fn init_logging(quiet: bool) {
    let level = if quiet {
        tracing::Level::WARN
    } else {
        tracing::Level::INFO
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(args: AgentArgs) -> Result<i32> {
    init_logging(false);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    rt.block_on(async {
        let client = crate::apply::engine::client_from_kubeconfig(args.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow!(e))?;
        let namespace =
            std::env::var("POD_NAMESPACE").unwrap_or_else(|_| controller::AGENT_NAMESPACE.into());
        let identity = format!(
            "{}_{:08x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "driftless".into()),
            fastrand::u32(..)
        );
        let config = Config {
            concurrent: args.concurrent,
            cache_dir: args
                .cache_dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("driftless")),
            agent_namespace: namespace.clone(),
            leader: (!args.no_leader_election).then(|| LeaseConfig {
                namespace,
                name: "driftless-leader-election".into(),
                identity,
            }),
            ..Config::default()
        };
        let metrics = Arc::new(Metrics::new());
        let health = Arc::new(Health::default());
        let addr = server::parse_addr(&args.metrics_addr)
            .ok_or_else(|| anyhow!("invalid --metrics-addr {:?}", args.metrics_addr))?;
        let bound = server::serve(addr, metrics.clone(), health.clone())
            .await
            .with_context(|| format!("failed to listen on {addr}"))?;
        tracing::info!(%bound, "serving metrics and probes");
        let ctx = Context::new(client, config, metrics);
        ctx.enable_notifications()?;
        let hook = server::parse_addr(&args.webhook_addr)
            .ok_or_else(|| anyhow!("invalid --webhook-addr {:?}", args.webhook_addr))?;
        let hook = controller::receiver::serve(ctx.clone(), hook)
            .await
            .with_context(|| format!("failed to listen on {hook}"))?;
        tracing::info!(%hook, "serving receiver webhooks");
        controller::run(ctx, health).await?;
        Ok(0)
    })
}
