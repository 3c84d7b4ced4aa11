//! Webhook receivers (`notification.toolkit.fluxcd.io/v1` Receiver): the path Flux computes,
//! request verification per type, and an axum `Router` the agent mounts on `--webhook-addr`.
//!
//! ```text
//!  POST /hook/<hex sha256(token+name+namespace)>
//!    unknown or suspended path ─► 404
//!    body > limit              ─► 413
//!    bad or missing signature  ─► 401           (nothing triggered)
//!    event type not wanted     ─► 202           (nothing triggered)
//!    valid                     ─► trigger(ReceiverRef) ─► 200
//! ```
//!
//! | type           | check                                                                  | event header     |
//! |----------------|------------------------------------------------------------------------|------------------|
//! | `github`       | `X-Hub-Signature-256: sha256=<hmac>` (else `X-Hub-Signature: sha1=`)   | `X-GitHub-Event` |
//! | `gitlab`       | `X-Gitlab-Token` equals the token                                      | `X-Gitlab-Event` |
//! | `gitea`        | `X-Gitea-Signature: <hex hmac-sha256>` (else `X-Hub-Signature-256`)    | `X-Gitea-Event`  |
//! | `bitbucket`    | as github (Bitbucket Server sends `X-Hub-Signature: sha256=<hmac>`)    | `X-Event-Key`    |
//! | `generic`      | the secret path only                                                   | —                |
//! | `generic-hmac` | `X-Signature: sha256=<hmac>` or `sha1=<hmac>`                          | —                |
//!
//! The agent keeps a `Registry` in sync with Receivers and their Secrets and serves `router`:
//!
//! ```no_run
//! # async fn demo(cfg: driftless::receiver::ReceiverConfig) {
//! use driftless::receiver::*;
//! use std::sync::Arc;
//! let registry = Registry::new();
//! let webhook_path = registry.upsert(cfg); // goes to status.webhookPath
//! let trigger: Trigger = Arc::new(|r: ReceiverRef| {
//!     // patch requested_at_patch() onto every r.resources entry
//! });
//! let app = router(registry.clone(), trigger, DEFAULT_BODY_LIMIT);
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:9292").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```
//!
//! Every comparison of secret-derived bytes (signatures, tokens, paths) is constant-time.
//! Flux has no `gitea` receiver type (Gitea users pick `github`); ours reads Gitea's own
//! headers. GitHub `ping` events are acknowledged (202) and trigger nothing.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use subtle::ConstantTimeEq;

/// The path prefix Flux serves receivers under.
pub const WEBHOOK_PREFIX: &str = "/hook/";
/// Default request body limit: 1 MiB (GitHub caps payloads at 25 MB; pushes are far smaller).
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// Receiver types driftless verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReceiverType {
    Generic,
    GenericHmac,
    Github,
    Gitlab,
    Gitea,
    Bitbucket,
}

impl ReceiverType {
    /// The `spec.type` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverType::Generic => "generic",
            ReceiverType::GenericHmac => "generic-hmac",
            ReceiverType::Github => "github",
            ReceiverType::Gitlab => "gitlab",
            ReceiverType::Gitea => "gitea",
            ReceiverType::Bitbucket => "bitbucket",
        }
    }
}

impl fmt::Display for ReceiverType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReceiverType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "generic" => ReceiverType::Generic,
            "generic-hmac" => ReceiverType::GenericHmac,
            "github" => ReceiverType::Github,
            "gitlab" => ReceiverType::Gitlab,
            "gitea" => ReceiverType::Gitea,
            "bitbucket" => ReceiverType::Bitbucket,
            other => return Err(format!("unsupported receiver type {other:?}")),
        })
    }
}

/// An object a receiver triggers (`spec.resources[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// Empty means the Receiver's namespace.
    pub namespace: String,
}

