//! The read-only status commands (`get`, `events`, `tree`, `trace`, `stats`) run as the real
//! binary against a real sandbox: the example monorepo in a temp git repository, plus a
//! Kustomization with a broken path and an Alert, a (suspended) Provider and a Receiver, so
//! `--status-selector ready=false`, Warning events and every `get` kind show something real.
//!
//! One sandbox serves every case (one test function). Outputs are insta snapshots
//! (tests/snapshots/status_cli__*.snap) with shas, times, ages and generator hashes redacted;
//! JSON/YAML outputs are parsed and checked instead.

mod common;

use driftless::api::condition::{self, ConditionStatus, READY};
use driftless::api::notification::Receiver;
use driftless::api::Kustomization;
use driftless::cli::sandbox::{Sandbox, SandboxArgs};
use k8s_openapi::api::core::v1::Event;
use kube::Api;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

const BROKEN: &str = "\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: broken
  namespace: flux-system
spec:
  interval: 1h
  retryInterval: 1h
  path: ./does-not-exist
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";

const NOTIFICATIONS: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: webhook-token
  namespace: flux-system
stringData:
  token: not-a-real-secret
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata:
  name: chat
  namespace: flux-system
spec:
  type: generic
  address: http://127.0.0.1:9/hook
  suspend: true
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata:
  name: on-call
  namespace: flux-system
spec:
  providerRef:
    name: chat
  eventSeverity: error
  eventSources:
    - kind: Kustomization
      name: \"*\"
---
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata:
  name: github
  namespace: flux-system
spec:
  type: generic
  secretRef:
    name: webhook-token
  resources:
    - kind: GitRepository
      name: flux-system
";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The example monorepo plus the extra objects, committed on `main` in a temp directory.
fn example_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for d in ["clusters", "apps", "infrastructure"] {
        common::copy_tree(&common::repo_root().join(d), &dir.path().join(d)).expect("copy");
    }
    let cluster = dir.path().join("clusters/development");
    std::fs::write(cluster.join("broken.yaml"), BROKEN).expect("write");
    std::fs::write(cluster.join("notifications.yaml"), NOTIFICATIONS).expect("write");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "initial"]);
    dir
}

