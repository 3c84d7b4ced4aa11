//! Tests of fetching over git's smart HTTP protocol: a tiny axum server runs the real
//! `git http-backend` as a CGI program (with basic-auth or bearer-token checking) and records
//! every request, so the tests can see what a fetch costs on the wire.

use super::testrepo::Upstream;
use super::*;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use tokio::io::AsyncWriteExt;

/// What the server requires in the `Authorization` header.
#[derive(Clone)]
enum Required {
    Basic(&'static str, &'static str),
    Bearer(&'static str),
}

struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

struct Shared {
    root: PathBuf,
    required: Required,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Serves the repositories below `root` on 127.0.0.1 (a free port).
    fn start(root: &Path, required: Required) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            root: root.to_path_buf(),
            required,
            requests: requests.clone(),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new().fallback(cgi).with_state(shared);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Server {
            port,
            requests,
            _shutdown: tx,
        }
    }

    fn url(&self, repo: &str) -> String {
        format!("http://127.0.0.1:{}/{repo}", self.port)
    }

    fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().expect("requests"))
    }
}

fn authorized(required: &Required, headers: &HeaderMap) -> bool {
    let got = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match required {
        Required::Basic(u, p) => {
            let want = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            got == format!("Basic {want}")
        }
        Required::Bearer(t) => got == format!("Bearer {t}"),
    }
}

/// The CGI shim: checks credentials, then hands the request to `git http-backend`.
async fn cgi(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let ok = authorized(&shared.required, &parts.headers);
    shared.requests.lock().expect("requests").push(format!(
        "{} {path}?{query}{}",
        parts.method,
        if ok { "" } else { " (401)" }
    ));
    if !ok {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("WWW-Authenticate", "Basic realm=\"git\"")
            .body(Body::empty())
            .expect("response");
    }
    let body: Bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &shared.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", &path)
        .env("QUERY_STRING", &query)
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_USER", "test")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("git http-backend");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let out = child.wait_with_output().await.expect("http-backend output");
    let _ = writer.await;
    cgi_response(&out.stdout, parts.method)
}

/// Turns CGI output (headers, blank line, body) into an HTTP response.
fn cgi_response(out: &[u8], method: Method) -> Response {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            out.windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        })
        .unwrap_or((out.len(), out.len()));
    let head = String::from_utf8_lossy(&out[..split.0]).to_string();
    let mut resp = Response::builder().status(StatusCode::OK);
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("status") {
            let code = v
                .split_whitespace()
                .next()
                .and_then(|c| c.parse::<u16>().ok())
                .unwrap_or(500);
            resp = resp.status(code);
        } else {
            resp = resp.header(k.trim(), v);
        }
    }
    let body = if method == Method::HEAD {
        Vec::new()
    } else {
        out[split.1..].to_vec()
    };
    resp.body(Body::from(body)).expect("response")
}

/// An upstream repository served as `/repo.git` below a served root.
fn served_upstream() -> (tempfile::TempDir, Upstream) {
    let root = tempfile::tempdir().expect("root");
    let up = Upstream::new();
    std::os::unix::fs::symlink(up.path(), root.path().join("repo.git")).expect("symlink");
    (root, up)
}

fn fetched(outcome: Result<FetchOutcome>) -> Artifact {
    match outcome {
        Ok(FetchOutcome::Fetched(a)) => a,
        other => panic!("expected Fetched, got {other:?}"),
    }
}

fn main_ref() -> GitRef {
    GitRef {
        branch: Some("main".into()),
        ..GitRef::default()
    }
}

#[test]
fn fetches_over_smart_http_with_basic_auth() {
    let (root, up) = served_upstream();
    let c = up.commit("main", &[("app.yaml", "kind: A\n")], "one");
    let server = Server::start(root.path(), Required::Basic("bob", "pa55-word"));
    let cache = tempfile::tempdir().expect("cache");
    let s = GitSource {
        url: server.url("repo.git"),
        reference: main_ref(),
        auth: Some(GitAuth::Basic {
            username: "bob".into(),
            password: "pa55-word".into(),
        }),
        timeout: Some(std::time::Duration::from_secs(20)),
        ..GitSource::default()
    };
    let a = fetched(fetch(&s, cache.path(), None));
    assert_eq!(a.revision, format!("main@sha1:{c}"));
    assert_eq!(
        std::fs::read_to_string(a.dir.join("app.yaml")).expect("read"),
        "kind: A\n"
    );
    let reqs = server.take_requests();
    assert!(
        reqs.iter()
            .any(|r| r.starts_with("POST /repo.git/git-upload-pack")),
        "{reqs:?}"
    );
}

