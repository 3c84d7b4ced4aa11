//! `driftless events [--for Kind[/name]] [-n NS | -A] [--types Normal,Warning]
//! [--wide | --width N] [--kubeconfig F]`: the core/v1 Events of Flux objects as
//! `flux events` prints them, fitted to the terminal (see `output::WidthOpts`).
//!
//! ```text
//!  --for Kustomization/apps ──► Events of Kustomization/apps
//!                          └──► + Events of its sourceRef (GitRepository/flux-system),
//!                               as flux does (an Alert adds its Provider's)
//!  list Events per namespace ──► keep Flux kinds (and the --for filter) ──► sort by time
//!  ──► LAST SEEN TYPE REASON OBJECT MESSAGE (NAMESPACE first with -A or a source elsewhere)
//! ```
//!
//! Filtering is done client side, so it works against any API server. No Events is not an
//! error (a notice on stderr, exit 0); an unknown kind or a `--for` object that does not
//! exist is (exit 1).

use super::output::{self, Cell, ClusterOpts, Fit, Style, Tone, WidthOpts};
use crate::api::notification::Alert;
use crate::api::Kustomization;
use crate::apiserver::time::{parse_rfc3339, unix_now};
use anyhow::{anyhow, bail, Result};
use k8s_openapi::api::core::v1::Event;
use kube::Api;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    /// Only events of this object (`Kind/name`) or kind (`Kind`).
    #[arg(long = "for", value_name = "KIND[/NAME]")]
    pub for_: Option<String>,
    /// Only these event types (Normal, Warning).
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    #[command(flatten)]
    pub cluster: ClusterOpts,
    #[command(flatten)]
    pub width: WidthOpts,
}

/// The kinds whose events `flux events` shows.
pub const FLUX_KINDS: &[&str] = &[
    "Kustomization",
    "HelmRelease",
    "GitRepository",
    "OCIRepository",
    "Bucket",
    "HelmRepository",
    "HelmChart",
    "Alert",
    "Provider",
    "Receiver",
    "ImagePolicy",
    "ImageRepository",
    "ImageUpdateAutomation",
];

/// The canonical spelling of a Flux kind given in any case.
pub fn flux_kind(kind: &str) -> Option<&'static str> {
    FLUX_KINDS
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(kind))
}

/// Which events to show: an object or kind in a namespace (`None`: any namespace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub namespace: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
}

impl Target {
    fn matches(&self, e: &Event) -> bool {
        let o = &e.involved_object;
        let ns = e.metadata.namespace.as_deref().or(o.namespace.as_deref());
        self.namespace.as_deref().is_none_or(|n| ns == Some(n))
            && self
                .kind
                .as_deref()
                .is_none_or(|k| o.kind.as_deref() == Some(k))
            && self
                .name
                .as_deref()
                .is_none_or(|n| o.name.as_deref() == Some(n))
    }
}

/// Splits `--for`: `Kind/name` or `Kind`.
pub fn parse_for(s: &str) -> Result<(&'static str, Option<String>)> {
    let (kind, name) = match s.split_once('/') {
        Some((k, n)) => (k, Some(n.to_string()).filter(|n| !n.is_empty())),
        None => (s, None),
    };
    if kind.is_empty() {
        bail!("--for selector must be of format <kind>[/<name>]");
    }
    let kind = flux_kind(kind).ok_or_else(|| anyhow!("'{kind}' is not a recognized Flux kind"))?;
    Ok((kind, name))
}

/// One table row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub namespace: String,
    pub last_seen: String,
    pub type_: String,
    pub reason: String,
    pub object: String,
    pub message: String,
}

fn seconds<T: Serialize>(t: Option<&T>) -> Option<i64> {
    let v = serde_json::to_value(t?).ok()?;
    parse_rfc3339(v.as_str()?)
}

/// When the event last happened (series, then lastTimestamp, then eventTime), Unix seconds.
pub fn event_time(e: &Event) -> i64 {
    e.series
        .as_ref()
        .and_then(|s| seconds(s.last_observed_time.as_ref()))
        .or_else(|| seconds(e.last_timestamp.as_ref()))
        .or_else(|| seconds(e.event_time.as_ref()))
        .or_else(|| seconds(e.first_timestamp.as_ref()))
        .unwrap_or(0)
}

