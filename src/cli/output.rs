//! Shared formatting of the read-only status commands (`get`, `events`, `tree`, `trace`,
//! `stats`): Flux-style tables, `-o json|yaml` as a kubectl `List`, `--status-selector`
//! parsing, kubectl-style ages, colour on a terminal only, and the cluster flags.
//!
//! ```text
//!  rows (pure, built per command) ──► render_table (padded columns, tab separated, like
//!                                      flux's tablewriter; multi-line cells become
//!                                      continuation lines; ANSI colour only when asked)
//!  objects ──► object_value (apiVersion/kind set, managedFields dropped) ──► as_list
//!          ──► render_objects(json|yaml)
//! ```
//!
//! Everything here is pure except [`client`] and [`colour_enabled`].

use crate::api::condition::Condition;
use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// `--kubeconfig`, `-n` and `-A`, shared by the status commands.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterOpts {
    /// Namespace.
    #[arg(short = 'n', long, default_value = "flux-system")]
    pub namespace: String,
    /// All namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

impl ClusterOpts {
    /// The namespace to list in, `None` with `-A`.
    pub fn scope(&self) -> Option<&str> {
        (!self.all_namespaces).then_some(self.namespace.as_str())
    }

    /// `namespace "flux-system"` or `any namespace`, for "nothing found" messages.
    pub fn describe_scope(&self) -> String {
        match self.scope() {
            Some(ns) => format!("namespace {ns:?}"),
            None => "any namespace".into(),
        }
    }
}

/// `-o table|json|yaml`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

/// A Kubernetes client from `--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`.
pub async fn client(kubeconfig: Option<&Path>) -> Result<kube::Client> {
    crate::apply::engine::client_from_kubeconfig(kubeconfig)
        .await
        .map_err(|e| anyhow!(e))
}

/// Colour only when stdout is a terminal and `NO_COLOR` is unset.
pub fn colour_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// How a cell is coloured on a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Plain,
    Good,
    Bad,
    Warn,
}

/// One table cell.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    /// A READY cell: `True` green, `False` red.
    pub fn ready(status: &str) -> Cell {
        let tone = match status {
            "True" => Tone::Good,
            "False" => Tone::Bad,
            _ => Tone::Plain,
        };
        Cell {
            text: status.to_string(),
            tone,
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::plain(s)
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::plain(s)
    }
}

