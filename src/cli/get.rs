//! `driftless get ks|sources git|alerts|providers|receivers|all [NAME] [-n NS | -A]
//! [--status-selector type=status] [-o table|json|yaml] [--no-header] [--wide | --width N]
//! [--kubeconfig F]`: Flux's tables, fitted to the terminal (see `output::WidthOpts`).
//!
//! | kind | columns (NAMESPACE first with `-A`) |
//! |---|---|
//! | Kustomization, GitRepository | `NAME REVISION SUSPENDED READY MESSAGE` |
//! | Alert, Provider (v1beta3: no status) | `NAME SUSPENDED READY MESSAGE`, always `True`, `<Kind> is Ready` |
//! | Receiver | `NAME SUSPENDED READY MESSAGE` |
//!
//! Revisions are cut to 8 hex digits, in messages too unless `--wide`; an object without a
//! Ready condition shows `False` and `waiting to be reconciled` (as flux does). `get all` prints one table per kind that has
//! objects, names as `kind/name`, each followed by a blank line. `-o json|yaml` prints the
//! objects as a kubectl `List` (one object when NAME is given). A NAME that does not exist is
//! an error (exit 1); an empty list is not.

use super::output::{self, Cell, ClusterOpts, Fit, Format, StatusSelector, WidthOpts};
use crate::api::condition::{self, Condition, READY};
use crate::api::notification::{Alert, Provider, Receiver};
use crate::api::{GitRepository, Kustomization};
use anyhow::{anyhow, Result};
use kube::core::NamespaceResourceScope;
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct GetArgs {
    #[command(subcommand)]
    pub what: GetWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum GetWhat {
    /// Kustomizations.
    #[command(visible_alias = "kustomizations", alias = "kustomization")]
    Ks(KsOpts),
    /// Sources.
    Sources(SourcesArgs),
    /// Alerts (notification.toolkit.fluxcd.io/v1beta3).
    #[command(alias = "alert")]
    Alerts(GetOpts),
    /// Alert providers (notification.toolkit.fluxcd.io/v1beta3).
    #[command(
        alias = "provider",
        visible_alias = "alert-providers",
        alias = "alert-provider"
    )]
    Providers(GetOpts),
    /// Receivers (notification.toolkit.fluxcd.io/v1).
    #[command(alias = "receiver")]
    Receivers(GetOpts),
    /// Every kind above, one table per kind.
    All(GetOpts),
}

#[derive(clap::Args, Debug)]
pub struct SourcesArgs {
    #[command(subcommand)]
    pub kind: SourceKind,
}

#[derive(clap::Subcommand, Debug)]
pub enum SourceKind {
    /// GitRepositories.
    #[command(alias = "gitrepository", alias = "gitrepositories")]
    Git(GetOpts),
    /// Every source kind, one table per kind (names as `kind/name`).
    All(GetOpts),
}

#[derive(clap::Args, Debug)]
pub struct KsOpts {
    #[command(flatten)]
    pub get: GetOpts,
    /// Add a SOURCE column: the `sourceRef` as `Kind/name` (`Kind/namespace/name` when the
    /// source lives in another namespace).
    #[arg(long)]
    pub show_source: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct GetOpts {
    /// Only this object.
    pub name: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterOpts,
    /// Only objects whose condition has this status, e.g. `ready=false`.
    #[arg(long)]
    pub status_selector: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Skip the header line.
    #[arg(long)]
    pub no_header: bool,
    #[command(flatten)]
    pub width: WidthOpts,
    /// `get ks --show-source` (set from [`KsOpts`]).
    #[arg(skip)]
    pub show_source: bool,
}

/// The kinds `get` knows, in the order `get all` prints them (flux: sources, Kustomizations,
/// Receivers, Providers, Alerts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetKind {
    GitRepository,
    Kustomization,
    Receiver,
    Provider,
    Alert,
}

impl GetKind {
    pub const ALL: [GetKind; 5] = [
        GetKind::GitRepository,
        GetKind::Kustomization,
        GetKind::Receiver,
        GetKind::Provider,
        GetKind::Alert,
    ];

