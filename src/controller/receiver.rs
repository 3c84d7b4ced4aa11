//! Receivers in the agent: keeps `crate::receiver::Registry` in sync with the cluster's
//! Receivers (token from their Secret), writes `status.webhookPath`, and serves the `/hook/<id>`
//! router on `--webhook-addr`. A verified call patches `reconcile.fluxcd.io/requestedAt` on
//! every target (as Flux does); the watch then queues them at once.
//!
//! ```text
//!  watch Receiver ──► Secret token ──► Registry.upsert ──► status.webhookPath, Ready
//!  POST /hook/<id> ──► verify ──► trigger ──► PATCH requestedAt on each resource ──► watch ──► queue
//! ```

use super::Context;
use crate::api::condition::{self, ConditionStatus, READY};
use crate::api::notification::{Receiver, ReceiverStatus};
use crate::receiver::{self, ReceiverConfig, ReceiverRef, ReceiverType, Registry, ResourceRef};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Resource;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// Binds `addr`, serves the webhook router and keeps it in sync with Receivers. Returns the
/// bound address.
pub async fn serve(ctx: Arc<Context>, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let registry = Registry::new();
    let client = ctx.client.clone();
    let trigger: receiver::Trigger = Arc::new(move |r: ReceiverRef| {
        let client = client.clone();
        tokio::spawn(async move { request_reconciles(&client, &r).await });
    });
    let app = receiver::router(registry.clone(), trigger, receiver::DEFAULT_BODY_LIMIT);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "webhook server stopped");
        }
    });
    tokio::spawn(sync_receivers(ctx, registry));
    Ok(bound)
}

/// Patches `requestedAt` onto every resource of a verified call.
async fn request_reconciles(client: &kube::Client, r: &ReceiverRef) {
    for res in &r.resources {
        let (group, version) = match res.api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None if res.kind == "GitRepository" => ("source.toolkit.fluxcd.io".into(), "v1".into()),
            None if res.kind == "Kustomization" => {
                ("kustomize.toolkit.fluxcd.io".into(), "v1".into())
            }
            None => (String::new(), res.api_version.clone()),
        };
        let gvk = GroupVersionKind::gvk(&group, &version, &res.kind);
        let ar = match kube::discovery::pinned_kind(client, &gvk).await {
            Ok((ar, _)) => ar,
            Err(_) => ApiResource::from_gvk(&gvk),
        };
        let ns = if res.namespace.is_empty() {
            &r.namespace
        } else {
            &res.namespace
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        if let Err(e) = api
            .patch(
                &res.name,
                &PatchParams::default(),
                &Patch::Merge(receiver::requested_at_patch()),
            )
            .await
        {
            tracing::warn!(error = %e, receiver = %r.name, target = %res.name, "failed to request reconcile");
        }
    }
}

/// Reads a Receiver's token and builds its registry entry.
async fn config_of(client: &kube::Client, r: &Receiver) -> Result<ReceiverConfig, String> {
    let ns = r
        .meta()
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let name = r.meta().name.clone().unwrap_or_default();
    let kind: ReceiverType = r.spec.type_.parse()?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let secret = secrets
        .get_opt(&r.spec.secret_ref.name)
        .await
        .map_err(|e| {
            format!(
                "failed to read secret '{ns}/{}': {e}",
                r.spec.secret_ref.name
            )
        })?
        .ok_or_else(|| format!("secret '{ns}/{}' not found", r.spec.secret_ref.name))?;
    let token = secret
        .data
        .as_ref()
        .and_then(|d| d.get("token"))
        .map(|b| String::from_utf8_lossy(&b.0).trim().to_string())
        .ok_or_else(|| {
            format!(
                "secret '{ns}/{}' has no 'token' key",
                r.spec.secret_ref.name
            )
        })?;
    Ok(ReceiverConfig {
        name,
        namespace: ns,
        kind,
        token,
        events: r.spec.events.clone(),
        resources: r
            .spec
            .resources
            .iter()
            .map(|x| ResourceRef {
                api_version: x.api_version.clone().unwrap_or_default(),
                kind: x.kind.clone(),
                name: x.name.clone(),
                namespace: x.namespace.clone().unwrap_or_default(),
            })
            .collect(),
        suspend: r.spec.suspend.unwrap_or(false),
    })
}

async fn sync_receivers(ctx: Arc<Context>, registry: Registry) {
    let api: Api<Receiver> = Api::all(ctx.client.clone());
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(watcher::Event::Apply(r) | watcher::Event::InitApply(r)) => {
                upsert(&ctx, &registry, &r).await;
            }
            Ok(watcher::Event::Delete(r)) => registry.remove(
                r.meta().namespace.as_deref().unwrap_or("default"),
                r.meta().name.as_deref().unwrap_or(""),
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "receiver watch failed; retrying"),
        }
    }
}

async fn upsert(ctx: &Context, registry: &Registry, r: &Receiver) {
    let ns = r
        .meta()
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let name = r.meta().name.clone().unwrap_or_default();
    let old = r.status.clone().unwrap_or_default();
    let mut status = old.clone();
    let now = condition::now_rfc3339();
    let g = r.meta().generation;
    status.observed_generation = g;
    match config_of(&ctx.client, r).await {
        Ok(cfg) => {
            let path = registry.upsert(cfg);
            let msg = format!("Receiver initialized for path: {path}");
            condition::set(
                &mut status.conditions,
                READY,
                ConditionStatus::True,
                "Succeeded",
                &msg,
                g,
                &now,
            );
            status.webhook_path = Some(path);
        }
        Err(message) => {
            registry.remove(&ns, &name);
            condition::set(
                &mut status.conditions,
                READY,
                ConditionStatus::False,
                "TokenNotFound",
                &message,
                g,
                &now,
            );
        }
    }
    let mut a = old.clone();
    let mut b = status.clone();
    for c in a.conditions.iter_mut().chain(b.conditions.iter_mut()) {
        c.last_transition_time.clear();
    }
    if a == b {
        return;
    }
    let api: Api<Receiver> = Api::namespaced(ctx.client.clone(), &ns);
    let body: ReceiverStatus = status;
    if let Err(e) = api
        .patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": body })),
        )
        .await
    {
        tracing::warn!(error = %e, receiver = %name, "failed to write receiver status");
    }
}
