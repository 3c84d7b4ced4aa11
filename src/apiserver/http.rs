//! The thin axum layer: routes Kubernetes REST paths to the store, negotiates Table output,
//! streams watches, serves discovery, health and metrics, and injects latency and failures.

use super::discovery;
use super::error::ApiError;
use super::patch::PatchType;
use super::registry::ResourceType;
use super::select::{FieldSelector, LabelSelector};
use super::store::{Deleted, EventType, ListOpts, Propagation, Store, WriteOpts};
use super::table;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use futures::channel::mpsc;
use futures::SinkExt;
use prometheus::{Encoder, IntCounterVec, Opts, Registry as PromRegistry, TextEncoder};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Runtime knobs of the server.
#[derive(Debug, Clone)]
pub struct Tuning {
    pub fail_rate: f64,
    pub latency: Duration,
    pub bookmark_interval: Duration,
}

/// State shared by all requests.
pub struct Shared {
    pub store: Mutex<Store>,
    pub tuning: Tuning,
    requests: IntCounterVec,
    prom: PromRegistry,
}

impl Shared {
    pub fn new(store: Store, tuning: Tuning) -> Arc<Self> {
        let prom = PromRegistry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "apiserver_request_total",
                "Counter of apiserver requests broken out by verb, resource and code.",
            ),
            &[
                "verb",
                "group",
                "version",
                "resource",
                "subresource",
                "code",
            ],
        )
        .unwrap_or_else(|_| unreachable!("static metric definition is valid"));
        let _ = prom.register(Box::new(requests.clone()));
        Arc::new(Shared {
            store: Mutex::new(store),
            tuning,
            requests,
            prom,
        })
    }

    /// Locks the store (a poisoned lock is recovered: the store has no invariants a panic breaks
    /// half-way that a later request could not live with).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The largest request body accepted (kube-apiserver allows 3 MiB objects; CRDs can be big).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The router of the whole server.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        .route("/metrics", get(metrics))
        .route("/openapi/v2", get(openapi_v2))
        .route("/openapi/v3", get(openapi_root))
        .route("/openapi/v3/{*gv}", get(openapi_gv))
        .fallback(handle)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

async fn ok() -> &'static str {
    "ok"
}

async fn version() -> Response {
    json_response(StatusCode::OK, &discovery::version())
}

/// An empty OpenAPI v2 document (zero bytes is an empty protobuf message): kubectl's client-side
/// validation then knows no schema and leaves the kind check to the REST mapping.
async fn openapi_v2() -> Response {
    (
        [("content-type", "application/octet-stream")],
        Vec::<u8>::new(),
    )
        .into_response()
}

async fn openapi_root(State(s): State<Arc<Shared>>) -> Response {
    let doc = discovery::openapi_v3_root(&s.lock().registry);
    json_response(StatusCode::OK, &doc)
}

async fn openapi_gv(
    State(s): State<Arc<Shared>>,
    axum::extract::Path(gv): axum::extract::Path<String>,
) -> Response {
    let segs: Vec<&str> = gv.split('/').collect();
    let (g, v) = match segs.as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return (StatusCode::NOT_FOUND, "404 page not found\n").into_response(),
    };
    let doc = discovery::openapi_v3_gv(&s.lock().registry, g, v);
    match doc {
        Some(d) => json_response(StatusCode::OK, &d),
        None => (StatusCode::NOT_FOUND, "404 page not found\n").into_response(),
    }
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&s.prom.gather(), &mut buf);
    ([("content-type", "text/plain; version=0.0.4")], buf).into_response()
}

fn json_response(code: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    (code, [("content-type", "application/json")], body).into_response()
}

fn error_response(e: &ApiError) -> Response {
    let code = StatusCode::from_u16(e.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = json_response(code, &e.status());
    if let ApiError::TooManyRequests(_) = e {
        r.headers_mut()
            .insert("retry-after", axum::http::HeaderValue::from_static("1"));
    }
    r
}

/// A parsed resource path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Target {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// What a path under `/api` or `/apis` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    ApiVersions,
    GroupList,
    Group(String),
    ResourceList(String, String),
    Resource(Target),
}

