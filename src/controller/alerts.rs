//! Notifications from the agent: Provider and Alert objects (with their Secrets) are turned
//! into `notification::Route`s, refreshed every `REFRESH`; each reconcile outcome becomes a
//! `notification::Event` (with the ChangeSet: what changed) routed through the dispatcher.
//!
//! ```text
//!  LIST Providers, Alerts, Secrets (every 5s) ──► Vec<Route>
//!  Kustomization / GitRepository outcome ──► Event ──► Dispatcher::route (never blocks)
//! ```

use super::Context;
use crate::api::notification::{Alert, Provider};
use crate::apply::ChangeSet;
use crate::notification::{
    self, AlertConfig, Changes, DispatchOptions, Dispatcher, Event, EventSource, InvolvedObject,
    ProviderConfig, ProviderSpec, Route, Severity,
};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use kube::Resource;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How often Providers and Alerts are re-read (a new Alert takes effect within this).
const REFRESH: Duration = Duration::from_secs(5);

/// The dispatcher and the current routes.
pub struct Notifier {
    dispatcher: Dispatcher,
    routes: RwLock<Vec<Route>>,
}

impl Notifier {
    /// Starts the dispatcher (inside a tokio runtime, recording into `metrics`) and the
    /// refresh loop.
    pub fn start(
        client: kube::Client,
        metrics: Option<notification::DispatchMetrics>,
    ) -> notification::Result<Arc<Notifier>> {
        let n = Arc::new(Notifier {
            dispatcher: Dispatcher::start_with_metrics(DispatchOptions::default(), metrics)?,
            routes: RwLock::new(Vec::new()),
        });
        let weak = Arc::downgrade(&n);
        tokio::spawn(async move {
            loop {
                let Some(n) = weak.upgrade() else { return };
                match load_routes(&client).await {
                    Ok((routes, secrets)) => {
                        n.dispatcher.add_secret_values(secrets);
                        if let Ok(mut r) = n.routes.write() {
                            *r = routes;
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "failed to read alerts"),
                }
                drop(n);
                tokio::time::sleep(REFRESH).await;
            }
        });
        Ok(n)
    }

    /// Routes one outcome to every matching alert's provider.
    pub fn send(&self, event: &Event, labels: &BTreeMap<String, String>) {
        let routes = match self.routes.read() {
            Ok(r) => r.clone(),
            Err(_) => return,
        };
        if !routes.is_empty() {
            self.dispatcher.route(&routes, event, labels);
        }
    }

    pub fn stats(&self) -> notification::Stats {
        self.dispatcher.stats()
    }
}

/// Builds the event for one reconcile outcome.
#[allow(clippy::too_many_arguments)]
pub fn event(
    kind: &str,
    api_version: &str,
    namespace: &str,
    name: &str,
    error: bool,
    reason: &str,
    message: &str,
    revision: Option<&str>,
    changes: Option<&ChangeSet>,
    controller: &str,
) -> Event {
    Event {
        involved_object: InvolvedObject {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
            api_version: api_version.into(),
            uid: String::new(),
        },
        severity: if error {
            Severity::Error
        } else {
            Severity::Info
        },
        reason: reason.into(),
        message: message.into(),
        revision: revision.map(str::to_string),
        changes: changes.map(|c| Changes::from_changeset(c, notification::event::DEFAULT_LIST_CAP)),
        reporting_controller: controller.into(),
        ..Default::default()
    }
}

fn secret_data(s: &Secret) -> BTreeMap<String, String> {
    s.data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect()
}

/// Reads every Provider and Alert; returns the routes and the secret values to redact.
async fn load_routes(client: &kube::Client) -> Result<(Vec<Route>, Vec<String>), kube::Error> {
    let lp = ListParams::default();
    let providers = Api::<Provider>::all(client.clone()).list(&lp).await?.items;
    let alerts = Api::<Alert>::all(client.clone()).list(&lp).await?.items;
    let mut secrets_seen = Vec::new();
    let mut configs: BTreeMap<String, Arc<ProviderConfig>> = BTreeMap::new();
    for p in &providers {
        if p.spec.suspend.unwrap_or(false) {
            continue;
        }
        let ns = p.meta().namespace.clone().unwrap_or_default();
        let name = p.meta().name.clone().unwrap_or_default();
        let mut secrets = BTreeMap::new();
        if let Some(r) = &p.spec.secret_ref {
            if let Ok(Some(s)) = Api::<Secret>::namespaced(client.clone(), &ns)
                .get_opt(&r.name)
                .await
            {
                secrets = secret_data(&s);
                secrets_seen.extend(secrets.values().cloned());
            }
        }
        // certSecretRef: `ca.crt` is trusted for the provider's TLS (public, not redacted).
        let mut ca_cert = None;
        if let Some(r) = &p.spec.cert_secret_ref {
            if let Ok(Some(s)) = Api::<Secret>::namespaced(client.clone(), &ns)
                .get_opt(&r.name)
                .await
            {
                ca_cert = secret_data(&s).remove("ca.crt");
            }
        }
        let spec = ProviderSpec {
            namespace: &ns,
            name: &name,
            kind: &p.spec.type_,
            address: p.spec.address.as_deref(),
            channel: p.spec.channel.as_deref(),
            username: p.spec.username.as_deref(),
            timeout: p
                .spec
                .timeout
                .as_deref()
                .and_then(crate::api::parse_duration),
            secrets,
            ca_cert,
        };
        match ProviderConfig::from_spec(spec) {
            Ok(c) => {
                configs.insert(format!("{ns}/{name}"), Arc::new(c));
            }
            Err(e) => tracing::warn!(error = %e, provider = %name, "invalid provider"),
        }
    }
    let mut routes = Vec::new();
    for a in &alerts {
        let ns = a.meta().namespace.clone().unwrap_or_default();
        let name = format!("{ns}/{}", a.meta().name.clone().unwrap_or_default());
        let provider = format!("{ns}/{}", a.spec.provider_ref.name);
        let Some(p) = configs.get(&provider) else {
            continue;
        };
        let compiled =
            notification::compile_patterns(&name, &a.spec.inclusion_list).and_then(|inc| {
                Ok((
                    inc,
                    notification::compile_patterns(&name, &a.spec.exclusion_list)?,
                ))
            });
        let (inclusion_list, exclusion_list) = match compiled {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, alert = %name, "invalid alert");
                continue;
            }
        };
        let alert = AlertConfig {
            name,
            namespace: ns.clone(),
            provider,
            event_severity: a
                .spec
                .event_severity
                .as_deref()
                .and_then(Severity::parse)
                .unwrap_or_default(),
            event_sources: a
                .spec
                .event_sources
                .iter()
                .map(|s| EventSource {
                    kind: s.kind.clone(),
                    name: s.name.clone(),
                    namespace: s.namespace.clone().unwrap_or_default(),
                    match_labels: s.match_labels.clone().unwrap_or_default(),
                })
                .collect(),
            inclusion_list,
            exclusion_list,
            event_metadata: a.spec.event_metadata.clone(),
            summary: a.spec.summary.clone(),
            suspend: a.spec.suspend.unwrap_or(false),
        };
        routes.push(Route {
            alert,
            provider: p.clone(),
        });
    }
    Ok((routes, secrets_seen))
}

impl Context {
    /// Sends a reconcile outcome to the matching alerts (no-op when notifications are off).
    pub(crate) fn notify(&self, event: &Event, labels: Option<&BTreeMap<String, String>>) {
        if let Some(n) = self.notifier.get() {
            let empty = BTreeMap::new();
            n.send(event, labels.unwrap_or(&empty));
        }
    }

    /// Turns notifications on (the agent and the sandbox do; unit tests need not).
    pub fn enable_notifications(&self) -> notification::Result<()> {
        let n = Notifier::start(
            self.client.clone(),
            Some(self.metrics.notifications.clone()),
        )?;
        let _ = self.notifier.set(n);
        Ok(())
    }
}