/// A Receiver as the agent registers it: spec plus the token read from its Secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverConfig {
    pub name: String,
    pub namespace: String,
    pub kind: ReceiverType,
    /// The Secret's `token`.
    pub token: String,
    /// Wanted event types (case-insensitive); empty means all.
    pub events: Vec<String>,
    pub resources: Vec<ResourceRef>,
    pub suspend: bool,
}

impl ReceiverConfig {
    /// `/hook/<hex sha256(token + name + namespace)>`, the value of `status.webhookPath`.
    pub fn webhook_path(&self) -> String {
        webhook_path(&self.token, &self.name, &self.namespace)
    }
}

/// `/hook/<hex sha256(token + name + namespace)>`, exactly as Flux computes it.
pub fn webhook_path(token: &str, name: &str, namespace: &str) -> String {
    let digest = Sha256::digest(format!("{token}{name}{namespace}").as_bytes());
    format!("{WEBHOOK_PREFIX}{}", hex::encode(digest))
}

/// What a verified call asks for; handed to the trigger callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverRef {
    pub name: String,
    pub namespace: String,
    /// The objects to annotate with `reconcile.fluxcd.io/requestedAt` (namespaces filled in).
    pub resources: Vec<ResourceRef>,
    /// The event type header, when the type has one.
    pub event: Option<String>,
}

/// A verified request: trigger, or acknowledge and ignore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Trigger { event: Option<String> },
    Ignore { event: String },
}

/// Why a request was refused (all answered 401).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("malformed {0} header")]
    Malformed(&'static str),
    #[error("{0} does not match")]
    Mismatch(&'static str),
}

/// Checks a request against a receiver: signature or token first, then the event filter.
pub fn verify(
    r: &ReceiverConfig,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verdict, VerifyError> {
    let event_header = match r.kind {
        ReceiverType::Generic => None,
        ReceiverType::GenericHmac => {
            let sig = header(headers, "X-Signature")?;
            check_prefixed_hmac("X-Signature", sig, r.token.as_bytes(), body)?;
            None
        }
        ReceiverType::Github => {
            check_hub_signature(headers, r.token.as_bytes(), body)?;
            Some("X-GitHub-Event")
        }
        ReceiverType::Gitlab => {
            let token = header(headers, "X-Gitlab-Token")?;
            if !ct_eq(token.as_bytes(), r.token.as_bytes()) {
                return Err(VerifyError::Mismatch("X-Gitlab-Token"));
            }
            Some("X-Gitlab-Event")
        }
        ReceiverType::Gitea => {
            if let Ok(sig) = header(headers, "X-Gitea-Signature") {
                let given = hex::decode(sig.trim())
                    .map_err(|_| VerifyError::Malformed("X-Gitea-Signature"))?;
                if !ct_eq(&given, &hmac_sha256(r.token.as_bytes(), body)) {
                    return Err(VerifyError::Mismatch("X-Gitea-Signature"));
                }
            } else {
                let sig = header(headers, "X-Hub-Signature-256")
                    .map_err(|_| VerifyError::MissingHeader("X-Gitea-Signature"))?;
                check_prefixed_hmac("X-Hub-Signature-256", sig, r.token.as_bytes(), body)?;
            }
            Some("X-Gitea-Event")
        }
        ReceiverType::Bitbucket => {
            check_hub_signature(headers, r.token.as_bytes(), body)?;
            Some("X-Event-Key")
        }
    };
    let Some(name) = event_header else {
        return Ok(Verdict::Trigger { event: None });
    };
    let event = headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if r.kind == ReceiverType::Github && event.eq_ignore_ascii_case("ping") {
        return Ok(Verdict::Ignore { event });
    }
    if !r.events.is_empty() && !r.events.iter().any(|e| e.eq_ignore_ascii_case(&event)) {
        return Ok(Verdict::Ignore { event });
    }
    Ok(Verdict::Trigger { event: Some(event) })
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, VerifyError> {
    let v = headers.get(name).ok_or(VerifyError::MissingHeader(name))?;
    let s = v.to_str().map_err(|_| VerifyError::Malformed(name))?;
    if s.trim().is_empty() {
        return Err(VerifyError::MissingHeader(name));
    }
    Ok(s)
}

/// GitHub-style signatures, as go-github's `ValidatePayload` (used by Flux for github and
/// bitbucket) reads them: `X-Hub-Signature-256` when present, else `X-Hub-Signature`, either
/// `sha256=<hex>` or `sha1=<hex>`.
fn check_hub_signature(headers: &HeaderMap, key: &[u8], body: &[u8]) -> Result<(), VerifyError> {
    if let Ok(sig) = header(headers, "X-Hub-Signature-256") {
        return check_prefixed_hmac("X-Hub-Signature-256", sig, key, body);
    }
    let sig = header(headers, "X-Hub-Signature")
        .map_err(|_| VerifyError::MissingHeader("X-Hub-Signature-256"))?;
    check_prefixed_hmac("X-Hub-Signature", sig, key, body)
}

/// `sha256=<hex>` or `sha1=<hex>` (as go-github's `ValidateSignature` accepts).
fn check_prefixed_hmac(
    name: &'static str,
    value: &str,
    key: &[u8],
    body: &[u8],
) -> Result<(), VerifyError> {
    let (algo, hexsig) = value
        .trim()
        .split_once('=')
        .ok_or(VerifyError::Malformed(name))?;
    let given = hex::decode(hexsig).map_err(|_| VerifyError::Malformed(name))?;
    let expected = match algo {
        "sha256" => hmac_sha256(key, body),
        "sha1" => {
            let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key)
                .map_err(|_| VerifyError::Malformed(name))?;
            mac.update(body);
            mac.finalize().into_bytes().to_vec()
        }
        _ => return Err(VerifyError::Malformed(name)),
    };
    if ct_eq(&given, &expected) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch(name))
    }
}