#[test]
fn wrong_or_missing_credentials_are_fetch_errors_without_secrets() {
    let (root, up) = served_upstream();
    up.commit("main", &[("app.yaml", "kind: A\n")], "one");
    let server = Server::start(root.path(), Required::Basic("bob", "right-pw"));
    let cache = tempfile::tempdir().expect("cache");
    let wrong = GitSource {
        url: server.url("repo.git"),
        reference: main_ref(),
        auth: Some(GitAuth::Basic {
            username: "bob".into(),
            password: "wrong-pw-42".into(),
        }),
        ..GitSource::default()
    };
    match fetch(&wrong, cache.path(), None) {
        Err(e @ Error::Fetch { .. }) => {
            let text = format!("{e} {e:?}");
            assert!(!text.contains("wrong-pw-42"), "{text}");
            assert!(text.contains(&server.url("repo.git")), "{text}");
            assert!(text.contains("rejected the credentials"), "{text}");
        }
        other => panic!("expected a fetch error, got {other:?}"),
    }
    let anonymous = GitSource {
        auth: None,
        ..wrong
    };
    assert!(matches!(
        fetch(&anonymous, cache.path(), None),
        Err(Error::Fetch { .. })
    ));
}

#[test]
fn unchanged_remote_over_http_costs_only_the_ref_advertisement() {
    let (root, up) = served_upstream();
    up.commit("main", &[("app.yaml", "kind: A\n")], "one");
    let server = Server::start(root.path(), Required::Basic("bob", "pw"));
    let cache = tempfile::tempdir().expect("cache");
    let s = GitSource {
        url: server.url("repo.git"),
        reference: main_ref(),
        auth: Some(GitAuth::Basic {
            username: "bob".into(),
            password: "pw".into(),
        }),
        ..GitSource::default()
    };
    let first = fetched(fetch(&s, cache.path(), None));
    server.take_requests();
    assert_eq!(
        fetch(&s, cache.path(), Some(&first)).expect("fetch"),
        FetchOutcome::Unchanged
    );
    let reqs = server.take_requests();
    let served: Vec<&String> = reqs.iter().filter(|r| !r.ends_with("(401)")).collect();
    assert_eq!(
        served,
        vec!["GET /repo.git/info/refs?service=git-upload-pack"],
        "all requests: {reqs:?}"
    );

    let c2 = up.commit("main", &[("app.yaml", "kind: B\n")], "two");
    let second = fetched(fetch(&s, cache.path(), Some(&first)));
    assert_eq!(second.revision, format!("main@sha1:{c2}"));
    let reqs = server.take_requests();
    assert_eq!(
        reqs.iter()
            .filter(|r| r.starts_with("GET /repo.git/info/refs") && !r.ends_with("(401)"))
            .count(),
        1,
        "one advertisement, reused for the download: {reqs:?}"
    );
}

#[test]
fn bearer_token_is_sent_as_authorization_header() {
    let (root, up) = served_upstream();
    let c = up.commit("main", &[("app.yaml", "kind: A\n")], "one");
    let server = Server::start(root.path(), Required::Bearer("tok-123"));
    let cache = tempfile::tempdir().expect("cache");
    let s = GitSource {
        url: server.url("repo.git"),
        reference: main_ref(),
        auth: Some(GitAuth::Bearer {
            token: "tok-123".into(),
        }),
        ..GitSource::default()
    };
    let a = fetched(fetch(&s, cache.path(), None));
    assert_eq!(a.revision, format!("main@sha1:{c}"));
    let bad = GitSource {
        auth: Some(GitAuth::Bearer {
            token: "tok-999".into(),
        }),
        ..s
    };
    match fetch(&bad, cache.path(), None) {
        Err(e @ Error::Fetch { .. }) => assert!(!format!("{e}").contains("tok-999"), "{e}"),
        other => panic!("expected a fetch error, got {other:?}"),
    }
}
