//! Shared formatting of the read-only status commands (`get`, `events`, `tree`, `trace`,
//! `stats`): Flux-style tables fitted to the terminal, `-o json|yaml` as a kubectl `List`,
//! `--status-selector` parsing, kubectl-style ages, colour on a terminal only, and the
//! cluster and width flags.
//!
//! ```text
//!  rows (pure, built per command) ──► fit_table (padded columns; multi-line cells become
//!                                      continuation lines; ANSI colour only when asked)
//!     width None  (piped, --wide)   ──► flux's layout: tab after each padded column
//!     width Some(N) (terminal, --width N) ──► plan_widths: last column cut with `…`,
//!                                      then the shrinkable columns, in order; two-space
//!                                      gutters; every line ≤ N characters when possible
//!  objects ──► object_value (apiVersion/kind set, managedFields dropped) ──► as_list
//!          ──► render_objects(json|yaml)
//! ```
//!
//! Everything here is pure except [`client`], [`colour_enabled`], [`WidthOpts::target`] and
//! [`Style::of`].

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

/// How a table is printed: colour, and the width it is fitted to (`None`: no limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub colour: bool,
    pub width: Option<usize>,
}

impl Style {
    /// This process's: colour per [`colour_enabled`], width per [`WidthOpts::target`].
    pub fn of(width: &WidthOpts) -> Style {
        Style {
            colour: colour_enabled(),
            width: width.target(),
        }
    }
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
/// `header` is `None` with `--no-header`. Nothing is shortened (see [`fit_table`]).
pub fn render_table(header: Option<&[&str]>, rows: &[Vec<Cell>], colour: bool) -> String {
    join_lines(fit_table(
        header.unwrap_or_default(),
        header.is_some(),
        rows,
        &Fit::default(),
        colour,
    ))
}

/// A table fitted to `fit.width` ([`fit_table`]), as text; `columns` are the header names
/// (printed unless `show_header` is false, and naming the shrinkable columns either way).
pub fn render_fitted(
    columns: &[&str],
    show_header: bool,
    rows: &[Vec<Cell>],
    fit: &Fit,
    colour: bool,
) -> String {
    join_lines(fit_table(columns, show_header, rows, fit, colour))
}

fn join_lines(lines: Vec<String>) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// `--wide` and `--width N`, shared by `get` and `events`: how wide tables may be.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct WidthOpts {
    /// Print every cell in full, even on a terminal (messages keep full revision digests).
    #[arg(long, conflicts_with = "width")]
    pub wide: bool,
    /// Fit tables to N columns, also when stdout is not a terminal (default: the terminal's
    /// width on a terminal — $COLUMNS, else the window size, else 80 — and no limit when
    /// piped).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub width: Option<u16>,
}

impl WidthOpts {
    /// The width tables are fitted to, `None` for no limit (pure): `--wide` never fits,
    /// `--width N` always fits to N; otherwise a terminal's width (`$COLUMNS` when it is a
    /// positive number, else the window size, else 80) when stdout is a terminal, and no
    /// limit when it is not (so pipes, `grep` and scripts see whole messages).
    pub fn resolve(
        &self,
        stdout_is_tty: bool,
        columns_env: Option<&str>,
        window: Option<usize>,
    ) -> Option<usize> {
        if self.wide {
            return None;
        }
        if let Some(w) = self.width {
            return Some(usize::from(w));
        }
        if !stdout_is_tty {
            return None;
        }
        let columns = columns_env
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|c| *c > 0);
        Some(columns.or(window.filter(|w| *w > 0)).unwrap_or(80))
    }

    /// [`WidthOpts::resolve`] for this process's stdout, `$COLUMNS` and terminal.
    pub fn target(&self) -> Option<usize> {
        let tty = std::io::stdout().is_terminal();
        let columns = std::env::var("COLUMNS").ok();
        let window = tty
            .then(|| terminal_size::terminal_size_of(std::io::stdout()))
            .flatten()
            .map(|(terminal_size::Width(w), _)| usize::from(w));
        self.resolve(tty, columns.as_deref(), window)
    }
}

/// How a table is fitted: to `width` columns (`None`: never shortened, flux's tab-separated
/// layout), shortening the last column and, when that would leave it narrower than
/// [`MESSAGE_TARGET`], also the columns named in `shrinkable`, in that order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fit {
    pub width: Option<usize>,
    /// Header names of the columns that may be shortened besides the last one.
    pub shrinkable: Vec<&'static str>,
}

