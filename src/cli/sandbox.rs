//! `driftless sandbox [--repo DIR] [--cluster development]`: a whole GitOps setup in one
//! process, no cluster needed.
//!
//! ```text
//!  embedded API server ──► install (CRDs, agent namespace) ──► bootstrap (flux-system,
//!  url file://<repo>, path ./clusters/<cluster>) ──► agent (controller, metrics)
//!  notify on <repo>/.git refs ──► GitRepository reconcile now ──► new revision applied
//!    (--no-watch: only the 1m interval or a Receiver webhook fetches, as in a cluster)
//!  kubeconfig ──► <repo>/.driftless/sandbox.kubeconfig (kubectl / driftless get work)
//! ```
//!
//! The repository's own `clusters/<cluster>/flux-system/gotk-sync.yaml` names its public URL;
//! the agent is told to fetch that URL from the local checkout (on its current branch), so the
//! Flux layout reconciles unchanged.

use super::bootstrap::{self, BootstrapArgs};
use super::get::{ks_row, table};
use crate::api::condition;
use crate::apiserver::{self, ApiServer};
use crate::controller::{self, Config, Context, Key, Kind, SourceOverride};
use crate::server::{self, Health, Metrics};
use anyhow::{anyhow, bail, Context as _, Result};
use kube::Resource;
use notify::Watcher;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// The git checkout to reconcile from.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The cluster directory under `clusters/`.
    #[arg(long, default_value = "development")]
    pub cluster: String,
    /// Where to write the kubeconfig (default: <repo>/.driftless/sandbox.kubeconfig).
    #[arg(long)]
    pub kubeconfig_out: Option<PathBuf>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub metrics_addr: String,
    /// Where Receiver webhooks are served.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub webhook_addr: String,
    /// Reconciles in flight at once.
    #[arg(long, default_value_t = 10)]
    pub concurrent: usize,
    /// Exit (0) once everything is Ready, (1) on timeout; for scripts and benchmarks.
    #[arg(long)]
    pub exit_when_ready: bool,
    /// With --exit-when-ready: give up after this long.
    #[arg(long, default_value = "5m", value_parser = super::apply::parse_duration)]
    pub timeout: Duration,
    /// Log every reconcile (default: warnings only, so the table stays readable).
    #[arg(long, short)]
    pub verbose: bool,
    /// Do not watch the checkout for commits: new revisions are fetched on the GitRepository
    /// interval or when a Receiver webhook asks, as in a real cluster.
    #[arg(long = "no-watch", action = clap::ArgAction::SetFalse)]
    pub watch_repo: bool,
    /// Safety-net retry while a dependency is not Ready (dependents are queued the moment it
    /// is); tests raise it to prove that.
    #[arg(skip = Duration::from_secs(5))]
    pub requeue_dependency: Duration,
}

impl SandboxArgs {
    /// Defaults for `repo` and `cluster` (what tests and benchmarks start).
    pub fn new(repo: impl Into<PathBuf>, cluster: &str) -> SandboxArgs {
        SandboxArgs {
            repo: repo.into(),
            cluster: cluster.to_string(),
            kubeconfig_out: None,
            metrics_addr: "127.0.0.1:0".into(),
            webhook_addr: "127.0.0.1:0".into(),
            concurrent: 10,
            exit_when_ready: false,
            timeout: Duration::from_secs(300),
            verbose: false,
            watch_repo: true,
            requeue_dependency: Duration::from_secs(5),
        }
    }
}

/// A running sandbox. Dropping it stops everything.
pub struct Sandbox {
    pub server: ApiServer,
    pub ctx: Arc<Context>,
    pub kubeconfig: PathBuf,
    pub metrics_addr: SocketAddr,
    /// Where Receiver webhooks (`/hook/<id>`) are served.
    pub webhook_addr: SocketAddr,
    pub repo: PathBuf,
    _watcher: Option<notify::RecommendedWatcher>,
    _cache: tempfile_dir::TempDir,
    agent: tokio::task::JoinHandle<()>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.agent.abort();
    }
}

