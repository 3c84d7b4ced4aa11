//! Tests of fetching over ssh against a real OpenSSH server (`/usr/sbin/sshd` started on a
//! free 127.0.0.1 port with its own host key and authorized key). They check key
//! authentication and host-key verification against `known_hosts`. When sshd is not
//! installed (Debian package `openssh-server`) they print a notice and check nothing.

use super::testrepo::Upstream;
use super::*;
use std::process::{Child, Command, Stdio};

const SSHD: &str = "/usr/sbin/sshd";

struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(status.success(), "ssh-keygen failed");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

impl Sshd {
    /// Starts sshd, or returns None (with a notice) when it is not installed.
    fn start() -> Option<Sshd> {
        if !Path::new(SSHD).exists() {
            eprintln!(
                "notice: {SSHD} not installed (openssh-server); ssh fetch test checks nothing"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys"))
            .expect("authorized_keys");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {auth}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             StrictModes no\nUsePAM no\nPermitRootLogin yes\nPidFile {pid}\n",
            host = d.join("host_key").display(),
            auth = d.join("authorized_keys").display(),
            pid = d.join("sshd.pid").display(),
        );
        std::fs::write(d.join("sshd_config"), config).expect("sshd_config");
        // Privilege separation directory sshd insists on when run as root.
        let _ = std::fs::create_dir_all("/run/sshd");
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd");
        let server = Sshd { dir, port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    fn url(&self, repo: &Path) -> String {
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| {
                let out = Command::new("id").arg("-un").output().expect("id -un");
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            });
        format!("ssh://{user}@127.0.0.1:{}{}", self.port, repo.display())
    }

    /// A known_hosts line for this server with the given public key file.
    fn known_hosts(&self, pub_file: &str) -> String {
        let key = read(&self.dir.path().join(pub_file));
        let mut fields = key.split_whitespace();
        let (kind, blob) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        format!("[127.0.0.1]:{} {kind} {blob}\n", self.port)
    }

    fn auth(&self, known_hosts: String) -> GitAuth {
        GitAuth::Ssh {
            identity: read(&self.dir.path().join("client_key")),
            passphrase: None,
            known_hosts,
        }
    }
}

fn main_ref() -> GitRef {
    GitRef {
        branch: Some("main".into()),
        ..GitRef::default()
    }
}

#[test]
fn fetches_over_ssh_with_a_key_after_verifying_known_hosts() {
    let Some(sshd) = Sshd::start() else { return };
    let up = Upstream::new();
    let c = up.commit("main", &[("app.yaml", "kind: A\n")], "one");
    let cache = tempfile::tempdir().expect("cache");
    let s = GitSource {
        url: sshd.url(up.path()),
        reference: main_ref(),
        auth: Some(sshd.auth(sshd.known_hosts("host_key.pub"))),
        timeout: Some(Duration::from_secs(20)),
        ..GitSource::default()
    };
    let a = match fetch(&s, cache.path(), None) {
        Ok(FetchOutcome::Fetched(a)) => a,
        other => panic!("expected Fetched, got {other:?}"),
    };
    assert_eq!(a.revision, format!("main@sha1:{c}"));
    assert_eq!(
        std::fs::read_to_string(a.dir.join("app.yaml")).expect("read"),
        "kind: A\n"
    );
    assert_eq!(
        fetch(&s, cache.path(), Some(&a)).expect("fetch"),
        FetchOutcome::Unchanged
    );
}

#[test]
fn ssh_host_key_not_in_known_hosts_is_rejected() {
    let Some(sshd) = Sshd::start() else { return };
    let up = Upstream::new();
    up.commit("main", &[("app.yaml", "kind: A\n")], "one");
    let cache = tempfile::tempdir().expect("cache");
    // known_hosts lists the client key for this host: a different key than the server's.
    let s = GitSource {
        url: sshd.url(up.path()),
        reference: main_ref(),
        auth: Some(sshd.auth(sshd.known_hosts("client_key.pub"))),
        ..GitSource::default()
    };
    match fetch(&s, cache.path(), None) {
        Err(Error::Fetch { message, .. }) => {
            assert!(message.contains("does not match known_hosts"), "{message}");
            assert!(!message.contains("PRIVATE KEY"), "{message}");
        }
        other => panic!("expected a fetch error, got {other:?}"),
    }
    let empty = GitSource {
        auth: Some(sshd.auth(String::new())),
        ..s
    };
    assert!(matches!(
        fetch(&empty, cache.path(), None),
        Err(Error::Fetch { .. })
    ));
}

#[test]
fn ssh_key_not_authorized_is_a_fetch_error() {
    let Some(sshd) = Sshd::start() else { return };
    let up = Upstream::new();
    up.commit("main", &[("app.yaml", "kind: A\n")], "one");
    let other = tempfile::tempdir().expect("tempdir");
    keygen(&other.path().join("key"));
    let cache = tempfile::tempdir().expect("cache");
    let s = GitSource {
        url: sshd.url(up.path()),
        reference: main_ref(),
        auth: Some(GitAuth::Ssh {
            identity: read(&other.path().join("key")),
            passphrase: None,
            known_hosts: sshd.known_hosts("host_key.pub"),
        }),
        ..GitSource::default()
    };
    assert!(matches!(
        fetch(&s, cache.path(), None),
        Err(Error::Fetch { .. })
    ));
}