    pub fn kind(self) -> &'static str {
        match self {
            GetKind::GitRepository => "GitRepository",
            GetKind::Kustomization => "Kustomization",
            GetKind::Receiver => "Receiver",
            GetKind::Provider => "Provider",
            GetKind::Alert => "Alert",
        }
    }

    /// Column names after NAME.
    fn columns(self) -> &'static [&'static str] {
        match self {
            GetKind::GitRepository | GetKind::Kustomization => {
                &["REVISION", "SUSPENDED", "READY", "MESSAGE"]
            }
            GetKind::Receiver | GetKind::Provider | GetKind::Alert => {
                &["SUSPENDED", "READY", "MESSAGE"]
            }
        }
    }

    /// The header (NAMESPACE first with `-A`).
    pub fn header(self, all_namespaces: bool) -> Vec<&'static str> {
        let mut h = Vec::new();
        if all_namespaces {
            h.push("NAMESPACE");
        }
        h.push("NAME");
        h.extend_from_slice(self.columns());
        h
    }

    /// The header with SOURCE after NAME (`get ks --show-source`).
    pub fn header_with_source(self, all_namespaces: bool) -> Vec<&'static str> {
        let mut h = self.header(all_namespaces);
        let name = h.iter().position(|c| *c == "NAME").unwrap_or(0);
        h.insert(name + 1, "SOURCE");
        h
    }
}

/// One object as `get` shows it.
#[derive(Clone, Debug)]
pub struct Summary {
    pub kind: GetKind,
    pub namespace: String,
    pub name: String,
    /// The cells after NAME, in [`GetKind::header`] order.
    pub cells: Vec<Cell>,
    /// The source (`GitRepository/flux-system`) for `--show-source`; Kustomizations only.
    pub source: Option<String>,
    /// Conditions the status selector looks at; `None` for kinds flux never selects
    /// (Alerts and Providers have no status since v1beta3).
    pub conditions: Option<Vec<Condition>>,
    /// The object for `-o json|yaml`.
    pub object: Value,
}

impl Summary {
    /// The table row: `[NAMESPACE] NAME cells...`; with `with_kind` the name is `kind/name`
    /// (lower-case kind, as `flux get all` prints it).
    pub fn row(&self, all_namespaces: bool, with_kind: bool) -> Vec<Cell> {
        let mut row = Vec::new();
        if all_namespaces {
            row.push(Cell::plain(&*self.namespace));
        }
        row.push(Cell::plain(if with_kind {
            format!("{}/{}", self.kind.kind().to_lowercase(), self.name)
        } else {
            self.name.clone()
        }));
        row.extend(self.cells.iter().cloned());
        row
    }

    /// [`Summary::row`] with the SOURCE cell after NAME.
    pub fn row_with_source(&self, all_namespaces: bool, with_kind: bool) -> Vec<Cell> {
        let mut row = self.row(all_namespaces, with_kind);
        let at = usize::from(all_namespaces) + 1;
        row.insert(at, Cell::plain(self.source.clone().unwrap_or_default()));
        row
    }

    /// Whether `--status-selector` keeps this object.
    pub fn selected(&self, sel: Option<&StatusSelector>) -> bool {
        match (sel, &self.conditions) {
            (None, _) => true,
            (Some(s), Some(c)) => s.matches(c),
            (Some(_), None) => false,
        }
    }
}

/// One row of the Kustomization / GitRepository table (also the sandbox's progress table).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub namespace: String,
    pub name: String,
    pub revision: String,
    pub suspended: bool,
    pub ready: String,
    pub message: String,
}

/// Cuts `main@sha1:<40hex>` to `main@sha1:<8hex>` as `flux get` does.
pub fn short_revision(rev: &str) -> String {
    match rev.rsplit_once(':') {
        Some((head, sha)) if sha.len() > 8 && sha.chars().all(|c| c.is_ascii_hexdigit()) => {
            format!("{head}:{}", &sha[..8])
        }
        _ => rev.to_string(),
    }
}

/// Ready status and message; `False` / `waiting to be reconciled` without a Ready condition
/// (flux's `statusAndMessage`).
fn ready_of(conds: &[Condition]) -> (String, String) {
    match condition::find(conds, READY) {
        Some(c) => (format!("{:?}", c.status), c.message.replace('\n', " ")),
        None => ("False".into(), "waiting to be reconciled".into()),
    }
}

pub fn ks_row(ks: &Kustomization) -> Row {
    let status = ks.status.clone().unwrap_or_default();
    let (ready, message) = ready_of(&status.conditions);
    Row {
        namespace: ks.namespace().unwrap_or_default(),
        name: ks.name_any(),
        revision: short_revision(status.last_applied_revision.as_deref().unwrap_or("")),
        suspended: ks.spec.suspended(),
        ready,
        message,
    }
}