/// A temp directory removed on drop (std only, no extra dependency).
mod tempfile_dir {
    use std::path::{Path, PathBuf};

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(prefix: &str) -> std::io::Result<TempDir> {
            let p = std::env::temp_dir().join(format!("{prefix}-{:016x}", fastrand::u64(..)));
            std::fs::create_dir_all(&p)?;
            Ok(TempDir(p))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn git(repo: &Path, args: &[&str]) -> Option<String> {
    std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// GitRepository URLs named in `clusters/<cluster>/flux-system/*.yaml`.
fn declared_urls(cluster_dir: &Path) -> Vec<String> {
    let mut urls = Vec::new();
    let Ok(entries) = std::fs::read_dir(cluster_dir.join("flux-system")) else {
        return urls;
    };
    for e in entries.flatten() {
        let p = e.path();
        if !p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let Ok(v) = <serde_json::Value as serde::Deserialize>::deserialize(doc) else {
                continue;
            };
            if v["kind"] == "GitRepository" {
                if let Some(u) = v["spec"]["url"].as_str() {
                    urls.push(u.to_string());
                }
            }
        }
    }
    urls
}

impl Sandbox {
    /// Starts the API server, installs, bootstraps and runs the agent.
    pub async fn start(args: &SandboxArgs) -> Result<Sandbox> {
        let repo = std::fs::canonicalize(&args.repo)
            .with_context(|| format!("repository {} not found", args.repo.display()))?;
        if git(&repo, &["rev-parse", "--git-dir"]).is_none() {
            bail!("{} is not a git repository", repo.display());
        }
        let cluster_dir = repo.join("clusters").join(&args.cluster);
        if !cluster_dir.is_dir() {
            bail!(
                "{} does not exist: create clusters/{}/ (see README, adding a cluster)",
                cluster_dir.display(),
                args.cluster
            );
        }
        let branch =
            git(&repo, &["symbolic-ref", "--short", "-q", "HEAD"]).unwrap_or_else(|| "main".into());
        let local_url = format!("file://{}", repo.display());

        let server = ApiServer::start(apiserver::Options::default())
            .await
            .map_err(|e| anyhow!("failed to start the API server: {e}"))?;
        let kubeconfig = args
            .kubeconfig_out
            .clone()
            .unwrap_or_else(|| repo.join(".driftless").join("sandbox.kubeconfig"));
        if let Some(dir) = kubeconfig.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        server
            .write_kubeconfig(&kubeconfig)
            .map_err(|e| anyhow!("failed to write {}: {e}", kubeconfig.display()))?;
        let client = server.client().map_err(|e| anyhow!("{e}"))?;
        super::install::install(&client).await?;

        let cache = tempfile_dir::TempDir::new("driftless-sandbox")
            .context("failed to create the cache directory")?;
        let mut overrides: Vec<SourceOverride> = declared_urls(&cluster_dir)
            .into_iter()
            .map(|url| SourceOverride {
                url,
                local_url: local_url.clone(),
                branch: Some(branch.clone()),
            })
            .collect();
        overrides.push(SourceOverride {
            url: local_url.clone(),
            local_url: local_url.clone(),
            branch: Some(branch.clone()),
        });
        let config = Config {
            concurrent: args.concurrent,
            cache_dir: cache.path().to_path_buf(),
            health_poll: Duration::from_millis(250),
            requeue_dependency: args.requeue_dependency,
            source_overrides: overrides,
            ..Config::default()
        };
        let metrics = Arc::new(Metrics::new());
        let health = Arc::new(Health::default());
        let addr = server::parse_addr(&args.metrics_addr)
            .ok_or_else(|| anyhow!("invalid --metrics-addr {:?}", args.metrics_addr))?;
        let metrics_addr = server::serve(addr, metrics.clone(), health.clone())
            .await
            .with_context(|| format!("failed to listen on {addr}"))?;
        let ctx = Context::new(client.clone(), config, metrics);
        ctx.enable_notifications()?;
        let hook = server::parse_addr(&args.webhook_addr)
            .ok_or_else(|| anyhow!("invalid --webhook-addr {:?}", args.webhook_addr))?;
        let webhook_addr = controller::receiver::serve(ctx.clone(), hook)
            .await
            .with_context(|| format!("failed to listen on {hook}"))?;
        let agent = {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                if let Err(e) = controller::run(ctx, health).await {
                    tracing::error!(error = %e, "agent stopped");
                }
            })
        };
        bootstrap::bootstrap(
            &client,
            &BootstrapArgs {
                url: local_url,
                branch,
                path: format!("clusters/{}", args.cluster),
                interval: "1m".into(),
                name: "flux-system".into(),
                namespace: "flux-system".into(),
                export: false,
                kubeconfig: None,
            },
        )
        .await?;
        let watcher = if args.watch_repo {
            watch_refs(&repo, ctx.clone())
        } else {
            None
        };
        Ok(Sandbox {
            server,
            ctx,
            kubeconfig,
            metrics_addr,
            webhook_addr,
            repo,
            _watcher: watcher,
            _cache: cache,
            agent,
        })
    }

    /// The rows of the progress table (every Kustomization the agent knows).
    pub fn rows(&self) -> Vec<super::get::Row> {
        self.ctx
            .kustomizations()
            .iter()
            .map(|k| ks_row(k))
            .collect()
    }

