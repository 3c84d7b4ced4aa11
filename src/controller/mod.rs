//! The reconcile loops of the agent: GitRepositories are fetched into artifacts, Kustomizations
//! are built from those artifacts and applied.
//!
//! ```text
//!  watch GitRepository ─┐                                    ┌─► gitrepository::reconcile
//!  watch Kustomization ─┴─► cache + Queue (dedup, delays) ──► workers (--concurrent)
//!                                                            └─► kustomization::reconcile
//!  artifact changed ──► queue every Kustomization of that source
//!  Kustomization Ready ──► queue its dependents at once
//!  sandbox / Receivers ──► Context::request(key)
//! ```
//!
//! Only generation, `reconcile.fluxcd.io/requestedAt` and deletion changes queue an object
//! from a watch event, so the agent's own status writes never loop back. One worker per object
//! at a time; a slow or failing object only occupies its own worker.

pub mod alerts;
pub mod error;
pub mod events;
pub mod gitrepository;
pub mod kustomization;
pub mod leader;
pub mod queue;
pub mod receiver;

pub use error::{Error, Result, StageError};
pub use leader::LeaseConfig;
pub use queue::{Key, Kind, Queue};

use crate::api::{GitRepository, Kustomization, REQUESTED_AT_ANNOTATION};
use crate::apply::inventory::Inventory;
use crate::server::{Health, Metrics};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Resource};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The namespace `driftless install` puts the agent in (never pruned).
pub const AGENT_NAMESPACE: &str = "driftless-system";
/// Reporting controller names, as Flux's (notifications and `flux events` key on them).
pub const KUSTOMIZE_CONTROLLER: &str = "kustomize-controller";
pub const SOURCE_CONTROLLER: &str = "source-controller";

/// Maps a GitRepository URL to a local one (the sandbox serves the checkout under the URL the
/// repository's own `gotk-sync.yaml` names).
#[derive(Clone, Debug)]
pub struct SourceOverride {
    pub url: String,
    pub local_url: String,
    /// Branch to use instead of the one in the spec (the checkout's current branch).
    pub branch: Option<String>,
}

/// How the agent runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Reconciles in flight at once.
    pub concurrent: usize,
    /// Where git checkouts and build overlays live.
    pub cache_dir: PathBuf,
    /// The agent's own namespace: never pruned.
    pub agent_namespace: String,
    /// Retry delay while a dependency is not ready (dependents are also queued the moment a
    /// dependency becomes Ready, so this is only a safety net).
    pub requeue_dependency: Duration,
    /// Health poll interval.
    pub health_poll: Duration,
    /// Leader election; `None` runs without it (single replica, tests).
    pub leader: Option<LeaseConfig>,
    pub source_overrides: Vec<SourceOverride>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            concurrent: 4,
            cache_dir: std::env::temp_dir().join("driftless-cache"),
            agent_namespace: AGENT_NAMESPACE.into(),
            requeue_dependency: Duration::from_secs(10),
            health_poll: Duration::from_secs(1),
            leader: None,
            source_overrides: Vec::new(),
        }
    }
}

/// State shared by the watchers and workers.
pub struct Context {
    pub client: kube::Client,
    pub config: Config,
    pub queue: Queue,
    pub metrics: Arc<Metrics>,
    kustomizations: RwLock<HashMap<Key, Arc<Kustomization>>>,
    repositories: RwLock<HashMap<Key, Arc<GitRepository>>>,
    /// Last good artifact per GitRepository (kept across fetch failures).
    artifacts: Mutex<HashMap<Key, crate::source::Artifact>>,
    /// The full inventory (with digests) per Kustomization, for no-op applies without dry-runs.
    inventories: Mutex<HashMap<Key, Inventory>>,
    /// Consecutive failures per object, for backoff.
    failures: Mutex<HashMap<Key, u32>>,
    /// Idle apply engines; each keeps its discovery cache, so a reconcile needs no discovery
    /// requests once the kinds are known.
    engines: Mutex<Vec<crate::apply::Engine>>,
    /// Alert routing, once `enable_notifications` ran.
    notifier: std::sync::OnceLock<Arc<alerts::Notifier>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn requested_at(meta: &ObjectMeta) -> Option<&str> {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(REQUESTED_AT_ANNOTATION))
        .map(String::as_str)
}

