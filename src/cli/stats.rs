//! `driftless stats [-n NS | -A] [--kubeconfig F]`: per Flux kind, how many reconcilers run,
//! fail and are suspended, and the artifact storage they use, like `flux stats`.
//!
//! ```text
//!  RECONCILERS    RUNNING FAILING SUSPENDED STORAGE
//!  GitRepository  1       0       0         12.3 KiB
//!  Kustomization  4       1       0         -
//! ```
//!
//! RUNNING = objects − suspended; FAILING = `Ready=False`; STORAGE = Σ `status.artifact.size`
//! (`-` when none). The kinds driftless serves are always listed; other Flux kinds (HelmRelease,
//! OCIRepository, …) only when the cluster serves them.

use super::output::{self, Cell, ClusterOpts, Tone};
use anyhow::{anyhow, Result};
use kube::api::{ApiResource, DynamicObject};
use kube::Api;
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub cluster: ClusterOpts,
}

/// (group, version, kind, plural, served by driftless), in `flux stats` order.
const KINDS: &[(&str, &str, &str, &str, bool)] = &[
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "gitrepositories",
        true,
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1beta2",
        "OCIRepository",
        "ocirepositories",
        false,
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "HelmRepository",
        "helmrepositories",
        false,
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "HelmChart",
        "helmcharts",
        false,
    ),
    ("source.toolkit.fluxcd.io", "v1", "Bucket", "buckets", false),
    (
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "kustomizations",
        true,
    ),
    (
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        "helmreleases",
        false,
    ),
    (
        "notification.toolkit.fluxcd.io",
        "v1beta3",
        "Alert",
        "alerts",
        true,
    ),
    (
        "notification.toolkit.fluxcd.io",
        "v1beta3",
        "Provider",
        "providers",
        true,
    ),
    (
        "notification.toolkit.fluxcd.io",
        "v1",
        "Receiver",
        "receivers",
        true,
    ),
    (
        "image.toolkit.fluxcd.io",
        "v1beta2",
        "ImageUpdateAutomation",
        "imageupdateautomations",
        false,
    ),
    (
        "image.toolkit.fluxcd.io",
        "v1beta2",
        "ImagePolicy",
        "imagepolicies",
        false,
    ),
    (
        "image.toolkit.fluxcd.io",
        "v1beta2",
        "ImageRepository",
        "imagerepositories",
        false,
    ),
];

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindStats {
    pub kind: String,
    pub total: usize,
    pub suspended: usize,
    pub failing: usize,
    pub storage: i64,
}

/// Counts one kind's objects (pure; objects as JSON).
pub fn stats_of(kind: &str, items: &[Value]) -> KindStats {
    let mut s = KindStats {
        kind: kind.to_string(),
        total: items.len(),
        suspended: 0,
        failing: 0,
        storage: 0,
    };
    for item in items {
        if item.pointer("/spec/suspend") == Some(&Value::Bool(true)) {
            s.suspended += 1;
        }
        let failing = item
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "False")
            });
        if failing {
            s.failing += 1;
        }
        if let Some(size) = item
            .pointer("/status/artifact/size")
            .and_then(Value::as_i64)
        {
            s.storage += size;
        }
    }
    s
}

/// Sizes as flux prints them: `-`, `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn format_size(b: i64) -> String {
    if b <= 0 {
        return "-".into();
    }
    if b < 1024 {
        return format!("{b} B");
    }
    let (mut div, mut exp) = (1024i64, 0usize);
    let mut n = b / 1024;
    while n >= 1024 {
        div *= 1024;
        exp += 1;
        n /= 1024;
    }
    let unit = ['K', 'M', 'G', 'T', 'P', 'E'][exp.min(5)];
    format!("{:.1} {unit}iB", b as f64 / div as f64)
}

/// `RECONCILERS RUNNING FAILING SUSPENDED STORAGE`.
pub fn render(stats: &[KindStats], colour: bool) -> String {
    let rows: Vec<Vec<Cell>> = stats
        .iter()
        .map(|s| {
            vec![
                Cell::plain(&*s.kind),
                Cell::plain(s.total.saturating_sub(s.suspended).to_string()),
                Cell {
                    text: s.failing.to_string(),
                    tone: if s.failing > 0 {
                        Tone::Bad
                    } else {
                        Tone::Plain
                    },
                },
                Cell::plain(s.suspended.to_string()),
                Cell::plain(format_size(s.storage)),
            ]
        })
        .collect();
    output::render_table(
        Some(&["RECONCILERS", "RUNNING", "FAILING", "SUSPENDED", "STORAGE"]),
        &rows,
        colour,
    )
}

pub fn run(args: StatsArgs) -> Result<i32> {
    super::apply::runtime()?.block_on(async {
        let client = output::client(args.cluster.kubeconfig.as_deref()).await?;
        let mut stats = Vec::new();
        for (group, version, kind, plural, ours) in KINDS {
            let ar = ApiResource {
                group: group.to_string(),
                version: version.to_string(),
                api_version: format!("{group}/{version}"),
                kind: kind.to_string(),
                plural: plural.to_string(),
            };
            let api: Api<DynamicObject> = match args.cluster.scope() {
                Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
                None => Api::all_with(client.clone(), &ar),
            };
            match api.list(&Default::default()).await {
                Ok(list) => {
                    let items: Vec<Value> = list
                        .items
                        .iter()
                        .map(serde_json::to_value)
                        .collect::<Result<_, _>>()?;
                    stats.push(stats_of(kind, &items));
                }
                Err(e) if output::is_not_found(&e) => {
                    if *ours {
                        stats.push(stats_of(kind, &[]));
                    }
                }
                Err(e) => return Err(anyhow!("failed to list {kind} objects: {e}")),
            }
        }
        print!("{}", render(&stats, output::colour_enabled()));
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_running_failing_suspended_and_storage() {
        let items = vec![
            json!({"spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True"}],
                   "artifact": {"size": 1536}}}),
            json!({"spec": {"suspend": true}, "status": {"artifact": {"size": 512}}}),
            json!({"spec": {}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
        ];
        let s = stats_of("GitRepository", &items);
        assert_eq!(
            (s.total, s.suspended, s.failing, s.storage),
            (3, 1, 1, 2048)
        );
        let t = render(&[s, stats_of("Alert", &[])], false);
        let lines: Vec<Vec<&str>> = t
            .lines()
            .map(|l| l.split('\t').map(str::trim).collect())
            .collect();
        assert_eq!(
            lines[0],
            ["RECONCILERS", "RUNNING", "FAILING", "SUSPENDED", "STORAGE"]
        );
        assert_eq!(lines[1], ["GitRepository", "2", "1", "1", "2.0 KiB"]);
        assert_eq!(lines[2], ["Alert", "0", "0", "0", "-"]);
    }

    #[test]
    fn sizes_are_binary_units_like_flux() {
        assert_eq!(format_size(0), "-");
        assert_eq!(format_size(1000), "1000 B");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(5 * 1024 * 1024), "5.0 MiB");
    }
}
