//! Apply-engine scenarios against the embedded API server, over real HTTP through `kube::Client`:
//! staged apply (CRD + CR, Namespace + contents), zero-write re-apply, drift correction, prune
//! and its safety rules, failed applies and deletes, immutable fields, health waits and diffs.

use driftless::apiserver::{ApiServer, Options as ServerOptions};
use driftless::apply::{Action, Engine, Error, Options, Owner, Report};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Fixtures

async fn server() -> ApiServer {
    ApiServer::start(ServerOptions {
        controller_interval: Duration::from_millis(50),
        ..Default::default()
    })
    .await
    .expect("start embedded API server")
}

fn opts(name: &str) -> Options {
    let mut o = Options::new(Owner {
        name: name.into(),
        namespace: "default".into(),
    });
    o.timeout = Duration::from_secs(10);
    o.poll_interval = Duration::from_millis(50);
    o
}

fn cm(ns: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":name,"namespace":ns},"data":data})
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":name}})
}

fn deployment(ns: &str, name: &str, app: &str, annotations: Value) -> Value {
    json!({"apiVersion":"apps/v1","kind":"Deployment",
        "metadata":{"name":name,"namespace":ns,"annotations":annotations},
        "spec":{"replicas":1,"selector":{"matchLabels":{"app":app}},
            "template":{"metadata":{"labels":{"app":app}},
                "spec":{"containers":[{"name":"app","image":"nginx:1.27","ports":[{"containerPort":80}]}]}}}})
}