/// Parses `/api/v1/namespaces/ns/pods/x/status` and friends.
pub fn parse_path(path: &str) -> Option<Route> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api"] => return Some(Route::ApiVersions),
        ["apis"] => return Some(Route::GroupList),
        ["apis", g] => return Some(Route::Group(g.to_string())),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let mut t = Target {
        group: group.into(),
        version: version.into(),
        ..Default::default()
    };
    match rest {
        [] => return Some(Route::ResourceList(group.into(), version.into())),
        ["namespaces", ns, res, more @ ..] if *res != "status" && *res != "finalize" => {
            t.namespace = Some(ns.to_string());
            t.plural = res.to_string();
            match more {
                [] => {}
                [name] => t.name = Some(name.to_string()),
                [name, sub] => {
                    t.name = Some(name.to_string());
                    t.subresource = Some(sub.to_string());
                }
                _ => return None,
            }
        }
        [res] => t.plural = res.to_string(),
        [res, name] => {
            t.plural = res.to_string();
            t.name = Some(name.to_string());
        }
        [res, name, sub] => {
            t.plural = res.to_string();
            t.name = Some(name.to_string());
            t.subresource = Some(sub.to_string());
        }
        _ => return None,
    }
    Some(Route::Resource(t))
}

/// The verb label of a request, as kube-apiserver's metrics name it.
fn verb_of(
    method: &Method,
    t: &Target,
    q: &HashMap<String, String>,
    ptype: Option<PatchType>,
) -> &'static str {
    let watch = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    match (method.as_str(), t.name.is_some()) {
        ("GET", _) if watch => "WATCH",
        ("GET", true) => "GET",
        ("GET", false) => "LIST",
        ("POST", _) => "POST",
        ("PUT", _) => "PUT",
        ("PATCH", _) if ptype == Some(PatchType::Apply) => "APPLY",
        ("PATCH", _) => "PATCH",
        ("DELETE", true) => "DELETE",
        ("DELETE", false) => "DELETECOLLECTION",
        _ => "UNKNOWN",
    }
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let Some(route) = parse_path(&path) else {
        return (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
    };
    if !s.tuning.latency.is_zero() {
        tokio::time::sleep(s.tuning.latency).await;
    }
    let t = match route {
        Route::Resource(t) => t,
        Route::ApiVersions | Route::GroupList if wants_aggregated(&headers) => {
            let doc = discovery::aggregated(&s.lock().registry, route == Route::ApiVersions);
            let body = serde_json::to_vec(&doc).unwrap_or_default();
            return (
                StatusCode::OK,
                [("content-type", discovery::AGGREGATED_V2)],
                body,
            )
                .into_response();
        }
        other => {
            let store = s.lock();
            return match discovery::serve(&store.registry, &other) {
                Some(v) => json_response(StatusCode::OK, &v),
                None => error_response(&ApiError::NotFound {
                    message: "the server could not find the requested resource".into(),
                    target: Default::default(),
                }),
            };
        }
    };
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let ptype = PatchType::from_content_type(&ct);
    if matches!(method, Method::POST | Method::PUT) && !body.is_empty() && !is_json_or_yaml(&ct) {
        let e = ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ct})"
        ));
        return error_response(&e);
    }
    let verb = verb_of(&method, &t, &q, ptype);
    let label = |code: u16| {
        s.requests
            .with_label_values(&[
                verb,
                &t.group,
                &t.version,
                &t.plural,
                t.subresource.as_deref().unwrap_or(""),
                &code.to_string(),
            ])
            .inc();
    };
    if s.tuning.fail_rate > 0.0 && fastrand::f64() < s.tuning.fail_rate {
        let e = match fastrand::u8(..3) {
            0 => ApiError::Internal("injected failure (--fail-rate)".into()),
            1 => ApiError::TooManyRequests(
                "injected throttling (--fail-rate): please try again later".into(),
            ),
            _ => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                ApiError::Timeout(
                    "Timeout: request did not complete within requested timeout (injected)".into(),
                )
            }
        };
        label(e.code());
        return error_response(&e);
    }
    let rt = {
        let store = s.lock();
        store
            .registry
            .lookup(&t.group, &t.version, &t.plural)
            .cloned()
    };
    let Some(rt) = rt else {
        let e = ApiError::NotFound {
            message: "the server could not find the requested resource".into(),
            target: Default::default(),
        };
        label(404);
        return error_response(&e);
    };
    if verb == "WATCH" {
        label(200);
        return watch(s.clone(), rt, t, q, &headers);
    }
    let resp = dispatch(&s, &rt, &t, &q, &headers, &method, ptype, &body);
    let resp = match resp {
        Ok((code, v)) => json_response(code, &v),
        Err(e) => error_response(&e),
    };
    label(resp.status().as_u16());
    resp
}