pub fn repo_row(r: &GitRepository) -> Row {
    let status = r.status.clone().unwrap_or_default();
    let (ready, message) = ready_of(&status.conditions);
    Row {
        namespace: r.namespace().unwrap_or_default(),
        name: r.name_any(),
        revision: short_revision(
            status
                .artifact
                .as_ref()
                .map(|a| a.revision.as_str())
                .unwrap_or(""),
        ),
        suspended: r.spec.suspend.unwrap_or(false),
        ready,
        message,
    }
}

fn row_cells(r: &Row) -> Vec<Cell> {
    vec![
        Cell::plain(&*r.revision),
        Cell::plain(output::title_bool(r.suspended)),
        Cell::ready(&r.ready),
        Cell::plain(&*r.message),
    ]
}

/// A Kustomization's `sourceRef` as `Kind/name`, or `Kind/namespace/name` when the source is
/// in another namespace than the Kustomization.
pub fn source_of(ks: &Kustomization) -> String {
    let r = &ks.spec.source_ref;
    match r.namespace.as_deref() {
        Some(ns) if Some(ns) != ks.metadata.namespace.as_deref() => {
            format!("{}/{ns}/{}", r.kind, r.name)
        }
        _ => format!("{}/{}", r.kind, r.name),
    }
}

pub fn ks_summary(ks: &Kustomization) -> Result<Summary> {
    let r = ks_row(ks);
    Ok(Summary {
        kind: GetKind::Kustomization,
        source: Some(source_of(ks)),
        cells: row_cells(&r),
        namespace: r.namespace,
        name: r.name,
        conditions: Some(ks.status.clone().unwrap_or_default().conditions),
        object: output::object_value(ks)?,
    })
}

pub fn repo_summary(repo: &GitRepository) -> Result<Summary> {
    let r = repo_row(repo);
    Ok(Summary {
        kind: GetKind::GitRepository,
        source: None,
        cells: row_cells(&r),
        namespace: r.namespace,
        name: r.name,
        conditions: Some(repo.status.clone().unwrap_or_default().conditions),
        object: output::object_value(repo)?,
    })
}

pub fn receiver_summary(r: &Receiver) -> Result<Summary> {
    let conditions = r.status.clone().unwrap_or_default().conditions;
    let (ready, message) = ready_of(&conditions);
    Ok(Summary {
        kind: GetKind::Receiver,
        source: None,
        namespace: r.namespace().unwrap_or_default(),
        name: r.name_any(),
        cells: vec![
            Cell::plain(output::title_bool(r.spec.suspend.unwrap_or(false))),
            Cell::ready(&ready),
            Cell::plain(message),
        ],
        conditions: Some(conditions),
        object: output::object_value(r)?,
    })
}

/// Alerts and Providers have no status in v1beta3: flux prints them Ready (`<Kind> is Ready`)
/// and its status selector never matches them.
fn statusless_summary<K>(kind: GetKind, obj: &K, suspend: Option<bool>) -> Result<Summary>
where
    K: Resource<DynamicType = ()> + serde::Serialize,
{
    Ok(Summary {
        kind,
        source: None,
        namespace: obj.namespace().unwrap_or_default(),
        name: obj.name_any(),
        cells: vec![
            Cell::plain(output::title_bool(suspend.unwrap_or(false))),
            Cell::ready("True"),
            Cell::plain(format!("{} is Ready", kind.kind())),
        ],
        conditions: None,
        object: output::object_value(obj)?,
    })
}

pub fn alert_summary(a: &Alert) -> Result<Summary> {
    statusless_summary(GetKind::Alert, a, a.spec.suspend)
}

pub fn provider_summary(p: &Provider) -> Result<Summary> {
    statusless_summary(GetKind::Provider, p, p.spec.suspend)
}

/// Renders the Kustomization / GitRepository rows (the sandbox's progress table).
pub fn table(rows: &[Row], with_namespace: bool) -> String {
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| {
            let mut line = Vec::new();
            if with_namespace {
                line.push(Cell::plain(&*r.namespace));
            }
            line.push(Cell::plain(&*r.name));
            line.extend(row_cells(r));
            line
        })
        .collect();
    output::render_table(
        Some(&GetKind::Kustomization.header(with_namespace)),
        &cells,
        false,
    )
}