/// Waits until the three example layers are Ready, `broken` has failed, the Receiver has its
/// path and the Events of all that are written.
async fn wait_settled(client: &kube::Client) {
    let ks: Api<Kustomization> = Api::namespaced(client.clone(), "flux-system");
    let receivers: Api<Receiver> = Api::namespaced(client.clone(), "flux-system");
    let events: Api<Event> = Api::namespaced(client.clone(), "flux-system");
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < WAIT {
        let list = ks.list(&Default::default()).await.expect("list");
        let status = |name: &str| {
            list.items
                .iter()
                .find(|k| k.metadata.name.as_deref() == Some(name))
                .and_then(|k| k.status.as_ref())
                .and_then(|s| condition::find(&s.conditions, READY))
                .map(|c| c.status)
        };
        let layers_ready = ["flux-system", "infrastructure", "apps"]
            .iter()
            .all(|n| status(n) == Some(ConditionStatus::True));
        let broken_failed = status("broken") == Some(ConditionStatus::False);
        let hooked = receivers
            .get_opt("github")
            .await
            .expect("get")
            .and_then(|r| r.status)
            .and_then(|s| s.webhook_path)
            .is_some();
        let reasons: Vec<String> = events
            .list(&Default::default())
            .await
            .expect("events")
            .items
            .into_iter()
            .map(|e| {
                format!(
                    "{}/{}",
                    e.involved_object.name.unwrap_or_default(),
                    e.reason.unwrap_or_default()
                )
            })
            .collect();
        let recorded = [
            "flux-system/NewArtifact",
            "flux-system/ReconciliationSucceeded",
            "infrastructure/ReconciliationSucceeded",
            "apps/ReconciliationSucceeded",
            "broken/BuildFailed",
        ]
        .iter()
        .all(|r| reasons.iter().any(|x| x == r));
        if layers_ready && broken_failed && hooked && recorded {
            return;
        }
        last = format!(
            "layers Ready {layers_ready}, broken failed {broken_failed}, receiver {hooked}, \
             events {reasons:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("sandbox did not settle: {last}");
}

/// One run of the binary.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// What the snapshots hold: the command, stdout, stderr (when any) and the exit code.
    fn transcript(&self, args: &str) -> String {
        let mut t = format!("$ driftless {args}\n{}", self.stdout);
        if !self.stderr.is_empty() {
            t.push_str(&format!("[stderr]\n{}", self.stderr));
        }
        t.push_str(&format!("[exit {}]\n", self.code));
        t
    }
}

struct Cli {
    kubeconfig: PathBuf,
}

impl Cli {
    /// Runs `driftless ARGS --kubeconfig <sandbox>` (or with `$KUBECONFIG` when `via_env`).
    async fn run_with(&self, args: &str, via_env: bool) -> Run {
        self.run_env(args, via_env, &[]).await
    }

    /// [`Cli::run_with`] with extra environment variables.
    async fn run_env(&self, args: &str, via_env: bool, env: &[(&str, &str)]) -> Run {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_driftless"));
        cmd.envs(env.iter().copied());
        // Piped stdout: no colour (the snapshots would show the escapes).
        cmd.args(args.split_whitespace())
            .env_remove("KUBECONFIG")
            .env_remove("NO_COLOR");
        if via_env {
            cmd.env("KUBECONFIG", &self.kubeconfig);
        } else {
            cmd.arg("--kubeconfig").arg(&self.kubeconfig);
        }
        let out = cmd.output().await.expect("driftless runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    async fn run(&self, args: &str) -> Run {
        self.run_with(args, false).await
    }

    /// Runs `driftless ARGS` with `$COLUMNS` set and stdout on a pseudo-terminal (util-linux
    /// `script`, whose terminal reports no size, so `$COLUMNS` or 80 decides). `None` when
    /// `script` is missing (never with `CI=true`). Carriage returns are dropped.
    async fn run_on_terminal(&self, args: &str, columns: &str) -> Option<Run> {
        let command = format!(
            "{} {args} --kubeconfig {}",
            env!("CARGO_BIN_EXE_driftless"),
            self.kubeconfig.display()
        );
        let out = tokio::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(std::process::Stdio::null())
            .env("COLUMNS", columns)
            .env_remove("NO_COLOR")
            .output()
            .await;
        match out {
            Ok(out) => Some(Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).replace('\r', ""),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }),
            Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                eprintln!("SKIPPED terminal checks: util-linux `script` cannot run: {e}");
                None
            }
            Err(e) => panic!("`script` is needed with CI=true: {e}"),
        }
    }

    /// Runs and snapshots (redacted).
    async fn snapshot(&self, name: &str, args: &str) -> Run {
        let run = self.run(args).await;
        let text = run.transcript(args);
        settings().bind(|| insta::assert_snapshot!(name, text));
        run
    }

    /// Runs, parses stdout as JSON or YAML, and checks the exit code.
    async fn parsed(&self, args: &str) -> Value {
        let run = self.run(args).await;
        assert_eq!(run.code, 0, "{args}: {}", run.stderr);
        if args.contains("-o json") {
            serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{args}: {e}"))
        } else {
            serde_yaml::from_str(&run.stdout).unwrap_or_else(|e| panic!("{args}: {e}"))
        }
    }
}

/// Redactions that keep the snapshots stable across runs and example-repo edits.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"/hook/[0-9a-f]{64}", "/hook/[ID]");
    // A webhook path cut short by `--width`.
    s.add_filter(r"/hook/[0-9a-f]*…", "/hook/[ID]…");
    s.add_filter(r"[0-9a-f]{40}", "[SHA]");
    s.add_filter(r"sha1:[0-9a-f]{8}\b", "sha1:[SHORT]");
    s.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[TIME]");
    // kustomize generator hash suffixes (its alphabet has no vowels, 0, 1 or 3).
    s.add_filter(r"-[bcdfghkmt245-9]{10}\b", "-[HASH]");
    s
}