/// Whether a watch event for `new` needs a reconcile (anything but a status-only change).
fn needs_reconcile(old: Option<&ObjectMeta>, new: &ObjectMeta) -> bool {
    let Some(old) = old else { return true };
    old.generation != new.generation
        || requested_at(old) != requested_at(new)
        || old.deletion_timestamp.is_some() != new.deletion_timestamp.is_some()
}

/// True unless `old` is known to be newer than `new` (resourceVersions compared as numbers when
/// both are numbers, as etcd and the embedded server write them).
fn is_newer(old: Option<&ObjectMeta>, new: &ObjectMeta) -> bool {
    let num = |m: &ObjectMeta| {
        m.resource_version
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
    };
    match (old.and_then(num), num(new)) {
        (Some(o), Some(n)) => n >= o,
        _ => true,
    }
}

fn key_of<K: Resource>(kind: Kind, obj: &K) -> Key {
    Key::new(
        kind,
        obj.meta().namespace.as_deref().unwrap_or("default"),
        obj.meta().name.as_deref().unwrap_or(""),
    )
}

impl Context {
    pub fn new(client: kube::Client, config: Config, metrics: Arc<Metrics>) -> Arc<Context> {
        Arc::new(Context {
            client,
            config,
            queue: Queue::default(),
            metrics,
            kustomizations: RwLock::default(),
            repositories: RwLock::default(),
            artifacts: Mutex::default(),
            inventories: Mutex::default(),
            failures: Mutex::default(),
            engines: Mutex::default(),
            notifier: std::sync::OnceLock::new(),
        })
    }

    /// Asks for an immediate reconcile of `key` (sandbox git watcher, Receivers).
    pub fn request(&self, key: Key) {
        self.queue.add(key);
    }

