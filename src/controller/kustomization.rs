//! Kustomization reconcile, as named stages that each set a Flux condition reason:
//!
//! ```text
//!  deleted? ──► finalize (deletionPolicy) ──► drop finalizer
//!  suspended? ──► stop
//!  artifact      ArtifactFailed        last good artifact of the GitRepository
//!  dependencies  DependencyNotReady    Ready=True, observed generation, same revision
//!  build         BuildFailed           kustomize build + spec overlays + postBuild vars
//!  apply         ReconciliationFailed  staged server-side apply (engine)
//!  prune         PruneFailed           only after a fully successful apply
//!  health        HealthCheckFailed     wait: all objects; else healthChecks
//!  status        ReconciliationSucceeded "Applied revision: <rev>" + inventory
//!  events        Normal with the ChangeSet, Warning with the failure
//! ```
//!
//! A failure before or during apply returns before the inventory is replaced, so nothing is
//! pruned (the engine keeps old entries on failure). Dependents are queued the moment this
//! Kustomization becomes Ready at a revision.

use super::error::StageError;
use super::events::{self, EventType, Involved};
use super::{Context, Key, Kind, KUSTOMIZE_CONTROLLER};
use crate::api::condition::{self, reason, ConditionStatus, HEALTHY, READY, RECONCILING, STALLED};
use crate::api::kustomize::{ResourceInventory, ResourceRef};
use crate::api::{Kustomization, KustomizationSpec, KustomizationStatus, FINALIZER};
use crate::apply::health::{health, Health};
use crate::apply::inventory::{Entry, Inventory};
use crate::apply::{Action, Options, Owner, Report};
use crate::build::{self, BuildOptions, LoadRestriction, Reorder};
use indexmap::IndexMap;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::Resource;
use serde_json::{json, Value};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The GitRepository a Kustomization builds from (`None` for other source kinds).
pub fn source_key(ks: &Kustomization) -> Option<Key> {
    let r = &ks.spec.source_ref;
    if r.kind != "GitRepository" {
        return None;
    }
    let ns = r
        .namespace
        .as_deref()
        .or(ks.meta().namespace.as_deref())
        .unwrap_or("default");
    Some(Key::new(Kind::GitRepository, ns, &r.name))
}

/// What a successful run produced.
struct Applied {
    revision: String,
    report: Report,
    inventory: Inventory,
    checked_health: bool,
}

/// What a failed run knows.
struct Failed {
    error: StageError,
    revision: Option<String>,
    inventory: Option<Inventory>,
}

impl Failed {
    fn early(error: StageError) -> Failed {
        Failed {
            error,
            revision: None,
            inventory: None,
        }
    }
}

/// Reconciles one Kustomization; returns when to run again.
pub async fn reconcile(ctx: &Arc<Context>, key: &Key) -> Option<Duration> {
    let ks = ctx.kustomization(key)?;
    if ks.meta().deletion_timestamp.is_some() {
        return finalize(ctx, key, &ks).await;
    }
    let has_finalizer = ks
        .meta()
        .finalizers
        .as_ref()
        .is_some_and(|f| f.iter().any(|x| x == FINALIZER));
    if !has_finalizer {
        if let Err(e) = add_finalizer(ctx, key, &ks).await {
            tracing::warn!(object = %key, error = %e, "failed to add finalizer");
            return Some(ctx.backoff(key, ks.spec.retry_interval()));
        }
    }
    if ks.spec.suspended() {
        record_info(ctx, &ks);
        return None;
    }
    let timeout = ks.spec.timeout() + Duration::from_secs(60);
    let run = tokio::time::timeout(timeout, stages(ctx, key, &ks)).await;
    let result = match run {
        Ok(r) => r,
        Err(_) => Err(Failed::early(StageError::new(
            reason::RECONCILIATION_FAILED,
            format!(
                "reconciliation timed out after {}",
                crate::api::format_duration(timeout)
            ),
        ))),
    };
    match result {
        Ok(applied) => {
            ctx.metrics
                .reconcile_total
                .with_label_values(&["Kustomization", "success"])
                .inc();
            ctx.reset_backoff(key);
            succeed(ctx, key, &ks, applied).await;
            ctx.trigger_dependents(key);
            Some(ks.spec.interval())
        }
        Err(failed) => {
            ctx.metrics
                .reconcile_total
                .with_label_values(&["Kustomization", "failure"])
                .inc();
            let delay = if failed.error.reason == reason::DEPENDENCY_NOT_READY {
                ctx.config.requeue_dependency
            } else {
                ctx.backoff(key, ks.spec.retry_interval())
            };
            fail(ctx, key, &ks, failed).await;
            Some(delay)
        }
    }
}