impl Fit {
    pub fn to(width: Option<usize>) -> Fit {
        Fit {
            width,
            shrinkable: Vec::new(),
        }
    }

    pub fn shrinking(mut self, columns: &[&'static str]) -> Fit {
        self.shrinkable = columns.to_vec();
        self
    }
}

/// Spaces between columns of a fitted table (tabs would jump to 8-column tab stops and
/// waste the width being fitted to).
pub const GUTTER: usize = 2;
/// The last column is kept at least this wide by shortening shrinkable columns, when its
/// text is that long.
pub const MESSAGE_TARGET: usize = 20;
/// Shrinkable columns are never cut below this (nor below their header).
pub const SHRINK_FLOOR: usize = 10;

/// `text` cut to `width` characters, the last one `…` when anything was cut.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut s: String = text.chars().take(width - 1).collect();
    s.truncate(s.trim_end().len());
    s.push('…');
    s
}

/// Column widths for a table of natural widths `natural` fitted to `width` (pure). The last
/// column takes what the others leave; when that is less than it needs (its own width, at
/// most [`MESSAGE_TARGET`]), the `shrink` columns give way in the order given, each down to
/// its floor (`(column, floor)` pairs) before the next one is narrowed. The last column keeps
/// at least one character, so a line is longer than `width` only when the columns that
/// cannot shrink are already that wide.
pub fn plan_widths(natural: &[usize], shrink: &[(usize, usize)], width: usize) -> Vec<usize> {
    let mut w = natural.to_vec();
    let Some(&last) = natural.last() else {
        return w;
    };
    let n = w.len();
    let prefix = |w: &[usize]| w[..n - 1].iter().sum::<usize>() + GUTTER * (n - 1);
    if prefix(&w) + last <= width {
        return w;
    }
    let want = last.min(MESSAGE_TARGET);
    for &(col, floor) in shrink {
        let over = (prefix(&w) + want).saturating_sub(width);
        if col + 1 < n {
            w[col] -= over.min(w[col].saturating_sub(floor));
        }
    }
    w[n - 1] = width.saturating_sub(prefix(&w)).clamp(1, last.max(1));
    w
}

/// Whether a table fits `width` with room for its last column (its own width, at most
/// [`MESSAGE_TARGET`]) without shrinking any other column (pure). Commands use it to pick
/// a more compact rendering of a column first (`events`: short kind names).
pub fn has_room(columns: &[&str], show_header: bool, rows: &[Vec<Cell>], width: usize) -> bool {
    let natural = natural_widths(columns, show_header, rows);
    match natural.split_last() {
        Some((&last, others)) => {
            others.iter().sum::<usize>() + GUTTER * others.len() + last.min(MESSAGE_TARGET) <= width
        }
        None => true,
    }
}

fn natural_widths(columns: &[&str], show_header: bool, rows: &[Vec<Cell>]) -> Vec<usize> {
    let cols = rows
        .iter()
        .map(Vec::len)
        .chain(show_header.then_some(columns.len()))
        .max()
        .unwrap_or(0);
    let mut natural = vec![0usize; cols];
    if show_header {
        for (i, c) in columns.iter().enumerate() {
            natural[i] = c.chars().count();
        }
    }
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            let w = c.text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            natural[i] = natural[i].max(w);
        }
    }
    natural
}