/// The table text for one kind's summaries (empty string when there are none and no header
/// is wanted). Unless `--wide`, revision digests in messages are cut to 8 hex digits like the
/// REVISION column; with a width, the table is fitted to it (MESSAGE shortened with `…`).
pub fn render_kind(
    kind: GetKind,
    items: &[Summary],
    opts: &GetOpts,
    with_kind: bool,
    style: output::Style,
) -> String {
    let all_ns = opts.cluster.all_namespaces;
    let show_source = opts.show_source && kind == GetKind::Kustomization;
    let rows: Vec<Vec<Cell>> = items
        .iter()
        .map(|s| {
            let mut row = if show_source {
                s.row_with_source(all_ns, with_kind)
            } else {
                s.row(all_ns, with_kind)
            };
            if !opts.width.wide {
                if let Some(message) = row.last_mut() {
                    message.text = output::short_digests(&message.text);
                }
            }
            row
        })
        .collect();
    let header = if show_source {
        kind.header_with_source(all_ns)
    } else {
        kind.header(all_ns)
    };
    output::render_fitted(
        &header,
        !opts.no_header,
        &rows,
        &Fit::to(style.width).shrinking(&["SOURCE"]),
        style.colour,
    )
}

/// Lists (or gets, with a name) one kind. `Ok(None)` when the server does not serve the kind.
async fn fetch<K>(client: &kube::Client, opts: &GetOpts) -> Result<Option<Vec<K>>>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = match opts.cluster.scope() {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let kind = K::kind(&());
    if let (Some(name), Some(ns)) = (&opts.name, opts.cluster.scope()) {
        return match api.get(name).await {
            Ok(o) => Ok(Some(vec![o])),
            Err(e) if output::is_not_found(&e) => Err(anyhow!("{kind} {ns}/{name} not found")),
            Err(e) => Err(anyhow!("failed to get {kind} {ns}/{name}: {e}")),
        };
    }
    let mut items = match api.list(&Default::default()).await {
        Ok(l) => l.items,
        Err(e) if output::is_not_found(&e) => return Ok(None),
        Err(e) => return Err(anyhow!("failed to list {kind} objects: {e}")),
    };
    if let Some(name) = &opts.name {
        items.retain(|o| o.name_any() == *name);
        if items.is_empty() {
            return Err(anyhow!("{kind} {name} not found in any namespace"));
        }
    }
    items.sort_by_key(|o| (o.namespace(), o.name_any()));
    Ok(Some(items))
}

async fn summaries(
    client: &kube::Client,
    kind: GetKind,
    opts: &GetOpts,
) -> Result<Option<Vec<Summary>>> {
    fn all<T>(items: Option<Vec<T>>, f: fn(&T) -> Result<Summary>) -> Result<Option<Vec<Summary>>> {
        items.map(|v| v.iter().map(f).collect()).transpose()
    }
    match kind {
        GetKind::Kustomization => all(fetch::<Kustomization>(client, opts).await?, ks_summary),
        GetKind::GitRepository => all(fetch::<GitRepository>(client, opts).await?, repo_summary),
        GetKind::Receiver => all(fetch::<Receiver>(client, opts).await?, receiver_summary),
        GetKind::Provider => all(fetch::<Provider>(client, opts).await?, provider_summary),
        GetKind::Alert => all(fetch::<Alert>(client, opts).await?, alert_summary),
    }
}

/// The source kinds, in the order `get sources all` prints them (driftless serves
/// GitRepository; Flux's other source kinds are not served).
pub const SOURCE_KINDS: [GetKind; 1] = [GetKind::GitRepository];

