//! `driftless get ks|sources git [-n NS | -A] [--kubeconfig F]`: Flux's tables
//! (`NAME REVISION SUSPENDED READY MESSAGE`, NAMESPACE first with `-A`).

use crate::api::condition::{self, READY};
use crate::api::{GitRepository, Kustomization};
use anyhow::{anyhow, Result};
use kube::{Api, Resource};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct GetArgs {
    #[command(subcommand)]
    pub what: GetWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum GetWhat {
    /// Kustomizations.
    #[command(visible_alias = "kustomizations", alias = "kustomization")]
    Ks(GetOpts),
    /// Sources.
    Sources(SourcesArgs),
}

#[derive(clap::Args, Debug)]
pub struct SourcesArgs {
    #[command(subcommand)]
    pub kind: SourceKind,
}

#[derive(clap::Subcommand, Debug)]
pub enum SourceKind {
    /// GitRepositories.
    Git(GetOpts),
}

#[derive(clap::Args, Debug)]
pub struct GetOpts {
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

/// One table row.
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

fn ready_of(conds: &[condition::Condition]) -> (String, String) {
    match condition::find(conds, READY) {
        Some(c) => (format!("{:?}", c.status), c.message.replace('\n', " ")),
        None => ("Unknown".into(), "waiting to be reconciled".into()),
    }
}

pub fn ks_row(ks: &Kustomization) -> Row {
    let status = ks.status.clone().unwrap_or_default();
    let (ready, message) = ready_of(&status.conditions);
    Row {
        namespace: ks.meta().namespace.clone().unwrap_or_default(),
        name: ks.meta().name.clone().unwrap_or_default(),
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
        namespace: r.meta().namespace.clone().unwrap_or_default(),
        name: r.meta().name.clone().unwrap_or_default(),
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

/// Renders rows as a left-aligned table with Flux's columns.
pub fn table(rows: &[Row], with_namespace: bool) -> String {
    let mut cells: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"];
    if with_namespace {
        head.insert(0, "NAMESPACE");
    }
    cells.push(head.iter().map(|s| s.to_string()).collect());
    for r in rows {
        let mut line = vec![
            r.name.clone(),
            r.revision.clone(),
            r.suspended.to_string(),
            r.ready.clone(),
            r.message.clone(),
        ];
        if with_namespace {
            line.insert(0, r.namespace.clone());
        }
        cells.push(line);
    }
    let cols = cells[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in cells {
        let mut text = String::new();
        for (i, cell) in line.iter().enumerate() {
            if i + 1 == cols {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}\t", w = widths[i]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

pub fn run(args: GetArgs) -> Result<i32> {
    let opts = match &args.what {
        GetWhat::Ks(o) => o,
        GetWhat::Sources(s) => match &s.kind {
            SourceKind::Git(o) => o,
        },
    };
    super::apply::runtime()?.block_on(async {
        let client = crate::apply::engine::client_from_kubeconfig(opts.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow!(e))?;
        let lp = Default::default();
        let mut rows = match &args.what {
            GetWhat::Ks(_) => {
                let api: Api<Kustomization> = if opts.all_namespaces {
                    Api::all(client)
                } else {
                    Api::namespaced(client, &opts.namespace)
                };
                api.list(&lp)
                    .await?
                    .items
                    .iter()
                    .map(ks_row)
                    .collect::<Vec<_>>()
            }
            GetWhat::Sources(_) => {
                let api: Api<GitRepository> = if opts.all_namespaces {
                    Api::all(client)
                } else {
                    Api::namespaced(client, &opts.namespace)
                };
                api.list(&lp).await?.items.iter().map(repo_row).collect()
            }
        };
        rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        if rows.is_empty() {
            eprintln!(
                "no objects found in {}",
                if opts.all_namespaces {
                    "any namespace".to_string()
                } else {
                    format!("namespace {}", opts.namespace)
                }
            );
            return Ok(0);
        }
        print!("{}", table(&rows, opts.all_namespaces));
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_are_cut_to_eight_hex_digits() {
        assert_eq!(
            short_revision("main@sha1:0123456789abcdef0123456789abcdef01234567"),
            "main@sha1:01234567"
        );
        assert_eq!(short_revision(""), "");
    }

    #[test]
    fn table_has_flux_columns() {
        let rows = vec![Row {
            namespace: "flux-system".into(),
            name: "apps".into(),
            revision: "main@sha1:01234567".into(),
            suspended: false,
            ready: "True".into(),
            message: "Applied revision: main@sha1:01234567".into(),
        }];
        let t = table(&rows, false);
        let mut lines = t.lines();
        let head: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
        assert_eq!(head, ["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"]);
        assert!(lines.next().unwrap_or("").starts_with("apps"));
        assert!(table(&rows, true).starts_with("NAMESPACE"));
    }
}