/// fetch → dependencies → build → apply/prune/health.
async fn stages(ctx: &Context, key: &Key, ks: &Kustomization) -> Result<Applied, Failed> {
    let artifact = artifact(ctx, ks).map_err(Failed::early)?;
    let revision = artifact.revision.clone();
    let with_rev = |error: StageError| Failed {
        error,
        revision: Some(revision.clone()),
        inventory: None,
    };
    dependencies(ctx, ks, &revision).map_err(with_rev)?;
    progressing(ctx, key, ks, &revision).await;
    let objects = build_stage(ctx, key, ks, &artifact.dir)
        .await
        .map_err(with_rev)?;
    let (report, inventory) = apply(ctx, key, ks, objects, &revision).await;
    if let Some(e) = report.errors.first() {
        let message = report
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        let error = StageError {
            reason: e.reason(),
            message,
            transient: e.is_transient(),
        };
        return Err(Failed {
            error,
            revision: Some(revision),
            inventory: Some(inventory),
        });
    }
    let checked_health = ks.spec.wait.unwrap_or(false) || !ks.spec.health_checks.is_empty();
    if !ks.spec.wait.unwrap_or(false) && !ks.spec.health_checks.is_empty() {
        if let Err(error) = health_checks(ctx, ks).await {
            return Err(Failed {
                error,
                revision: Some(revision),
                inventory: Some(inventory),
            });
        }
    }
    Ok(Applied {
        revision,
        report,
        inventory,
        checked_health,
    })
}

/// ArtifactFailed: the source's last good artifact.
fn artifact(ctx: &Context, ks: &Kustomization) -> Result<crate::source::Artifact, StageError> {
    let r = &ks.spec.source_ref;
    let Some(key) = source_key(ks) else {
        return Err(StageError::new(
            reason::ARTIFACT_FAILED,
            format!("unsupported source kind '{}'", r.kind),
        )
        .terminal());
    };
    if ctx.repository(&key).is_none() {
        return Err(StageError::new(
            reason::ARTIFACT_FAILED,
            format!(
                "Source '{}/{}/{}' not found",
                r.kind, key.namespace, key.name
            ),
        ));
    }
    ctx.artifact(&key).ok_or_else(|| {
        StageError::new(
            reason::ARTIFACT_FAILED,
            format!(
                "Source artifact not found, retrying once '{}/{}/{}' is ready",
                r.kind, key.namespace, key.name
            ),
        )
    })
}

/// DependencyNotReady: Flux's rule (exists, observed generation, Ready=True, and the same
/// revision when built from the same source).
fn dependencies(ctx: &Context, ks: &Kustomization, revision: &str) -> Result<(), StageError> {
    let ns = ks.meta().namespace.as_deref().unwrap_or("default");
    let my_source = source_key(ks);
    for d in &ks.spec.depends_on {
        let dns = d.namespace.as_deref().unwrap_or(ns);
        let not_ready = |why: &str| {
            StageError::new(
                reason::DEPENDENCY_NOT_READY,
                format!("dependency '{dns}/{}' {why}", d.name),
            )
        };
        let Some(dep) = ctx.kustomization(&Key::new(Kind::Kustomization, dns, &d.name)) else {
            return Err(not_ready("not found"));
        };
        let status = dep.status.clone().unwrap_or_default();
        if dep.meta().generation != status.observed_generation
            || !condition::is_ready(&status.conditions)
        {
            return Err(not_ready("is not ready"));
        }
        if my_source.is_some()
            && source_key(&dep) == my_source
            && status.last_applied_revision.as_deref() != Some(revision)
        {
            return Err(not_ready("is not ready"));
        }
    }
    Ok(())
}

/// Marks the object as progressing when a new revision or generation is about to be applied
/// (so `get ks` and the sandbox table show it); no write for a periodic no-op run.
async fn progressing(ctx: &Context, key: &Key, ks: &Kustomization, revision: &str) {
    let old = ks.status.clone().unwrap_or_default();
    if old.last_attempted_revision.as_deref() == Some(revision)
        && old.observed_generation == ks.meta().generation
    {
        return;
    }
    let mut status = old;
    let now = condition::now_rfc3339();
    let g = ks.meta().generation;
    let msg = format!("Reconciliation in progress for revision {revision}");
    condition::set(
        &mut status.conditions,
        RECONCILING,
        ConditionStatus::True,
        reason::PROGRESSING,
        &msg,
        g,
        &now,
    );
    if !condition::is_ready(&status.conditions) {
        condition::set(
            &mut status.conditions,
            READY,
            ConditionStatus::Unknown,
            reason::PROGRESSING,
            &msg,
            g,
            &now,
        );
    }
    patch_status(ctx, key, &status).await;
}