pub fn run(args: GetArgs) -> Result<i32> {
    // `get_all`: one table per kind, names as `kind/name` (`get all`, `get sources all`).
    let (kinds, opts, get_all): (Vec<GetKind>, GetOpts, bool) = match args.what {
        GetWhat::Ks(o) => {
            let mut opts = o.get;
            opts.show_source = o.show_source;
            (vec![GetKind::Kustomization], opts, false)
        }
        GetWhat::Sources(s) => match s.kind {
            SourceKind::Git(o) => (vec![GetKind::GitRepository], o, false),
            SourceKind::All(o) => (SOURCE_KINDS.to_vec(), o, true),
        },
        GetWhat::Alerts(o) => (vec![GetKind::Alert], o, false),
        GetWhat::Providers(o) => (vec![GetKind::Provider], o, false),
        GetWhat::Receivers(o) => (vec![GetKind::Receiver], o, false),
        GetWhat::All(o) => (GetKind::ALL.to_vec(), o, true),
    };
    let opts = &opts;
    let selector = opts
        .status_selector
        .as_deref()
        .map(StatusSelector::parse)
        .transpose()?;
    super::apply::runtime()?.block_on(async {
        let client = output::client(opts.cluster.kubeconfig.as_deref()).await?;
        let mut found: Vec<(GetKind, Vec<Summary>)> = Vec::new();
        for kind in kinds {
            // `get all NAME` looks for the name in every kind; only a miss everywhere fails.
            let got = if get_all && opts.name.is_some() {
                summaries(&client, kind, opts).await.unwrap_or(None)
            } else {
                summaries(&client, kind, opts).await?
            };
            match got {
                Some(items) => found.push((kind, items)),
                None if get_all => {}
                None => {
                    return Err(anyhow!(
                        "the server does not serve {} objects (are the CRDs installed?)",
                        kind.kind()
                    ))
                }
            }
        }
        if get_all && opts.name.is_some() && found.iter().all(|(_, v)| v.is_empty()) {
            return Err(anyhow!(
                "no object named {} found in {}",
                opts.name.as_deref().unwrap_or_default(),
                opts.cluster.describe_scope()
            ));
        }
        for (_, items) in &mut found {
            items.retain(|s| s.selected(selector.as_ref()));
        }
        print!(
            "{}",
            render(&found, opts, get_all, output::Style::of(&opts.width))?
        );
        if !get_all && opts.output == Format::Table {
            if let [(kind, items)] = &found[..] {
                if items.is_empty() && selector.is_none() {
                    eprintln!(
                        "✗ no {} objects found in {}",
                        kind.kind(),
                        opts.cluster.describe_scope()
                    );
                }
            }
        }
        Ok(0)
    })
}

