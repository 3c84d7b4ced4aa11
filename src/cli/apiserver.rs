//! `driftless apiserver [--listen 127.0.0.1:6443] [--kubeconfig-out FILE] [--fail-rate F]
//! [--latency MS] [--data DIR] [--no-controllers]`: runs the embedded API server until interrupted.

use crate::apiserver::{ApiServer, Options};
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ApiserverArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,
    /// Write a kubeconfig pointing at the server to this file.
    #[arg(long)]
    pub kubeconfig_out: Option<PathBuf>,
    /// Fraction (0..1) of API requests that fail with 500, 429 or a timeout.
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Milliseconds of delay added to every API request.
    #[arg(long, default_value_t = 0)]
    pub latency: u64,
    /// Keep state in DIR/state.json across restarts (saved every second and on Ctrl-C).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Do not run the simulated controllers (workload status, Job completion, PVC binding).
    #[arg(long)]
    pub no_controllers: bool,
}

pub fn run(args: ApiserverArgs) -> Result<i32> {
    if !(0.0..=1.0).contains(&args.fail_rate) {
        bail!(
            "--fail-rate must be between 0 and 1, got {}",
            args.fail_rate
        );
    }
    let rt = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    rt.block_on(async move {
        let opts = Options {
            listen: args.listen,
            fail_rate: args.fail_rate,
            latency: Duration::from_millis(args.latency),
            controllers: !args.no_controllers,
            data_dir: args.data.clone(),
            ..Options::default()
        };
        let server = ApiServer::start(opts).await?;
        if let Some(path) = &args.kubeconfig_out {
            server.write_kubeconfig(path)?;
        }
        println!("ready {}", server.url());
        let _ = std::io::stdout().flush();
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        server.save()?;
        Ok(0)
    })
}