/// BuildFailed: kustomize build of `path` with the spec's overlays, then postBuild.
async fn build_stage(
    ctx: &Context,
    key: &Key,
    ks: &Kustomization,
    root: &Path,
) -> Result<Vec<Value>, StageError> {
    let vars = substitution_vars(&ctx.client, ks).await?;
    let root = root.to_path_buf();
    let spec = ks.spec.clone();
    let scratch = ctx.config.cache_dir.join("overlays").join(format!(
        "{}-{}-{:08x}",
        key.namespace,
        key.name,
        fastrand::u32(..)
    ));
    tokio::task::spawn_blocking(move || {
        let res = build_objects(&root, &spec, &vars, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        res
    })
    .await
    .map_err(|e| StageError::new(reason::BUILD_FAILED, format!("build aborted: {e}")))?
    .map_err(|m| StageError::new(reason::BUILD_FAILED, m))
}

/// Resolves `path` inside the artifact; it may not leave it.
fn resolve_path(root: &Path, path: Option<&str>) -> Result<PathBuf, String> {
    let rel = path.unwrap_or("./");
    let mut out = root.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if !out.pop() || !out.starts_with(root) {
                    return Err(format!("path '{rel}' leaves the source"));
                }
            }
            Component::Normal(p) => out.push(p),
        }
    }
    if !out.is_dir() {
        return Err(format!("kustomization path not found: {rel}"));
    }
    Ok(out)
}

fn needs_overlay(spec: &KustomizationSpec) -> bool {
    spec.target_namespace.is_some()
        || spec.name_prefix.is_some()
        || spec.name_suffix.is_some()
        || !spec.patches.is_empty()
        || !spec.images.is_empty()
        || !spec.components.is_empty()
}

/// The kustomization Flux would generate around `dir` for the spec's transformations. A plain
/// directory (no kustomization file) contributes its manifests, as Flux's generator lists them.
fn overlay(dir: &Path, spec: &KustomizationSpec) -> Result<Value, String> {
    let mut k = serde_json::Map::new();
    k.insert(
        "apiVersion".into(),
        json!("kustomize.config.k8s.io/v1beta1"),
    );
    k.insert("kind".into(), json!("Kustomization"));
    let has_kustomization = build::accumulate::KUSTOMIZATION_FILES
        .iter()
        .any(|f| dir.join(f).is_file());
    let resources: Vec<String> = if has_kustomization {
        vec![dir.display().to_string()]
    } else {
        build::accumulate::generated_kustomization(dir)
            .map_err(|e| e.to_string())?
            .resources
            .iter()
            .map(|r| dir.join(r).display().to_string())
            .collect()
    };
    k.insert("resources".into(), json!(resources));
    if let Some(ns) = &spec.target_namespace {
        k.insert("namespace".into(), json!(ns));
    }
    if let Some(p) = &spec.name_prefix {
        k.insert("namePrefix".into(), json!(p));
    }
    if let Some(s) = &spec.name_suffix {
        k.insert("nameSuffix".into(), json!(s));
    }
    if !spec.patches.is_empty() {
        k.insert("patches".into(), json!(spec.patches));
    }
    if !spec.images.is_empty() {
        k.insert("images".into(), json!(spec.images));
    }
    if !spec.components.is_empty() {
        let comps: Vec<String> = spec
            .components
            .iter()
            .map(|c| dir.join(c).display().to_string())
            .collect();
        k.insert("components".into(), json!(comps));
    }
    Ok(Value::Object(k))
}