/// Makes `events` output comparable: ages become `[AGE]`, and the event records (a line plus
/// its message's continuation lines) are sorted and deduped, because Events of objects
/// reconciled at once arrive in any order. A transient `ArtifactFailed` (the root
/// Kustomization racing its GitRepository) is dropped. The table is then re-padded the way
/// the CLI pads it (column widths depend on which rows are left).
fn normalize_events(text: &str, age_column: usize) -> String {
    let age = regex::Regex::new(r"^\d+[smhdy][0-9smhdy]*$").expect("regex");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split('\t')
        .map(|c| c.trim().to_string())
        .collect();
    let mut records: Vec<Vec<Vec<String>>> = Vec::new();
    for line in lines {
        let mut cells: Vec<String> = line.split('\t').map(|c| c.trim().to_string()).collect();
        let continuation = cells[0].is_empty();
        if let Some(cell) = cells.get_mut(age_column) {
            if age.is_match(cell) {
                *cell = "[AGE]".into();
            }
        }
        match records.last_mut() {
            Some(r) if continuation => r.push(cells),
            _ => records.push(vec![cells]),
        }
    }
    records.retain(|r| !r[0].iter().any(|c| c == "ArtifactFailed"));
    records.sort();
    records.dedup();
    let mut rows = vec![header];
    rows.extend(records.into_iter().flatten());
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}\t", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The widest line in characters (not bytes), colour escapes not counted.
fn widest_line(text: &str) -> usize {
    let escapes = regex::Regex::new("\x1b\\[[0-9;]*m").expect("regex");
    text.lines()
        .map(|l| escapes.replace_all(l, "").chars().count())
        .max()
        .unwrap_or(0)
}

