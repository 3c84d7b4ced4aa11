//! The receiver router served on 127.0.0.1:0, called over real HTTP: a valid GitHub push
//! triggers; bad, missing and replayed signatures are 401 and trigger nothing; oversized bodies
//! are 413; unknown paths 404; unwanted event types 202 with nothing triggered.

use driftless::receiver::{
    router, webhook_path, ReceiverConfig, ReceiverRef, ReceiverType, Registry, ResourceRef,
    Trigger, DEFAULT_BODY_LIMIT,
};
use hmac::{Hmac, Mac};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "gh-webhook-token-1";
const PUSH: &[u8] =
    br#"{"ref":"refs/heads/main","after":"4f2a9c1e","repository":{"full_name":"acme/fleet"}}"#;

struct Server {
    base: String,
    triggered: Arc<Mutex<Vec<ReceiverRef>>>,
    path: String,
    registry: Registry,
}

async fn serve(kind: ReceiverType, body_limit: usize) -> Server {
    let registry = Registry::new();
    let path = registry.upsert(ReceiverConfig {
        name: "github-receiver".into(),
        namespace: "flux-system".into(),
        kind,
        token: TOKEN.into(),
        events: vec!["push".into()],
        resources: vec![ResourceRef {
            api_version: "source.toolkit.fluxcd.io/v1".into(),
            kind: "GitRepository".into(),
            name: "fleet".into(),
            namespace: String::new(),
        }],
        suspend: false,
    });
    let triggered = Arc::new(Mutex::new(Vec::new()));
    let sink = triggered.clone();
    let trigger: Trigger = Arc::new(move |r: ReceiverRef| sink.lock().unwrap().push(r));
    let app = router(registry.clone(), trigger, body_limit);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        triggered,
        path,
        registry,
    }
}