/// The blocking part of the build stage: `spec.path` below `root`, with the spec's overlays
/// (written to `scratch` when needed) and postBuild `vars`. `driftless diff ks` calls it too.
pub fn build_objects(
    root: &Path,
    spec: &KustomizationSpec,
    vars: &IndexMap<String, String>,
    scratch: &Path,
) -> Result<Vec<Value>, String> {
    let dir = resolve_path(root, spec.path.as_deref())?;
    let build_dir = if needs_overlay(spec) {
        std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let text = serde_yaml::to_string(&overlay(&dir, spec)?).map_err(|e| e.to_string())?;
        std::fs::write(scratch.join("kustomization.yaml"), text)
            .map_err(|e| format!("{}: {e}", scratch.display()))?;
        scratch.to_path_buf()
    } else {
        dir
    };
    let opts = BuildOptions {
        reorder: Some(Reorder::None),
        load_restriction: LoadRestriction::None,
    };
    let mut resources = build::build(&build_dir, &opts).map_err(|e| e.to_string())?;
    if spec.post_build.is_some() {
        build::substitute::substitute(&mut resources, vars).map_err(|e| e.to_string())?;
    }
    let mut objects: Vec<Value> = resources.iter().map(|r| Value::from(&r.obj)).collect();
    if let Some(cm) = &spec.common_metadata {
        for o in &mut objects {
            for (field, map) in [("labels", &cm.labels), ("annotations", &cm.annotations)] {
                if map.is_empty() {
                    continue;
                }
                let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) else {
                    continue;
                };
                let entry = meta.entry(field).or_insert_with(|| json!({}));
                if let Some(m) = entry.as_object_mut() {
                    for (k, v) in map {
                        m.insert(k.clone(), json!(v));
                    }
                }
            }
        }
    }
    Ok(objects)
}

/// postBuild variables: `substituteFrom` in order (later wins), then inline `substitute`.
/// `driftless diff ks` calls it too.
pub async fn substitution_vars(
    client: &kube::Client,
    ks: &Kustomization,
) -> Result<IndexMap<String, String>, StageError> {
    let mut vars = IndexMap::new();
    let Some(pb) = &ks.spec.post_build else {
        return Ok(vars);
    };
    let ns = ks.meta().namespace.as_deref().unwrap_or("default");
    for src in &pb.substitute_from {
        let missing = || {
            StageError::new(
                reason::BUILD_FAILED,
                format!(
                    "substitute from '{}/{}/{}' failed: not found",
                    src.kind, ns, src.name
                ),
            )
        };
        let err = |e: kube::Error| {
            StageError::new(
                reason::BUILD_FAILED,
                format!(
                    "substitute from '{}/{}/{}' failed: {e}",
                    src.kind, ns, src.name
                ),
            )
        };
        match src.kind.as_str() {
            "ConfigMap" => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
                match api.get_opt(&src.name).await.map_err(err)? {
                    Some(cm) => {
                        for (k, v) in cm.data.unwrap_or_default() {
                            vars.insert(k, v);
                        }
                    }
                    None if src.optional => {}
                    None => return Err(missing()),
                }
            }
            "Secret" => {
                let api: Api<Secret> = Api::namespaced(client.clone(), ns);
                match api.get_opt(&src.name).await.map_err(err)? {
                    Some(s) => {
                        for (k, v) in s.data.unwrap_or_default() {
                            vars.insert(k, String::from_utf8_lossy(&v.0).into_owned());
                        }
                    }
                    None if src.optional => {}
                    None => return Err(missing()),
                }
            }
            other => {
                return Err(StageError::new(
                    reason::BUILD_FAILED,
                    format!("substituteFrom kind '{other}' is not ConfigMap or Secret"),
                )
                .terminal())
            }
        }
    }
    for (k, v) in &pb.substitute {
        vars.insert(k.clone(), v.clone());
    }
    Ok(vars)
}

/// The previous inventory: the agent's full copy, else the Flux entries from the status.
fn old_inventory(ctx: &Context, key: &Key, ks: &Kustomization) -> Inventory {
    ctx.inventory(key).unwrap_or_else(|| status_inventory(ks))
}