fn crd() -> Value {
    json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
        "metadata":{"name":"widgets.example.com"},
        "spec":{"group":"example.com","scope":"Namespaced",
            "names":{"kind":"Widget","plural":"widgets","singular":"widget","listKind":"WidgetList"},
            "versions":[{"name":"v1","served":true,"storage":true,
                "subresources":{"status":{}},
                "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})
}

fn widget(ns: &str, name: &str) -> Value {
    json!({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":name,"namespace":ns},"spec":{"size":3}})
}

fn actions(r: &Report) -> BTreeMap<String, String> {
    r.changes
        .changes
        .iter()
        .map(|c| (c.object.to_string(), c.action.to_string()))
        .collect()
}

fn assert_ok(r: &Report) {
    assert!(
        r.is_success(),
        "apply failed: {:?}\n{}",
        r.errors,
        r.changes
    );
}

async fn get(client: &kube::Client, path: &str) -> Option<Value> {
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    match client.request::<Value>(req).await {
        Ok(v) => Some(v),
        Err(kube::Error::Api(s)) if s.code == 404 => None,
        Err(e) => panic!("GET {path}: {e}"),
    }
}

/// `apiserver_request_total` summed per verb, from the server's own /metrics.
async fn request_counts(client: &kube::Client) -> BTreeMap<String, f64> {
    let req = http::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = client.request_text(req).await.expect("GET /metrics");
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        let Some((labels, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let verb = labels
            .split(['{', ',', '}'])
            .find_map(|kv| kv.strip_prefix("verb=\""))
            .map(|v| v.trim_end_matches('"').to_string())
            .unwrap_or_default();
        *out.entry(verb).or_insert(0.0) += value.parse::<f64>().unwrap_or(0.0);
    }
    out
}

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, verbs: &[&str]) -> f64 {
    verbs
        .iter()
        .map(|v| after.get(*v).copied().unwrap_or(0.0) - before.get(*v).copied().unwrap_or(0.0))
        .sum()
}

const WRITE_VERBS: &[&str] = &[
    "POST",
    "PUT",
    "PATCH",
    "APPLY",
    "DELETE",
    "DELETECOLLECTION",
    "CREATE",
    "UPDATE",
];
const ALL_VERBS: &[&str] = &[
    "GET",
    "LIST",
    "WATCH",
    "POST",
    "PUT",
    "PATCH",
    "APPLY",
    "DELETE",
    "DELETECOLLECTION",
    "CREATE",
    "UPDATE",
];

// ---------------------------------------------------------------------------------------------
// Staged apply

#[tokio::test]
async fn crd_and_custom_resource_apply_together() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    // Given in the "wrong" order on purpose: the plan must put the CRD first.
    let r = engine
        .apply(vec![widget("default", "w1"), crd()], &opts("crd"))
        .await;
    assert_ok(&r);
    assert_eq!(
        actions(&r)
            .get("CustomResourceDefinition/widgets.example.com")
            .map(String::as_str),
        Some("created")
    );
    assert_eq!(
        actions(&r).get("Widget/default/w1").map(String::as_str),
        Some("created")
    );
    let w = get(
        &client,
        "/apis/example.com/v1/namespaces/default/widgets/w1",
    )
    .await
    .expect("widget exists");
    assert_eq!(
        w.pointer("/metadata/labels/kustomize.toolkit.fluxcd.io~1name"),
        Some(&json!("crd"))
    );
    assert_eq!(w.pointer("/spec/size"), Some(&json!(3)));
}

#[tokio::test]
async fn custom_resource_without_its_crd_names_the_object_and_kind() {
    let srv = server().await;
    let mut engine = Engine::new(srv.client().unwrap());
    let r = engine
        .apply(vec![widget("default", "w1")], &opts("nocrd"))
        .await;
    let msg = r
        .errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        matches!(r.errors.first(), Some(Error::UnknownKind { .. })),
        "{msg}"
    );
    assert!(
        msg.contains("Widget/default/w1") && msg.contains("CustomResourceDefinition"),
        "{msg}"
    );
}

#[tokio::test]
async fn namespace_and_its_objects_apply_together() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let r = engine
        .apply(
            vec![
                deployment("shop", "web", "web", json!({})),
                cm("shop", "cfg", json!({"a":"1"})),
                namespace("shop"),
            ],
            &{
                let mut o = opts("shop");
                o.revision = "main@sha1:0123abcd".into();
                o
            },
        )
        .await;
    assert_ok(&r);
    let lines: Vec<String> = r.changes.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "Namespace/shop created",
            "ConfigMap/shop/cfg created",
            "Deployment/shop/web created"
        ]
    );
    assert!(
        get(&client, "/apis/apps/v1/namespaces/shop/deployments/web")
            .await
            .is_some()
    );
    // The inventory is recorded in Flux's format.
    let inv = engine
        .load_inventory(&Owner {
            name: "shop".into(),
            namespace: "default".into(),
        })
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<&str> = inv.entries.iter().map(|e| e.id.as_str()).collect();
    assert!(inv.digest.starts_with("sha256:") && inv.revision == "main@sha1:0123abcd");
    let cm = get(
        &client,
        "/api/v1/namespaces/default/configmaps/driftless-inventory-shop",
    )
    .await
    .unwrap();
    assert_eq!(
        cm.pointer("/data/revision"),
        Some(&json!("main@sha1:0123abcd"))
    );
    assert_eq!(cm.pointer("/data/digest"), Some(&json!(inv.digest)));
    assert_eq!(
        ids,
        vec![
            "_shop__Namespace",
            "shop_cfg__ConfigMap",
            "shop_web_apps_Deployment"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Change detection

fn app_set() -> Vec<Value> {
    vec![
        namespace("shop"),
        cm("shop", "cfg", json!({"a":"1"})),
        json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"shop"},"stringData":{"password":"hunter2"}}),
        json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},
            "spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}),
        deployment("shop", "web", "web", json!({})),
    ]
}

#[tokio::test]
async fn reapply_is_all_unchanged_with_zero_writes() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    // --wait: the Deployment's status is updated by its controller after the apply, which moves
    // its resourceVersion; that alone must not cost a dry-run later.
    let mut first = opts("shop");
    first.wait = true;
    assert_ok(&engine.apply(app_set(), &first).await);
    let live = get(&client, "/apis/apps/v1/namespaces/shop/deployments/web")
        .await
        .unwrap();
    assert_eq!(live.pointer("/status/readyReplicas"), Some(&json!(1)));

    // A fresh engine, as a new `driftless apply` process would have.
    let mut engine = Engine::new(client.clone());
    let before = request_counts(&client).await;
    let r = engine.apply(app_set(), &opts("shop")).await;
    let after = request_counts(&client).await;
    assert_ok(&r);
    assert!(
        r.changes
            .changes
            .iter()
            .all(|c| c.action == Action::Unchanged),
        "{}",
        r.changes
    );
    assert_eq!(r.changes.changes.len(), 5);
    assert_eq!(
        delta(&before, &after, WRITE_VERBS),
        0.0,
        "no write on a no-op apply: {before:?} -> {after:?}"
    );
    // One inventory GET + one LIST per kind (5 kinds); the /metrics read itself is not an API request.
    let total = delta(&before, &after, ALL_VERBS);
    assert_eq!(
        total, 6.0,
        "no-op apply: kinds+1 = 6 requests: {before:?} -> {after:?}"
    );
    assert_eq!(delta(&before, &after, &["LIST"]), 5.0);
    assert_eq!(
        delta(&before, &after, &["APPLY"]),
        0.0,
        "not even a dry-run"
    );
}