fn is_json_or_yaml(ct: &str) -> bool {
    let base = ct.split(';').next().unwrap_or_default().trim();
    base.is_empty()
        || base == "application/json"
        || base == "application/yaml"
        || base == "*/*"
        || base == PROTOBUF
}

/// Whether the client prefers aggregated discovery v2 (listed before plain JSON).
fn wants_aggregated(headers: &HeaderMap) -> bool {
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("g=apidiscovery.k8s.io") && first.contains("v=v2;"))
        || accept.split(',').any(|a| {
            a.trim()
                .starts_with("application/json;g=apidiscovery.k8s.io;v=v2;")
        })
}

fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"))
}

fn list_opts(q: &HashMap<String, String>) -> Result<ListOpts, ApiError> {
    let continue_after = match q.get("continue").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::BadRequest("continue key is not valid".into()))?;
            let (ns, name) = raw
                .split_once('/')
                .ok_or_else(|| ApiError::BadRequest("continue key is not valid".into()))?;
            Some((ns.to_string(), name.to_string()))
        }
    };
    Ok(ListOpts {
        labels: LabelSelector::parse(
            q.get("labelSelector")
                .map(String::as_str)
                .unwrap_or_default(),
        )?,
        fields: FieldSelector::parse(
            q.get("fieldSelector")
                .map(String::as_str)
                .unwrap_or_default(),
        )?,
        limit: q
            .get("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0),
        continue_after,
    })
}

fn write_opts(q: &HashMap<String, String>, headers: &HeaderMap) -> WriteOpts {
    let given = q.get("fieldManager").filter(|m| !m.is_empty()).cloned();
    let manager = given.clone().unwrap_or_else(|| {
        let ua = headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("unknown");
        ua.split('/').next().unwrap_or("unknown").to_string()
    });
    WriteOpts {
        dry_run: q.get("dryRun").is_some_and(|d| d == "All"),
        manager_given: given.is_some(),
        manager,
        force: q.get("force").is_some_and(|f| f == "true" || f == "1"),
    }
}

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

fn parse_body(body: &[u8], headers: &HeaderMap) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::BadRequest("the request body is empty".into()));
    }
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct.split(';').next().unwrap_or_default().trim() == PROTOBUF {
        return super::protobuf::decode(body);
    }
    serde_json::from_slice(body)
        .or_else(|_| serde_yaml::from_slice(body))
        .map_err(|e| {
            ApiError::BadRequest(format!(
                "the object provided is unrecognized or malformed: {e}"
            ))
        })
}

type Outcome = Result<(StatusCode, Value), ApiError>;

