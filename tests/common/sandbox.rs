//! What the end-to-end tests start from: the example monorepo (`clusters/`, `apps/`,
//! `infrastructure/`) copied into a temp git repository on branch `main`, a sandbox reconciling
//! it, and small helpers for the objects and webhooks they add. Included with `#[path]` by the
//! tests that need it (and by bench/push_bench.rs).
#![allow(dead_code)]

use driftless::cli::sandbox::{Sandbox, SandboxArgs};
use hmac::{Hmac, Mac};
use kube::api::{Api, PostParams};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A temp copy of the example monorepo as a real git repository on branch `main`; removed on
/// drop. `.driftless/` (where kubeconfigs are written) is ignored.
pub struct TestRepo {
    dir: tempfile::TempDir,
}

impl TestRepo {
    /// The example, committed as `initial`.
    pub fn example() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for d in ["clusters", "apps", "infrastructure"] {
            let ok = Command::new("cp")
                .arg("-r")
                .arg(root.join(d))
                .arg(dir.path())
                .status()
                .expect("cp runs")
                .success();
            assert!(ok, "copy {d}");
        }
        std::fs::write(dir.path().join(".gitignore"), ".driftless/\n").expect("write");
        let repo = TestRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.commit("initial");
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `git ARGS...` in the repository; panics on failure; returns stdout, trimmed.
    pub fn git(&self, args: &[&str]) -> String {
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

    /// Commits everything (also when nothing changed).
    pub fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    /// HEAD as Flux writes a revision: `main@sha1:<sha>`.
    pub fn head(&self) -> String {
        format!("main@sha1:{}", self.git(&["rev-parse", "HEAD"]))
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).expect("read")
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    /// Replaces `from` (which must be there) with `to` in one file.
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} contains {from:?}");
        self.write(rel, &text.replace(from, to));
    }
}

/// Starts a sandbox and waits until every Kustomization is Ready.
pub async fn start_ready(args: &SandboxArgs, wait: Duration) -> Sandbox {
    let sb = Sandbox::start(args).await.expect("sandbox starts");
    sb.wait_ready(wait).await.expect("everything Ready");
    sb
}

/// Creates the object given as JSON; panics when it is invalid or the server refuses it.
pub async fn create<K>(api: &Api<K>, value: Value)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    let obj: K = serde_json::from_value(value).expect("valid object");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("created");
}

/// `sha256=<hex HMAC of body>`: GitHub's `X-Hub-Signature-256` with the webhook secret `token`.
pub fn github_signature(token: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).expect("any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