#[tokio::test]
async fn edit_by_someone_else_is_reported_drifted_and_corrected() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    assert_ok(&engine.apply(app_set(), &opts("shop")).await);

    // Someone edits a field driftless owns, as `kubectl edit` would (another field manager).
    edit_configmap(&srv, &client, "shop", "cfg", "a", "edited").await;
    let live = get(&client, "/api/v1/namespaces/shop/configmaps/cfg")
        .await
        .unwrap();
    assert_eq!(live.pointer("/data/a"), Some(&json!("edited")));

    let r = engine.apply(app_set(), &opts("shop")).await;
    assert_ok(&r);
    let a = actions(&r);
    assert_eq!(
        a.get("ConfigMap/shop/cfg").map(String::as_str),
        Some("drifted"),
        "{}",
        r.changes
    );
    assert_eq!(
        a.get("Deployment/shop/web").map(String::as_str),
        Some("unchanged")
    );
    let live = get(&client, "/api/v1/namespaces/shop/configmaps/cfg")
        .await
        .unwrap();
    assert_eq!(
        live.pointer("/data/a"),
        Some(&json!("1")),
        "drift corrected"
    );
}

/// Edits a ConfigMap key with kubectl when it is on PATH (field manager `kubectl-patch`),
/// else with a merge patch from another field manager.
async fn edit_configmap(
    srv: &ApiServer,
    client: &kube::Client,
    ns: &str,
    name: &str,
    key: &str,
    value: &str,
) {
    let patch = json!({"data": {key: value}}).to_string();
    let kubectl = std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok();
    if kubectl {
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("kubeconfig");
        srv.write_kubeconfig(&kc).unwrap();
        let out = tokio::process::Command::new("kubectl")
            .args([
                "--kubeconfig",
                kc.to_str().unwrap(),
                "-n",
                ns,
                "patch",
                "configmap",
                name,
                "--type",
                "merge",
                "-p",
                &patch,
            ])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl patch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        let req = http::Request::patch(format!(
            "/api/v1/namespaces/{ns}/configmaps/{name}?fieldManager=kubectl-edit"
        ))
        .header("Content-Type", "application/merge-patch+json")
        .body(patch.into_bytes())
        .unwrap();
        client.request::<Value>(req).await.unwrap();
    }
}

#[tokio::test]
async fn changed_source_is_reported_configured() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    assert_ok(
        &engine
            .apply(vec![cm("default", "c", json!({"a":"1"}))], &opts("c"))
            .await,
    );
    let r = engine
        .apply(vec![cm("default", "c", json!({"a":"2"}))], &opts("c"))
        .await;
    assert_ok(&r);
    assert_eq!(
        r.changes.to_string().lines().next(),
        Some("ConfigMap/default/c configured")
    );
    let live = get(&client, "/api/v1/namespaces/default/configmaps/c")
        .await
        .unwrap();
    assert_eq!(live.pointer("/data/a"), Some(&json!("2")));
}

// ---------------------------------------------------------------------------------------------
// Prune

#[tokio::test]
async fn object_removed_from_source_is_pruned() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let mut o = opts("p");
    o.prune = true;
    assert_ok(
        &engine
            .apply(
                vec![
                    cm("default", "keep", json!({})),
                    cm("default", "gone", json!({})),
                ],
                &o,
            )
            .await,
    );
    let r = engine
        .apply(vec![cm("default", "keep", json!({}))], &o)
        .await;
    assert_ok(&r);
    assert_eq!(
        actions(&r)
            .get("ConfigMap/default/gone")
            .map(String::as_str),
        Some("deleted")
    );
    assert!(get(&client, "/api/v1/namespaces/default/configmaps/gone")
        .await
        .is_none());
    assert!(get(&client, "/api/v1/namespaces/default/configmaps/keep")
        .await
        .is_some());
    let inv = engine.load_inventory(&o.owner).await.unwrap().unwrap();
    assert_eq!(inv.entries.len(), 1);
}