#[allow(clippy::too_many_arguments)]
fn dispatch(
    s: &Shared,
    rt: &ResourceType,
    t: &Target,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    method: &Method,
    ptype: Option<PatchType>,
    body: &[u8],
) -> Outcome {
    let ns = t.namespace.clone().unwrap_or_default();
    if !rt.namespaced && t.namespace.is_some() {
        return Err(ApiError::NotFound {
            message: "the server could not find the requested resource".into(),
            target: Default::default(),
        });
    }
    if t.subresource.as_deref() == Some("scale") && rt.group == "apps" && rt.kind != "DaemonSet" {
        let name = t.name.as_deref().unwrap_or_default();
        return scale(s, rt, &ns, name, method, ptype, body, headers, q);
    }
    let status = match t.subresource.as_deref() {
        None => false,
        Some("status") if rt.status_subresource => true,
        Some("finalize") if rt.kind == "Namespace" => false,
        Some(_) => {
            return Err(ApiError::NotFound {
                message: "the server could not find the requested resource".into(),
                target: Default::default(),
            })
        }
    };
    let table = wants_table(headers);
    let opts = write_opts(q, headers);
    let mut store = s.lock();
    match (method.as_str(), t.name.as_deref()) {
        ("GET", Some(name)) => {
            let o = store.get(rt, &ns, name)?;
            if table {
                Ok((
                    StatusCode::OK,
                    table::table(rt, std::slice::from_ref(&o), store.resource_version(), q),
                ))
            } else {
                Ok((StatusCode::OK, o))
            }
        }
        ("GET", None) => {
            let lo = list_opts(q)?;
            let scope = if rt.namespaced {
                t.namespace.as_deref()
            } else {
                None
            };
            let page = store.list(rt, scope, &lo);
            let cont = page
                .continue_after
                .as_ref()
                .map(|(n, m)| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{n}/{m}"))
                })
                .unwrap_or_default();
            if table {
                let mut tb = table::table(rt, &page.items, page.resource_version, q);
                if !cont.is_empty() {
                    tb["metadata"]["continue"] = json!(cont);
                }
                return Ok((StatusCode::OK, tb));
            }
            let mut metadata = json!({"resourceVersion": page.resource_version.to_string()});
            if !cont.is_empty() {
                metadata["continue"] = json!(cont);
                metadata["remainingItemCount"] = json!(page.remaining);
            }
            Ok((
                StatusCode::OK,
                json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(), "metadata": metadata, "items": page.items}),
            ))
        }
        ("POST", None) => {
            let obj = parse_body(body, headers)?;
            Ok((StatusCode::CREATED, store.create(rt, &ns, obj, &opts)?))
        }
        ("PUT", Some(name)) => {
            let obj = parse_body(body, headers)?;
            Ok((
                StatusCode::OK,
                store.update(rt, &ns, name, obj, status, &opts)?,
            ))
        }
        ("PATCH", Some(name)) => {
            let ptype = ptype.ok_or_else(|| {
                ApiError::UnsupportedMediaType(format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {:?})",
                    headers.get("content-type")
                ))
            })?;
            let (o, created) = store.patch(rt, &ns, name, ptype, body, status, &opts)?;
            Ok((
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                o,
            ))
        }
        ("DELETE", Some(name)) => {
            let d: Value = if body.is_empty() {
                json!({})
            } else {
                parse_body(body, headers)?
            };
            let prop = propagation(
                q.get("propagationPolicy")
                    .map(String::as_str)
                    .or(d.get("propagationPolicy").and_then(Value::as_str)),
            );
            let dry = opts.dry_run
                || d.get("dryRun")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|x| x == "All"));
            let pre_rv = d
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str);
            let pre_uid = d.pointer("/preconditions/uid").and_then(Value::as_str);
            match store.delete(rt, &ns, name, prop, pre_rv, pre_uid, dry)? {
                Deleted::Pending(o) => Ok((StatusCode::OK, o)),
                Deleted::Gone(o) => {
                    let uid = o.pointer("/metadata/uid").cloned().unwrap_or(Value::Null);
                    Ok((
                        StatusCode::OK,
                        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                               "details": {"name": name, "group": rt.group, "kind": rt.plural, "uid": uid}}),
                    ))
                }
            }
        }
        ("DELETE", None) => {
            let lo = list_opts(q)?;
            let prop = propagation(q.get("propagationPolicy").map(String::as_str));
            let scope = if rt.namespaced {
                t.namespace.as_deref()
            } else {
                None
            };
            let items = store.delete_collection(rt, scope, &lo, prop, opts.dry_run)?;
            Ok((
                StatusCode::OK,
                json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(),
                       "metadata": {"resourceVersion": store.resource_version().to_string()}, "items": items}),
            ))
        }
        _ => Err(ApiError::MethodNotAllowed(format!(
            "the server does not allow this method on the requested resource ({method})"
        ))),
    }
}