fn github_sig(token: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post(url: &str, headers: &[(&str, String)], body: Vec<u8>) -> u16 {
    let mut req = reqwest::Client::new().post(url).body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn webhook_path_is_flux_sha256_of_token_name_namespace() {
    let s = serve(ReceiverType::Github, DEFAULT_BODY_LIMIT).await;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{TOKEN}github-receiverflux-system").as_bytes());
    assert_eq!(s.path, format!("/hook/{}", hex::encode(digest)));
    assert_eq!(
        s.path,
        webhook_path(TOKEN, "github-receiver", "flux-system")
    );
}

#[tokio::test]
async fn valid_github_push_triggers_the_target_source() {
    let s = serve(ReceiverType::Github, DEFAULT_BODY_LIMIT).await;
    let code = post(
        &format!("{}{}", s.base, s.path),
        &[
            ("X-Hub-Signature-256", github_sig(TOKEN, PUSH)),
            ("X-GitHub-Event", "push".into()),
            ("Content-Type", "application/json".into()),
        ],
        PUSH.to_vec(),
    )
    .await;
    assert_eq!(code, 200);
    let t = s.triggered.lock().unwrap().clone();
    assert_eq!(
        t,
        vec![ReceiverRef {
            name: "github-receiver".into(),
            namespace: "flux-system".into(),
            resources: vec![ResourceRef {
                api_version: "source.toolkit.fluxcd.io/v1".into(),
                kind: "GitRepository".into(),
                name: "fleet".into(),
                namespace: "flux-system".into(),
            }],
            event: Some("push".into()),
        }]
    );
}

#[tokio::test]
async fn bad_or_missing_signature_is_401_and_triggers_nothing() {
    let s = serve(ReceiverType::Github, DEFAULT_BODY_LIMIT).await;
    let url = format!("{}{}", s.base, s.path);
    let mut tampered = PUSH.to_vec();
    tampered.extend_from_slice(b" ");
    let bad = post(
        &url,
        &[
            ("X-Hub-Signature-256", github_sig(TOKEN, PUSH)),
            ("X-GitHub-Event", "push".into()),
        ],
        tampered,
    )
    .await;
    assert_eq!(bad, 401);
    let garbage = post(
        &url,
        &[
            ("X-Hub-Signature-256", "sha256=zz".into()),
            ("X-GitHub-Event", "push".into()),
        ],
        PUSH.to_vec(),
    )
    .await;
    assert_eq!(garbage, 401);
    let missing = post(&url, &[("X-GitHub-Event", "push".into())], PUSH.to_vec()).await;
    assert_eq!(missing, 401);
    assert!(s.triggered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn replayed_body_signed_with_another_token_is_401() {
    let s = serve(ReceiverType::Github, DEFAULT_BODY_LIMIT).await;
    // A genuine delivery to some other receiver (other token), replayed against ours.
    let code = post(
        &format!("{}{}", s.base, s.path),
        &[
            (
                "X-Hub-Signature-256",
                github_sig("someone-elses-token", PUSH),
            ),
            ("X-GitHub-Event", "push".into()),
        ],
        PUSH.to_vec(),
    )
    .await;
    assert_eq!(code, 401);
    assert!(s.triggered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn oversized_body_is_413_and_triggers_nothing() {
    let s = serve(ReceiverType::Github, 1024).await;
    let big = vec![b'x'; 4096];
    let code = post(
        &format!("{}{}", s.base, s.path),
        &[
            ("X-Hub-Signature-256", github_sig(TOKEN, &big)),
            ("X-GitHub-Event", "push".into()),
        ],
        big,
    )
    .await;
    assert_eq!(code, 413);
    assert!(s.triggered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_path_is_404() {
    let s = serve(ReceiverType::Github, DEFAULT_BODY_LIMIT).await;
    let wrong = webhook_path("guess", "github-receiver", "flux-system");
    let code = post(
        &format!("{}{}", s.base, wrong),
        &[
            ("X-Hub-Signature-256", github_sig(TOKEN, PUSH)),
            ("X-GitHub-Event", "push".into()),
        ],
        PUSH.to_vec(),
    )
    .await;
    assert_eq!(code, 404);
    // A removed receiver's path is gone too.
    s.registry.remove("flux-system", "github-receiver");
    let code = post(
        &format!("{}{}", s.base, s.path),
        &[
            ("X-Hub-Signature-256", github_sig(TOKEN, PUSH)),
            ("X-GitHub-Event", "push".into()),
        ],
        PUSH.to_vec(),
    )
    .await;
    assert_eq!(code, 404);
    assert!(s.triggered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unwanted_event_type_is_202_and_triggers_nothing() {
    let s = serve(ReceiverType::Github, DEFAULT_BODY_LIMIT).await;
    let url = format!("{}{}", s.base, s.path);
    for event in ["issues", "ping"] {
        let code = post(
            &url,
            &[
                ("X-Hub-Signature-256", github_sig(TOKEN, PUSH)),
                ("X-GitHub-Event", event.into()),
            ],
            PUSH.to_vec(),
        )
        .await;
        assert_eq!(code, 202, "{event}");
    }
    assert!(s.triggered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn gitlab_token_header_and_generic_path_over_http() {
    let s = serve(ReceiverType::Gitlab, DEFAULT_BODY_LIMIT).await;
    let url = format!("{}{}", s.base, s.path);
    let wrong = post(
        &url,
        &[
            ("X-Gitlab-Token", "nope".into()),
            ("X-Gitlab-Event", "Push Hook".into()),
        ],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(wrong, 401);
    assert!(s.triggered.lock().unwrap().is_empty());

    let g = serve(ReceiverType::Generic, DEFAULT_BODY_LIMIT).await;
    let ok = post(&format!("{}{}", g.base, g.path), &[], Vec::new()).await;
    assert_eq!(ok, 200);
    assert_eq!(g.triggered.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn oversized_chunked_body_without_length_is_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = serve(ReceiverType::Github, 1024).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\
         X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=00\r\nConnection: close\r\n\r\n",
        s.path
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..8 {
        let chunk = vec![b'x'; 512];
        let _ = conn
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await;
        let _ = conn.write_all(&chunk).await;
        let _ = conn.write_all(b"\r\n").await;
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut resp = Vec::new();
    let _ = conn.read_to_end(&mut resp).await;
    let status = String::from_utf8_lossy(&resp);
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert!(s.triggered.lock().unwrap().is_empty());
}