/// The inventory as the Kustomization's `status.inventory` records it: ids and versions only
/// (no digests), so every listed object is compared by a (dry-)run.
pub fn status_inventory(ks: &Kustomization) -> Inventory {
    let entries = ks
        .status
        .as_ref()
        .and_then(|s| s.inventory.as_ref())
        .map(|i| {
            i.entries
                .iter()
                .map(|e| Entry {
                    id: e.id.clone(),
                    v: e.v.clone(),
                    digest: String::new(),
                    rv: String::new(),
                    live: String::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    Inventory {
        entries,
        ..Default::default()
    }
}

fn engine_options(ctx: &Context, key: &Key, ks: &Kustomization, revision: &str) -> Options {
    let mut opts = Options::new(Owner {
        name: key.name.clone(),
        namespace: key.namespace.clone(),
    });
    opts.prune = ks.spec.prune;
    opts.wait = ks.spec.wait.unwrap_or(false);
    opts.timeout = ks.spec.timeout();
    opts.force = ks.spec.force.unwrap_or(false);
    opts.agent_namespace = Some(ctx.config.agent_namespace.clone());
    opts.poll_interval = ctx.config.health_poll;
    opts.revision = revision.to_string();
    opts.store_inventory = false;
    opts
}

/// apply → prune → health (wait: true) through the engine. The inventory keeps every old entry
/// when anything failed, so nothing is lost or pruned.
async fn apply(
    ctx: &Context,
    key: &Key,
    ks: &Kustomization,
    objects: Vec<Value>,
    revision: &str,
) -> (Report, Inventory) {
    let old = old_inventory(ctx, key, ks);
    let opts = engine_options(ctx, key, ks, revision);
    let mut engine = ctx.take_engine();
    let mut report = Report::default();
    let inv = engine
        .apply_with_inventory(objects, &old, &opts, &mut report)
        .await;
    if report.errors.is_empty() {
        // A failed engine may hold a stale "kind not served" answer: let it go.
        ctx.put_engine(engine);
    }
    for c in &report.changes.changes {
        match c.action {
            Action::Created | Action::Configured => ctx.metrics.applied.inc(),
            Action::Drifted => {
                ctx.metrics.applied.inc();
                ctx.metrics.drift_corrected.inc();
            }
            Action::Deleted => ctx.metrics.pruned.inc(),
            _ => {}
        }
    }
    ctx.set_inventory(key, Some(inv.clone()));
    (report, inv)
}

/// HealthCheckFailed: polls the `healthChecks` objects (kstatus) until Current, Failed or the
/// timeout.
async fn health_checks(ctx: &Context, ks: &Kustomization) -> Result<(), StageError> {
    let ns = ks.meta().namespace.as_deref().unwrap_or("default");
    let deadline = Instant::now() + ks.spec.timeout();
    loop {
        let mut pending = Vec::new();
        let mut failed = Vec::new();
        for hc in &ks.spec.health_checks {
            let api_version = hc.api_version.clone().unwrap_or_else(|| "v1".into());
            let (group, version) = match api_version.split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), api_version.clone()),
            };
            let gvk = GroupVersionKind::gvk(&group, &version, &hc.kind);
            let hns = hc.namespace.as_deref().unwrap_or(ns);
            let name = format!("{}/{}/{}", hc.kind, hns, hc.name);
            let ar = match kube::discovery::pinned_kind(&ctx.client, &gvk).await {
                Ok((ar, _)) => ar,
                Err(_) => ApiResource::from_gvk(&gvk),
            };
            let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), hns, &ar);
            match api.get_opt(&hc.name).await {
                Ok(Some(obj)) => {
                    let v = serde_json::to_value(&obj).unwrap_or(Value::Null);
                    match health(&v) {
                        Health::Current => {}
                        Health::Failed(_) => failed.push(name),
                        Health::InProgress(_) => pending.push(name),
                    }
                }
                _ => pending.push(name),
            }
        }
        if pending.is_empty() && failed.is_empty() {
            return Ok(());
        }
        if pending.is_empty() {
            return Err(StageError::new(
                reason::HEALTH_CHECK_FAILED,
                format!(
                    "failed early due to stalled resources: [{}]",
                    failed.join(", ")
                ),
            ));
        }
        if Instant::now() >= deadline {
            pending.extend(failed);
            return Err(StageError::new(
                reason::HEALTH_CHECK_FAILED,
                format!("timeout waiting for: [{}]", pending.join(", ")),
            ));
        }
        tokio::time::sleep(ctx.config.health_poll).await;
    }
}

fn flux_inventory(inv: &Inventory) -> ResourceInventory {
    ResourceInventory {
        entries: inv
            .entries
            .iter()
            .map(|e| ResourceRef {
                id: e.id.clone(),
                v: e.v.clone(),
            })
            .collect(),
    }
}

fn involved(ks: &Kustomization) -> Involved<'_> {
    Involved {
        api_version: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        namespace: ks.meta().namespace.as_deref().unwrap_or("default"),
        name: ks.meta().name.as_deref().unwrap_or(""),
        uid: ks.meta().uid.as_deref(),
    }
}

