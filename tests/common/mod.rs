//! Shared helpers of the integration tests: running `driftless` and `kubectl` on a directory,
//! locating the oracle, comparing outputs with a short readable diff, collecting every failure
//! of a group before reporting, and a small parallel map (the suites spawn hundreds of
//! processes).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The crate root (where `clusters/`, `apps/` and `tests/` live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one process run produced.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// The first few lines of stderr, for failure messages.
    pub fn stderr_head(&self) -> String {
        self.stderr.lines().take(4).collect::<Vec<_>>().join(" | ")
    }
}

fn run(mut cmd: Command) -> Output {
    match cmd.output() {
        Ok(out) => Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        Err(e) => Output {
            code: None,
            stdout: String::new(),
            stderr: format!("failed to spawn: {e}"),
        },
    }
}

/// `driftless build DIR ARGS...`, run from `cwd`.
pub fn driftless_build(cwd: &Path, dir: &str, args: &[String]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftless"));
    cmd.current_dir(cwd).arg("build").arg(dir).args(args);
    run(cmd)
}

/// `kubectl kustomize DIR ARGS...`, run from `cwd`.
pub fn kubectl_kustomize(cwd: &Path, dir: &str, args: &[String]) -> Output {
    let mut cmd = Command::new("kubectl");
    cmd.current_dir(cwd).arg("kustomize").arg(dir).args(args);
    run(cmd)
}

/// Whether the oracle is available. Without it, the live comparisons are skipped with a loud
/// notice, except under `CI=true`, where a missing kubectl fails the calling test.
pub fn kubectl_available(test: &str) -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
        assert!(
            !ci,
            "{test}: kubectl is not on PATH, and CI=true requires the oracle"
        );
        eprintln!();
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!("!!! SKIPPED {test}: kubectl is not on PATH, so nothing was compared");
        eprintln!("!!! with the oracle. Install kubectl v1.32 (kustomize v5.5.0) to run it.");
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!();
    }
    found
}

/// A loud notice that a whole group was skipped for a reason other than kubectl.
pub fn loud_skip(test: &str, why: &str) {
    eprintln!();
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!("!!! SKIPPED {test}: {why}");
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!();
}

/// `None` when equal; otherwise a short diff: the first differing line with a little context
/// from both sides.
pub fn short_diff(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let first = e
        .iter()
        .zip(a.iter())
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(2);
    let mut out = format!(
        "first difference at line {} (expected {} lines, got {} lines)\n",
        first + 1,
        e.len(),
        a.len()
    );
    if e.len() == a.len() && first == e.len() {
        out.push_str("      (only the trailing newline differs)\n");
        return Some(out);
    }
    for (i, line) in e.iter().enumerate().skip(from).take(first - from + 4) {
        let mark = if i < first { ' ' } else { '-' };
        out.push_str(&format!("    {mark} {:>4} | {line}\n", i + 1));
    }
    for (i, line) in a.iter().enumerate().skip(first).take(4) {
        out.push_str(&format!("    + {:>4} | {line}\n", i + 1));
    }
    Some(out)
}

/// Collects the failures of a test group so that every failing case is reported at once.
#[derive(Default)]
pub struct Failures {
    items: Mutex<Vec<(String, String)>>,
}

impl Failures {
    pub fn add(&self, case: impl Into<String>, why: impl Into<String>) {
        if let Ok(mut items) = self.items.lock() {
            items.push((case.into(), why.into()));
        }
    }

    pub fn take(self) -> Vec<(String, String)> {
        let mut items = self.items.into_inner().unwrap_or_default();
        items.sort();
        items
    }

    /// Panics with every failure listed, if there is any.
    pub fn assert_none(self, group: &str, total: usize) {
        let items = self.take();
        if items.is_empty() {
            eprintln!("{group}: all {total} cases passed");
            return;
        }
        let mut msg = format!("{group}: {} of {total} cases failed:\n", items.len());
        for (case, why) in &items {
            msg.push_str(&format!(
                "\n  ✗ {case}: {}\n",
                why.trim_end().replace('\n', "\n    ")
            ));
        }
        msg.push_str(&format!(
            "\n{group}: failing cases: {}\n",
            names(&items).join(" ")
        ));
        panic!("{msg}");
    }
}

fn names(items: &[(String, String)]) -> Vec<String> {
    items.iter().map(|(c, _)| c.clone()).collect()
}

/// Runs `f` over `items` on a few threads (the machine is small; each item spawns processes).
pub fn par_for_each<T: Sync>(items: &[T], f: impl Fn(&T) + Sync) {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                match items.get(i) {
                    Some(item) => f(item),
                    None => break,
                }
            });
        }
    });
}

/// Copies a directory tree (for building a modified copy of a fixture in a temp dir).
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Every `*.yaml`/`*.yml` file below `dir`, relative to it with `/` separators, in lexical order.
pub fn yaml_files_below(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                if let Ok(rel) = path.strip_prefix(root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The `resources:` Flux's kustomize-controller lists for a path without a kustomization file
/// (fluxcd/pkg kustomize generator): the tree in `filepath.Walk` order (entries sorted by name,
/// directory by directory); a subdirectory with its own kustomization file is one resource and
/// is not descended into; every other `*.yaml` / `*.yml` file is listed.
pub fn flux_generated_resources(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let path = dir.join(&name);
            if path.is_dir() {
                if KUSTOMIZATION_FILES.iter().any(|k| path.join(k).is_file()) {
                    out.push(format!("./{rel}{name}"));
                } else {
                    walk(&path, &format!("{rel}{name}/"), out);
                }
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                out.push(format!("./{rel}{name}"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out
}

/// Writes into `dir` the kustomization.yaml Flux generates for a path without one (see
/// [`flux_generated_resources`] and tests/fixtures/kustomize/README.md).
pub fn write_flux_generated_kustomization(dir: &Path) -> std::io::Result<()> {
    let mut text = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for entry in flux_generated_resources(dir) {
        text.push_str(&format!("  - {entry}\n"));
    }
    std::fs::write(dir.join("kustomization.yaml"), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_diff_points_at_the_first_differing_line() {
        let d = short_diff("a\nb\nc\n", "a\nx\nc\n").expect("differs");
        assert!(d.contains("first difference at line 2"), "{d}");
        assert!(
            d.contains("- ") && d.contains("| b") && d.contains("| x"),
            "{d}"
        );
        assert!(short_diff("same\n", "same\n").is_none());
    }

    #[test]
    fn flux_generated_resources_list_manifests_and_stop_at_nested_kustomizations() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path();
        for file in [
            "b.yaml",
            "a/x.yml",
            "a/notes.md",
            "k/kustomization.yaml",
            "k/inner.yaml",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, "").expect("write");
        }
        assert_eq!(
            flux_generated_resources(root),
            vec!["./a/x.yml", "./b.yaml", "./k"]
        );
    }
}