    pub fn kustomization(&self, key: &Key) -> Option<Arc<Kustomization>> {
        self.kustomizations
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    pub fn repository(&self, key: &Key) -> Option<Arc<GitRepository>> {
        self.repositories
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    /// Every Kustomization the agent knows, sorted by key.
    pub fn kustomizations(&self) -> Vec<Arc<Kustomization>> {
        let map = self
            .kustomizations
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<&Key> = map.keys().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|k| map.get(k).cloned())
            .collect()
    }

    pub fn artifact(&self, key: &Key) -> Option<crate::source::Artifact> {
        lock(&self.artifacts).get(key).cloned()
    }

    fn set_artifact(&self, key: &Key, a: crate::source::Artifact) {
        lock(&self.artifacts).insert(key.clone(), a);
    }

    fn inventory(&self, key: &Key) -> Option<Inventory> {
        lock(&self.inventories).get(key).cloned()
    }

    fn set_inventory(&self, key: &Key, inv: Option<Inventory>) {
        let mut map = lock(&self.inventories);
        match inv {
            Some(i) => map.insert(key.clone(), i),
            None => map.remove(key),
        };
    }

    /// An apply engine for one reconcile; give it back with `put_engine`.
    fn take_engine(&self) -> crate::apply::Engine {
        lock(&self.engines)
            .pop()
            .unwrap_or_else(|| crate::apply::Engine::new(self.client.clone()))
    }

    fn put_engine(&self, engine: crate::apply::Engine) {
        lock(&self.engines).push(engine);
    }

    /// Records a failure and returns the backoff delay: 1s, 2s, 4s, ... capped at `cap`.
    fn backoff(&self, key: &Key, cap: Duration) -> Duration {
        let mut f = lock(&self.failures);
        let n = f.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        let d = Duration::from_secs(1u64 << (*n - 1).min(16));
        d.min(cap)
    }

    fn reset_backoff(&self, key: &Key) {
        lock(&self.failures).remove(key);
    }

    /// Stores a Kustomization seen from a watch or returned by a write; queues it when the
    /// change needs a reconcile.
    pub fn observe_kustomization(&self, ks: Kustomization, from_watch: bool) {
        let key = key_of(Kind::Kustomization, &ks);
        let trigger = {
            let mut map = self
                .kustomizations
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let old = map.get(&key).map(|o| o.meta().clone());
            if !is_newer(old.as_ref(), ks.meta()) {
                return;
            }
            let trigger = from_watch && needs_reconcile(old.as_ref(), ks.meta());
            map.insert(key.clone(), Arc::new(ks));
            trigger
        };
        if trigger {
            self.queue.add(key);
        }
    }

    fn forget_kustomization(&self, ks: &Kustomization) {
        let key = key_of(Kind::Kustomization, ks);
        self.kustomizations
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        self.set_inventory(&key, None);
        self.metrics
            .remove_resource_info("Kustomization", &key.name, &key.namespace);
    }

    pub fn observe_repository(&self, repo: GitRepository, from_watch: bool) {
        let key = key_of(Kind::GitRepository, &repo);
        let trigger = {
            let mut map = self.repositories.write().unwrap_or_else(|e| e.into_inner());
            let old = map.get(&key).map(|o| o.meta().clone());
            if !is_newer(old.as_ref(), repo.meta()) {
                return;
            }
            let trigger = from_watch && needs_reconcile(old.as_ref(), repo.meta());
            map.insert(key.clone(), Arc::new(repo));
            trigger
        };
        if trigger {
            self.queue.add(key);
        }
    }

    fn forget_repository(&self, repo: &GitRepository) {
        let key = key_of(Kind::GitRepository, repo);
        self.repositories
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        lock(&self.artifacts).remove(&key);
        self.metrics
            .remove_resource_info("GitRepository", &key.name, &key.namespace);
    }

    /// Queues every Kustomization built from the GitRepository `source`.
    fn trigger_source_users(&self, source: &Key) {
        for ks in self.kustomizations() {
            if kustomization::source_key(&ks).as_ref() == Some(source) {
                self.queue.add(key_of(Kind::Kustomization, ks.as_ref()));
            }
        }
    }

    /// Queues every Kustomization whose `dependsOn` names `dep`.
    fn trigger_dependents(&self, dep: &Key) {
        for ks in self.kustomizations() {
            let ns = ks.meta().namespace.as_deref().unwrap_or("default");
            if ks.spec.depends_on.iter().any(|d| {
                d.name == dep.name && d.namespace.as_deref().unwrap_or(ns) == dep.namespace
            }) {
                self.queue.add(key_of(Kind::Kustomization, ks.as_ref()));
            }
        }
    }
}

/// Keeps one kind's cache in sync with the API server.
async fn watch<K, F, G>(ctx: Arc<Context>, synced: Arc<AtomicUsize>, apply: F, delete: G)
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
    F: Fn(&Context, K),
    G: Fn(&Context, &K),
{
    let api: Api<K> = Api::all(ctx.client.clone());
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut first = true;
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => apply(&ctx, o),
            Ok(watcher::Event::Delete(o)) => delete(&ctx, &o),
            Ok(watcher::Event::InitDone) if first => {
                first = false;
                synced.fetch_add(1, Ordering::SeqCst);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "watch failed; retrying"),
        }
    }
}

/// One worker: takes keys off the queue and reconciles them.
async fn worker(ctx: Arc<Context>) {
    loop {
        let key = ctx.queue.next().await;
        let started = std::time::Instant::now();
        let requeue = match key.kind {
            Kind::Kustomization => kustomization::reconcile(&ctx, &key).await,
            Kind::GitRepository => gitrepository::reconcile(&ctx, &key).await,
        };
        ctx.metrics
            .reconcile_duration
            .with_label_values(&[key.kind.as_str(), &key.name, &key.namespace])
            .observe(started.elapsed().as_secs_f64());
        ctx.queue.done(&key);
        if let Some(after) = requeue {
            ctx.queue.add_after(key, jitter(after));
        }
    }
}