/// The whole output of one `get` for the summaries found (pure).
pub fn render(
    found: &[(GetKind, Vec<Summary>)],
    opts: &GetOpts,
    get_all: bool,
    style: output::Style,
) -> Result<String> {
    if opts.output != Format::Table {
        let objects: Vec<Value> = found
            .iter()
            .flat_map(|(_, v)| v.iter().map(|s| s.object.clone()))
            .collect();
        let value = match (&opts.name, get_all, &objects[..]) {
            (Some(_), false, [one]) => one.clone(),
            _ => output::as_list(objects),
        };
        return output::render_value(opts.output, &value);
    }
    let mut out = String::new();
    for (kind, items) in found {
        if get_all {
            if !items.is_empty() {
                out.push_str(&render_kind(*kind, items, opts, true, style));
                out.push('\n');
            }
        } else if !items.is_empty() || opts.status_selector.is_some() {
            out.push_str(&render_kind(*kind, items, opts, false, style));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::condition::ConditionStatus;
    use crate::api::notification::AlertSpec;
    use crate::cli::output::Style;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        opts: GetOpts,
    }

    fn opts(args: &[&str]) -> GetOpts {
        T::parse_from(std::iter::once("get").chain(args.iter().copied())).opts
    }

    fn ks(name: &str, ready: Option<ConditionStatus>) -> Kustomization {
        let mut k = Kustomization::new(name, Default::default());
        k.metadata.namespace = Some("flux-system".into());
        let mut status = crate::api::KustomizationStatus {
            last_applied_revision: Some(
                "main@sha1:0123456789abcdef0123456789abcdef01234567".into(),
            ),
            ..Default::default()
        };
        if let Some(s) = ready {
            condition::set(&mut status.conditions, READY, s, "R", "msg", None, "t");
        }
        k.status = Some(status);
        k
    }

    #[test]
    fn revisions_are_cut_to_eight_hex_digits() {
        assert_eq!(
            short_revision("main@sha1:0123456789abcdef0123456789abcdef01234567"),
            "main@sha1:01234567"
        );
        assert_eq!(short_revision(""), "");
    }

    #[test]
    fn kustomization_table_has_flux_columns_and_title_case_booleans() {
        let s = ks_summary(&ks("apps", Some(ConditionStatus::True))).expect("summary");
        let t = render(
            &[(GetKind::Kustomization, vec![s])],
            &opts(&[]),
            false,
            Style::default(),
        )
        .expect("renders");
        let mut lines = t.lines();
        let head: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
        assert_eq!(head, ["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"]);
        let row: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
        assert_eq!(row, ["apps", "main@sha1:01234567", "False", "True", "msg"]);
        let all = render(
            &[(GetKind::Kustomization, vec![])],
            &opts(&["-A"]),
            false,
            Style::default(),
        )
        .expect("renders");
        assert_eq!(all, "");
    }

    #[test]
    fn show_source_adds_the_source_ref_after_name() {
        let mut k = ks("apps", Some(ConditionStatus::True));
        k.spec.source_ref.kind = "GitRepository".into();
        k.spec.source_ref.name = "flux-system".into();
        let s = ks_summary(&k).expect("summary");
        let mut o = opts(&["-A"]);
        o.show_source = true;
        let t = render(
            &[(GetKind::Kustomization, vec![s])],
            &o,
            false,
            Style::default(),
        )
        .expect("renders");
        let rows: Vec<Vec<&str>> = t.lines().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(rows[0][..4], ["NAMESPACE", "NAME", "SOURCE", "REVISION"]);
        assert_eq!(
            rows[1][..4],
            [
                "flux-system",
                "apps",
                "GitRepository/flux-system",
                "main@sha1:01234567"
            ]
        );
        k.spec.source_ref.namespace = Some("sources".into());
        assert_eq!(source_of(&k), "GitRepository/sources/flux-system");
        k.spec.source_ref.namespace = Some("flux-system".into());
        assert_eq!(source_of(&k), "GitRepository/flux-system");
    }

    #[test]
    fn messages_show_short_digests_unless_wide() {
        let mut k = ks("apps", None);
        let status = k.status.get_or_insert_with(Default::default);
        let msg = "Applied revision: main@sha1:0123456789abcdef0123456789abcdef01234567";
        condition::set(
            &mut status.conditions,
            READY,
            ConditionStatus::True,
            "R",
            msg,
            None,
            "t",
        );
        let found = [(
            GetKind::Kustomization,
            vec![ks_summary(&k).expect("summary")],
        )];
        let short = render(&found, &opts(&[]), false, Style::default()).expect("renders");
        assert!(
            short.ends_with("\tApplied revision: main@sha1:01234567\n"),
            "{short}"
        );
        let wide = render(&found, &opts(&["--wide"]), false, Style::default()).expect("renders");
        assert!(wide.ends_with(&format!("\t{msg}\n")), "{wide}");
    }

    #[test]
    fn missing_ready_condition_reads_as_waiting_to_be_reconciled() {
        let r = ks_row(&ks("apps", None));
        assert_eq!(
            (r.ready.as_str(), r.message.as_str()),
            ("False", "waiting to be reconciled")
        );
    }

    #[test]
    fn status_selector_keeps_only_matching_objects_and_never_alerts() {
        let sel = StatusSelector::parse("ready=false").expect("parses");
        let bad = ks_summary(&ks("bad", Some(ConditionStatus::False))).expect("summary");
        let good = ks_summary(&ks("good", Some(ConditionStatus::True))).expect("summary");
        assert!(bad.selected(Some(&sel)));
        assert!(!good.selected(Some(&sel)));
        let alert = alert_summary(&Alert::new("a", AlertSpec::default())).expect("summary");
        assert!(!alert.selected(Some(&StatusSelector::parse("ready=true").expect("ok"))));
        assert!(alert.selected(None));
        let row: Vec<String> = alert
            .row(false, false)
            .into_iter()
            .map(|c| c.text)
            .collect();
        assert_eq!(row, ["a", "False", "True", "Alert is Ready"]);
    }

    #[test]
    fn get_all_prefixes_names_with_the_lower_case_kind() {
        let s = ks_summary(&ks("apps", Some(ConditionStatus::True))).expect("summary");
        let t = render(
            &[(GetKind::Kustomization, vec![s])],
            &opts(&[]),
            true,
            Style::default(),
        )
        .expect("renders");
        assert!(t
            .lines()
            .nth(1)
            .unwrap_or("")
            .starts_with("kustomization/apps"));
        assert!(t.ends_with("\n\n"));
    }

    #[test]
    fn json_output_is_a_list_unless_one_name_was_asked_for() {
        let s = ks_summary(&ks("apps", Some(ConditionStatus::True))).expect("summary");
        let found = [(GetKind::Kustomization, vec![s])];
        let list: Value = serde_json::from_str(
            &render(&found, &opts(&["-o", "json"]), false, Style::default()).expect("renders"),
        )
        .expect("json");
        assert_eq!(list["kind"], "List");
        assert_eq!(list["items"][0]["metadata"]["name"], "apps");
        let one: Value = serde_yaml::from_str(
            &render(
                &found,
                &opts(&["apps", "-o", "yaml"]),
                false,
                Style::default(),
            )
            .expect("renders"),
        )
        .expect("yaml");
        assert_eq!(one["kind"], "Kustomization");
    }
}
