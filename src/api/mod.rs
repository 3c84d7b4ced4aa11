//! Flux-compatible custom resource types and their CRDs, generated from the Rust types.
//!
//! ```text
//!  source.toolkit.fluxcd.io/v1            GitRepository   (source)
//!  kustomize.toolkit.fluxcd.io/v1         Kustomization   (kustomize)
//!  notification.toolkit.fluxcd.io/v1beta3 Provider, Alert (notification)
//!  notification.toolkit.fluxcd.io/v1      Receiver        (notification)
//! ```
//!
//! Field names, conditions and reasons are Flux's, so a repository written for Flux deserializes
//! unchanged. `crds()` turns the types into `CustomResourceDefinition`s (schemas from schemars,
//! printer columns as Flux prints them) for `driftless install`. Pure: no I/O.

pub mod condition;
pub mod kustomize;
pub mod notification;
pub mod source;

pub use condition::{Condition, ConditionStatus};
pub use kustomize::{Kustomization, KustomizationSpec, KustomizationStatus};
pub use source::{GitRepository, GitRepositorySpec, GitRepositoryStatus};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The finalizer Flux puts on Kustomizations and sources.
pub const FINALIZER: &str = "finalizers.fluxcd.io";
/// Annotation whose new value asks for an immediate reconcile (`flux reconcile`).
pub const REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";

/// A reference to an object in the same namespace (`secretRef`, `providerRef`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LocalObjectReference {
    pub name: String,
}

/// A reference to an object by kind, possibly in another namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceObjectReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Label selector (Receivers: `name: "*"` plus labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<std::collections::BTreeMap<String, String>>,
}

/// Every CRD driftless serves, in install order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        GitRepository::crd(),
        Kustomization::crd(),
        notification::Provider::crd(),
        notification::Alert::crd(),
        notification::Receiver::crd(),
    ]
}

/// Parses a Go duration as Flux writes them: `1m0s`, `10m`, `1h30m`, `500ms`, `30s`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let (num, tail) = rest.split_at(digits);
        let n: f64 = num.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let factor = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * factor;
        rest = tail;
    }
    Some(Duration::from_secs_f64(total))
}

/// Formats a duration the way Go prints it (`1m0s`, `30s`, `1h0m0s`, `500ms`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 && ms > 0 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations_as_flux_writes_them() {
        assert_eq!(parse_duration("1m0s"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("10x"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(format_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h0m0s");
    }

    #[test]
    fn crds_name_flux_groups_and_versions() {
        let names: Vec<String> = crds()
            .into_iter()
            .map(|c| {
                format!(
                    "{}/{}",
                    c.metadata.name.unwrap_or_default(),
                    c.spec.versions[0].name
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                "gitrepositories.source.toolkit.fluxcd.io/v1",
                "kustomizations.kustomize.toolkit.fluxcd.io/v1",
                "providers.notification.toolkit.fluxcd.io/v1beta3",
                "alerts.notification.toolkit.fluxcd.io/v1beta3",
                "receivers.notification.toolkit.fluxcd.io/v1",
            ]
        );
    }

    #[test]
    fn kustomization_crd_has_flux_printer_columns_and_status_subresource() {
        let crd = Kustomization::crd();
        let v = &crd.spec.versions[0];
        let cols: Vec<&str> = v
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(cols, ["Age", "Ready", "Status"]);
        assert!(v
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some());
        assert_eq!(crd.spec.names.short_names, Some(vec!["ks".to_string()]));
    }
}