fn record_info(ctx: &Context, ks: &Kustomization) {
    let status = ks.status.clone().unwrap_or_default();
    let ready = condition::find(&status.conditions, READY)
        .map(|c| format!("{:?}", c.status))
        .unwrap_or_else(|| "Unknown".into());
    ctx.metrics.set_resource_info(
        "Kustomization",
        ks.meta().name.as_deref().unwrap_or(""),
        ks.meta().namespace.as_deref().unwrap_or(""),
        &ready,
        ks.spec.suspended(),
        status.last_applied_revision.as_deref().unwrap_or(""),
    );
}

/// Writes the status subresource and keeps the cache up to date with the answer (so
/// dependents see the new Ready at once).
async fn patch_status(ctx: &Context, key: &Key, status: &KustomizationStatus) {
    if let Some(updated) = super::write_status::<Kustomization>(&ctx.client, key, status).await {
        record_info(ctx, &updated);
        ctx.observe_kustomization(updated, false);
    }
}

/// One reconcile outcome, told from the same data twice: a Kubernetes Event (`event_text`)
/// and an alert notification (`message`, plus what changed).
#[allow(clippy::too_many_arguments)]
async fn announce(
    ctx: &Context,
    key: &Key,
    ks: &Kustomization,
    error: bool,
    reason: &str,
    event_text: &str,
    message: &str,
    revision: Option<&str>,
    changes: Option<&crate::apply::changeset::ChangeSet>,
) {
    let type_ = if error {
        EventType::Warning
    } else {
        EventType::Normal
    };
    events::record(
        &ctx.client,
        KUSTOMIZE_CONTROLLER,
        &involved(ks),
        type_,
        reason,
        event_text,
        revision,
    )
    .await;
    ctx.notify(
        &super::alerts::event(
            "Kustomization",
            "kustomize.toolkit.fluxcd.io/v1",
            &key.namespace,
            &key.name,
            error,
            reason,
            message,
            revision,
            changes,
            KUSTOMIZE_CONTROLLER,
        ),
        ks.meta().labels.as_ref(),
    );
}

async fn succeed(ctx: &Context, key: &Key, ks: &Kustomization, a: Applied) {
    let old = ks.status.clone().unwrap_or_default();
    let message = format!("Applied revision: {}", a.revision);
    let requested = super::requested_at(ks.meta()).map(str::to_string);
    let mut status = old.clone();
    let now = condition::now_rfc3339();
    let g = ks.meta().generation;
    status.observed_generation = g;
    status.last_applied_revision = Some(a.revision.clone());
    status.last_attempted_revision = Some(a.revision.clone());
    if requested.is_some() {
        status.last_handled_reconcile_at = requested;
    }
    status.inventory = Some(flux_inventory(&a.inventory));
    condition::set(
        &mut status.conditions,
        READY,
        ConditionStatus::True,
        reason::RECONCILIATION_SUCCEEDED,
        &message,
        g,
        &now,
    );
    if a.checked_health {
        condition::set(
            &mut status.conditions,
            HEALTHY,
            ConditionStatus::True,
            "Succeeded",
            "Health check passed",
            g,
            &now,
        );
    }
    condition::remove(&mut status.conditions, RECONCILING);
    condition::remove(&mut status.conditions, STALLED);
    let writes: Vec<String> = a
        .report
        .changes
        .changes
        .iter()
        .filter(|c| c.action.is_write())
        .map(ToString::to_string)
        .collect();
    let revision_changed = old.last_applied_revision.as_deref() != Some(a.revision.as_str());
    if !writes.is_empty() || revision_changed || !condition::is_ready(&old.conditions) {
        let text = if writes.is_empty() {
            message.clone()
        } else {
            writes.join("\n")
        };
        announce(
            ctx,
            key,
            ks,
            false,
            reason::RECONCILIATION_SUCCEEDED,
            &text,
            &message,
            Some(&a.revision),
            Some(&a.report.changes),
        )
        .await;
    }
    tracing::info!(object = %key, revision = %a.revision, changes = writes.len(), "reconciled");
    // Skip the write for a no-op periodic run (status already says exactly this).
    let mut cmp_old = old.clone();
    let mut cmp_new = status.clone();
    for c in cmp_old
        .conditions
        .iter_mut()
        .chain(cmp_new.conditions.iter_mut())
    {
        c.last_transition_time.clear();
    }
    if cmp_old == cmp_new {
        record_info(ctx, ks);
        return;
    }
    patch_status(ctx, key, &status).await;
}