/// The `autoscaling/v1` Scale view of a workload.
fn scale_of(obj: &Value) -> Value {
    let labels = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object);
    let selector: Vec<String> = labels
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": obj.pointer("/metadata/name"), "namespace": obj.pointer("/metadata/namespace"),
            "uid": obj.pointer("/metadata/uid"), "resourceVersion": obj.pointer("/metadata/resourceVersion"),
            "creationTimestamp": obj.pointer("/metadata/creationTimestamp")},
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector.join(",")}})
}

/// GET, PUT and PATCH of the `scale` subresource of Deployments, StatefulSets and ReplicaSets.
#[allow(clippy::too_many_arguments)]
fn scale(
    s: &Shared,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    method: &Method,
    ptype: Option<PatchType>,
    body: &[u8],
    headers: &HeaderMap,
    q: &HashMap<String, String>,
) -> Outcome {
    let opts = &write_opts(q, headers);
    let mut store = s.lock();
    let current = store.get(rt, ns, name)?;
    let mut sc = scale_of(&current);
    match method.as_str() {
        "GET" => return Ok((StatusCode::OK, sc)),
        "PUT" => sc = parse_body(body, headers)?,
        "PATCH" => {
            let p: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::BadRequest(format!("error decoding patch: {e}")))?;
            match ptype {
                Some(PatchType::Json) => super::patch::json_patch(&mut sc, &p)?,
                Some(PatchType::Merge) | Some(PatchType::Strategic) => {
                    super::patch::merge_patch(&mut sc, &p)
                }
                _ => {
                    return Err(ApiError::UnsupportedMediaType(
                        "unsupported patch type for scale".into(),
                    ))
                }
            }
        }
        _ => {
            return Err(ApiError::MethodNotAllowed(format!(
                "{method} is not allowed on scale"
            )))
        }
    }
    let replicas = sc
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::invalid(
                "Scale",
                "autoscaling",
                name,
                vec![super::error::Cause {
                    reason: "FieldValueRequired".into(),
                    field: "spec.replicas".into(),
                    message: "Required value".into(),
                }],
            )
        })?;
    let patch = serde_json::to_vec(&json!({"spec": {"replicas": replicas}})).unwrap_or_default();
    let (updated, _) = store.patch(rt, ns, name, PatchType::Merge, &patch, false, opts)?;
    Ok((StatusCode::OK, scale_of(&updated)))
}

fn propagation(p: Option<&str>) -> Propagation {
    match p {
        Some("Orphan") => Propagation::Orphan,
        Some("Foreground") => Propagation::Foreground,
        _ => Propagation::Background,
    }
}