/// `events --width N` made comparable like [`normalize_events`], but without re-padding
/// (the columns were fitted by the CLI): the age at the start of a record becomes `[AGE]`
/// padded to the same width, and records are sorted and deduped.
fn normalize_fitted_events(text: &str) -> String {
    let age = regex::Regex::new(r"^\d+[smhdy][0-9smhdy]* +").expect("regex");
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap_or(""));
    let mut records: Vec<Vec<String>> = Vec::new();
    for line in lines {
        if line.starts_with(' ') {
            if let Some(r) = records.last_mut() {
                r.push(line.to_string());
                continue;
            }
        }
        let line = match age.find(line) {
            Some(m) => format!("{:<w$}{}", "[AGE]", &line[m.end()..], w = m.len()),
            None => line.to_string(),
        };
        records.push(vec![line]);
    }
    records.retain(|r| !r[0].contains("ArtifactFailed"));
    records.sort();
    records.dedup();
    for line in records.into_iter().flatten() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["kind"].as_str().unwrap_or(""),
                i["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_commands_print_flux_style_output_against_a_sandbox() {
    let repo = example_repo();
    let sb = Sandbox::start(&SandboxArgs::new(repo.path(), "development"))
        .await
        .expect("sandbox starts");
    let client = sb.server.client().expect("client");
    wait_settled(&client).await;
    // The sandbox writes its kubeconfig where the docs say.
    let kubeconfig = repo.path().join(".driftless/sandbox.kubeconfig");
    assert!(kubeconfig.is_file());
    let cli = Cli { kubeconfig };

    // get: every kind, namespaces, selectors, names, errors.
    cli.snapshot("get_ks", "get ks").await;
    cli.snapshot("get_kustomizations_all_namespaces", "get kustomizations -A")
        .await;
    let failing = cli
        .snapshot("get_ks_not_ready", "get ks --status-selector ready=false")
        .await;
    assert!(failing.stdout.contains("broken") && !failing.stdout.contains("apps"));
    cli.snapshot("get_ks_one_no_header", "get ks apps --no-header")
        .await;
    let via_env = cli.run_with("get sources git", true).await;
    settings()
        .bind(|| insta::assert_snapshot!("get_sources_git", via_env.transcript("get sources git")));
    cli.snapshot("get_alerts", "get alerts").await;
    cli.snapshot(
        "get_alerts_never_selected",
        "get alerts --status-selector ready=true",
    )
    .await;
    cli.snapshot("get_providers", "get providers").await;
    cli.snapshot("get_receivers", "get receivers").await;
    cli.snapshot("get_all", "get all").await;
    cli.snapshot("get_ks_show_source", "get ks --show-source")
        .await;
    cli.snapshot("get_sources_all", "get sources all").await;
    let sources = cli.parsed("get sources all -o json").await;
    assert_eq!(names(&sources), ["GitRepository/flux-system"]);
    let missing = cli.snapshot("get_ks_missing", "get ks nope").await;
    assert_eq!(missing.code, 1);
    assert!(missing.stdout.is_empty());
    let empty = cli
        .snapshot("get_ks_empty_namespace", "get ks -n default")
        .await;
    assert_eq!(empty.code, 0);

    // -o json|yaml: kubectl Lists (one object with a name), parseable, with the objects.
    let list = cli.parsed("get ks -o json").await;
    assert_eq!(list["kind"], "List");
    assert_eq!(
        names(&list),
        [
            "Kustomization/apps",
            "Kustomization/broken",
            "Kustomization/flux-system",
            "Kustomization/infrastructure"
        ]
    );
    assert_eq!(
        list["items"][0]["apiVersion"],
        "kustomize.toolkit.fluxcd.io/v1"
    );
    let one = cli.parsed("get ks apps -o yaml").await;
    assert_eq!(one["kind"], "Kustomization");
    assert_eq!(one["spec"]["path"], "./apps/development");
    assert!(one["status"]["inventory"]["entries"].is_array());
    let not_ready = cli
        .parsed("get ks --status-selector ready=false -o json")
        .await;
    assert_eq!(names(&not_ready), ["Kustomization/broken"]);
    let all = cli.parsed("get all -A -o yaml").await;
    assert_eq!(
        names(&all),
        [
            "GitRepository/flux-system",
            "Kustomization/apps",
            "Kustomization/broken",
            "Kustomization/flux-system",
            "Kustomization/infrastructure",
            "Receiver/github",
            "Provider/chat",
            "Alert/on-call"
        ]
    );
    for kind in ["alerts", "providers", "receivers", "sources git"] {
        let l = cli.parsed(&format!("get {kind} -o json")).await;
        assert_eq!(l["items"].as_array().map(Vec::len), Some(1), "{kind}");
    }

    // events
    for (name, args, age_column) in [
        ("events", "events", 0),
        ("events_all_namespaces", "events -A", 1),
        ("events_for_apps", "events --for Kustomization/apps", 0),
        ("events_for_broken", "events --for kustomization/broken", 0),
        ("events_warnings", "events --types Warning", 0),
    ] {
        let run = cli.run(args).await;
        assert_eq!(run.code, 0, "{args}: {}", run.stderr);
        let text = format!(
            "$ driftless {args}\n{}[exit {}]\n",
            normalize_events(&run.stdout, age_column),
            run.code
        );
        settings().bind(|| insta::assert_snapshot!(name, text));
    }
    let run = cli.run("events --for Kustomization/apps").await;
    assert!(
        run.stdout.contains("GitRepository/flux-system"),
        "source events included"
    );
    let run = cli.run("events --types Warning").await;
    assert!(run.stdout.contains("BuildFailed") && !run.stdout.contains("\tNormal"));
    cli.snapshot(
        "events_for_unknown_kind",
        "events --for Deployment/frontend",
    )
    .await;
    cli.snapshot(
        "events_for_missing_object",
        "events --for Kustomization/nope",
    )
    .await;

    // Fitting to 80 columns: `--width 80` lays tables out as an 80-column terminal does.
    for (name, args) in [
        ("get_ks_width_80", "get ks --width 80"),
        ("get_ks_all_namespaces_width_80", "get ks -A --width 80"),
        ("get_all_width_80", "get all --width 80"),
        (
            "get_ks_show_source_width_80",
            "get ks --show-source --width 80",
        ),
    ] {
        let run = cli.snapshot(name, args).await;
        assert_eq!(run.code, 0, "{args}");
        assert!(widest_line(&run.stdout) <= 80, "{args}:\n{}", run.stdout);
        assert!(
            run.stdout.contains('…') && !run.stdout.contains('\t'),
            "{args}"
        );
    }
    let run = cli.run("events --width 80").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(widest_line(&run.stdout) <= 80, "{}", run.stdout);
    assert!(
        widest_line(&cli.run("events").await.stdout) > 80,
        "fitting is needed"
    );
    let text = format!(
        "$ driftless events --width 80\n{}[exit 0]\n",
        normalize_fitted_events(&run.stdout)
    );
    settings().bind(|| insta::assert_snapshot!("events_width_80", text));
    // Piped: `$COLUMNS` does not cut anything (scripts and grep see whole messages), and
    // `--wide` keeps full revision digests, which the default table cuts to 8 hex digits.
    let piped = cli.run("get ks").await;
    assert!(widest_line(&piped.stdout) > 80 && !piped.stdout.contains('…'));
    let narrow = cli.run_env("get ks", false, &[("COLUMNS", "40")]).await;
    assert_eq!(narrow.stdout, piped.stdout, "COLUMNS is ignored when piped");
    let wide = cli.run("get ks --wide").await;
    assert!(
        regex::Regex::new("Applied revision: main@sha1:[0-9a-f]{40}\n")
            .expect("regex")
            .is_match(&wide.stdout)
    );
    assert!(!regex::Regex::new("[0-9a-f]{40}")
        .expect("regex")
        .is_match(&piped.stdout));
    let both = cli.run("get ks --wide --width 80").await;
    assert_eq!(both.code, 2, "--wide and --width conflict");
    // On a real terminal: fitted to `$COLUMNS` (80 when unset or unusable), coloured.
    if let Some(tty) = cli.run_on_terminal("get ks -A", "80").await {
        assert_eq!(tty.code, 0, "{}", tty.stdout);
        assert!(widest_line(&tty.stdout) <= 80, "{}", tty.stdout);
        assert!(tty.stdout.contains("\x1b[32mTrue\x1b[0m") && tty.stdout.contains('…'));
        let roomy = cli
            .run_on_terminal("get ks", "120")
            .await
            .expect("script ran before");
        let widest = widest_line(&roomy.stdout);
        assert!(widest > 80 && widest <= 120, "{}", roomy.stdout);
        let events = cli
            .run_on_terminal("events", "80")
            .await
            .expect("script ran before");
        assert!(widest_line(&events.stdout) <= 80, "{}", events.stdout);
    }

    // tree
    cli.snapshot("tree_ks_flux_system", "tree ks flux-system")
        .await;
    cli.snapshot(
        "tree_ks_flux_system_compact",
        "tree ks flux-system --compact",
    )
    .await;
    cli.snapshot("tree_ks_missing", "tree ks nope").await;
    let tree = cli.parsed("tree ks flux-system -o json").await;
    assert_eq!(tree["resource"]["Name"], "flux-system");
    let apps = tree["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["resource"]["Name"] == "apps")
        .expect("apps in the tree");
    assert!(apps["resources"]
        .as_array()
        .expect("apps expanded")
        .iter()
        .any(|r| r["resource"]["GroupKind"]["Kind"] == "Deployment"));
    let tree_yaml = cli.parsed("tree ks apps -o yaml").await;
    assert_eq!(tree_yaml["resource"]["GroupKind"]["Kind"], "Kustomization");

    // trace
    cli.snapshot(
        "trace_deployment",
        "trace deployment frontend -n shop-development",
    )
    .await;
    cli.snapshot("trace_cluster_scoped", "trace Namespace/shop-development")
        .await;
    cli.snapshot("trace_short_name", "trace cm/cluster-vars")
        .await;
    let unmanaged = cli
        .snapshot("trace_unmanaged", "trace namespace default")
        .await;
    assert_eq!(unmanaged.code, 1);
    cli.snapshot("trace_missing", "trace deployment nope -n shop-development")
        .await;

    // stats
    cli.snapshot("stats", "stats").await;
    cli.snapshot("stats_all_namespaces", "stats -A").await;
    cli.snapshot("stats_empty_namespace", "stats -n default")
        .await;
}