async fn fail(ctx: &Context, key: &Key, ks: &Kustomization, f: Failed) {
    let old = ks.status.clone().unwrap_or_default();
    let e = &f.error;
    if e.reason == reason::DEPENDENCY_NOT_READY || e.reason == reason::ARTIFACT_FAILED {
        // Expected while a cluster comes up; the object is queued again when this clears.
        tracing::info!(object = %key, reason = e.reason, message = %e.message, "waiting");
    } else {
        tracing::warn!(object = %key, reason = e.reason, message = %e.message, "reconcile failed");
    }
    let mut status = old.clone();
    let now = condition::now_rfc3339();
    let g = ks.meta().generation;
    status.observed_generation = g;
    if let Some(rev) = &f.revision {
        status.last_attempted_revision = Some(rev.clone());
    }
    if let Some(requested) = super::requested_at(ks.meta()) {
        status.last_handled_reconcile_at = Some(requested.to_string());
    }
    if let Some(inv) = &f.inventory {
        status.inventory = Some(flux_inventory(inv));
    }
    condition::set(
        &mut status.conditions,
        READY,
        ConditionStatus::False,
        e.reason,
        &e.message,
        g,
        &now,
    );
    if e.reason == reason::HEALTH_CHECK_FAILED {
        condition::set(
            &mut status.conditions,
            HEALTHY,
            ConditionStatus::False,
            e.reason,
            &e.message,
            g,
            &now,
        );
    }
    if e.transient {
        condition::set(
            &mut status.conditions,
            RECONCILING,
            ConditionStatus::True,
            reason::PROGRESSING_WITH_RETRY,
            &e.message,
            g,
            &now,
        );
        condition::remove(&mut status.conditions, STALLED);
    } else {
        condition::remove(&mut status.conditions, RECONCILING);
        condition::set(
            &mut status.conditions,
            STALLED,
            ConditionStatus::True,
            e.reason,
            &e.message,
            g,
            &now,
        );
    }
    let repeated = condition::find(&old.conditions, READY).is_some_and(|c| {
        c.status == ConditionStatus::False && c.reason == e.reason && c.message == e.message
    });
    if !repeated && e.reason != reason::DEPENDENCY_NOT_READY {
        announce(
            ctx,
            key,
            ks,
            true,
            e.reason,
            &e.message,
            &e.message,
            f.revision.as_deref(),
            None,
        )
        .await;
    }
    if repeated && status == old {
        record_info(ctx, ks);
        return;
    }
    patch_status(ctx, key, &status).await;
}

async fn add_finalizer(ctx: &Context, key: &Key, ks: &Kustomization) -> Result<(), kube::Error> {
    let mut finalizers = ks.meta().finalizers.clone().unwrap_or_default();
    finalizers.push(FINALIZER.to_string());
    let api: Api<Kustomization> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let updated = api
        .patch(
            &key.name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": finalizers}})),
        )
        .await?;
    ctx.observe_kustomization(updated, false);
    Ok(())
}

/// What deletion does to the applied objects, by `deletionPolicy` (Flux rules: a suspended
/// Kustomization or an empty inventory never deletes).
pub fn deletes_on_removal(spec: &KustomizationSpec, inventory_empty: bool) -> bool {
    if spec.suspended() || inventory_empty {
        return false;
    }
    match spec.deletion_policy.as_deref().unwrap_or("MirrorPrune") {
        "Delete" | "WaitForTermination" => true,
        "Orphan" => false,
        _ => spec.prune,
    }
}

/// Runs the deletion policy, then removes the finalizer.
async fn finalize(ctx: &Context, key: &Key, ks: &Kustomization) -> Option<Duration> {
    let has_finalizer = ks
        .meta()
        .finalizers
        .as_ref()
        .is_some_and(|f| f.iter().any(|x| x == FINALIZER));
    if !has_finalizer {
        return None;
    }
    let old = old_inventory(ctx, key, ks);
    if deletes_on_removal(&ks.spec, old.entries.is_empty()) {
        let mut opts = engine_options(ctx, key, ks, "");
        opts.prune = true;
        opts.wait = false;
        let mut engine = ctx.take_engine();
        let mut report = Report::default();
        let left = engine
            .apply_with_inventory(Vec::new(), &old, &opts, &mut report)
            .await;
        if report.errors.is_empty() {
            ctx.put_engine(engine);
        }
        if !report.errors.is_empty() {
            let message = report
                .errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n");
            events::record(
                &ctx.client,
                KUSTOMIZE_CONTROLLER,
                &involved(ks),
                EventType::Warning,
                reason::PRUNE_FAILED,
                &message,
                None,
            )
            .await;
            ctx.set_inventory(key, Some(left));
            return Some(ctx.backoff(key, ks.spec.retry_interval()));
        }
        for c in &report.changes.changes {
            if c.action == Action::Deleted {
                ctx.metrics.pruned.inc();
            }
        }
        if ks.spec.deletion_policy.as_deref() == Some("WaitForTermination") {
            wait_for_termination(ctx, &old, ks.spec.timeout()).await;
        }
    }
    let finalizers: Vec<String> = ks
        .meta()
        .finalizers
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f != FINALIZER)
        .collect();
    let api: Api<Kustomization> = Api::namespaced(ctx.client.clone(), &key.namespace);
    if let Err(e) = api
        .patch(
            &key.name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": finalizers}})),
        )
        .await
    {
        if !matches!(&e, kube::Error::Api(s) if s.code == 404) {
            tracing::warn!(object = %key, error = %e, "failed to remove finalizer");
            return Some(ctx.backoff(key, ks.spec.retry_interval()));
        }
    }
    ctx.set_inventory(key, None);
    None
}