#[tokio::test]
async fn prune_disabled_and_foreign_objects_are_kept() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let mut o = opts("p");
    o.prune = true;
    let mut keep = cm("default", "keep-me", json!({}));
    keep["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/prune": "disabled"});
    assert_ok(
        &engine
            .apply(vec![keep, cm("default", "taken", json!({}))], &o)
            .await,
    );
    // Another owner takes over "taken" (its ownership labels now name someone else).
    let mut other = opts("other");
    other.prune = true;
    assert_ok(
        &engine
            .apply(vec![cm("default", "taken", json!({}))], &other)
            .await,
    );

    let r = engine.apply(vec![], &o).await;
    assert_ok(&r);
    let a = actions(&r);
    assert_eq!(
        a.get("ConfigMap/default/keep-me").map(String::as_str),
        Some("skipped (prune: disabled)")
    );
    assert_eq!(
        a.get("ConfigMap/default/taken").map(String::as_str),
        Some("skipped (ownership labels do not match)")
    );
    assert!(
        get(&client, "/api/v1/namespaces/default/configmaps/keep-me")
            .await
            .is_some()
    );
    assert!(get(&client, "/api/v1/namespaces/default/configmaps/taken")
        .await
        .is_some());
}

#[tokio::test]
async fn protected_namespaces_are_never_pruned() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let mut o = opts("ns");
    o.prune = true;
    o.agent_namespace = Some("driftless-system".into());
    let all = vec![
        namespace("default"),
        namespace("kube-public"),
        namespace("driftless-system"),
        namespace("scratch"),
    ];
    assert_ok(&engine.apply(all, &o).await);
    let r = engine.apply(vec![], &o).await;
    assert_ok(&r);
    let a = actions(&r);
    assert_eq!(
        a.get("Namespace/default").map(String::as_str),
        Some("skipped (protected namespace)")
    );
    assert_eq!(
        a.get("Namespace/kube-public").map(String::as_str),
        Some("skipped (protected namespace)")
    );
    assert_eq!(
        a.get("Namespace/driftless-system").map(String::as_str),
        Some("skipped (driftless runs in this namespace)")
    );
    assert_eq!(
        a.get("Namespace/scratch").map(String::as_str),
        Some("deleted")
    );
    for ns in ["default", "kube-public", "driftless-system"] {
        let live = get(&client, &format!("/api/v1/namespaces/{ns}"))
            .await
            .expect("namespace kept");
        assert!(
            live.pointer("/metadata/deletionTimestamp").is_none(),
            "{ns} is not terminating"
        );
    }
}

#[tokio::test]
async fn failed_apply_prunes_nothing() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let mut o = opts("f");
    o.prune = true;
    assert_ok(
        &engine
            .apply(
                vec![cm("default", "a", json!({})), cm("default", "b", json!({}))],
                &o,
            )
            .await,
    );
    // The new source drops "b" but holds an object that cannot be applied.
    let r = engine
        .apply(
            vec![cm("default", "a", json!({})), widget("default", "w")],
            &o,
        )
        .await;
    assert!(!r.is_success());
    assert!(
        r.changes
            .changes
            .iter()
            .all(|c| c.action != Action::Deleted),
        "{}",
        r.changes
    );
    assert!(
        get(&client, "/api/v1/namespaces/default/configmaps/b")
            .await
            .is_some(),
        "nothing pruned after a failed apply"
    );
    // ... and "b" is still in the inventory, so a later good apply prunes it.
    let r = engine.apply(vec![cm("default", "a", json!({}))], &o).await;
    assert_ok(&r);
    assert_eq!(
        actions(&r).get("ConfigMap/default/b").map(String::as_str),
        Some("deleted")
    );
}

#[tokio::test]
async fn failed_delete_stays_in_inventory_and_is_retried() {
    let srv = server().await;
    let proxy = DenyDeletes::start(srv.client().unwrap()).await;
    let client = proxy.client();
    let mut engine = Engine::new(client.clone());
    let mut o = opts("r");
    o.prune = true;
    assert_ok(
        &engine
            .apply(
                vec![cm("default", "a", json!({})), cm("default", "b", json!({}))],
                &o,
            )
            .await,
    );

    proxy.deny(true);
    let r = engine.apply(vec![cm("default", "a", json!({}))], &o).await;
    assert!(
        matches!(r.errors.as_slice(), [Error::PruneFailed(_)]),
        "{:?}",
        r.errors
    );
    assert!(
        r.errors[0].to_string().contains("ConfigMap/default/b"),
        "{}",
        r.errors[0]
    );
    let inv = engine.load_inventory(&o.owner).await.unwrap().unwrap();
    assert!(
        inv.get("default_b__ConfigMap").is_some(),
        "failed delete kept in the inventory"
    );

    proxy.deny(false);
    let r = engine.apply(vec![cm("default", "a", json!({}))], &o).await;
    assert_ok(&r);
    assert_eq!(
        actions(&r).get("ConfigMap/default/b").map(String::as_str),
        Some("deleted")
    );
    assert!(get(&client, "/api/v1/namespaces/default/configmaps/b")
        .await
        .is_none());
}