/// Lays a table out as lines (pure); `columns` are the header names, printed when
/// `show_header`. Without a width: flux's layout, each column padded to
/// its widest cell and followed by a tab, nothing shortened. With a width: columns separated
/// by [`GUTTER`] spaces and sized by [`plan_widths`]; each line of a cell longer than its
/// column is cut with `…`. Widths count characters. Trailing blanks are trimmed; colour
/// escapes (when `colour`) wrap cells without counting towards widths.
pub fn fit_table(
    columns: &[&str],
    show_header: bool,
    rows: &[Vec<Cell>],
    fit: &Fit,
    colour: bool,
) -> Vec<String> {
    let mut all: Vec<Vec<Cell>> = Vec::new();
    if show_header {
        all.push(columns.iter().map(|s| Cell::plain(*s)).collect());
    }
    all.extend(rows.iter().cloned());
    let natural = natural_widths(columns, show_header, rows);
    let widths = match fit.width {
        None => natural,
        Some(width) => {
            let shrink: Vec<(usize, usize)> = fit
                .shrinkable
                .iter()
                .filter_map(|name| {
                    let i = columns.iter().position(|c| c == name)?;
                    let shown = if show_header { name.chars().count() } else { 0 };
                    Some((i, SHRINK_FLOOR.max(shown).min(natural.get(i).copied()?)))
                })
                .collect();
            plan_widths(&natural, &shrink, width)
        }
    };
    let separator = if fit.width.is_some() { "  " } else { "\t" };
    let fitted = fit.width.is_some();
    let mut out = Vec::new();
    for row in &all {
        let split: Vec<Vec<&str>> = row.iter().map(|c| c.text.split('\n').collect()).collect();
        let height = split.iter().map(Vec::len).max().unwrap_or(1);
        for line in 0..height {
            let mut text = String::new();
            for (i, cell) in row.iter().enumerate() {
                let raw = split[i].get(line).copied().unwrap_or("");
                let part = if fitted {
                    ellipsize(raw, widths[i])
                } else {
                    raw.to_string()
                };
                let shown = if colour {
                    paint(&part, cell.tone)
                } else {
                    part.clone()
                };
                text.push_str(&shown);
                if i + 1 < row.len() {
                    let pad = widths[i].saturating_sub(part.chars().count());
                    text.push_str(&" ".repeat(pad));
                    text.push_str(separator);
                }
            }
            out.push(text.trim_end().to_string());
        }
    }
    out
}

