//! The agent's Prometheus metrics. The controller records into them; `/metrics` renders them.
//!
//! ```text
//!  driftless_reconcile_duration_seconds{kind,name,namespace}   histogram
//!  driftless_reconcile_total{kind,result}                      counter (success|failure)
//!  driftless_objects_applied_total / _pruned_total / _drift_corrected_total
//!  driftless_source_fetch_duration_seconds{name,namespace}     histogram
//!  driftless_resource_info{kind,name,namespace,ready,suspended,revision}  gauge = 1
//!  driftless_notifications_total{provider,type,result}   sent|failed|deduplicated|dropped
//!  driftless_notification_delivery_duration_seconds{provider,type}   histogram, per attempt
//! ```
//!
//! The notification series are recorded by the dispatcher (`notification::DispatchMetrics`).

use crate::notification::DispatchMetrics;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use std::collections::HashMap;
use std::sync::Mutex;

/// Flux's reconcile-duration buckets: 10ms to 30 minutes.
const DURATION_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0, 1800.0];

/// All metrics of one agent.
pub struct Metrics {
    registry: Registry,
    pub reconcile_duration: HistogramVec,
    pub reconcile_total: IntCounterVec,
    pub applied: IntCounter,
    pub pruned: IntCounter,
    pub drift_corrected: IntCounter,
    pub fetch_duration: HistogramVec,
    /// Handed to the notification dispatcher, which records into it.
    pub notifications: DispatchMetrics,
    resource_info: IntGaugeVec,
    /// The label values last set per object, so a change removes the old series.
    info_labels: Mutex<HashMap<(String, String, String), [String; 6]>>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let reconcile_duration = HistogramVec::new(
            HistogramOpts::new(
                "driftless_reconcile_duration_seconds",
                "Time one reconcile took.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["kind", "name", "namespace"],
        )
        .expect("static metric definition");
        let reconcile_total = IntCounterVec::new(
            Opts::new("driftless_reconcile_total", "Reconciles by result."),
            &["kind", "result"],
        )
        .expect("static metric definition");
        let applied = IntCounter::new(
            "driftless_objects_applied_total",
            "Objects created or changed by server-side apply.",
        )
        .expect("static metric definition");
        let pruned = IntCounter::new(
            "driftless_objects_pruned_total",
            "Objects deleted because they left the source.",
        )
        .expect("static metric definition");
        let drift_corrected = IntCounter::new(
            "driftless_drift_corrected_total",
            "Objects changed in the cluster and set back to the source.",
        )
        .expect("static metric definition");
        let fetch_duration = HistogramVec::new(
            HistogramOpts::new(
                "driftless_source_fetch_duration_seconds",
                "Time one git fetch took.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["name", "namespace"],
        )
        .expect("static metric definition");
        let resource_info = IntGaugeVec::new(
            Opts::new(
                "driftless_resource_info",
                "One series per GitRepository and Kustomization with its state.",
            ),
            &[
                "kind",
                "name",
                "namespace",
                "ready",
                "suspended",
                "revision",
            ],
        )
        .expect("static metric definition");
        let notifications = DispatchMetrics::new();
        let collectors = [
            Box::new(reconcile_duration.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(reconcile_total.clone()),
            Box::new(applied.clone()),
            Box::new(pruned.clone()),
            Box::new(drift_corrected.clone()),
            Box::new(fetch_duration.clone()),
            Box::new(resource_info.clone()),
        ];
        for c in collectors.into_iter().chain(notifications.collectors()) {
            registry.register(c).expect("metric names are unique");
        }
        Metrics {
            registry,
            reconcile_duration,
            reconcile_total,
            applied,
            pruned,
            drift_corrected,
            fetch_duration,
            notifications,
            resource_info,
            info_labels: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the `driftless_resource_info` series of one object (removing its previous one).
    pub fn set_resource_info(
        &self,
        kind: &str,
        name: &str,
        namespace: &str,
        ready: &str,
        suspended: bool,
        revision: &str,
    ) {
        let labels = [
            kind.to_string(),
            name.to_string(),
            namespace.to_string(),
            ready.to_string(),
            suspended.to_string(),
            revision.to_string(),
        ];
        let key = (kind.to_string(), namespace.to_string(), name.to_string());
        let mut map = self.info_labels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = map.get(&key) {
            if *old == labels {
                return;
            }
            let old_refs: Vec<&str> = old.iter().map(String::as_str).collect();
            let _ = self.resource_info.remove_label_values(&old_refs);
        }
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        self.resource_info.with_label_values(&refs).set(1);
        map.insert(key, labels);
    }

    /// Removes the `driftless_resource_info` series of a deleted object.
    pub fn remove_resource_info(&self, kind: &str, name: &str, namespace: &str) {
        let key = (kind.to_string(), namespace.to_string(), name.to_string());
        let mut map = self.info_labels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = map.remove(&key) {
            let old_refs: Vec<&str> = old.iter().map(String::as_str).collect();
            let _ = self.resource_info.remove_label_values(&old_refs);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_info_keeps_one_series_per_object() {
        let m = Metrics::new();
        m.set_resource_info("Kustomization", "apps", "flux-system", "False", false, "");
        m.set_resource_info(
            "Kustomization",
            "apps",
            "flux-system",
            "True",
            false,
            "main@sha1:ab",
        );
        let text = m.render();
        assert!(text.contains("ready=\"True\""));
        assert!(!text.contains("ready=\"False\""));
        m.remove_resource_info("Kustomization", "apps", "flux-system");
        assert!(!m.render().contains("name=\"apps\""));
    }

    #[test]
    fn grafana_dashboard_only_queries_metrics_the_agent_exports() {
        let m = Metrics::new();
        m.reconcile_duration
            .with_label_values(&["Kustomization", "a", "b"])
            .observe(1.0);
        m.reconcile_total
            .with_label_values(&["Kustomization", "success"])
            .inc();
        m.fetch_duration.with_label_values(&["a", "b"]).observe(1.0);
        m.set_resource_info("Kustomization", "a", "b", "True", false, "");
        let exported = m.render();
        let dashboard = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/grafana-dashboard.json"),
        )
        .expect("dashboard present");
        let re = regex::Regex::new(r"driftless_[a-z_]+").expect("valid regex");
        let mut seen = 0;
        for name in re.find_iter(&dashboard) {
            seen += 1;
            assert!(
                exported.contains(name.as_str()),
                "dashboard queries {} which is not exported",
                name.as_str()
            );
        }
        assert!(seen >= 6);
    }

    #[test]
    fn renders_reconcile_metrics_with_flux_labels() {
        let m = Metrics::new();
        m.reconcile_duration
            .with_label_values(&["Kustomization", "apps", "flux-system"])
            .observe(0.2);
        m.reconcile_total
            .with_label_values(&["Kustomization", "success"])
            .inc();
        let text = m.render();
        assert!(text.contains("driftless_reconcile_duration_seconds_bucket{kind=\"Kustomization\",name=\"apps\",namespace=\"flux-system\""));
        assert!(
            text.contains("driftless_reconcile_total{kind=\"Kustomization\",result=\"success\"} 1")
        );
    }
}