/// Waits (up to `timeout`) until every inventory object is gone.
async fn wait_for_termination(ctx: &Context, inv: &Inventory, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    for e in &inv.entries {
        let Some(r) = e.obj_ref() else { continue };
        let gvk = GroupVersionKind::gvk(&r.group, &r.version, &r.kind);
        let Ok((ar, _)) = kube::discovery::pinned_kind(&ctx.client, &gvk).await else {
            continue;
        };
        let api: Api<DynamicObject> = if r.namespace.is_empty() {
            Api::all_with(ctx.client.clone(), &ar)
        } else {
            Api::namespaced_with(ctx.client.clone(), &r.namespace, &ar)
        };
        while Instant::now() < deadline {
            match api.get_opt(&r.name).await {
                Ok(Some(_)) => tokio::time::sleep(ctx.config.health_poll).await,
                _ => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(prune: bool, policy: Option<&str>) -> KustomizationSpec {
        KustomizationSpec {
            prune,
            deletion_policy: policy.map(str::to_string),
            interval: "1m".into(),
            ..Default::default()
        }
    }

    #[test]
    fn deletion_policy_follows_flux_rules() {
        assert!(deletes_on_removal(&spec(true, None), false));
        assert!(!deletes_on_removal(&spec(false, None), false));
        assert!(deletes_on_removal(&spec(false, Some("Delete")), false));
        assert!(!deletes_on_removal(&spec(true, Some("Orphan")), false));
        assert!(!deletes_on_removal(&spec(true, Some("Delete")), true));
        let mut s = spec(true, Some("Delete"));
        s.suspend = Some(true);
        assert!(!deletes_on_removal(&s, false));
    }

    #[test]
    fn path_may_not_leave_the_source() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("apps")).expect("mkdir");
        assert!(resolve_path(dir.path(), Some("./apps")).is_ok());
        assert!(resolve_path(dir.path(), Some("../../etc")).is_err());
        assert!(resolve_path(dir.path(), Some("./missing")).is_err());
    }

    #[test]
    fn target_namespace_applies_to_a_plain_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("sub")).expect("mkdir");
        std::fs::write(
            dir.path().join("sub/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
        )
        .expect("write");
        let mut s = spec(true, None);
        s.target_namespace = Some("team".into());
        let scratch = tempfile::tempdir().expect("tempdir");
        let objs = build_objects(dir.path(), &s, &IndexMap::new(), &scratch.path().join("o"))
            .expect("builds");
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0]["metadata"]["namespace"], "team");
    }

    #[test]
    fn spec_overlay_sets_namespace_prefix_and_images() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            "resources:\n- cm.yaml\n",
        )
        .expect("write");
        let mut s = spec(true, None);
        s.target_namespace = Some("team".into());
        s.name_prefix = Some("p-".into());
        s.images = vec![crate::api::kustomize::Image {
            name: "nginx".into(),
            new_tag: Some("2".into()),
            ..Default::default()
        }];
        s.common_metadata = Some(crate::api::kustomize::CommonMetadata {
            labels: [("team".to_string(), "a".to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        });
        let scratch = tempfile::tempdir().expect("tempdir");
        let objs = build_objects(dir.path(), &s, &IndexMap::new(), &scratch.path().join("o"))
            .expect("builds");
        assert_eq!(objs[0]["metadata"]["name"], "p-cfg");
        assert_eq!(objs[0]["metadata"]["namespace"], "team");
        assert_eq!(objs[0]["metadata"]["labels"]["team"], "a");
        assert_eq!(
            objs[1]["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:2"
        );
    }
}