/// Full revision digests (`sha1:` + 40 hex, `sha256:` + 64 hex) in a message cut to 8 hex
/// digits, as the REVISION column shows them: `Applied revision: main@sha1:01234567`.
pub fn short_digests(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = ["sha1:", "sha256:"]
        .iter()
        .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
        .min()
    {
        let (i, plen) = at;
        let start = i + plen;
        out.push_str(&rest[..start]);
        let hex = rest[start..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len() - start);
        let digest = &rest[start..start + hex];
        if hex == 40 || hex == 64 {
            out.push_str(&digest[..8]);
        } else {
            out.push_str(digest);
        }
        rest = &rest[start + hex..];
    }
    out.push_str(rest);
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

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn ks_rows() -> Vec<Vec<Cell>> {
        ["apps", "infrastructure"]
            .iter()
            .map(|n| {
                vec![
                    Cell::plain(*n),
                    Cell::plain("main@sha1:01234567"),
                    Cell::plain("False"),
                    Cell::ready("True"),
                    Cell::plain(format!("Applied revision: main@sha1:{SHA}")),
                ]
            })
            .collect()
    }

    const KS: [&str; 5] = ["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"];

    fn widest(lines: &[String]) -> usize {
        lines.iter().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    #[test]
    fn fitted_table_cuts_only_the_last_column_with_an_ellipsis() {
        let lines = fit_table(&KS, true, &ks_rows(), &Fit::to(Some(62)), false);
        assert_eq!(
            lines,
            [
                "NAME            REVISION            SUSPENDED  READY  MESSAGE",
                "apps            main@sha1:01234567  False      True   Applied…",
                "infrastructure  main@sha1:01234567  False      True   Applied…",
            ]
        );
        let lines = fit_table(&KS, true, &ks_rows(), &Fit::to(Some(80)), false);
        assert!(widest(&lines) <= 80, "{lines:#?}");
        assert_eq!(
            lines[1],
            "apps            main@sha1:01234567  False      True   Applied revision: main@sh…"
        );
        assert!(lines.iter().all(|l| !l.contains('\t')));
    }

    #[test]
    fn without_a_width_nothing_is_cut_and_columns_stay_tab_separated() {
        let lines = fit_table(&KS, true, &ks_rows(), &Fit::to(None), false);
        assert!(lines[1].ends_with(SHA));
        assert!(lines[1].starts_with("apps          \tmain@sha1:01234567\t"));
    }

    #[test]
    fn tables_narrower_than_the_width_keep_every_character() {
        let rows = vec![vec![Cell::plain("a"), Cell::plain("short message")]];
        let lines = fit_table(&["X", "MESSAGE"], true, &rows, &Fit::to(Some(80)), false);
        assert_eq!(lines, ["X  MESSAGE", "a  short message"]);
    }

    #[test]
    fn shrinkable_columns_give_way_in_order_when_the_message_would_be_too_narrow() {
        let header = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"];
        let rows = vec![vec![
            Cell::plain("5s"),
            Cell::plain("Normal"),
            Cell::plain("ReconciliationSucceeded"),
            Cell::plain("Kustomization/infrastructure"),
            Cell::plain("Namespace/shop-development created\nClusterRole/view created"),
        ]];
        let fit = Fit::to(Some(80)).shrinking(&["REASON", "OBJECT"]);
        let lines = fit_table(&header, true, &rows, &fit, false);
        assert_eq!(
            lines,
            [
                "LAST SEEN  TYPE    REASON      OBJECT                       MESSAGE",
                "5s         Normal  Reconcili…  Kustomization/infrastructu…  Namespace/shop-deve…",
                "                                                            ClusterRole/view cr…",
            ]
        );
        // Without shrinkable columns the message alone gives way.
        let lines = fit_table(&header, true, &rows, &Fit::to(Some(80)), false);
        assert!(lines[1].contains("ReconciliationSucceeded  Kustomization/infrastructure"));
        assert!(widest(&lines) <= 80);
        assert!(!has_room(&header, true, &rows, 80) && has_room(&header, true, &rows, 94));
    }

    #[test]
    fn plan_keeps_unshrinkable_columns_whole_and_the_message_at_one_character() {
        assert_eq!(plan_widths(&[10, 10, 30], &[], 100), [10, 10, 30]);
        assert_eq!(plan_widths(&[10, 10, 30], &[], 40), [10, 10, 16]);
        assert_eq!(plan_widths(&[10, 10, 30], &[], 20), [10, 10, 1]);
        // The first shrinkable column goes down to its floor before the next one gives way.
        assert_eq!(
            plan_widths(&[30, 30, 40], &[(1, 12), (0, 10)], 60),
            [24, 12, 20]
        );
        assert_eq!(plan_widths(&[30, 30, 40], &[(1, 12)], 60), [30, 12, 14]);
    }

    #[test]
    fn colour_escapes_do_not_count_towards_the_width() {
        let lines = fit_table(&KS, true, &ks_rows(), &Fit::to(Some(62)), true);
        assert!(
            lines[1].ends_with("\x1b[32mTrue\x1b[0m   Applied…"),
            "{lines:#?}"
        );
    }

    #[test]
    fn ellipsis_counts_characters_not_bytes() {
        assert_eq!(ellipsize("ünïcödé text", 6), "ünïcö…");
        assert_eq!(ellipsize("abc", 3), "abc");
        assert_eq!(ellipsize("ab cd", 4), "ab…");
        assert_eq!(ellipsize("abc", 0), "");
    }

    #[test]
    fn width_is_the_terminal_s_on_a_terminal_and_unlimited_when_piped() {
        let default = WidthOpts::default();
        assert_eq!(default.resolve(false, Some("80"), None), None);
        assert_eq!(default.resolve(true, Some("100"), Some(120)), Some(100));
        assert_eq!(default.resolve(true, Some("wide"), Some(120)), Some(120));
        assert_eq!(default.resolve(true, Some("0"), None), Some(80));
        assert_eq!(default.resolve(true, None, None), Some(80));
        let forced = WidthOpts {
            wide: false,
            width: Some(72),
        };
        assert_eq!(forced.resolve(false, None, None), Some(72));
        assert_eq!(forced.resolve(true, Some("200"), Some(200)), Some(72));
        let wide = WidthOpts {
            wide: true,
            width: None,
        };
        assert_eq!(wide.resolve(true, Some("80"), Some(80)), None);
    }

    #[test]
    fn full_revision_digests_in_messages_are_cut_to_eight_hex_digits() {
        assert_eq!(
            short_digests(&format!("Applied revision: main@sha1:{SHA}")),
            "Applied revision: main@sha1:01234567"
        );
        let sha256 = "a".repeat(64);
        assert_eq!(
            short_digests(&format!(
                "stored artifact for revision 'v1@sha256:{sha256}' and sha1:{SHA}"
            )),
            "stored artifact for revision 'v1@sha256:aaaaaaaa' and sha1:01234567"
        );
        assert_eq!(short_digests("sha1:abc and sha1:"), "sha1:abc and sha1:");
        assert_eq!(short_digests("no digest"), "no digest");
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
