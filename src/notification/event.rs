//! The notification event: which object, how bad, why, and what changed. Built by the agent
//! from a reconcile result (`ChangeSet` plus failures), rendered here as plain text, Slack
//! mrkdwn, HTML, and Flux's event JSON (`pkg/apis/event/v1beta1`), which generic webhooks get.
//!
//! ```text
//!  Kustomization/flux-system/apps  ReconciliationSucceeded  main@sha1:4f2a9c1 "bump web to 1.4"
//!  3 changed: 1 created, 1 configured, 0 drifted, 1 deleted (12 unchanged)
//!    Deployment/shop/web configured
//!    ...and 4 more
//! ```

use crate::apply::{ChangeSet, Summary};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The metadata key Flux uses for the applied revision.
pub const REVISION_KEY: &str = "kustomize.toolkit.fluxcd.io/revision";
/// How many changed objects a message lists before "and N more".
pub const DEFAULT_LIST_CAP: usize = 10;

/// Event severity. Alerts set to `error` only get errors; `info` gets everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Severity {
    #[default]
    Info,
    Error,
}

impl Severity {
    /// `info` or `error`, as in Flux's event JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Error => "error",
        }
    }

    /// Parses `info` / `error` (case-insensitive); `None` otherwise.
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// The object the event is about (usually a Kustomization or GitRepository).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct InvolvedObject {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// e.g. `kustomize.toolkit.fluxcd.io/v1`; may be empty.
    pub api_version: String,
    /// May be empty.
    pub uid: String,
}

impl InvolvedObject {
    /// `Kind/ns/name`, or `Kind/name` without a namespace.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }

    /// Flux's chat form `kustomization/name.namespace`.
    pub fn flux_name(&self) -> String {
        format!(
            "{}/{}.{}",
            self.kind.to_lowercase(),
            self.name,
            self.namespace
        )
    }
}

/// One object that failed, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Failure {
    /// `Kind/ns/name`.
    pub object: String,
    pub reason: String,
}

/// What an apply did, reduced for a message: counts, the first written objects, failures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub summary: Summary,
    /// `Kind/ns/name created|configured|drifted|deleted`, in apply order, capped.
    pub listed: Vec<String>,
    /// Written objects left out of `listed`.
    pub more: usize,
    pub failures: Vec<Failure>,
}

impl Changes {
    /// Lists the written objects of `set` (created, configured, drifted, deleted; unchanged and
    /// skipped are only counted), at most `cap` of them.
    pub fn from_changeset(set: &ChangeSet, cap: usize) -> Changes {
        let mut listed = Vec::new();
        let mut more = 0;
        for change in &set.changes {
            if !change.action.is_write() {
                continue;
            }
            if listed.len() < cap {
                let mut line = format!("{} {}", change.object, change.action);
                if let Some(note) = &change.note {
                    let _ = write!(line, " ({note})");
                }
                listed.push(line);
            } else {
                more += 1;
            }
        }
        Changes {
            summary: set.summary(),
            listed,
            more,
            failures: Vec::new(),
        }
    }

    /// Adds failing objects and their reasons.
    pub fn with_failures(mut self, failures: Vec<Failure>) -> Changes {
        self.failures = failures;
        self
    }

    /// Number of objects written.
    pub fn written(&self) -> usize {
        let s = &self.summary;
        s.created + s.configured + s.drifted + s.deleted
    }

    /// `3 changed: 1 created, 1 configured, 0 drifted, 1 deleted (12 unchanged)`.
    pub fn headline(&self) -> String {
        let s = &self.summary;
        let mut out = format!(
            "{} changed: {} created, {} configured, {} drifted, {} deleted",
            self.written(),
            s.created,
            s.configured,
            s.drifted,
            s.deleted
        );
        if s.unchanged > 0 || s.skipped > 0 {
            let _ = write!(out, " ({} unchanged", s.unchanged);
            if s.skipped > 0 {
                let _ = write!(out, ", {} skipped", s.skipped);
            }
            out.push(')');
        }
        out
    }

    /// The object lines, then `and N more`, then `failed: Kind/ns/name: reason` lines.
    pub fn lines(&self) -> Vec<String> {
        let mut out = self.listed.clone();
        if self.more > 0 {
            out.push(format!("and {} more", self.more));
        }
        for f in &self.failures {
            out.push(format!("failed: {}: {}", f.object, f.reason));
        }
        out
    }
}

/// One notification-worthy event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub involved_object: InvolvedObject,
    pub severity: Severity,
    /// Flux reason, e.g. `ReconciliationSucceeded`, `HealthCheckFailed`.
    pub reason: String,
    /// The human sentence, e.g. `Reconciliation finished in 1.2s`.
    pub message: String,
    /// e.g. `main@sha1:4f2a9c1…`.
    pub revision: Option<String>,
    /// First line of the commit message, when known.
    pub commit_message: Option<String>,
    /// The cluster name the agent runs in.
    pub cluster: Option<String>,
    /// Extra key/values; alerts merge their `eventMetadata` and `summary` under these.
    pub metadata: BTreeMap<String, String>,
    pub changes: Option<Changes>,
    /// RFC 3339; filled with the current time when empty at send time.
    pub timestamp: String,
    /// `kustomize-controller` style name of the sender.
    pub reporting_controller: String,
    pub reporting_instance: String,
}

