//! Alert routing, as Flux's `notification.toolkit.fluxcd.io/v1beta3` Alert does it: severity,
//! event sources (kind, name or `*`, namespace, matchLabels), inclusion/exclusion regexes on
//! the message (exclusion wins), `eventMetadata` and `summary` merged under the event's own
//! metadata, and `suspend`.

use super::error::{Error, Result};
use super::event::{Event, Severity};
use regex::Regex;
use std::collections::BTreeMap;

/// One `eventSources` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventSource {
    pub kind: String,
    /// An object name, or `*` for every object of the kind.
    pub name: String,
    /// Empty means the Alert's own namespace.
    pub namespace: String,
    /// Only checked when `name` is `*`, as in Flux.
    pub match_labels: BTreeMap<String, String>,
}

/// An Alert, with its regexes compiled.
#[derive(Clone, Debug, Default)]
pub struct AlertConfig {
    /// `namespace/name`, for errors.
    pub name: String,
    pub namespace: String,
    /// `namespace/name` of the Provider this alert sends to.
    pub provider: String,
    /// `Info` passes every event; `Error` only errors.
    pub event_severity: Severity,
    pub event_sources: Vec<EventSource>,
    pub inclusion_list: Vec<Regex>,
    pub exclusion_list: Vec<Regex>,
    pub event_metadata: BTreeMap<String, String>,
    pub summary: Option<String>,
    pub suspend: bool,
}

/// Compiles a list of patterns, naming the alert and pattern on failure.
pub fn compile_patterns(alert: &str, patterns: &[String]) -> Result<Vec<Regex>> {
    patterns
        .iter()
        .map(|p| {
            Regex::new(p).map_err(|e| Error::Regex {
                alert: alert.to_string(),
                pattern: p.clone(),
                message: e.to_string(),
            })
        })
        .collect()
}

impl AlertConfig {
    /// True when this alert wants `event`. `labels` are the involved object's labels.
    pub fn matches(&self, event: &Event, labels: &BTreeMap<String, String>) -> bool {
        if self.suspend {
            return false;
        }
        if self.event_severity == Severity::Error && event.severity != Severity::Error {
            return false;
        }
        let obj = &event.involved_object;
        let source_ok = self.event_sources.iter().any(|s| {
            let ns = if s.namespace.is_empty() {
                &self.namespace
            } else {
                &s.namespace
            };
            if s.kind != obj.kind || ns != &obj.namespace {
                return false;
            }
            if s.name == "*" {
                s.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            } else {
                s.name == obj.name
            }
        });
        if !source_ok {
            return false;
        }
        let text = event.text();
        if !self.inclusion_list.is_empty() && !self.inclusion_list.iter().any(|r| r.is_match(&text))
        {
            return false;
        }
        !self.exclusion_list.iter().any(|r| r.is_match(&text))
    }

    /// The event as this alert sends it: `eventMetadata`, then `summary`, then the event's own
    /// metadata (highest precedence, as Flux's controller metadata).
    pub fn enrich(&self, event: &Event) -> Event {
        let mut merged = self.event_metadata.clone();
        if let Some(s) = &self.summary {
            merged.insert("summary".to_string(), s.clone());
        }
        merged.extend(event.metadata.clone());
        Event {
            metadata: merged,
            ..event.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::event::InvolvedObject;

    fn ks_event(name: &str, sev: Severity, message: &str) -> Event {
        Event {
            involved_object: InvolvedObject {
                kind: "Kustomization".into(),
                namespace: "flux-system".into(),
                name: name.into(),
                ..Default::default()
            },
            severity: sev,
            message: message.into(),
            ..Default::default()
        }
    }

    fn alert(sources: Vec<EventSource>) -> AlertConfig {
        AlertConfig {
            name: "flux-system/a".into(),
            namespace: "flux-system".into(),
            event_sources: sources,
            ..Default::default()
        }
    }

    fn src(name: &str) -> EventSource {
        EventSource {
            kind: "Kustomization".into(),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn matches_by_kind_name_and_defaults_namespace_to_the_alerts() {
        let a = alert(vec![src("apps")]);
        let none = BTreeMap::new();
        assert!(a.matches(&ks_event("apps", Severity::Info, "ok"), &none));
        assert!(!a.matches(&ks_event("infra", Severity::Info, "ok"), &none));
        let mut other_ns = ks_event("apps", Severity::Info, "ok");
        other_ns.involved_object.namespace = "team".into();
        assert!(!a.matches(&other_ns, &none));
    }

    #[test]
    fn wildcard_name_checks_match_labels() {
        let mut s = src("*");
        s.match_labels.insert("team".into(), "shop".into());
        let a = alert(vec![s]);
        let mut labels = BTreeMap::new();
        assert!(!a.matches(&ks_event("x", Severity::Info, "ok"), &labels));
        labels.insert("team".into(), "shop".into());
        assert!(a.matches(&ks_event("x", Severity::Info, "ok"), &labels));
    }

    #[test]
    fn error_severity_drops_info_events_and_suspend_drops_all() {
        let mut a = alert(vec![src("*")]);
        a.event_severity = Severity::Error;
        let none = BTreeMap::new();
        assert!(!a.matches(&ks_event("x", Severity::Info, "ok"), &none));
        assert!(a.matches(&ks_event("x", Severity::Error, "bad"), &none));
        a.suspend = true;
        assert!(!a.matches(&ks_event("x", Severity::Error, "bad"), &none));
    }

    #[test]
    fn exclusion_wins_over_inclusion() {
        let mut a = alert(vec![src("*")]);
        a.inclusion_list = compile_patterns("a", &[".*failed.*".into()]).unwrap();
        a.exclusion_list = compile_patterns("a", &["timeout".into()]).unwrap();
        let none = BTreeMap::new();
        assert!(a.matches(&ks_event("x", Severity::Error, "apply failed"), &none));
        assert!(!a.matches(
            &ks_event("x", Severity::Error, "apply failed: timeout"),
            &none
        ));
        assert!(!a.matches(&ks_event("x", Severity::Error, "all good"), &none));
    }

    #[test]
    fn bad_regex_names_alert_and_pattern() {
        let err = compile_patterns("ns/a", &["(".into()]).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("alert ns/a: invalid regex \"(\""));
    }

    #[test]
    fn event_metadata_yields_to_event_keys_and_summary_is_added() {
        let mut a = alert(vec![src("*")]);
        a.event_metadata.insert("env".into(), "prod".into());
        a.event_metadata.insert("owner".into(), "alert".into());
        a.summary = Some("cluster upgrade".into());
        let mut ev = ks_event("x", Severity::Info, "ok");
        ev.metadata.insert("owner".into(), "controller".into());
        let out = a.enrich(&ev);
        assert_eq!(out.metadata["env"], "prod");
        assert_eq!(out.metadata["owner"], "controller");
        assert_eq!(out.metadata["summary"], "cluster upgrade");
    }
}