fn hmac_sha256(key: &[u8], body: &[u8]) -> Vec<u8> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(body);
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC accepts any key length; an empty result never matches a signature.
        Err(_) => Vec::new(),
    }
}

/// Constant-time equality (the length is not secret).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The annotation a verified call sets on each target, as in Flux.
pub const REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";

/// The JSON merge patch that requests a reconcile now: `metadata.annotations
/// ["reconcile.fluxcd.io/requestedAt"] = <RFC 3339 now, nanoseconds>`. Sub-second precision
/// (Flux writes `RFC3339Nano` too) matters: two pushes within one second must still change
/// the value, or the second patch is a no-op and its commit waits for the interval.
pub fn requested_at_patch() -> serde_json::Value {
    serde_json::json!({"metadata": {"annotations": {
        REQUESTED_AT_ANNOTATION: now_rfc3339_nano()
    }}})
}

/// `YYYY-MM-DDTHH:MM:SS.fffffffffZ` with trailing zeros trimmed, as Go's `RFC3339Nano`.
fn now_rfc3339_nano() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = crate::apiserver::time::format_rfc3339(now.as_secs() as i64);
    let base = secs.strip_suffix('Z').unwrap_or(&secs);
    let frac = format!("{:09}", now.subsec_nanos());
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{base}Z")
    } else {
        format!("{base}.{frac}Z")
    }
}

/// What the router calls for every verified call.
pub type Trigger = Arc<dyn Fn(ReceiverRef) + Send + Sync>;

/// The receivers the router serves; the agent updates it as Receivers and Secrets change.
#[derive(Clone, Default)]
pub struct Registry {
    entries: Arc<RwLock<Vec<(String, ReceiverConfig)>>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds or replaces the receiver `namespace/name`; returns its webhook path.
    pub fn upsert(&self, r: ReceiverConfig) -> String {
        let path = r.webhook_path();
        if let Ok(mut e) = self.entries.write() {
            e.retain(|(_, x)| !(x.name == r.name && x.namespace == r.namespace));
            e.push((path.clone(), r));
        }
        path
    }

    /// Removes the receiver `namespace/name`.
    pub fn remove(&self, namespace: &str, name: &str) {
        if let Ok(mut e) = self.entries.write() {
            e.retain(|(_, x)| !(x.name == name && x.namespace == namespace));
        }
    }