/// A real HTTP proxy in front of the API server that can refuse DELETE requests (as an
/// admission webhook would), so prune failures are exercised end to end.
struct DenyDeletes {
    addr: std::net::SocketAddr,
    deny: std::sync::Arc<std::sync::atomic::AtomicBool>,
    _task: tokio::task::JoinHandle<()>,
}

impl DenyDeletes {
    async fn start(upstream: kube::Client) -> DenyDeletes {
        use axum::body::{to_bytes, Body};
        use axum::response::IntoResponse;
        let deny = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = deny.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let upstream = upstream.clone();
            let flag = flag.clone();
            async move {
                if req.method() == http::Method::DELETE && flag.load(std::sync::atomic::Ordering::SeqCst) {
                    let status = json!({"kind":"Status","apiVersion":"v1","status":"Failure","code":403,
                        "reason":"Forbidden","message":"admission webhook \"deny.test\" denied the request: deletes are blocked"});
                    return (http::StatusCode::FORBIDDEN, [("content-type", "application/json")], status.to_string()).into_response();
                }
                let (parts, body) = req.into_parts();
                let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
                let fwd = http::Request::from_parts(parts, kube::client::Body::from(bytes.to_vec()));
                match upstream.send(fwd).await {
                    Ok(res) => {
                        let (parts, body) = res.into_parts();
                        let bytes = http_body_util::BodyExt::collect(body).await.map(|c| c.to_bytes()).unwrap_or_default();
                        http::Response::from_parts(parts, Body::from(bytes)).into_response()
                    }
                    Err(e) => (http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        DenyDeletes {
            addr,
            deny,
            _task: task,
        }
    }

    fn deny(&self, on: bool) {
        self.deny.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    fn client(&self) -> kube::Client {
        let uri: http::Uri = format!("http://{}", self.addr).parse().unwrap();
        kube::Client::try_from(kube::Config::new(uri)).unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Immutable fields

#[tokio::test]
async fn immutable_change_fails_clearly_without_force_and_recreates_with_force() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    assert_ok(
        &engine
            .apply(
                vec![deployment("default", "web", "web", json!({}))],
                &opts("imm"),
            )
            .await,
    );
    let uid_before = get(&client, "/apis/apps/v1/namespaces/default/deployments/web")
        .await
        .unwrap()["metadata"]["uid"]
        .clone();

    let changed = deployment("default", "web", "web-v2", json!({}));
    let r = engine.apply(vec![changed.clone()], &opts("imm")).await;
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    let msg = r.errors[0].to_string();
    assert!(matches!(r.errors[0], Error::Immutable { .. }), "{msg}");
    assert!(
        msg.contains("Deployment/default/web")
            && msg.contains("spec.selector")
            && msg.contains("force"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "one line: {msg}");

    let mut forced = changed.clone();
    forced["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/force": "enabled"});
    let r = engine.apply(vec![forced], &opts("imm")).await;
    assert_ok(&r);
    let line = r.changes.to_string();
    assert!(
        line.starts_with(
            "Deployment/default/web configured (recreated: spec.selector is immutable)"
        ),
        "{line}"
    );
    let live = get(&client, "/apis/apps/v1/namespaces/default/deployments/web")
        .await
        .unwrap();
    assert_eq!(
        live.pointer("/spec/selector/matchLabels/app"),
        Some(&json!("web-v2"))
    );
    assert_ne!(
        live["metadata"]["uid"], uid_before,
        "recreated, not patched"
    );
}

// ---------------------------------------------------------------------------------------------
// Health

#[tokio::test]
async fn wait_succeeds_once_workloads_are_ready() {
    let srv = server().await;
    let mut engine = Engine::new(srv.client().unwrap());
    let mut o = opts("h");
    o.wait = true;
    let deployments = ["a", "b", "c"].map(|n| deployment("default", n, n, json!({})));
    let r = engine.apply(deployments.to_vec(), &o).await;
    assert_ok(&r);
    assert_eq!(r.changes.summary().created, 3);
}

#[tokio::test]
async fn health_timeout_lists_each_unready_object_and_why() {
    let srv = server().await;
    let mut engine = Engine::new(srv.client().unwrap());
    let mut o = opts("h");
    o.wait = true;
    o.timeout = Duration::from_millis(800);
    let sts = json!({"apiVersion":"apps/v1","kind":"StatefulSet",
        "metadata":{"name":"db","namespace":"default","annotations":{"driftless.dev/simulate":"fail-rollout"}},
        "spec":{"replicas":2,"serviceName":"db","selector":{"matchLabels":{"app":"db"}},
            "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"db","image":"postgres:16"}]}}}});
    let started = Instant::now();
    let r = engine
        .apply(vec![sts, cm("default", "c", json!({}))], &o)
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let msg = r
        .errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        matches!(r.errors.as_slice(), [Error::HealthTimeout(_)]),
        "{msg}"
    );
    assert_eq!(
        msg,
        "timeout waiting for: [StatefulSet/default/db: 0/2 replicas ready]"
    );
}

#[tokio::test]
async fn failed_rollout_fails_fast_with_a_readable_message() {
    let srv = server().await;
    let mut engine = Engine::new(srv.client().unwrap());
    let mut o = opts("h");
    o.wait = true;
    o.timeout = Duration::from_secs(30);
    let started = Instant::now();
    let bad = deployment(
        "default",
        "web",
        "web",
        json!({"driftless.dev/simulate":"fail-rollout"}),
    );
    let r = engine
        .apply(vec![bad, deployment("default", "ok", "ok", json!({}))], &o)
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "fail-fast, not the 30s timeout"
    );
    let msg = r
        .errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        matches!(r.errors.as_slice(), [Error::HealthFailed(_)]),
        "{msg}"
    );
    assert!(msg.starts_with("failed early due to stalled resources: [Deployment/default/web: progress deadline exceeded"), "{msg}");
    assert!(!msg.contains("Deployment/default/ok"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// Dry-run and diff

#[tokio::test]
async fn diff_masks_secret_values_and_writes_nothing() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let secret = |pw: &str| json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"default"},"stringData":{"password":pw}});
    assert_ok(
        &engine
            .apply(
                vec![secret("old-password"), cm("default", "c", json!({"a":"1"}))],
                &opts("d"),
            )
            .await,
    );

    let mut o = opts("d");
    o.dry_run = true;
    o.diff = true;
    let before = request_counts(&client).await;
    let r = engine
        .apply(
            vec![secret("new-password"), cm("default", "c", json!({"a":"1"}))],
            &o,
        )
        .await;
    let after = request_counts(&client).await;
    assert_ok(&r);
    assert_eq!(
        actions(&r).get("Secret/default/db").map(String::as_str),
        Some("configured")
    );
    assert_eq!(
        actions(&r).get("ConfigMap/default/c").map(String::as_str),
        Some("unchanged")
    );
    let all = r.diffs.join("");
    assert!(all.contains("--- live/Secret/default/db"), "{all}");
    assert!(
        all.contains("*** (before)") && all.contains("*** (after)"),
        "{all}"
    );
    for plain in [
        "old-password",
        "new-password",
        "b2xkLXBhc3N3b3Jk",
        "bmV3LXBhc3N3b3Jk",
    ] {
        assert!(!all.contains(plain), "secret value {plain} leaked: {all}");
    }
    // Only the Secret's dry-run apply was sent, and nothing changed on the server.
    assert_eq!(delta(&before, &after, &["APPLY"]), 1.0);
    assert_eq!(
        delta(&before, &after, &["POST", "PUT", "PATCH", "DELETE"]),
        0.0
    );
    let live = get(&client, "/api/v1/namespaces/default/secrets/db")
        .await
        .unwrap();
    assert_eq!(
        live.pointer("/data/password"),
        Some(&json!("b2xkLXBhc3N3b3Jk"))
    );
}

#[tokio::test]
async fn dry_run_of_new_crd_and_its_resources_reports_creates() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let mut o = opts("dr");
    o.dry_run = true;
    let r = engine.apply(vec![crd(), widget("default", "w")], &o).await;
    assert_ok(&r);
    assert_eq!(
        actions(&r).get("Widget/default/w").map(String::as_str),
        Some("created")
    );
    assert!(get(
        &client,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"
    )
    .await
    .is_none());
}

#[tokio::test]
async fn dry_run_of_new_namespace_and_its_objects_reports_creates() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let mut o = opts("dn");
    o.dry_run = true;
    o.diff = true;
    let r = engine
        .apply(
            vec![namespace("fresh"), cm("fresh", "c", json!({"a":"1"}))],
            &o,
        )
        .await;
    assert_ok(&r);
    let lines: Vec<String> = r.changes.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec!["Namespace/fresh created", "ConfigMap/fresh/c created"]
    );
    assert!(r
        .diffs
        .iter()
        .any(|d| d.contains("+++ desired/ConfigMap/fresh/c")));
    assert!(
        get(&client, "/api/v1/namespaces/fresh").await.is_none(),
        "nothing written"
    );
}

#[tokio::test]
async fn per_object_ssa_and_reconcile_annotations_are_honoured() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let with = |name: &str, value: &str, key: &str, ann: &str| {
        let mut o = cm("default", name, json!({"k": value}));
        o["metadata"]["annotations"] = json!({ key: ann });
        o
    };
    let ssa = "kustomize.toolkit.fluxcd.io/ssa";
    let rec = "kustomize.toolkit.fluxcd.io/reconcile";
    let first = vec![
        with("once", "v1", ssa, "IfNotPresent"),
        with("ignored", "v1", ssa, "Ignore"),
        with("frozen", "v1", rec, "disabled"),
    ];
    let r = engine.apply(first, &opts("ann")).await;
    assert_ok(&r);
    let a = actions(&r);
    assert_eq!(
        a.get("ConfigMap/default/once").map(String::as_str),
        Some("created")
    );
    assert_eq!(
        a.get("ConfigMap/default/frozen").map(String::as_str),
        Some("created")
    );
    assert_eq!(
        a.get("ConfigMap/default/ignored").map(String::as_str),
        Some("skipped (ssa: Ignore)")
    );
    assert!(
        get(&client, "/api/v1/namespaces/default/configmaps/ignored")
            .await
            .is_none()
    );

