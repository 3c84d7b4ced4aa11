//! The embedded Kubernetes API server: `driftless apiserver` and the in-process server the
//! tests use. Plain HTTP on loopback; state in memory.
//!
//! The pure core (`store`, `ssa`, `patch`, `validate`, `select`, `registry`) holds the API
//! semantics; `http` is a thin axum layer over it; `controllers` simulates the controllers a
//! real cluster runs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = driftless::apiserver::ApiServer::start(Default::default()).await?;
//! let client = server.client()?;
//! # let _ = client; Ok(()) }
//! ```

pub mod controllers;
pub mod defaults;
pub mod discovery;
pub mod error;
pub mod http;
pub mod patch;
pub mod protobuf;
pub mod registry;
pub mod select;
pub mod ssa;
pub mod store;
pub mod table;
pub mod time;
pub mod validate;

pub use error::{ApiError, ServerError};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Fraction of API requests that fail with 500, 429 or a timeout.
    pub fail_rate: f64,
    /// Delay added to every API request.
    pub latency: Duration,
    /// Run the simulated controllers.
    pub controllers: bool,
    /// How often the simulated controllers run.
    pub controller_interval: Duration,
    /// How often watches with `allowWatchBookmarks` get a BOOKMARK.
    pub bookmark_interval: Duration,
    /// Watch events kept for resuming; older versions get 410 Gone.
    pub history: usize,
    /// Keep state in `<dir>/state.json`: loaded at start, saved every second when it changed.
    pub data_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            fail_rate: 0.0,
            latency: Duration::ZERO,
            controllers: true,
            controller_interval: Duration::from_millis(200),
            bookmark_interval: Duration::from_secs(1),
            history: 10_000,
            data_dir: None,
        }
    }
}

/// A running server. Dropping it stops the server.
pub struct ApiServer {
    addr: SocketAddr,
    shared: Arc<http::Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
    data_file: Option<PathBuf>,
}

impl ApiServer {
    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(opts: Options) -> Result<Self, ServerError> {
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: opts.listen.to_string(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: opts.listen.to_string(),
            source,
        })?;
        let mut store = store::Store::new(opts.history);
        let data_file = opts.data_dir.as_ref().map(|d| d.join("state.json"));
        if let Some(file) = &data_file {
            load_snapshot(&mut store, file)?;
        }
        let shared = http::Shared::new(
            store,
            http::Tuning {
                fail_rate: opts.fail_rate,
                latency: opts.latency,
                bookmark_interval: opts.bookmark_interval,
            },
        );
        let (tx, rx) = oneshot::channel::<()>();
        let app = http::router(shared.clone());
        let mut tasks = vec![tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        })];
        if opts.controllers {
            tasks.push(tokio::spawn(controllers::run(
                shared.clone(),
                opts.controller_interval,
            )));
        }
        if let Some(file) = data_file.clone() {
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                let mut saved = 0;
                let mut ticker = tokio::time::interval(Duration::from_secs(1));
                loop {
                    ticker.tick().await;
                    let rv = shared.lock().resource_version();
                    if rv != saved && save_snapshot(&shared, &file).is_ok() {
                        saved = rv;
                    }
                }
            }));
        }
        Ok(ApiServer {
            addr,
            shared,
            shutdown: Some(tx),
            tasks,
            data_file,
        })
    }

    /// Saves the state to `--data DIR` now (no-op without a data directory).
    pub fn save(&self) -> Result<(), ServerError> {
        match &self.data_file {
            Some(file) => save_snapshot(&self.shared, file),
            None => Ok(()),
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A `kube::Client` for this server (default namespace `default`).
    pub fn client(&self) -> Result<kube::Client, ServerError> {
        let uri: axum::http::Uri = self
            .url()
            .parse()
            .map_err(|e| ServerError::Client(format!("{e}")))?;
        let config = kube::Config::new(uri);
        kube::Client::try_from(config).map_err(|e| ServerError::Client(e.to_string()))
    }

    /// A kubeconfig whose current context points at this server.
    pub fn kubeconfig(&self) -> String {
        kubeconfig_for(&self.url())
    }

    /// Writes [`Self::kubeconfig`] to `path`.
    pub fn write_kubeconfig(&self, path: &std::path::Path) -> Result<(), ServerError> {
        std::fs::write(path, self.kubeconfig()).map_err(|source| ServerError::Kubeconfig {
            path: path.display().to_string(),
            source,
        })
    }

    /// Number of stored objects (for tests and benchmarks).
    pub fn object_count(&self) -> usize {
        self.shared.lock().len()
    }

    /// Waits until the server task ends (it runs until shut down).
    pub async fn wait(mut self) {
        if let Some(first) = self.tasks.first_mut() {
            let _ = first.await;
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn data_error(path: &Path, message: impl ToString) -> ServerError {
    ServerError::Data {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn load_snapshot(store: &mut store::Store, file: &Path) -> Result<(), ServerError> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| data_error(dir, e))?;
    }
    if !file.exists() {
        return Ok(());
    }
    let text = std::fs::read(file).map_err(|e| data_error(file, e))?;
    let snap: serde_json::Value = serde_json::from_slice(&text).map_err(|e| data_error(file, e))?;
    store.restore(&snap);
    Ok(())
}

/// Writes the snapshot atomically (temporary file, then rename).
fn save_snapshot(shared: &http::Shared, file: &Path) -> Result<(), ServerError> {
    let snap = shared.lock().snapshot();
    let bytes = serde_json::to_vec(&snap).map_err(|e| data_error(file, e))?;
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).map_err(|e| data_error(&tmp, e))?;
    std::fs::rename(&tmp, file).map_err(|e| data_error(file, e))
}

/// A kubeconfig for `url` with a context named `driftless`.
pub fn kubeconfig_for(url: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: driftless\n  cluster:\n    server: {url}\ncontexts:\n- name: driftless\n  context:\n    cluster: driftless\n    user: driftless\n    namespace: default\ncurrent-context: driftless\nusers:\n- name: driftless\n  user: {{}}\npreferences: {{}}\n"
    )
}