fn watch_line(ty: &str, obj: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": ty, "object": obj})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

/// Streams watch events as newline-delimited JSON.
fn watch(
    s: Arc<Shared>,
    rt: ResourceType,
    t: Target,
    q: HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let table = wants_table(headers);
    let mut q = q;
    if let Some(name) = &t.name {
        // `GET .../<name>?watch=1` watches that one object.
        let sel = match q.get("fieldSelector").filter(|f| !f.is_empty()) {
            Some(f) => format!("{f},metadata.name={name}"),
            None => format!("metadata.name={name}"),
        };
        q.insert("fieldSelector".into(), sel);
    }
    let lo = match list_opts(&q) {
        Ok(lo) => lo,
        Err(e) => return error_response(&e),
    };
    let from_rv = q.get("resourceVersion").and_then(|r| r.parse::<u64>().ok());
    let send_initial = q.get("sendInitialEvents").is_some_and(|v| v == "true");
    let from_rv = if send_initial { None } else { from_rv };
    let bookmarks = q
        .get("allowWatchBookmarks")
        .is_some_and(|v| v == "true" || v == "1");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let scope = if rt.namespaced {
        t.namespace.clone()
    } else {
        None
    };
    let started = {
        let store = s.lock();
        store.watch(&rt, scope.as_deref(), from_rv)
    };
    let (mut tx, rx) = mpsc::channel::<Result<Bytes, std::convert::Infallible>>(64);
    let bookmark_every = s.tuning.bookmark_interval;
    let render = {
        let rt = rt.clone();
        let q = q.clone();
        move |obj: &Value, rv: u64| -> Value {
            let mut o = obj.clone();
            if rt.custom {
                o["apiVersion"] = Value::String(rt.api_version());
            }
            if table {
                table::table(&rt, std::slice::from_ref(&o), rv, &q)
            } else {
                o
            }
        }
    };
    tokio::spawn(async move {
        let mut start = match started {
            Ok(w) => w,
            Err(e) => {
                let _ = tx.send(Ok(watch_line("ERROR", &e.status()))).await;
                return;
            }
        };
        let deadline = timeout.map(|d| tokio::time::Instant::now() + d);
        let mut last_rv = start.start_rv;
        for ev in &start.initial {
            if lo.labels.matches(&ev.object) && lo.fields.matches(&ev.object) {
                let line = watch_line(ev.kind.as_str(), &render(&ev.object, ev.rv));
                if tx.send(Ok(line)).await.is_err() {
                    return;
                }
            }
        }
        if send_initial {
            let bm = json!({"kind": rt.kind, "apiVersion": rt.api_version(),
                "metadata": {"resourceVersion": last_rv.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}});
            if tx.send(Ok(watch_line("BOOKMARK", &bm))).await.is_err() {
                return;
            }
        }
        let mut ticker = tokio::time::interval(bookmark_every);
        ticker.tick().await;
        loop {
            let sleep_until = deadline
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600 * 24));
            tokio::select! {
                _ = tokio::time::sleep_until(sleep_until) => return,
                _ = ticker.tick(), if bookmarks => {
                    let bm = json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": {"resourceVersion": last_rv.to_string()}});
                    if tx.send(Ok(watch_line("BOOKMARK", &bm))).await.is_err() {
                        return;
                    }
                }
                ev = start.rx.recv() => {
                    let ev = match ev {
                        Ok(ev) => ev,
                        Err(_) => return,
                    };
                    if ev.rv <= start.start_rv {
                        continue;
                    }
                    // Bookmarks may carry any later version: nothing of ours happened in between.
                    last_rv = ev.rv;
                    if ev.group != rt.group || ev.plural != rt.plural {
                        continue;
                    }
                    if scope.as_deref().is_some_and(|n| n != ev.namespace) {
                        continue;
                    }
                    if !(lo.labels.matches(&ev.object) && lo.fields.matches(&ev.object)) {
                        continue;
                    }
                    let kind = if ev.kind == EventType::Deleted { "DELETED" } else { ev.kind.as_str() };
                    if tx.send(Ok(watch_line(kind, &render(&ev.object, ev.rv)))).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("transfer-encoding", "chunked")
        .body(Body::from_stream(rx))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaced_object_and_subresource_paths() {
        let Some(Route::Resource(t)) =
            parse_path("/apis/apps/v1/namespaces/ns/deployments/web/status")
        else {
            panic!("expected resource")
        };
        assert_eq!(
            (t.group.as_str(), t.plural.as_str()),
            ("apps", "deployments")
        );
        assert_eq!(t.namespace.as_deref(), Some("ns"));
        assert_eq!(t.name.as_deref(), Some("web"));
        assert_eq!(t.subresource.as_deref(), Some("status"));
    }

    #[test]
    fn namespace_status_is_a_subresource_not_a_collection() {
        let Some(Route::Resource(t)) = parse_path("/api/v1/namespaces/team/status") else {
            panic!("resource")
        };
        assert_eq!(t.plural, "namespaces");
        assert_eq!(t.name.as_deref(), Some("team"));
        assert_eq!(t.subresource.as_deref(), Some("status"));
        let Some(Route::Resource(t)) = parse_path("/api/v1/namespaces/team/configmaps") else {
            panic!("resource")
        };
        assert_eq!(t.plural, "configmaps");
        assert_eq!(t.namespace.as_deref(), Some("team"));
    }

    #[test]
    fn discovery_paths_are_recognised() {
        assert_eq!(parse_path("/api"), Some(Route::ApiVersions));
        assert_eq!(parse_path("/apis"), Some(Route::GroupList));
        assert_eq!(
            parse_path("/apis/apps/v1"),
            Some(Route::ResourceList("apps".into(), "v1".into()))
        );
        assert_eq!(parse_path("/foo"), None);
    }
}
