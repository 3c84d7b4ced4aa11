//! `driftless apply` and `driftless diff` as a CI pipeline runs them: the real binary, a
//! kustomization directory on disk, and the embedded API server over HTTP. Checks the printed
//! ChangeSet, exit codes, Secret masking and that a failed build prunes nothing.

use driftless::apiserver::ApiServer;
use std::path::Path;
use std::process::Output;

struct Cluster {
    srv: ApiServer,
    dir: tempfile::TempDir,
}

impl Cluster {
    async fn start() -> Cluster {
        let srv = ApiServer::start(Default::default())
            .await
            .expect("start API server");
        let dir = tempfile::tempdir().unwrap();
        srv.write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        Cluster { srv, dir }
    }

    fn kubeconfig(&self) -> String {
        self.dir.path().join("kubeconfig").display().to_string()
    }

    /// Writes `files` into `app/` (replacing what was there).
    fn source(&self, files: &[(&str, &str)]) -> String {
        let app = self.dir.path().join("app");
        let _ = std::fs::remove_dir_all(&app);
        std::fs::create_dir_all(&app).unwrap();
        for (name, text) in files {
            std::fs::write(app.join(name), text).unwrap();
        }
        app.display().to_string()
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        let kc = self.kubeconfig();
        all.extend(["--kubeconfig", kc.as_str()]);
        tokio::process::Command::new(env!("CARGO_BIN_EXE_driftless"))
            .args(&all)
            .output()
            .await
            .unwrap()
    }

    async fn exists(&self, path: &str) -> bool {
        let client = self.srv.client().unwrap();
        let req = http::Request::get(path).body(Vec::new()).unwrap();
        client.request::<serde_json::Value>(req).await.is_ok()
    }
}

fn text(o: &Output) -> (String, String, i32) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

const KUSTOMIZATION: &str = "resources:\n- cm.yaml\n- secret.yaml\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: default\ndata:\n  a: \"1\"\n";

fn secret(pw: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: default\nstringData:\n  password: {pw}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_prints_changeset_and_reapply_is_unchanged() {
    let c = Cluster::start().await;
    let s = secret("hunter2");
    let dir = c.source(&[
        ("kustomization.yaml", KUSTOMIZATION),
        ("cm.yaml", CM),
        ("secret.yaml", &s),
    ]);
    let (out, err, code) = text(&c.run(&["apply", &dir, "--name", "app"]).await);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "ConfigMap/default/cfg created\nSecret/default/db created\n\
         2 objects: 2 created, 0 configured, 0 drifted, 0 unchanged, 0 deleted, 0 skipped\n"
    );
    let (out, _, code) = text(&c.run(&["apply", &dir, "--name", "app"]).await);
    assert_eq!(code, 0);
    assert!(
        out.ends_with(
            "2 objects: 0 created, 0 configured, 0 drifted, 2 unchanged, 0 deleted, 0 skipped\n"
        ),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_exit_codes_and_secret_masking() {
    let c = Cluster::start().await;
    let s = secret("hunter2");
    let dir = c.source(&[
        ("kustomization.yaml", KUSTOMIZATION),
        ("cm.yaml", CM),
        ("secret.yaml", &s),
    ]);
    // Nothing applied yet: everything would be created.
    let (out, err, code) = text(&c.run(&["diff", &dir, "--name", "app"]).await);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("► Secret/default/db created") && !out.contains("hunter2"),
        "{out}"
    );
    assert!(
        !c.exists("/api/v1/namespaces/default/secrets/db").await,
        "diff writes nothing"
    );

    assert_eq!(text(&c.run(&["apply", &dir, "--name", "app"]).await).2, 0);
    let (out, err, code) = text(&c.run(&["diff", &dir, "--name", "app"]).await);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");

    let s = secret("correct-horse");
    let dir = c.source(&[
        ("kustomization.yaml", KUSTOMIZATION),
        ("cm.yaml", CM),
        ("secret.yaml", &s),
    ]);
    let (out, _, code) = text(&c.run(&["diff", &dir, "--name", "app"]).await);
    assert_eq!(code, 1);
    assert!(out.contains("► Secret/default/db configured"), "{out}");
    assert!(
        out.contains("*** (before)") && out.contains("*** (after)"),
        "{out}"
    );
    assert!(
        !out.contains("hunter2") && !out.contains("correct-horse") && !out.contains("aHVudGVyMg=="),
        "{out}"
    );

    let broken = c.source(&[("kustomization.yaml", "resources:\n- missing.yaml\n")]);
    let (_, err, code) = text(&c.run(&["diff", &broken, "--name", "app"]).await);
    assert_eq!(code, 2, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_error_prunes_nothing() {
    let c = Cluster::start().await;
    let s = secret("x");
    let dir = c.source(&[
        ("kustomization.yaml", KUSTOMIZATION),
        ("cm.yaml", CM),
        ("secret.yaml", &s),
    ]);
    assert_eq!(
        text(&c.run(&["apply", &dir, "--name", "app", "--prune"]).await).2,
        0
    );
    let broken = c.source(&[
        (
            "kustomization.yaml",
            "resources:\n- cm.yaml\n- missing.yaml\n",
        ),
        ("cm.yaml", CM),
    ]);
    let (out, err, code) = text(&c.run(&["apply", &broken, "--name", "app", "--prune"]).await);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        c.exists("/api/v1/namespaces/default/secrets/db").await,
        "nothing pruned after a failed build"
    );
    let _ = Path::new(&broken);
}
