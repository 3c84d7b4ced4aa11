//! Drives the real `kubectl` (v1.32) against `driftless apiserver`: discovery, server-side
//! apply with conflicts, managedFields, label filters, watch, deletion, CRDs, immutable fields
//! and server dry-run. Skips loudly when kubectl is missing, except under `CI=true`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Cluster {
    child: Child,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kubectl_available() -> bool {
    let ok = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("kubectl is not on PATH, and CI=true: these tests must run in CI");
        }
        eprintln!("SKIPPED: kubectl is not on PATH; the kubectl integration tests did not run");
    }
    ok
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_driftless"))
            .args(["apiserver", "--listen", "127.0.0.1:0", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start driftless apiserver");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read ready line");
        assert!(
            line.starts_with("ready http://127.0.0.1:"),
            "unexpected first line {line:?}"
        );
        Cluster {
            child,
            dir,
            kubeconfig,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("kubectl");
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .env("HOME", self.dir.path());
        c
    }

    /// Runs kubectl; returns the output whatever the exit code.
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run kubectl")
    }

    /// Runs kubectl and requires success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs kubectl and requires failure; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "kubectl {args:?} unexpectedly succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn file(&self, name: &str, content: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).expect("write manifest");
        p.display().to_string()
    }
}

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
";

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
";

const WIDGET: &str = "apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
";

#[test]
fn api_resources_lists_builtins_and_a_new_crd_kind() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start();
    let out = c.ok(&["api-resources"]);
    for line in [
        "deployments",
        "configmaps",
        "customresourcedefinitions",
        "horizontalpodautoscalers",
        "leases",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "api-resources lacks {line}:\n{out}"
        );
    }
    assert!(!out.contains("Widget"));
    let crd = c.file("crd.yaml", CRD);
    c.ok(&["apply", "--server-side", "-f", &crd]);
    c.ok(&[
        "wait",
        "--for",
        "condition=Established",
        "crd/widgets.example.com",
        "--timeout=10s",
    ]);
    let out = c.ok(&["api-resources", "--api-group", "example.com"]);
    let row = out
        .lines()
        .find(|l| l.starts_with("widgets"))
        .unwrap_or_else(|| panic!("no widgets row:\n{out}"));
    assert!(
        row.contains("wd") && row.contains("example.com/v1") && row.contains("Widget"),
        "{row}"
    );
}

#[test]
fn server_side_apply_creates_is_idempotent_and_reports_conflicts() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start();
    let f = c.file("deploy.yaml", DEPLOY);
    let out = c.ok(&["apply", "--server-side", "-f", &f]);
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    // The simulated deployment controller reports the rollout; after that nothing writes.
    let out = c.ok(&["rollout", "status", "deploy/web", "--timeout=20s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let rv1 = c.ok(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    c.ok(&["apply", "--server-side", "-f", &f]);
    let rv2 = c.ok(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    assert_eq!(rv1, rv2, "re-applying identical config must not write");

    // Another manager (kubectl edit) takes spec.replicas.
    let script = c.file(
        "edit.sh",
        "#!/bin/sh\nsed -i 's/replicas: 2/replicas: 4/' \"$1\"\n",
    );
    let mut perms = std::fs::metadata(&script).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).expect("chmod");
    let out = c
        .cmd(&["edit", "deploy", "web"])
        .env("KUBE_EDITOR", &script)
        .output()
        .expect("kubectl edit");
    assert!(
        out.status.success(),
        "edit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mf = c.ok(&[
        "get",
        "deploy",
        "web",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    assert!(mf.contains("manager: kubectl-edit"), "{mf}");

    let err = c.fails(&["apply", "--server-side", "-f", &f]);
    assert!(err.contains("conflict with \"kubectl-edit\""), "{err}");
    assert!(err.contains(".spec.replicas"), "{err}");
    assert_eq!(
        c.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "4"
    );

    c.ok(&["apply", "--server-side", "--force-conflicts", "-f", &f]);
    assert_eq!(
        c.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "2"
    );
}

#[test]
fn get_shows_managed_fields_filters_by_label_and_watch_streams_changes() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start();
    let a = c.file("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {tier: front}}\ndata: {k: v}\n");
    let b = c.file("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, labels: {tier: back}}\ndata: {k: v}\n");
    c.ok(&["apply", "--server-side", "-f", &a, "-f", &b]);
    let yaml = c.ok(&["get", "cm", "a", "-o", "yaml", "--show-managed-fields"]);
    assert!(
        yaml.contains("managedFields:")
            && yaml.contains("f:tier: {}")
            && yaml.contains("operation: Apply"),
        "{yaml}"
    );
    let front = c.ok(&["get", "cm", "-l", "tier=front", "-o", "name"]);
    assert_eq!(front.trim(), "configmap/a");
    let notback = c.ok(&["get", "cm", "-l", "tier!=back", "-o", "name"]);
    assert_eq!(notback.trim(), "configmap/a");

    let mut watch = c
        .cmd(&["get", "cm", "-w", "-o", "name"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("watch");
    let stdout = watch.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The initial list.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(
            rx.recv_timeout(Duration::from_secs(10))
                .expect("initial watch lines"),
        );
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&b)
        .expect("open b");
    file.write_all(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, labels: {tier: back}}\ndata: {k: changed}\n")
        .expect("write b");
    drop(file);
    c.ok(&["apply", "--server-side", "-f", &b]);
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("watch streamed the change");
    assert_eq!(line, "configmap/b");
    let _ = watch.kill();
    let _ = watch.wait();
}

#[test]
fn delete_removes_objects_and_a_namespace_with_its_contents() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start();
    let ns = c.file(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n",
    );
    let f = c.file("deploy.yaml", DEPLOY);
    c.ok(&["apply", "--server-side", "-f", &ns]);
    c.ok(&["apply", "--server-side", "-n", "team", "-f", &f]);
    let cm = c.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n",
    );
    c.ok(&["apply", "--server-side", "-n", "team", "-f", &cm]);
    c.ok(&["apply", "--server-side", "-f", &cm]);
    let out = c.ok(&["delete", "cm", "c"]);
    assert!(out.contains("configmap \"c\" deleted"), "{out}");
    assert!(c.fails(&["get", "cm", "c"]).contains("NotFound"));

    let out = c.ok(&["delete", "ns", "team", "--timeout=20s"]);
    assert!(out.contains("namespace \"team\" deleted"), "{out}");
    assert!(c.fails(&["get", "ns", "team"]).contains("not found"));
    let out = c.run(&["get", "deploy,cm", "-n", "team", "-o", "name"]);
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
    // Creating into the deleted namespace fails.
    let err = c.fails(&["apply", "--server-side", "-n", "team", "-f", &cm]);
    assert!(err.contains("namespaces \"team\" not found"), "{err}");
}

