//! The acting part of the Flux-style CLI against a real sandbox: `driftless reconcile`,
//! `suspend`, `resume` and `diff ks`, run as the built binary with `--kubeconfig` pointing at
//! the sandbox (embedded API server + agent, in-process) reconciling a temp git copy of the
//! example monorepo. One sandbox serves the whole file; the tests take turns (a lock), and each
//! leaves everything Ready at the repository's HEAD. Outputs are snapshots (tests/snapshots/)
//! with commit hashes and temp paths redacted.

mod common;

use driftless::api::Kustomization;
use driftless::cli::sandbox::{Sandbox, SandboxArgs};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);
const NS: &str = "shop-development";

/// A temp copy of the example monorepo as a git repository on branch `main`.
struct TestRepo {
    dir: tempfile::TempDir,
}

impl TestRepo {
    fn example() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = common::repo_root();
        for d in ["clusters", "apps", "infrastructure"] {
            common::copy_tree(&root.join(d), &dir.path().join(d)).expect("copy the example");
        }
        std::fs::write(dir.path().join(".gitignore"), ".driftless/\n").expect("write");
        let repo = TestRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.commit("initial");
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    fn head(&self) -> String {
        format!("main@sha1:{}", self.git(&["rev-parse", "HEAD"]))
    }

    /// Adds a ConfigMap `name` (data `value: <value>`) to `apps/development` (not committed).
    fn add_configmap(&self, name: &str, value: &str) {
        let dir = self.path().join("apps/development");
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: {value}\n"
            ),
        )
        .expect("write");
        let k = dir.join("kustomization.yaml");
        let text = std::fs::read_to_string(&k).expect("read");
        let text = text.replacen("resources:\n", &format!("resources:\n  - {name}.yaml\n"), 1);
        std::fs::write(k, text).expect("write");
    }
}

/// The sandbox every test of this file uses, with the runtime it runs on.
struct Shared {
    rt: tokio::runtime::Runtime,
    sb: Sandbox,
    repo: TestRepo,
}

static SHARED: OnceLock<Shared> = OnceLock::new();
static TURN: Mutex<()> = Mutex::new(());

/// Waits for this test's turn and returns the sandbox (started on first use, Ready).
fn sandbox() -> (MutexGuard<'static, ()>, &'static Shared) {
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let shared = SHARED.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let repo = TestRepo::example();
        let sb = rt.block_on(async {
            let sb = Sandbox::start(&SandboxArgs::new(repo.path(), "development"))
                .await
                .expect("sandbox starts");
            sb.wait_ready(WAIT).await.expect("everything Ready");
            sb
        });
        Shared { rt, sb, repo }
    });
    (turn, shared)
}