impl Event {
    /// The reporting controller, defaulting to `driftless`.
    pub fn controller(&self) -> &str {
        if self.reporting_controller.is_empty() {
            "driftless"
        } else {
            &self.reporting_controller
        }
    }

    /// `revision "commit message"`, or whichever of the two is known.
    pub fn revision_line(&self) -> Option<String> {
        match (&self.revision, &self.commit_message) {
            (Some(r), Some(m)) => Some(format!("{r} \"{m}\"")),
            (Some(r), None) => Some(r.clone()),
            (None, Some(m)) => Some(format!("\"{m}\"")),
            (None, None) => None,
        }
    }

    /// The full plain-text body: message, revision, cluster, then what changed.
    pub fn text(&self) -> String {
        let mut out = self.message.clone();
        if let Some(rev) = self.revision_line() {
            let _ = write!(out, "\nrevision: {rev}");
        }
        if let Some(cluster) = &self.cluster {
            let _ = write!(out, "\ncluster: {cluster}");
        }
        if let Some(changes) = &self.changes {
            let _ = write!(out, "\n{}", changes.headline());
            for line in changes.lines() {
                let _ = write!(out, "\n  {line}");
            }
        }
        out
    }

    /// The message and the change list for chat providers: changes in a code block.
    pub fn markdown(&self) -> String {
        let mut out = self.message.clone();
        if let Some(changes) = &self.changes {
            let _ = write!(out, "\n*{}*", changes.headline());
            let lines = changes.lines();
            if !lines.is_empty() {
                let _ = write!(out, "\n```\n{}\n```", lines.join("\n"));
            }
        }
        out
    }

    /// An HTML body (for email): heading, message, facts and the change list.
    pub fn html(&self) -> String {
        let mut out = String::from("<!DOCTYPE html>\n<html><body>\n");
        let _ = writeln!(
            out,
            "<h2>{}: {}</h2>",
            escape_html(&self.involved_object.display()),
            escape_html(&self.reason)
        );
        let _ = writeln!(out, "<p>{}</p>", escape_html(&self.message));
        out.push_str("<table>\n");
        let mut fact = |k: &str, v: &str| {
            let _ = writeln!(
                out,
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                escape_html(k),
                escape_html(v)
            );
        };
        fact("severity", self.severity.as_str());
        if let Some(rev) = self.revision_line() {
            fact("revision", &rev);
        }
        if let Some(cluster) = &self.cluster {
            fact("cluster", cluster);
        }
        for (k, v) in &self.metadata {
            fact(k, v);
        }
        out.push_str("</table>\n");
        if let Some(changes) = &self.changes {
            let _ = writeln!(out, "<h3>{}</h3>", escape_html(&changes.headline()));
            out.push_str("<ul>\n");
            for line in &changes.listed {
                let _ = writeln!(out, "<li><code>{}</code></li>", escape_html(line));
            }
            if changes.more > 0 {
                let _ = writeln!(out, "<li>and {} more</li>", changes.more);
            }
            out.push_str("</ul>\n");
            if !changes.failures.is_empty() {
                out.push_str("<h3>Failed</h3>\n<ul>\n");
                for f in &changes.failures {
                    let _ = writeln!(
                        out,
                        "<li><code>{}</code>: {}</li>",
                        escape_html(&f.object),
                        escape_html(&f.reason)
                    );
                }
                out.push_str("</ul>\n");
            }
        }
        out.push_str("</body></html>\n");
        out
    }

    /// Metadata as sent: the event's own keys plus the revision, commit message and cluster.
    pub fn full_metadata(&self) -> BTreeMap<String, String> {
        let mut m = self.metadata.clone();
        if let Some(r) = &self.revision {
            m.insert(REVISION_KEY.to_string(), r.clone());
        }
        if let Some(c) = &self.commit_message {
            m.insert("commit".to_string(), c.clone());
        }
        if let Some(c) = &self.cluster {
            m.insert("cluster".to_string(), c.clone());
        }
        m
    }