#[test]
fn custom_resource_needs_its_crd() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start();
    let cr = c.file("cr.yaml", WIDGET);
    let err = c.fails(&["apply", "--server-side", "-f", &cr]);
    assert!(err.contains("no matches for kind \"Widget\""), "{err}");
    let crd = c.file("crd.yaml", CRD);
    c.ok(&["apply", "--server-side", "-f", &crd]);
    c.ok(&[
        "wait",
        "--for",
        "condition=Established",
        "crd/widgets.example.com",
        "--timeout=10s",
    ]);
    let out = c.ok(&["apply", "--server-side", "-f", &cr]);
    assert!(
        out.contains("widget.example.com/w1 serverside-applied"),
        "{out}"
    );
    assert_eq!(
        c.ok(&["get", "wd", "w1", "-o", "jsonpath={.spec.size}"]),
        "3"
    );
    c.ok(&["delete", "crd", "widgets.example.com"]);
    let out = c.ok(&["api-resources", "--api-group", "example.com"]);
    assert!(
        !out.contains("widgets"),
        "deleted CRD still discovered:\n{out}"
    );
    let err = c.fails(&["get", "widgets"]);
    assert!(
        err.contains("could not find the requested resource")
            || err.contains("doesn't have a resource type"),
        "{err}"
    );
}

#[test]
fn deployment_selector_change_is_rejected_as_immutable() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start();
    let f = c.file("deploy.yaml", DEPLOY);
    c.ok(&["apply", "--server-side", "-f", &f]);
    let changed = c.file("deploy2.yaml", &DEPLOY.replace("{app: web}", "{app: web2}"));
    let err = c.fails(&["apply", "--server-side", "-f", &changed]);
    assert!(
        err.contains("spec.selector") && err.contains("field is immutable"),
        "{err}"
    );
    assert!(err.contains("Invalid"), "{err}");
}

#[test]
fn server_dry_run_persists_nothing() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start();
    let f = c.file("deploy.yaml", DEPLOY);
    let out = c.ok(&["apply", "--server-side", "--dry-run=server", "-f", &f]);
    assert!(out.contains("(server dry run)"), "{out}");
    assert!(c.fails(&["get", "deploy", "web"]).contains("NotFound"));
    c.ok(&["apply", "--server-side", "-f", &f]);
    c.ok(&["rollout", "status", "deploy/web", "--timeout=20s"]);
    let rv = c.ok(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    let newer = c.file("deploy3.yaml", &DEPLOY.replace("nginx:1.25", "nginx:1.26"));
    c.ok(&["apply", "--server-side", "--dry-run=server", "-f", &newer]);
    assert_eq!(
        c.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}"
        ]),
        "nginx:1.25"
    );
    assert_eq!(
        c.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.resourceVersion}"
        ]),
        rv
    );
}

#[test]
fn everyday_commands_create_scale_label_and_client_side_apply_work() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start();
    // Typed generators send protobuf bodies.
    c.ok(&["create", "namespace", "team"]);
    c.ok(&[
        "create",
        "configmap",
        "cfg",
        "-n",
        "team",
        "--from-literal=a=b",
    ]);
    c.ok(&[
        "create",
        "secret",
        "generic",
        "pw",
        "-n",
        "team",
        "--from-literal=p=q",
    ]);
    assert_eq!(
        c.ok(&["get", "cm", "cfg", "-n", "team", "-o", "jsonpath={.data.a}"]),
        "b"
    );
    assert_eq!(
        c.ok(&[
            "get",
            "secret",
            "pw",
            "-n",
            "team",
            "-o",
            "jsonpath={.data.p}"
        ]),
        "cQ=="
    );
    let f = c.file("deploy.yaml", DEPLOY);
    let out = c.ok(&["apply", "-f", &f]);
    assert!(out.contains("deployment.apps/web created"), "{out}");
    c.ok(&["scale", "deploy", "web", "--replicas=3"]);
    assert_eq!(
        c.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "3"
    );
    c.ok(&["label", "deploy", "web", "tier=front"]);
    assert_eq!(
        c.ok(&["get", "deploy", "-l", "tier=front", "-o", "name"])
            .trim(),
        "deployment.apps/web"
    );
    let out = c.ok(&["rollout", "status", "deploy/web", "--timeout=20s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
}