    /// The unsuspended receiver at `path`. Compares every registered path in constant time,
    /// so response timing does not reveal how much of a guessed path was right.
    pub fn lookup(&self, path: &str) -> Option<ReceiverConfig> {
        let entries = self.entries.read().ok()?;
        let mut found = None;
        for (p, r) in entries.iter() {
            if ct_eq(p.as_bytes(), path.as_bytes()) && !r.suspend {
                found = Some(r.clone());
            }
        }
        found
    }
}

#[derive(Clone)]
struct AppState {
    registry: Registry,
    trigger: Trigger,
    body_limit: usize,
}

/// The `/hook/{digest}` router.
pub fn router(registry: Registry, trigger: Trigger, body_limit: usize) -> Router {
    Router::new()
        .route("/hook/{digest}", post(handle))
        .with_state(AppState {
            registry,
            trigger,
            body_limit,
        })
}

async fn handle(
    State(st): State<AppState>,
    Path(digest): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = format!("{WEBHOOK_PREFIX}{digest}");
    let Some(rcv) = st.registry.lookup(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(len) = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > st.body_limit {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
    }
    let bytes = match axum::body::to_bytes(body, st.body_limit).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    match verify(&rcv, &headers, &bytes) {
        Err(e) => (StatusCode::UNAUTHORIZED, e.to_string()).into_response(),
        Ok(Verdict::Ignore { event }) => {
            (StatusCode::ACCEPTED, format!("event {event:?} ignored")).into_response()
        }
        Ok(Verdict::Trigger { event }) => {
            let resources = rcv
                .resources
                .iter()
                .map(|res| ResourceRef {
                    namespace: if res.namespace.is_empty() {
                        rcv.namespace.clone()
                    } else {
                        res.namespace.clone()
                    },
                    ..res.clone()
                })
                .collect();
            (st.trigger)(ReceiverRef {
                name: rcv.name.clone(),
                namespace: rcv.namespace.clone(),
                resources,
                event,
            });
            StatusCode::OK.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rcv(kind: ReceiverType) -> ReceiverConfig {
        ReceiverConfig {
            name: "gh".into(),
            namespace: "flux-system".into(),
            kind,
            token: "s3cret".into(),
            events: vec!["push".into()],
            resources: vec![],
            suspend: false,
        }
    }

    fn hdrs(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn sig256(key: &str, body: &[u8]) -> String {
        format!("sha256={}", hex::encode(hmac_sha256(key.as_bytes(), body)))
    }

    #[test]
    fn webhook_path_is_sha256_of_token_name_namespace() {
        // printf '%s' 's3cretghflux-system' | sha256sum
        let expected = hex::encode(Sha256::digest(b"s3cretghflux-system"));
        assert_eq!(
            webhook_path("s3cret", "gh", "flux-system"),
            format!("/hook/{expected}")
        );
        assert_eq!(webhook_path("s3cret", "gh", "flux-system").len(), 6 + 64);
    }

    #[test]
    fn github_sha256_signature_and_event_filter() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let r = rcv(ReceiverType::Github);
        let ok = hdrs(&[
            ("X-Hub-Signature-256", sig256("s3cret", body)),
            ("X-GitHub-Event", "push".into()),
        ]);
        assert_eq!(
            verify(&r, &ok, body),
            Ok(Verdict::Trigger {
                event: Some("push".into())
            })
        );
        let issue = hdrs(&[
            ("X-Hub-Signature-256", sig256("s3cret", body)),
            ("X-GitHub-Event", "issues".into()),
        ]);
        assert!(matches!(
            verify(&r, &issue, body),
            Ok(Verdict::Ignore { .. })
        ));
        let bad = hdrs(&[
            ("X-Hub-Signature-256", sig256("other", body)),
            ("X-GitHub-Event", "push".into()),
        ]);
        assert_eq!(
            verify(&r, &bad, body),
            Err(VerifyError::Mismatch("X-Hub-Signature-256"))
        );
        assert!(verify(&r, &HeaderMap::new(), body).is_err());
        // Legacy SHA-1 header, used when the SHA-256 one is absent.
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(b"s3cret").unwrap();
        mac.update(body);
        let legacy = hdrs(&[
            (
                "X-Hub-Signature",
                format!("sha1={}", hex::encode(mac.finalize().into_bytes())),
            ),
            ("X-GitHub-Event", "push".into()),
        ]);
        assert!(matches!(
            verify(&r, &legacy, body),
            Ok(Verdict::Trigger { .. })
        ));
    }

    #[test]
    fn gitlab_compares_the_token_header() {
        let r = rcv(ReceiverType::Gitlab);
        let ok = hdrs(&[
            ("X-Gitlab-Token", "s3cret".into()),
            ("X-Gitlab-Event", "Push".into()),
        ]);
        assert!(matches!(verify(&r, &ok, b""), Ok(Verdict::Trigger { .. })));
        let bad = hdrs(&[
            ("X-Gitlab-Token", "s3cre".into()),
            ("X-Gitlab-Event", "push".into()),
        ]);
        assert!(verify(&r, &bad, b"").is_err());
    }

    #[test]
    fn gitea_accepts_bare_hex_signature() {
        let body = b"{}";
        let r = rcv(ReceiverType::Gitea);
        let ok = hdrs(&[
            (
                "X-Gitea-Signature",
                hex::encode(hmac_sha256(b"s3cret", body)),
            ),
            ("X-Gitea-Event", "push".into()),
        ]);
        assert!(matches!(verify(&r, &ok, body), Ok(Verdict::Trigger { .. })));
        let bad = hdrs(&[
            ("X-Gitea-Signature", hex::encode(hmac_sha256(b"x", body))),
            ("X-Gitea-Event", "push".into()),
        ]);
        assert!(verify(&r, &bad, body).is_err());
    }

    #[test]
    fn bitbucket_and_generic_hmac_accept_prefixed_signatures() {
        let body = b"payload";
        let mut r = rcv(ReceiverType::Bitbucket);
        r.events = vec![];
        let ok = hdrs(&[("X-Hub-Signature", sig256("s3cret", body))]);
        assert!(matches!(verify(&r, &ok, body), Ok(Verdict::Trigger { .. })));
        r.kind = ReceiverType::GenericHmac;
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(b"s3cret").unwrap();
        mac.update(body);
        let sha1sig = format!("sha1={}", hex::encode(mac.finalize().into_bytes()));
        assert!(verify(&r, &hdrs(&[("X-Signature", sha1sig)]), body).is_ok());
        assert!(verify(&r, &hdrs(&[("X-Signature", sig256("s3cret", body))]), body).is_ok());
        assert!(verify(&r, &hdrs(&[("X-Signature", "md5=00".into())]), body).is_err());
    }

    #[test]
    fn requested_at_patch_sets_the_flux_annotation_to_now() {
        let patch = requested_at_patch();
        let at = patch["metadata"]["annotations"][REQUESTED_AT_ANNOTATION]
            .as_str()
            .unwrap();
        let secs = crate::apiserver::time::parse_rfc3339(at).unwrap();
        assert!((crate::apiserver::time::unix_now() - secs).abs() < 5);
    }

    #[test]
    fn requested_at_changes_between_two_calls_within_a_second() {
        let at =
            || requested_at_patch()["metadata"]["annotations"][REQUESTED_AT_ANNOTATION].clone();
        let first = at();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = at();
        assert_ne!(first, second, "a second push must change the annotation");
        assert!(second.as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn suspended_receivers_are_not_found() {
        let reg = Registry::new();
        let mut r = rcv(ReceiverType::Generic);
        let path = reg.upsert(r.clone());
        assert!(reg.lookup(&path).is_some());
        r.suspend = true;
        reg.upsert(r);
        assert!(reg.lookup(&path).is_none());
    }
}
