//! Leader election on a `coordination.k8s.io/v1` Lease, so two replicas never reconcile at
//! once. Like client-go: a candidate takes the Lease when it is free or when its holder has not
//! renewed it (the resourceVersion did not move) for a whole lease duration, measured on the
//! candidate's own clock; the leader renews every `RENEW_EVERY`. Writes use the
//! resourceVersion, so two candidates cannot both win.

use super::error::{Error, Result};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, PostParams};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

/// How long a Lease stays valid without renewal (client-go default 15s).
pub const LEASE_DURATION: Duration = Duration::from_secs(15);
/// How often the leader renews (client-go retry period 2s).
const RENEW_EVERY: Duration = Duration::from_secs(2);

/// Who competes for which Lease.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    pub identity: String,
}

fn micro_now() -> String {
    let secs = crate::apiserver::time::unix_now();
    let base = crate::apiserver::time::format_rfc3339(secs);
    base.replace('Z', ".000000Z")
}

fn lease_body(cfg: &LeaseConfig, transitions: i32, acquire: Option<String>) -> Result<Lease> {
    let now = micro_now();
    serde_json::from_value(json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": cfg.name, "namespace": cfg.namespace},
        "spec": {
            "holderIdentity": cfg.identity,
            "leaseDurationSeconds": LEASE_DURATION.as_secs(),
            "acquireTime": acquire.unwrap_or_else(|| now.clone()),
            "renewTime": now,
            "leaseTransitions": transitions,
        }
    }))
    .map_err(|e| Error::Kube {
        action: "build the leader lease".into(),
        source: kube::Error::SerdeError(e),
    })
}

/// Tries once to take or keep the Lease. `observed` remembers (resourceVersion, first seen)
/// of a foreign holder between calls.
async fn try_acquire(
    api: &Api<Lease>,
    cfg: &LeaseConfig,
    observed: &mut Option<(String, Instant)>,
) -> Result<bool> {
    let current = api.get_opt(&cfg.name).await.map_err(|e| Error::Kube {
        action: format!("read lease {}/{}", cfg.namespace, cfg.name),
        source: e,
    })?;
    let Some(lease) = current else {
        let body = lease_body(cfg, 0, None)?;
        return Ok(api.create(&PostParams::default(), &body).await.is_ok());
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let rv = lease.metadata.resource_version.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let mine = holder == cfg.identity;
    if !mine && !holder.is_empty() {
        let duration = spec
            .lease_duration_seconds
            .map(|s| Duration::from_secs(s.max(1) as u64))
            .unwrap_or(LEASE_DURATION);
        match observed {
            Some((seen_rv, since)) if *seen_rv == rv => {
                if since.elapsed() < duration {
                    return Ok(false);
                }
            }
            _ => {
                *observed = Some((rv, Instant::now()));
                return Ok(false);
            }
        }
    }
    let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!mine);
    let acquire = if mine {
        serde_json::to_value(&spec.acquire_time)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
    } else {
        None
    };
    let mut body = lease_body(cfg, transitions, acquire)?;
    body.metadata.resource_version = Some(rv);
    Ok(api
        .replace(&cfg.name, &PostParams::default(), &body)
        .await
        .is_ok())
}

/// Waits until this replica holds the Lease, then keeps renewing it in the background.
/// The returned receiver fires if the Lease is lost (the agent must then stop reconciling).
pub async fn acquire(
    client: kube::Client,
    cfg: LeaseConfig,
) -> tokio::sync::oneshot::Receiver<Error> {
    let api: Api<Lease> = Api::namespaced(client, &cfg.namespace);
    let mut observed = None;
    loop {
        match try_acquire(&api, &cfg, &mut observed).await {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "leader election"),
        }
        tokio::time::sleep(RENEW_EVERY).await;
    }
    tracing::info!(lease = %cfg.name, identity = %cfg.identity, "acquired leader lease");
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut last_ok = Instant::now();
        let mut observed = None;
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            match try_acquire(&api, &cfg, &mut observed).await {
                Ok(true) => last_ok = Instant::now(),
                _ if last_ok.elapsed() < LEASE_DURATION - RENEW_EVERY => {}
                _ => {
                    let _ = tx.send(Error::LostLease(format!("{}/{}", cfg.namespace, cfg.name)));
                    return;
                }
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn second_candidate_waits_while_the_leader_renews() {
        let server = crate::apiserver::ApiServer::start(Default::default())
            .await
            .expect("server");
        let client = server.client().expect("client");
        let cfg = |id: &str| LeaseConfig {
            namespace: "default".into(),
            name: "driftless-leader".into(),
            identity: id.into(),
        };
        let _lost = acquire(client.clone(), cfg("a")).await;
        let api: Api<Lease> = Api::namespaced(client.clone(), "default");
        let mut observed = None;
        for _ in 0..3 {
            assert!(!try_acquire(&api, &cfg("b"), &mut observed)
                .await
                .expect("reads"));
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let lease = api.get("driftless-leader").await.expect("lease exists");
        assert_eq!(
            lease.spec.and_then(|s| s.holder_identity).as_deref(),
            Some("a")
        );
    }
}