    let second = vec![
        with("once", "v2", ssa, "IfNotPresent"),
        with("ignored", "v2", ssa, "Ignore"),
        with("frozen", "v2", rec, "disabled"),
    ];
    let r = engine.apply(second, &opts("ann")).await;
    assert_ok(&r);
    let a = actions(&r);
    assert_eq!(
        a.get("ConfigMap/default/once").map(String::as_str),
        Some("skipped (ssa: IfNotPresent)")
    );
    assert_eq!(
        a.get("ConfigMap/default/frozen").map(String::as_str),
        Some("skipped (reconcile: disabled)")
    );
    for name in ["once", "frozen"] {
        let live = get(
            &client,
            &format!("/api/v1/namespaces/default/configmaps/{name}"),
        )
        .await
        .unwrap();
        assert_eq!(
            live.pointer("/data/k"),
            Some(&json!("v1")),
            "{name} left alone"
        );
    }
}

#[tokio::test]
async fn dry_run_prune_reports_deletions_and_deletes_nothing() {
    let srv = server().await;
    let client = srv.client().unwrap();
    let mut engine = Engine::new(client.clone());
    let mut o = opts("dp");
    o.prune = true;
    assert_ok(
        &engine
            .apply(
                vec![
                    cm("default", "a", json!({})),
                    cm("default", "b", json!({"x":"1"})),
                ],
                &o,
            )
            .await,
    );
    o.dry_run = true;
    o.diff = true;
    let r = engine.apply(vec![cm("default", "a", json!({}))], &o).await;
    assert_ok(&r);
    assert_eq!(
        actions(&r).get("ConfigMap/default/b").map(String::as_str),
        Some("deleted")
    );
    assert!(
        r.diffs
            .iter()
            .any(|d| d.contains("--- live/ConfigMap/default/b") && d.contains("-  x: '1'")),
        "{:?}",
        r.diffs
    );
    assert!(
        get(&client, "/api/v1/namespaces/default/configmaps/b")
            .await
            .is_some(),
        "dry run deletes nothing"
    );
    let inv = engine.load_inventory(&o.owner).await.unwrap().unwrap();
    assert!(
        inv.get("default_b__ConfigMap").is_some(),
        "dry run leaves the inventory alone"
    );
}