/// kubectl's LAST SEEN: the age, with `(xN over AGE)` for repeated events.
pub fn last_seen(e: &Event, now: i64) -> String {
    let since = |t: Option<i64>| match t {
        Some(t) => output::human_duration(now - t),
        None => "<unknown>".into(),
    };
    let first = match seconds(e.event_time.as_ref()) {
        Some(t) => Some(t),
        None => seconds(e.first_timestamp.as_ref()),
    };
    if let Some(s) = &e.series {
        let last = seconds(s.last_observed_time.as_ref());
        return format!(
            "{} (x{} over {})",
            since(last),
            s.count.unwrap_or(0),
            since(first)
        );
    }
    match e.count {
        Some(c) if c > 1 => format!(
            "{} (x{c} over {})",
            since(seconds(e.last_timestamp.as_ref())),
            since(first)
        ),
        _ => since(first),
    }
}

/// The rows for `events` (pure): Flux kinds only, matching any target, optional type filter,
/// oldest first (ties in creation order).
pub fn rows(events: &[Event], targets: &[Target], types: &[String], now: i64) -> Vec<EventRow> {
    let mut kept: Vec<&Event> = events
        .iter()
        .filter(|e| {
            e.involved_object
                .kind
                .as_deref()
                .and_then(flux_kind)
                .is_some()
        })
        .filter(|e| targets.iter().any(|t| t.matches(e)))
        .filter(|e| {
            types.is_empty()
                || types.iter().any(|t| {
                    e.type_
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(t))
                })
        })
        .collect();
    let mut seen = BTreeSet::new();
    kept.retain(|e| {
        seen.insert((
            e.metadata.namespace.clone(),
            e.metadata.name.clone(),
            e.metadata.uid.clone(),
        ))
    });
    let rv = |e: &Event| {
        e.metadata
            .resource_version
            .as_deref()
            .and_then(|r| r.parse::<u64>().ok())
            .unwrap_or(0)
    };
    kept.sort_by_key(|e| (event_time(e), rv(e)));
    kept.into_iter()
        .map(|e| EventRow {
            namespace: e.metadata.namespace.clone().unwrap_or_default(),
            last_seen: last_seen(e, now),
            type_: e.type_.clone().unwrap_or_default(),
            reason: e.reason.clone().unwrap_or_default(),
            object: format!(
                "{}/{}",
                e.involved_object.kind.as_deref().unwrap_or(""),
                e.involved_object.name.as_deref().unwrap_or("")
            ),
            message: e.message.clone().unwrap_or_default(),
        })
        .collect()
}

/// The CRD short name of a Flux kind (`ks`, `gitrepo`, …), for narrow terminals.
pub fn short_kind(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Kustomization" => "ks",
        "GitRepository" => "gitrepo",
        "OCIRepository" => "ocirepo",
        "HelmRepository" => "helmrepo",
        "HelmChart" => "hc",
        "HelmRelease" => "hr",
        _ => return None,
    })
}

/// `Kind/name` with the kind's short name (`ks/apps`), when it has one.
fn short_object(object: &str) -> String {
    match object.split_once('/') {
        Some((kind, name)) => match short_kind(kind) {
            Some(k) => format!("{k}/{name}"),
            None => object.to_string(),
        },
        None => object.to_string(),
    }
}

/// `LAST SEEN TYPE REASON OBJECT MESSAGE`, NAMESPACE first when `show_namespace`. Fitted to
/// `style.width` when set: MESSAGE is shortened with `…`; when that would leave it too
/// narrow to read ([`output::MESSAGE_TARGET`]), OBJECT kinds take their short names
/// (`ks/apps`), then REASON and after it OBJECT are shortened too.
pub fn render(rows: &[EventRow], show_namespace: bool, style: Style) -> String {
    let mut header = vec!["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"];
    if show_namespace {
        header.insert(0, "NAMESPACE");
    }
    let cells = |short: bool| -> Vec<Vec<Cell>> {
        rows.iter()
            .map(|r| {
                let mut line = Vec::new();
                if show_namespace {
                    line.push(Cell::plain(&*r.namespace));
                }
                line.push(Cell::plain(&*r.last_seen));
                line.push(Cell {
                    text: r.type_.clone(),
                    tone: if r.type_ == "Warning" {
                        Tone::Warn
                    } else {
                        Tone::Plain
                    },
                });
                line.push(Cell::plain(&*r.reason));
                line.push(Cell::plain(if short {
                    short_object(&r.object)
                } else {
                    r.object.clone()
                }));
                line.push(Cell::plain(&*r.message));
                line
            })
            .collect()
    };
    let mut table = cells(false);
    if let Some(width) = style.width {
        if !output::has_room(&header, true, &table, width) {
            table = cells(true);
        }
    }
    let fit = Fit::to(style.width).shrinking(&["REASON", "OBJECT"]);
    output::render_fitted(&header, true, &table, &fit, style.colour)
}

