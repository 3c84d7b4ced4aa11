//! The agent's command-line contracts: `install --export`, `bootstrap --export`,
//! `sandbox --exit-when-ready`, and `get ks|sources git` against a running sandbox.

use driftless::cli::sandbox::{Sandbox, SandboxArgs};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_driftless"))
}

fn example_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for d in ["clusters", "apps", "infrastructure"] {
        assert!(Command::new("cp")
            .arg("-r")
            .arg(root.join(d))
            .arg(dir.path())
            .status()
            .expect("cp")
            .success());
    }
    let git = |args: &[&str]| {
        assert!(Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git")
            .status
            .success());
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "initial"]);
    dir
}

#[test]
fn install_export_prints_crds_rbac_and_a_hardened_deployment() {
    let out = bin().args(["install", "--export"]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    let docs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).expect("valid YAML"))
        .collect();
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "CustomResourceDefinition")
            .count(),
        5
    );
    for k in [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let ks_crd = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "kustomizations.kustomize.toolkit.fluxcd.io")
        .expect("Kustomization CRD");
    let schema = &ks_crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        ["properties"];
    for field in [
        "sourceRef",
        "dependsOn",
        "postBuild",
        "healthChecks",
        "deletionPolicy",
        "targetNamespace",
    ] {
        assert!(schema.get(field).is_some(), "schema lacks spec.{field}");
    }
}

#[test]
fn bootstrap_export_names_objects_like_flux() {
    let out = bin()
        .args([
            "bootstrap",
            "--export",
            "--url",
            "https://example.com/r.git",
            "--path",
            "clusters/prod",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.contains("kind: GitRepository"));
    assert!(text.contains("path: ./clusters/prod"));
    assert!(text.contains("name: flux-system"));
}

#[test]
fn sandbox_exits_zero_once_the_example_cluster_is_ready() {
    let repo = example_repo();
    let kc = repo.path().join("kc");
    let out = bin()
        .args([
            "sandbox",
            "--exit-when-ready",
            "--timeout",
            "90s",
            "--cluster",
            "development",
        ])
        .arg("--repo")
        .arg(repo.path())
        .arg("--kubeconfig-out")
        .arg(&kc)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all 3 Kustomizations Ready"), "{stdout}");
    assert!(
        stdout.contains(&kc.display().to_string()),
        "kubeconfig path printed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_ks_and_sources_print_flux_columns_against_the_sandbox() {
    let repo = example_repo();
    let mut args = SandboxArgs::new(repo.path(), "development");
    args.kubeconfig_out = Some(repo.path().join("kc"));
    let sb = Sandbox::start(&args).await.expect("starts");
    sb.wait_ready(Duration::from_secs(60)).await.expect("ready");
    let kc = sb.kubeconfig.clone();
    let (ks, git) = tokio::task::spawn_blocking(move || {
        let run = |a: &[&str]| {
            let out = bin()
                .args(a)
                .arg("--kubeconfig")
                .arg(&kc)
                .output()
                .expect("runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).expect("utf8")
        };
        (run(&["get", "ks", "-A"]), run(&["get", "sources", "git"]))
    })
    .await
    .expect("joins");
    let head: Vec<&str> = ks.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(
        head,
        [
            "NAMESPACE",
            "NAME",
            "REVISION",
            "SUSPENDED",
            "READY",
            "MESSAGE"
        ]
    );
    let apps = ks
        .lines()
        .find(|l| l.contains("\tapps") || l.contains(" apps"))
        .expect("apps row");
    assert!(
        apps.contains("main@sha1:") && apps.contains("True"),
        "{apps}"
    );
    let rev = apps.split_whitespace().nth(2).expect("revision column");
    assert_eq!(rev.len(), "main@sha1:".len() + 8, "short sha: {rev}");
    assert!(git.starts_with("NAME"), "{git}");
    assert!(git.contains("stored artifact for revision"), "{git}");
}