/// What one run of the binary printed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Both streams, labelled, for snapshots.
    fn text(&self) -> String {
        format!(
            "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Shared {
    fn kubeconfig(&self) -> PathBuf {
        self.sb.kubeconfig.clone()
    }

    /// `driftless ARGS... --kubeconfig <sandbox>`.
    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_driftless"))
            .args(args)
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .env_remove("KUBECONFIG")
            .output()
            .expect("driftless runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn client(&self) -> kube::Client {
        let _rt = self.rt.enter();
        self.sb.server.client().expect("client")
    }

    fn ks(&self, name: &str) -> Kustomization {
        let api: Api<Kustomization> = Api::namespaced(self.client(), "flux-system");
        self.rt
            .block_on(api.get(name))
            .expect("kustomization exists")
    }

    fn configmap(&self, name: &str) -> Option<ConfigMap> {
        let api: Api<ConfigMap> = Api::namespaced(self.client(), NS);
        self.rt.block_on(api.get_opt(name)).expect("get configmap")
    }

    /// Polls `f` until true, or panics naming `what`.
    fn eventually(&self, what: &str, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for {what}");
    }

    fn source_revision(&self) -> Option<String> {
        self.sb
            .ctx
            .artifact(&driftless::controller::Key::new(
                driftless::controller::Kind::GitRepository,
                "flux-system",
                "flux-system",
            ))
            .map(|a| a.revision)
    }

    fn applied(&self, name: &str) -> Option<String> {
        self.ks(name).status.and_then(|s| s.last_applied_revision)
    }

    /// Snapshot with commit hashes and the temp repository path redacted.
    fn snapshot(&self, name: &str, text: &str) {
        let repo = regex::escape(&self.repo.path().display().to_string());
        insta::with_settings!({
            filters => vec![
                (r"[0-9a-f]{40}", "[SHA]"),
                (repo.as_str(), "[REPO]"),
            ],
        }, {
            insta::assert_snapshot!(name, text);
        });
    }
}

#[test]
fn reconcile_ks_with_source_fetches_and_applies_a_new_commit() {
    let (_turn, s) = sandbox();
    s.repo.add_configmap("reconcile-test", "one");
    s.repo.commit("add reconcile-test");
    let head = s.repo.head();

    let run = s.run(&["reconcile", "ks", "apps", "--with-source"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(
        run.stdout.contains(&format!("✔ fetched revision {head}\n")),
        "{}",
        run.text()
    );
    assert!(
        run.stdout.contains(&format!("✔ applied revision {head}\n")),
        "{}",
        run.text()
    );
    assert_eq!(s.applied("apps").as_deref(), Some(head.as_str()));
    let cm = s
        .configmap("reconcile-test")
        .expect("the new commit is applied");
    assert_eq!(
        cm.data.unwrap_or_default().get("value").map(String::as_str),
        Some("one")
    );
    let handled = s
        .ks("apps")
        .status
        .and_then(|st| st.last_handled_reconcile_at);
    let requested = s.ks("apps").metadata.annotations.unwrap_or_default()
        ["reconcile.fluxcd.io/requestedAt"]
        .clone();
    assert_eq!(handled.as_deref(), Some(requested.as_str()));
    s.snapshot("reconcile_ks_with_source", &run.text());
}

#[test]
fn reconcile_source_git_reports_the_fetched_revision() {
    let (_turn, s) = sandbox();
    let run = s.run(&["reconcile", "source", "git", "flux-system"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(
        run.stdout
            .contains(&format!("✔ fetched revision {}\n", s.repo.head())),
        "{}",
        run.text()
    );
    s.snapshot("reconcile_source_git", &run.text());
}

#[test]
fn reconcile_of_a_missing_kustomization_fails() {
    let (_turn, s) = sandbox();
    let run = s.run(&["reconcile", "kustomization", "nope"]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    s.snapshot("reconcile_missing", &run.text());
}

#[test]
fn suspend_holds_back_a_new_commit_until_resume_applies_it() {
    let (_turn, s) = sandbox();
    let before = s.applied("apps").expect("apps applied");

    let suspend = s.run(&["suspend", "ks", "apps"]);
    assert_eq!(suspend.code, Some(0), "{}", suspend.text());
    assert_eq!(s.ks("apps").spec.suspend, Some(true));
    s.snapshot("suspend_ks", &suspend.text());

    s.repo.add_configmap("suspend-test", "two");
    s.repo.commit("add suspend-test");
    let head = s.repo.head();
    s.sb.refresh();
    s.eventually("the source and infrastructure at the new commit", || {
        s.source_revision().as_deref() == Some(head.as_str())
            && s.applied("infrastructure").as_deref() == Some(head.as_str())
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        s.applied("apps"),
        Some(before),
        "a suspended Kustomization is not reconciled"
    );
    assert!(s.configmap("suspend-test").is_none());

    let refused = s.run(&["reconcile", "ks", "apps"]);
    assert_eq!(refused.code, Some(1), "{}", refused.text());
    assert!(
        refused.stderr.contains("✗ resource is suspended"),
        "{}",
        refused.text()
    );
    s.snapshot("reconcile_suspended", &refused.text());

    let resume = s.run(&["resume", "ks", "apps"]);
    assert_eq!(resume.code, Some(0), "{}", resume.text());
    assert!(
        resume
            .stdout
            .contains(&format!("✔ applied revision {head}\n")),
        "{}",
        resume.text()
    );
    assert_ne!(s.ks("apps").spec.suspend, Some(true));
    assert!(
        s.configmap("suspend-test").is_some(),
        "resume applied the commit"
    );
    s.snapshot("resume_ks", &resume.text());
}

#[test]
fn diff_ks_shows_drift_creates_and_prunes_with_secret_values_masked() {
    let (_turn, s) = sandbox();
    let path = s.repo.path().join("apps/development");
    let path = path.to_str().expect("utf-8 path");
    let diff = || s.run(&["diff", "ks", "apps", "--path", path]);

    let clean = diff();
    assert_eq!(clean.code, Some(0), "in sync: {}", clean.text());
    assert_eq!(clean.stdout, "");

    // Drift: someone scales the frontend and rewrites a password.
    let client = s.client();
    let deploy: Api<Deployment> = Api::namespaced(client.clone(), NS);
    s.rt.block_on(deploy.patch(
        "frontend",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    ))
    .expect("scale");
    let secrets: Api<Secret> = Api::namespaced(client, NS);
    let secret_name =
        s.rt.block_on(secrets.list(&Default::default()))
            .expect("list secrets")
            .items
            .into_iter()
            .filter_map(|x| x.metadata.name)
            .find(|n| n.starts_with("db-credentials-"))
            .expect("db secret");
    s.rt.block_on(secrets.patch(
        &secret_name,
        &PatchParams::default(),
        &Patch::Merge(json!({"stringData": {"POSTGRES_PASSWORD": "hunter2-live"}})),
    ))
    .expect("rewrite the password");

    let drifted = diff();
    assert_eq!(drifted.code, Some(1), "{}", drifted.text());
    assert!(
        drifted
            .stdout
            .contains("► Deployment/shop-development/frontend drifted\n"),
        "{}",
        drifted.text()
    );
    assert!(
        drifted.stdout.contains("-  replicas: 3\n+  replicas: 1\n"),
        "{}",
        drifted.text()
    );
    assert!(
        drifted.stdout.contains(&format!(
            "► Secret/shop-development/{secret_name} drifted\n"
        )),
        "{}",
        drifted.text()
    );
    let out = drifted.text();
    for secret in [
        "hunter2-live",
        "aHVudGVyMi1saXZl",
        "change-me",
        "Y2hhbmdlLW1l",
    ] {
        assert!(
            !out.contains(secret),
            "secret value {secret} printed: {out}"
        );
    }
    s.snapshot("diff_ks_drifted", &out);

    // A local change: a new object, and the db removed (the Kustomization prunes).
    s.repo.add_configmap("diff-test", "new");
    let k = s.repo.path().join("apps/development/kustomization.yaml");
    let text = std::fs::read_to_string(&k).expect("read");
    std::fs::write(&k, text.replace("  - ../db/overlays/development\n", "")).expect("write");
    let local = diff();
    assert_eq!(local.code, Some(1), "{}", local.text());
    assert!(
        local
            .stdout
            .contains("► ConfigMap/shop-development/diff-test created\n"),
        "{}",
        local.text()
    );
    assert!(
        local
            .stdout
            .contains("► StatefulSet/shop-development/db deleted\n"),
        "{}",
        local.text()
    );
    assert!(!local.text().contains("hunter2"), "{}", local.text());
    s.snapshot("diff_ks_local_changes", &local.text());

    // Nothing was written by the diffs.
    assert!(s.configmap("diff-test").is_none());

    // Back in sync: the working tree restored, the drift corrected by a reconcile.
    s.repo.git(&["checkout", "--", "."]);
    std::fs::remove_file(s.repo.path().join("apps/development/diff-test.yaml")).expect("rm");
    let fix = s.run(&["reconcile", "ks", "apps"]);
    assert_eq!(fix.code, Some(0), "{}", fix.text());
    let again = diff();
    assert_eq!(again.code, Some(0), "{}", again.text());
}

#[test]
fn diff_ks_of_a_missing_kustomization_exits_2() {
    let (_turn, s) = sandbox();
    let path = s.repo.path().join("apps/development");
    let run = s.run(&[
        "diff",
        "ks",
        "nope",
        "--path",
        path.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    s.snapshot("diff_ks_missing", &run.text());
}

#[test]
fn reconcile_of_a_failing_source_prints_its_ready_message() {
    let (_turn, s) = sandbox();
    let api: Api<driftless::api::GitRepository> = Api::namespaced(s.client(), "flux-system");
    let repo: driftless::api::GitRepository = serde_json::from_value(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "broken", "namespace": "flux-system"},
        "spec": {"url": "file:///nonexistent/driftless-test.git", "interval": "10m",
                 "ref": {"branch": "main"}}
    }))
    .expect("GitRepository");
    s.rt.block_on(api.create(&Default::default(), &repo))
        .expect("create");
    s.eventually("the first fetch to fail", || {
        s.rt.block_on(api.get("broken"))
            .ok()
            .and_then(|r| r.status)
            .is_some_and(|st| !st.conditions.is_empty())
    });

    // The request is handled even though the fetch fails: the CLI reports the failure at once
    // instead of waiting for its timeout.
    let run = s.run(&["reconcile", "source", "git", "broken", "--timeout", "30s"]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(!run.stderr.contains("timeout"), "{}", run.text());
    assert!(run.stderr.starts_with("✗ "), "{}", run.text());
    s.snapshot("reconcile_failing_source", &run.text());
    s.rt.block_on(api.delete("broken", &Default::default()))
        .expect("delete");
}

#[test]
fn suspend_and_resume_all_act_on_every_kustomization() {
    let (_turn, s) = sandbox();
    let suspend = s.run(&["suspend", "ks", "--all"]);
    assert_eq!(suspend.code, Some(0), "{}", suspend.text());
    for name in ["apps", "flux-system", "infrastructure"] {
        assert_eq!(s.ks(name).spec.suspend, Some(true), "{name}");
    }
    s.snapshot("suspend_ks_all", &suspend.text());

    let resume = s.run(&["resume", "ks", "--all"]);
    assert_eq!(resume.code, Some(0), "{}", resume.text());
    for name in ["apps", "flux-system", "infrastructure"] {
        assert_ne!(s.ks(name).spec.suspend, Some(true), "{name}");
    }
    assert_eq!(resume.stdout.matches("✔ applied revision").count(), 3);
    s.snapshot("resume_ks_all", &resume.text());
}

#[test]
fn reconcile_of_a_failing_kustomization_prints_its_ready_message() {
    let (_turn, s) = sandbox();
    let api: Api<Kustomization> = Api::namespaced(s.client(), "flux-system");
    let ks: Kustomization = serde_json::from_value(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "broken", "namespace": "flux-system"},
        "spec": {"interval": "10m", "path": "./does-not-exist", "prune": true,
                 "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}
    }))
    .expect("Kustomization");
    s.rt.block_on(api.create(&Default::default(), &ks))
        .expect("create");

    let run = s.run(&["reconcile", "ks", "broken", "--timeout", "30s"]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(
        run.stderr
            .contains("✗ kustomization path not found: ./does-not-exist"),
        "{}",
        run.text()
    );
    s.snapshot("reconcile_failing_ks", &run.text());
    s.rt.block_on(api.delete("broken", &Default::default()))
        .expect("delete");
    s.eventually("the broken Kustomization to be gone", || {
        s.rt.block_on(api.get_opt("broken")).expect("get").is_none()
    });
}