/// The objects a `--for Kind/name` also pulls events from (flux: a Kustomization's source, an
/// Alert's Provider), as targets.
async fn referenced(
    client: &kube::Client,
    kind: &str,
    name: &str,
    ns: &str,
) -> Result<Vec<Target>> {
    let missing = |e: kube::Error| {
        if output::is_not_found(&e) {
            anyhow!("{kind} {ns}/{name} not found")
        } else {
            anyhow!("failed to get {kind} {ns}/{name}: {e}")
        }
    };
    Ok(match kind {
        "Kustomization" => {
            let ks = Api::<Kustomization>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(missing)?;
            let r = &ks.spec.source_ref;
            vec![Target {
                namespace: Some(r.namespace.clone().unwrap_or_else(|| ns.to_string())),
                kind: Some(r.kind.clone()),
                name: Some(r.name.clone()),
            }]
        }
        "Alert" => {
            let a = Api::<Alert>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(missing)?;
            vec![Target {
                namespace: Some(ns.to_string()),
                kind: Some("Provider".into()),
                name: Some(a.spec.provider_ref.name.clone()),
            }]
        }
        _ => Vec::new(),
    })
}

pub fn run(args: EventsArgs) -> Result<i32> {
    for t in &args.types {
        if !t.eq_ignore_ascii_case("Normal") && !t.eq_ignore_ascii_case("Warning") {
            bail!("type '{t}' not supported. Supported types are Normal, Warning");
        }
    }
    let wanted = args.for_.as_deref().map(parse_for).transpose()?;
    super::apply::runtime()?.block_on(async {
        let client = output::client(args.cluster.kubeconfig.as_deref()).await?;
        let scope = args.cluster.scope().map(str::to_string);
        let mut targets = vec![Target {
            namespace: scope.clone(),
            kind: wanted.as_ref().map(|(k, _)| k.to_string()),
            name: wanted.as_ref().and_then(|(_, n)| n.clone()),
        }];
        if let Some((kind, Some(name))) = &wanted {
            targets.extend(referenced(&client, kind, name, &args.cluster.namespace).await?);
        }
        // One list per namespace the targets live in (or one cluster-wide list).
        let namespaces: BTreeSet<Option<String>> = match &scope {
            None => [None].into(),
            Some(_) => targets.iter().map(|t| t.namespace.clone()).collect(),
        };
        let mut events = Vec::new();
        for ns in &namespaces {
            let api: Api<Event> = match ns {
                Some(ns) => Api::namespaced(client.clone(), ns),
                None => Api::all(client.clone()),
            };
            let list = api
                .list(&Default::default())
                .await
                .map_err(|e| anyhow!("failed to list events: {e}"))?;
            events.extend(list.items);
        }
        let show_namespace = scope.is_none() || namespaces.len() > 1;
        let rows = rows(&events, &targets, &args.types, unix_now());
        if rows.is_empty() {
            match &scope {
                Some(ns) => eprintln!("✗ No events found in {ns} namespace."),
                None => eprintln!("✗ No events found."),
            }
            return Ok(0);
        }
        print!("{}", render(&rows, show_namespace, Style::of(&args.width)));
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(ns: &str, kind: &str, name: &str, type_: &str, at: &str, rv: &str) -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": format!("{name}.{rv}"), "namespace": ns, "resourceVersion": rv},
            "involvedObject": {"kind": kind, "name": name, "namespace": ns},
            "type": type_,
            "reason": "R",
            "message": format!("{kind} {name}"),
            "firstTimestamp": at,
            "lastTimestamp": at,
            "count": 1,
        }))
        .expect("event")
    }

    fn at(s: &str) -> i64 {
        parse_rfc3339(s).expect("time")
    }

    #[test]
    fn for_selector_takes_kind_in_any_case_and_rejects_other_kinds() {
        assert_eq!(
            parse_for("kustomization/apps").expect("parses"),
            ("Kustomization", Some("apps".to_string()))
        );
        assert_eq!(
            parse_for("GitRepository").expect("parses"),
            ("GitRepository", None)
        );
        assert!(parse_for("Deployment/web").is_err());
        assert!(parse_for("/x").is_err());
    }

    #[test]
    fn only_flux_kinds_and_targets_are_kept_oldest_first() {
        let t0 = "2026-01-01T00:00:00Z";
        let t1 = "2026-01-01T00:01:00Z";
        let events = vec![
            event("flux-system", "Kustomization", "apps", "Normal", t1, "5"),
            event(
                "flux-system",
                "GitRepository",
                "flux-system",
                "Normal",
                t0,
                "2",
            ),
            event("flux-system", "Pod", "web", "Warning", t0, "1"),
            event("flux-system", "Kustomization", "infra", "Warning", t0, "3"),
        ];
        let targets = vec![
            Target {
                namespace: Some("flux-system".into()),
                kind: Some("Kustomization".into()),
                name: Some("apps".into()),
            },
            Target {
                namespace: Some("flux-system".into()),
                kind: Some("GitRepository".into()),
                name: Some("flux-system".into()),
            },
        ];
        let now = at("2026-01-01T00:03:20Z");
        let r = rows(&events, &targets, &[], now);
        let objects: Vec<&str> = r.iter().map(|r| r.object.as_str()).collect();
        assert_eq!(objects, ["GitRepository/flux-system", "Kustomization/apps"]);
        assert_eq!(r[0].last_seen, "3m20s");
        let all = Target {
            namespace: None,
            kind: None,
            name: None,
        };
        let warnings = rows(&events, &[all], &["warning".into()], now);
        let objects: Vec<&str> = warnings.iter().map(|r| r.object.as_str()).collect();
        assert_eq!(objects, ["Kustomization/infra"]);
    }

    #[test]
    fn repeated_events_show_count_and_span() {
        let mut e = event(
            "ns",
            "Kustomization",
            "a",
            "Warning",
            "2026-01-01T00:00:00Z",
            "1",
        );
        e.count = Some(3);
        e.last_timestamp = serde_json::from_value(json!("2026-01-01T00:09:00Z")).ok();
        assert_eq!(
            last_seen(&e, at("2026-01-01T00:10:00Z")),
            "60s (x3 over 10m)"
        );
    }

    #[test]
    fn table_has_flux_events_columns() {
        let r = EventRow {
            namespace: "flux-system".into(),
            last_seen: "5s".into(),
            type_: "Warning".into(),
            reason: "BuildFailed".into(),
            object: "Kustomization/broken".into(),
            message: "boom".into(),
        };
        let t = render(std::slice::from_ref(&r), false, Style::default());
        assert_eq!(
            t.lines().next(),
            Some("LAST SEEN\tTYPE   \tREASON     \tOBJECT              \tMESSAGE")
        );
        assert!(render(&[r], true, Style::default()).starts_with("NAMESPACE  \tLAST SEEN"));
    }

    #[test]
    fn narrow_tables_use_short_kinds_before_cutting_reasons() {
        let r = EventRow {
            namespace: "flux-system".into(),
            last_seen: "5s".into(),
            type_: "Normal".into(),
            reason: "ReconciliationSucceeded".into(),
            object: "Kustomization/infrastructure".into(),
            message: "Namespace/shop-development created".into(),
        };
        let narrow = |width| Style {
            colour: false,
            width: Some(width),
        };
        let t = render(std::slice::from_ref(&r), false, narrow(80));
        assert_eq!(
            t.lines().nth(1),
            Some(
                "5s         Normal  ReconciliationSucce…  ks/infrastructure  Namespace/shop-deve…"
            )
        );
        let roomy = render(std::slice::from_ref(&r), false, narrow(120));
        assert!(
            roomy.contains("  Kustomization/infrastructure  Namespace/shop-development created")
        );
        assert!(render(&[r], false, Style::default()).contains("\tKustomization/infrastructure\t"));
    }
}
