//! `driftless apply DIR --name NAME [--namespace NS] [--prune] [--wait] [--timeout 5m] [--dry-run]
//! [--force] [--kubeconfig F]`: one-shot push-mode deploy for CI pipelines.
//!
//! Builds DIR, applies it with the engine, and prints the ChangeSet (one `Kind/ns/name action`
//! line per object, then a summary line). Exit 0 on success, 1 on any failure; a failed build
//! never reaches the cluster, so nothing is pruned.

use crate::apply::{Engine, Options, Owner};
use crate::build::{self, BuildOptions};
use anyhow::{anyhow, Context, Result};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    /// The kustomization (or plain manifest) directory.
    pub dir: PathBuf,
    /// Owner name: written into the ownership labels and the inventory ConfigMap's name.
    #[arg(long)]
    pub name: String,
    /// Namespace of the inventory ConfigMap `driftless-inventory-<name>`.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// Delete objects that were applied before under this name and left the source.
    #[arg(long)]
    pub prune: bool,
    /// Wait until every applied object is healthy (kstatus rules).
    #[arg(long)]
    pub wait: bool,
    /// Health wait limit, e.g. `90s`, `5m`, `1h30m`.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Server-side dry-run: show what would change, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Recreate objects whose change touches an immutable field.
    #[arg(long)]
    pub force: bool,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// Parses a Go-style duration: `300ms`, `90s`, `5m`, `1h30m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(digits);
        let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let secs = match unit {
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            _ => {
                return Err(format!(
                    "invalid duration {s:?}: unit must be ms, s, m or h"
                ))
            }
        };
        total += Duration::from_secs_f64(secs);
        rest = tail;
    }
    Ok(total)
}

/// Builds DIR into JSON objects for the engine.
pub fn build_objects(dir: &std::path::Path) -> Result<Vec<serde_json::Value>> {
    let resources = build::build(dir, &BuildOptions::default())
        .with_context(|| format!("failed to build {}", dir.display()))?;
    Ok(resources
        .iter()
        .map(|r| serde_json::Value::from(&r.obj))
        .collect())
}

/// The Flux-style revision of DIR's git checkout (`main@sha1:<hex>`, or `sha1:<hex>` on a
/// detached HEAD); empty when DIR is not in a git repository or git is missing.
pub fn git_revision(dir: &std::path::Path) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let Some(sha) = git(&["rev-parse", "HEAD"]) else {
        return String::new();
    };
    match git(&["symbolic-ref", "--short", "-q", "HEAD"]) {
        Some(branch) => format!("{branch}@sha1:{sha}"),
        None => format!("sha1:{sha}"),
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the async runtime")
}

pub fn run(args: ApplyArgs) -> Result<i32> {
    let objects = build_objects(&args.dir)?;
    let mut opts = Options::new(Owner {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
    });
    opts.prune = args.prune;
    opts.wait = args.wait;
    opts.timeout = args.timeout;
    opts.dry_run = args.dry_run;
    opts.force = args.force;
    // The inventory lives in --namespace: pruning that namespace would delete the inventory too.
    opts.agent_namespace = Some(args.namespace.clone());
    opts.poll_interval = Duration::from_secs(1);
    opts.revision = git_revision(&args.dir);
    let report = runtime()?.block_on(async {
        let client = crate::apply::engine::client_from_kubeconfig(args.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow!(e))?;
        let mut engine = Engine::new(client);
        Ok::<_, anyhow::Error>(engine.apply(objects, &opts).await)
    })?;
    for c in &report.changes.changes {
        println!("{c}");
    }
    let suffix = if args.dry_run { " (dry run)" } else { "" };
    println!("{}{suffix}", report.changes.summary());
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    Ok(if report.is_success() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_of_a_git_checkout_names_branch_and_commit() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(git_revision(dir.path()), "", "not a repository");
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .output()
                .unwrap()
        };
        if !git(&["init", "-q", "-b", "main"]).status.success() {
            return; // no git on this machine
        }
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ]);
        let sha = String::from_utf8(git(&["rev-parse", "HEAD"]).stdout).unwrap();
        assert_eq!(
            git_revision(dir.path()),
            format!("main@sha1:{}", sha.trim())
        );
    }

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
    }
}