    /// True when every Kustomization, and every Kustomization they created, is Ready at the
    /// source's current revision.
    pub fn all_ready(&self) -> bool {
        let all = self.ctx.kustomizations();
        if all.is_empty() {
            return false;
        }
        let known: std::collections::HashSet<(String, String)> = all
            .iter()
            .map(|k| {
                (
                    k.meta().namespace.clone().unwrap_or_default(),
                    k.meta().name.clone().unwrap_or_default(),
                )
            })
            .collect();
        all.iter().all(|k| {
            let Some(status) = &k.status else {
                return false;
            };
            let current = crate::controller::kustomization::source_key(k)
                .and_then(|s| self.ctx.artifact(&s))
                .map(|a| a.revision);
            let children_known =
                status.inventory.iter().flat_map(|i| &i.entries).all(|e| {
                    match e
                        .id
                        .strip_suffix("_kustomize.toolkit.fluxcd.io_Kustomization")
                    {
                        Some(rest) => rest.split_once('_').is_some_and(|(ns, n)| {
                            known.contains(&(ns.to_string(), n.to_string()))
                        }),
                        None => true,
                    }
                });
            condition::is_ready(&status.conditions)
                && k.meta().generation == status.observed_generation
                && current.is_some()
                && status.last_applied_revision == current
                && children_known
        })
    }

    /// Waits until `all_ready`, or fails after `timeout` with the table.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<Duration> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.all_ready() {
                return Ok(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "not all Kustomizations Ready after {timeout:?}:\n{}",
            table(&self.rows(), true)
        )
    }

    /// Asks for an immediate fetch of the sandbox's GitRepository (what a commit triggers).
    pub fn refresh(&self) {
        self.ctx
            .request(Key::new(Kind::GitRepository, "flux-system", "flux-system"));
    }
}

/// Watches the checkout's refs: a commit, checkout or reset queues a fetch at once.
fn watch_refs(repo: &Path, ctx: Arc<Context>) -> Option<notify::RecommendedWatcher> {
    let git_dir = git(repo, &["rev-parse", "--absolute-git-dir"]).map(PathBuf::from)?;
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(ev) = res else { return };
        let relevant = ev.paths.iter().any(|p| {
            let s = p.to_string_lossy();
            !s.ends_with(".lock")
                && (s.contains("/refs/") || s.ends_with("HEAD") || s.ends_with("packed-refs"))
        });
        if relevant {
            ctx.request(Key::new(Kind::GitRepository, "flux-system", "flux-system"));
        }
    })
    .ok()?;
    let _ = watcher.watch(&git_dir, notify::RecursiveMode::NonRecursive);
    // In a linked worktree, branches live in the common directory.
    let common = git(repo, &["rev-parse", "--git-common-dir"])
        .map(|c| {
            if Path::new(&c).is_absolute() {
                PathBuf::from(c)
            } else {
                repo.join(c)
            }
        })
        .unwrap_or_else(|| git_dir.clone());
    for dir in [&git_dir, &common] {
        let _ = watcher.watch(dir, notify::RecursiveMode::NonRecursive);
        let _ = watcher.watch(&dir.join("refs"), notify::RecursiveMode::Recursive);
    }
    Some(watcher)
}

/// Rows beyond which the live table shows a summary line instead.
const MAX_TABLE_ROWS: usize = 40;

pub fn run(args: SandboxArgs) -> Result<i32> {
    super::agent::init_logging(!args.verbose);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    rt.block_on(async move {
        let started = Instant::now();
        let sb = Sandbox::start(&args).await?;
        println!("sandbox API server: {}", sb.server.url());
        println!("kubeconfig:         {}", sb.kubeconfig.display());
        println!("metrics:            http://{}/metrics", sb.metrics_addr);
        println!("webhooks:           http://{}/hook/<id>", sb.webhook_addr);
        println!(
            "try: kubectl --kubeconfig {k} get deploy -A   |   driftless get ks -A --kubeconfig {k}",
            k = sb.kubeconfig.display()
        );
        println!();
        let mut last = String::new();
        let mut announced = false;
        loop {
            let rows = sb.rows();
            let text = if rows.len() > MAX_TABLE_ROWS {
                let ready = rows.iter().filter(|r| r.ready == "True").count();
                format!("{ready}/{} Kustomizations Ready\n", rows.len())
            } else {
                table(&rows, true)
            };
            if text != last && !rows.is_empty() {
                println!("{text}");
                last = text;
            }
            if sb.all_ready() && !announced {
                announced = true;
                println!(
                    "✔ all {} Kustomizations Ready in {:.1}s",
                    rows.len(),
                    started.elapsed().as_secs_f64()
                );
                if args.exit_when_ready {
                    return Ok(0);
                }
                if args.watch_repo {
                    println!("watching {} for commits (Ctrl-C to stop)", sb.repo.display());
                } else {
                    println!("waiting for Receiver webhooks or the 1m interval (Ctrl-C to stop)");
                }
            }
            if !sb.all_ready() {
                announced = false;
            }
            if args.exit_when_ready && started.elapsed() > args.timeout {
                eprintln!("error: not all Kustomizations Ready after {:?}", args.timeout);
                return Ok(1);
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = tokio::signal::ctrl_c() => return Ok(0),
            }
        }
    })
}