fn paint(text: &str, tone: Tone) -> String {
    let code = match tone {
        Tone::Plain => return text.to_string(),
        Tone::Good => "32",
        Tone::Bad => "31",
        Tone::Warn => "33",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Renders a table the way flux's printer does: each column padded to its widest cell and
/// followed by a tab, the last column unpadded, trailing blanks trimmed. A cell holding
/// newlines takes several lines (the other columns blank on the continuation lines).
/// `header` is `None` with `--no-header`.
pub fn render_table(header: Option<&[&str]>, rows: &[Vec<Cell>], colour: bool) -> String {
    let mut all: Vec<Vec<Cell>> = Vec::new();
    if let Some(h) = header {
        all.push(h.iter().map(|s| Cell::plain(*s)).collect());
    }
    all.extend(rows.iter().cloned());
    let cols = all.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for row in &all {
        for (i, c) in row.iter().enumerate() {
            let w = c.text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            widths[i] = widths[i].max(w);
        }
    }
    let mut out = String::new();
    for row in &all {
        let split: Vec<Vec<&str>> = row.iter().map(|c| c.text.split('\n').collect()).collect();
        let height = split.iter().map(Vec::len).max().unwrap_or(1);
        for line in 0..height {
            let mut text = String::new();
            for (i, cell) in row.iter().enumerate() {
                let part = split[i].get(line).copied().unwrap_or("");
                let shown = if colour {
                    paint(part, cell.tone)
                } else {
                    part.to_string()
                };
                if i + 1 == row.len() {
                    text.push_str(&shown);
                } else {
                    let pad = widths[i].saturating_sub(part.chars().count());
                    text.push_str(&shown);
                    text.push_str(&" ".repeat(pad));
                    text.push('\t');
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
    }
    out
}

/// `--status-selector type=status` (Flux: condition type and status compared
/// case-insensitively; objects without that condition never match).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSelector {
    pub type_: String,
    pub status: String,
}

impl StatusSelector {
    pub fn parse(s: &str) -> Result<StatusSelector> {
        match s.split_once('=') {
            Some((t, v)) if !t.trim().is_empty() => Ok(StatusSelector {
                type_: t.trim().to_string(),
                status: v.trim().to_string(),
            }),
            _ => bail!("expected status selector in type=status format, but found: {s}"),
        }
    }

    pub fn matches(&self, conditions: &[Condition]) -> bool {
        conditions
            .iter()
            .rfind(|c| c.type_.eq_ignore_ascii_case(&self.type_))
            .is_some_and(|c| format!("{:?}", c.status).eq_ignore_ascii_case(&self.status))
    }
}

/// `True` / `False`, as flux prints booleans.
pub fn title_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_string()
}

/// An object as kubectl prints it: `apiVersion` and `kind` first, `managedFields` dropped.
pub fn object_value<K>(obj: &K) -> Result<Value>
where
    K: kube::Resource<DynamicType = ()> + serde::Serialize,
{
    let mut v = serde_json::to_value(obj)?;
    let mut out = serde_json::Map::new();
    out.insert("apiVersion".into(), json!(K::api_version(&())));
    out.insert("kind".into(), json!(K::kind(&())));
    if let Value::Object(m) = &mut v {
        if let Some(Value::Object(meta)) = m.get_mut("metadata") {
            meta.remove("managedFields");
        }
        for (k, val) in std::mem::take(m) {
            if k != "apiVersion" && k != "kind" {
                out.insert(k, val);
            }
        }
    }
    Ok(Value::Object(out))
}

/// Objects as a kubectl `List` (`kubectl get -o json|yaml` prints lists this way).
pub fn as_list(items: Vec<Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    })
}

/// A value as pretty JSON or YAML (with a trailing newline).
pub fn render_value(format: Format, v: &Value) -> Result<String> {
    Ok(match format {
        Format::Yaml => serde_yaml::to_string(v)?,
        _ => format!("{}\n", serde_json::to_string_pretty(v)?),
    })
}

/// Ages as kubectl prints them (apimachinery `HumanDuration`): `45s`, `3m20s`, `15m`, `5h30m`,
/// `2d3h`, `400d`, `2y10d`.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let s = secs.max(0);
    if s < 120 {
        return format!("{s}s");
    }
    let minutes = s / 60;
    if minutes < 10 {
        return match s % 60 {
            0 => format!("{minutes}m"),
            r => format!("{minutes}m{r}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = s / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// Whether an error from the API server is a 404.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::condition::ConditionStatus;

    fn cond(t: &str, s: ConditionStatus) -> Condition {
        Condition {
            type_: t.into(),
            status: s,
            observed_generation: None,
            last_transition_time: String::new(),
            reason: "R".into(),
            message: String::new(),
        }
    }

    #[test]
    fn table_pads_columns_with_tabs_and_leaves_last_column_unpadded() {
        let rows = vec![
            vec![Cell::plain("apps"), Cell::ready("True"), Cell::plain("ok")],
            vec![
                Cell::plain("infrastructure"),
                Cell::ready("False"),
                Cell::plain(""),
            ],
        ];
        let t = render_table(Some(&["NAME", "READY", "MESSAGE"]), &rows, false);
        assert_eq!(
            t,
            "NAME          \tREADY\tMESSAGE\napps          \tTrue \tok\ninfrastructure\tFalse\n"
        );
        let no_header = render_table(None, &rows, false);
        assert!(no_header.starts_with("apps "));
    }

    #[test]
    fn multi_line_cells_continue_on_lines_with_blank_columns() {
        let rows = vec![vec![Cell::plain("a"), Cell::plain("one\ntwo")]];
        let t = render_table(Some(&["X", "MESSAGE"]), &rows, false);
        assert_eq!(t, "X\tMESSAGE\na\tone\n \ttwo\n");
    }

    #[test]
    fn colour_wraps_toned_cells_without_changing_alignment() {
        let rows = vec![vec![Cell::ready("False"), Cell::plain("x")]];
        let t = render_table(Some(&["READY", "M"]), &rows, true);
        assert_eq!(t, "READY\tM\n\x1b[31mFalse\x1b[0m\tx\n");
        let plain = render_table(Some(&["READY", "M"]), &rows, false);
        assert!(!plain.contains('\x1b'));
    }

    #[test]
    fn status_selector_matches_condition_type_and_status_case_insensitively() {
        let sel = StatusSelector::parse("ready=false").expect("parses");
        assert!(sel.matches(&[cond("Ready", ConditionStatus::False)]));
        assert!(!sel.matches(&[cond("Ready", ConditionStatus::True)]));
        assert!(!sel.matches(&[]));
        assert!(StatusSelector::parse("ready").is_err());
        assert!(StatusSelector::parse("=x").is_err());
    }

    #[test]
    fn ages_follow_kubectl_human_duration() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(200), "3m20s");
        assert_eq!(human_duration(240), "4m");
        assert_eq!(human_duration(900), "15m");
        assert_eq!(human_duration(5 * 3600 + 1800), "5h30m");
        assert_eq!(human_duration(20 * 3600), "20h");
        assert_eq!(human_duration(51 * 3600), "2d3h");
        assert_eq!(human_duration(400 * 86_400), "400d");
        assert_eq!(human_duration(-5), "<invalid>");
    }

    #[test]
    fn objects_are_listed_with_api_version_and_kind_and_no_managed_fields() {
        let mut ks = crate::api::Kustomization::new("apps", Default::default());
        ks.metadata.managed_fields = Some(vec![Default::default()]);
        let v = object_value(&ks).expect("serializes");
        assert_eq!(v["apiVersion"], "kustomize.toolkit.fluxcd.io/v1");
        assert_eq!(v["kind"], "Kustomization");
        assert!(v["metadata"].get("managedFields").is_none());
        let list = as_list(vec![v]);
        assert_eq!(list["kind"], "List");
        assert_eq!(list["items"][0]["metadata"]["name"], "apps");
    }
}