    /// Flux's event JSON (`eventv1.Event`): `involvedObject`, `severity`, `timestamp`,
    /// `message` (the full text, at most 39,000 characters), `reason`, `metadata`,
    /// `reportingController`, `reportingInstance`.
    pub fn flux_json(&self) -> Value {
        let mut obj = Map::new();
        let io = &self.involved_object;
        for (k, v) in [
            ("kind", &io.kind),
            ("namespace", &io.namespace),
            ("name", &io.name),
            ("uid", &io.uid),
            ("apiVersion", &io.api_version),
        ] {
            if !v.is_empty() {
                obj.insert(k.to_string(), Value::String(v.clone()));
            }
        }
        let mut out = json!({
            "involvedObject": obj,
            "severity": self.severity.as_str(),
            "timestamp": self.timestamp,
            "message": truncate_chars(&self.text(), 39_000),
            "reason": self.reason,
        });
        let meta = self.full_metadata();
        if let Some(map) = out.as_object_mut() {
            if !meta.is_empty() {
                map.insert("metadata".to_string(), json!(meta));
            }
            map.insert(
                "reportingController".to_string(),
                Value::String(self.controller().to_string()),
            );
            if !self.reporting_instance.is_empty() {
                map.insert(
                    "reportingInstance".to_string(),
                    Value::String(self.reporting_instance.clone()),
                );
            }
        }
        out
    }

    /// Applies `f` to every free-text field (used for redaction).
    pub fn map_text(&mut self, f: &dyn Fn(&str) -> String) {
        self.message = f(&self.message);
        self.reason = f(&self.reason);
        if let Some(m) = &self.commit_message {
            self.commit_message = Some(f(m));
        }
        for v in self.metadata.values_mut() {
            *v = f(v);
        }
        if let Some(changes) = &mut self.changes {
            for l in &mut changes.listed {
                *l = f(l);
            }
            for fl in &mut changes.failures {
                fl.reason = f(&fl.reason);
                fl.object = f(&fl.object);
            }
        }
    }
}

/// Escapes `& < > " '` for HTML text and attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, with `…` marking a cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{Action, ObjRef};

    fn r(kind: &str, ns: &str, name: &str) -> ObjRef {
        ObjRef {
            kind: kind.into(),
            version: "v1".into(),
            namespace: ns.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn set(n_configured: usize) -> ChangeSet {
        let mut cs = ChangeSet::default();
        cs.push(r("Namespace", "", "shop"), Action::Created);
        cs.push(r("ConfigMap", "shop", "same"), Action::Unchanged);
        for i in 0..n_configured {
            cs.push(r("ConfigMap", "shop", &format!("c{i}")), Action::Configured);
        }
        cs.push(r("Deployment", "shop", "web"), Action::Drifted);
        cs.push(r("Service", "shop", "old"), Action::Deleted);
        cs
    }

    #[test]
    fn lists_only_written_objects_capped_with_and_n_more() {
        let c = Changes::from_changeset(&set(12), 5);
        assert_eq!(
            c.listed,
            vec![
                "Namespace/shop created",
                "ConfigMap/shop/c0 configured",
                "ConfigMap/shop/c1 configured",
                "ConfigMap/shop/c2 configured",
                "ConfigMap/shop/c3 configured",
            ]
        );
        assert_eq!(c.more, 10);
        assert_eq!(
            c.headline(),
            "15 changed: 1 created, 12 configured, 1 drifted, 1 deleted (1 unchanged)"
        );
        assert_eq!(c.lines().last().map(String::as_str), Some("and 10 more"));
    }

    #[test]
    fn text_names_revision_cluster_changes_and_failures() {
        let ev = Event {
            involved_object: InvolvedObject {
                kind: "Kustomization".into(),
                namespace: "flux-system".into(),
                name: "apps".into(),
                ..Default::default()
            },
            severity: Severity::Error,
            reason: "HealthCheckFailed".into(),
            message: "Health check failed".into(),
            revision: Some("main@sha1:abc".into()),
            commit_message: Some("bump web".into()),
            cluster: Some("prod".into()),
            changes: Some(
                Changes::from_changeset(&set(0), 10).with_failures(vec![Failure {
                    object: "Deployment/shop/web".into(),
                    reason: "timeout".into(),
                }]),
            ),
            ..Default::default()
        };
        assert_eq!(
            ev.text(),
            "Health check failed\nrevision: main@sha1:abc \"bump web\"\ncluster: prod\n\
             3 changed: 1 created, 0 configured, 1 drifted, 1 deleted (1 unchanged)\n  \
             Namespace/shop created\n  Deployment/shop/web drifted\n  Service/shop/old deleted\n  \
             failed: Deployment/shop/web: timeout"
        );
        let json = ev.flux_json();
        assert_eq!(json["metadata"][REVISION_KEY], "main@sha1:abc");
        assert_eq!(json["involvedObject"]["kind"], "Kustomization");
        assert_eq!(json["reportingController"], "driftless");
        assert!(ev
            .html()
            .contains("<li><code>Service/shop/old deleted</code></li>"));
    }

    #[test]
    fn html_escapes_user_text() {
        let ev = Event {
            message: "<script>x</script>".into(),
            ..Default::default()
        };
        assert!(ev.html().contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!ev.html().contains("<script>"));
    }
}