/// ±5% jitter, as Flux, so objects with the same interval spread out.
fn jitter(d: Duration) -> Duration {
    if d < Duration::from_secs(2) {
        return d;
    }
    let f = 0.95 + fastrand::f64() * 0.1;
    d.mul_f64(f)
}

/// Runs the agent until the leader Lease is lost (an error) or forever.
pub async fn run(ctx: Arc<Context>, health: Arc<Health>) -> Result<()> {
    let lost = match ctx.config.leader.clone() {
        Some(cfg) => {
            // A standby is healthy and ready: a rollout of 2 replicas must not wait for it.
            health.ready.store(true, Ordering::SeqCst);
            let lost = leader::acquire(ctx.client.clone(), cfg).await;
            health.ready.store(false, Ordering::SeqCst);
            Some(lost)
        }
        None => None,
    };
    let synced = Arc::new(AtomicUsize::new(0));
    tokio::spawn(watch::<Kustomization, _, _>(
        ctx.clone(),
        synced.clone(),
        |c, o| c.observe_kustomization(o, true),
        |c, o| c.forget_kustomization(o),
    ));
    tokio::spawn(watch::<GitRepository, _, _>(
        ctx.clone(),
        synced.clone(),
        |c, o| c.observe_repository(o, true),
        |c, o| c.forget_repository(o),
    ));
    for _ in 0..ctx.config.concurrent.max(1) {
        tokio::spawn(worker(ctx.clone()));
    }
    {
        let synced = synced.clone();
        let health = health.clone();
        tokio::spawn(async move {
            while synced.load(Ordering::SeqCst) < 2 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            health.ready.store(true, Ordering::SeqCst);
        });
    }
    match lost {
        Some(rx) => match rx.await {
            Ok(e) => Err(e),
            Err(_) => Ok(()),
        },
        None => {
            futures::future::pending::<()>().await;
            Ok(())
        }
    }
}

/// Merge-patches `status` onto the status subresource of the object `key` names and returns
/// the server's answer, so the caller can refresh its cache at once; a failed write is logged
/// (the next reconcile writes again) and gives `None`.
async fn write_status<K>(
    client: &kube::Client,
    key: &Key,
    status: &impl serde::Serialize,
) -> Option<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), &key.namespace);
    let patch = kube::api::Patch::Merge(serde_json::json!({ "status": status }));
    match api
        .patch_status(&key.name, &kube::api::PatchParams::default(), &patch)
        .await
    {
        Ok(updated) => Some(updated),
        Err(e) => {
            tracing::warn!(object = %key, error = %e, "failed to write status");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(generation: i64, rv: &str, requested: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            generation: Some(generation),
            resource_version: Some(rv.into()),
            annotations: requested.map(|r| {
                [(REQUESTED_AT_ANNOTATION.to_string(), r.to_string())]
                    .into_iter()
                    .collect()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn status_only_changes_do_not_trigger_a_reconcile() {
        assert!(!needs_reconcile(
            Some(&meta(1, "5", None)),
            &meta(1, "6", None)
        ));
        assert!(needs_reconcile(
            Some(&meta(1, "5", None)),
            &meta(2, "6", None)
        ));
        assert!(needs_reconcile(
            Some(&meta(1, "5", None)),
            &meta(1, "6", Some("now"))
        ));
        assert!(needs_reconcile(None, &meta(1, "6", None)));
    }

    #[test]
    fn older_resource_versions_never_replace_newer_ones() {
        assert!(!is_newer(Some(&meta(1, "7", None)), &meta(1, "6", None)));
        assert!(is_newer(Some(&meta(1, "7", None)), &meta(1, "8", None)));
    }
}
