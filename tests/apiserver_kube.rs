//! The embedded API server through the real `kube::Client` over HTTP: server-side apply
//! (idempotence, conflicts, force, field removal), watch resume, bookmarks and 410 Gone, the
//! status subresource, discovery of CRDs, namespace rules, immutability, dry-run, selectors and
//! paging, finalizers, garbage collection, simulated controllers, fault injection and metrics.

use driftless::apiserver::{ApiServer, Options};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::Status;
use kube::{Client, Discovery};
use serde_json::{json, Value};
use std::time::Duration;

async fn server(opts: Options) -> (ApiServer, Client) {
    let s = ApiServer::start(opts).await.expect("server starts");
    let c = s.client().expect("client");
    (s, c)
}

fn quiet() -> Options {
    Options {
        controllers: false,
        ..Options::default()
    }
}

fn api_error(e: kube::Error) -> Box<Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other}"),
    }
}

fn cm(name: &str, data: Value, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": data})
}

fn deploy(name: &str, app: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
}

const WIDGET_CRD: &str = r#"{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.example.com"},
  "spec": {"group": "example.com", "scope": "Namespaced",
    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
    "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}}"#;

fn widget_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "Widget"),
        "widgets",
    )
}

#[tokio::test]
async fn server_side_apply_is_idempotent_conflicts_and_forces() {
    let (_s, client) = server(quiet()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let pp = PatchParams::apply("driftless");
    let a = api
        .patch(
            "c",
            &pp,
            &Patch::Apply(cm("c", json!({"k": "v"}), json!({"app": "a"}))),
        )
        .await
        .expect("apply");
    let again = api
        .patch(
            "c",
            &pp,
            &Patch::Apply(cm("c", json!({"k": "v"}), json!({"app": "a"}))),
        )
        .await
        .expect("reapply");
    assert_eq!(a.metadata.resource_version, again.metadata.resource_version);
    let mf = again.metadata.managed_fields.expect("managedFields");
    assert_eq!(mf[0].manager.as_deref(), Some("driftless"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));

    let other = PatchParams::apply("other");
    let err = api_error(
        api.patch(
            "c",
            &other,
            &Patch::Apply(cm("c", json!({"k": "theirs"}), json!({"app": "a"}))),
        )
        .await
        .expect_err("conflict"),
    );
    assert_eq!(err.code, 409);
    assert!(
        err.message.contains("conflict with \"driftless\""),
        "{}",
        err.message
    );
    assert!(err.message.contains(".data.k"), "{}", err.message);

    let forced = api
        .patch(
            "c",
            &other.clone().force(),
            &Patch::Apply(cm("c", json!({"k": "theirs"}), json!({"app": "a"}))),
        )
        .await
        .expect("force");
    assert_eq!(forced.data.expect("data")["k"], "theirs");

    // Apply requires a field manager.
    let err = api_error(
        api.patch(
            "c",
            &PatchParams::default(),
            &Patch::Apply(cm("c", json!({}), json!({}))),
        )
        .await
        .expect_err("no manager"),
    );
    assert_eq!(err.code, 422);
}

#[tokio::test]
async fn reapply_removes_fields_the_manager_stopped_applying() {
    let (_s, client) = server(quiet()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let pp = PatchParams::apply("driftless");
    api.patch(
        "c",
        &pp,
        &Patch::Apply(cm(
            "c",
            json!({"a": "1", "b": "2"}),
            json!({"x": "1", "y": "2"}),
        )),
    )
    .await
    .expect("apply");
    let out = api
        .patch(
            "c",
            &pp,
            &Patch::Apply(cm("c", json!({"a": "1"}), json!({"x": "1"}))),
        )
        .await
        .expect("reapply");
    let data = out.data.expect("data");
    assert!(data.contains_key("a") && !data.contains_key("b"));
    let labels = out.metadata.labels.expect("labels");
    assert!(labels.contains_key("x") && !labels.contains_key("y"));
}

#[tokio::test]
async fn update_with_stale_resource_version_conflicts_and_generation_tracks_spec() {
    let (_s, client) = server(quiet()).await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let d: Deployment = serde_json::from_value(deploy("web", "web", 1)).expect("deployment");
    let created = api
        .create(&PostParams::default(), &d)
        .await
        .expect("create");
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    let mut changed = created.clone();
    changed.spec.replicas = Some(3);
    let updated = api
        .replace("web", &PostParams::default(), &changed)
        .await
        .expect("replace");
    assert_eq!(updated.metadata.generation, Some(2));
    let err = api_error(
        api.replace("web", &PostParams::default(), &changed)
            .await
            .expect_err("stale"),
    );
    assert_eq!(err.code, 409);
    let labelled = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .expect("label patch");
    assert_eq!(
        labelled.metadata.generation,
        Some(2),
        "metadata changes do not bump generation"
    );
}

#[tokio::test]
async fn status_subresource_is_separate_from_the_main_resource() {
    let (_s, client) = server(quiet()).await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let pp = PatchParams::apply("driftless");
    let mut with_status = deploy("web", "web", 2);
    with_status["status"] = json!({"readyReplicas": 99});
    let d = api
        .patch("web", &pp, &Patch::Apply(with_status))
        .await
        .expect("apply");
    assert!(d.status.is_none(), "status in the main resource is ignored");
    let s = api
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"readyReplicas": 2, "observedGeneration": 1}})),
        )
        .await
        .expect("status patch");
    assert_eq!(s.status.as_ref().and_then(|s| s.ready_replicas), Some(2));
    assert_eq!(
        s.metadata.generation,
        Some(1),
        "status writes do not bump generation"
    );
    let got = api.get_status("web").await.expect("get status");
    assert_eq!(got.status.and_then(|s| s.observed_generation), Some(1));
    // A spec patch through /status is ignored.
    let s = api
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 7}})),
        )
        .await
        .expect("status patch with spec");
    assert_eq!(s.spec.replicas, Some(2));
}

#[tokio::test]
async fn watch_resumes_from_resource_version_sends_bookmarks_and_expires_old_versions() {
    let opts = Options {
        history: 16,
        bookmark_interval: Duration::from_millis(100),
        ..quiet()
    };
    let (_s, client) = server(opts).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let pp = PatchParams::apply("t");
    let first = api
        .patch(
            "c",
            &pp,
            &Patch::Apply(cm("c", json!({"n": "0"}), json!({}))),
        )
        .await
        .expect("apply");
    let rv = first.metadata.resource_version.expect("rv");
    api.patch(
        "c",
        &pp,
        &Patch::Apply(cm("c", json!({"n": "1"}), json!({}))),
    )
    .await
    .expect("apply 1");
    api.delete("c", &DeleteParams::default())
        .await
        .expect("delete");

    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let ev = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("event in time")
            .expect("ok");
        match ev.expect("stream open") {
            WatchEvent::Modified(c) => {
                kinds.push(format!("MODIFIED {}", c.data.expect("data")["n"]))
            }
            WatchEvent::Deleted(_) => kinds.push("DELETED".into()),
            WatchEvent::Bookmark(_) => kinds.push("BOOKMARK".into()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(kinds, ["MODIFIED 1", "DELETED", "BOOKMARK"]);

    for i in 0..40 {
        api.patch(
            "x",
            &pp,
            &Patch::Apply(cm("x", json!({"n": i.to_string()}), json!({}))),
        )
        .await
        .expect("churn");
    }
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    let ev = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await
        .expect("in time")
        .expect("ok");
    match ev.expect("an event") {
        WatchEvent::Error(e) => assert_eq!(e.code, 410),
        other => panic!("expected 410 Gone, got {other:?}"),
    }
}

#[tokio::test]
async fn crd_registers_resources_in_discovery_and_custom_resources_work() {
    let (_s, client) = server(quiet()).await;
    let widgets: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &widget_resource());
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 1}});
    let err = api_error(
        widgets
            .patch("w1", &PatchParams::apply("t"), &Patch::Apply(w.clone()))
            .await
            .expect_err("no crd"),
    );
    assert_eq!(err.code, 404);

    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    let crd: Value = serde_json::from_str(WIDGET_CRD).expect("crd json");
    let created = crds
        .patch(
            "widgets.example.com",
            &PatchParams::apply("t"),
            &Patch::Apply(crd),
        )
        .await
        .expect("crd");
    let conds = created.data["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(conds
        .iter()
        .any(|c| c["type"] == "Established" && c["status"] == "True"));

    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let (ar, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"))
        .expect("Widget discovered");
    assert_eq!(ar.plural, "widgets");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    assert!(discovery
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .is_some());
    let aggregated = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let (ar, caps) = aggregated
        .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"))
        .expect("Widget in aggregated discovery");
    assert_eq!(ar.plural, "widgets");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);

    widgets
        .patch("w1", &PatchParams::apply("t"), &Patch::Apply(w))
        .await
        .expect("cr");
    let st = widgets
        .patch_status(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"ready": true}})),
        )
        .await
        .expect("cr status");
    assert_eq!(st.data["status"]["ready"], true);
    assert_eq!(st.metadata.generation, Some(1));

    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .expect("delete crd");
    let err = api_error(widgets.get("w1").await.expect_err("gone with its crd"));
    assert_eq!(err.code, 404);
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    assert!(discovery
        .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"))
        .is_none());
    let aggregated = Discovery::new(client)
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    assert!(aggregated
        .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"))
        .is_none());
    let (ar, _) = aggregated
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .expect("deployments");
    assert_eq!(ar.plural, "deployments");
}

#[tokio::test]
async fn namespaces_must_exist_and_not_be_terminating() {
    let (_s, client) = server(quiet()).await;
    let missing: Api<ConfigMap> = Api::namespaced(client.clone(), "missing");
    let err = api_error(
        missing
            .patch(
                "c",
                &PatchParams::apply("t"),
                &Patch::Apply(cm("c", json!({}), json!({}))),
            )
            .await
            .expect_err("404"),
    );
    assert_eq!(err.code, 404);
    assert!(err.message.contains("namespaces \"missing\" not found"));

    let nss: Api<Namespace> = Api::all(client.clone());
    nss.patch(
        "team",
        &PatchParams::apply("t"),
        &Patch::Apply(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
        ),
    )
    .await
    .expect("ns");
    let team: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    let mut held = cm("held", json!({}), json!({}));
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    team.patch("held", &PatchParams::apply("t"), &Patch::Apply(held))
        .await
        .expect("held");
    team.patch(
        "free",
        &PatchParams::apply("t"),
        &Patch::Apply(cm("free", json!({}), json!({}))),
    )
    .await
    .expect("free");
    nss.delete("team", &DeleteParams::default())
        .await
        .expect("delete ns");
    let ns = nss.get("team").await.expect("still terminating");
    assert_eq!(
        ns.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert_eq!(
        api_error(team.get("free").await.expect_err("contents deleted")).code,
        404
    );
    let err = api_error(
        team.patch(
            "new",
            &PatchParams::apply("t"),
            &Patch::Apply(cm("new", json!({}), json!({}))),
        )
        .await
        .expect_err("403"),
    );
    assert_eq!(err.code, 403);
    assert!(err.message.contains("being terminated"), "{}", err.message);
    let held = team.get("held").await.expect("held by finalizer");
    assert!(held.metadata.deletion_timestamp.is_some());
    team.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("release");
    assert_eq!(
        api_error(nss.get("team").await.expect_err("namespace gone")).code,
        404
    );
}

#[tokio::test]
async fn immutable_fields_and_malformed_objects_are_rejected() {
    let (_s, client) = server(quiet()).await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let pp = PatchParams::apply("t");
    deploys
        .patch("web", &pp, &Patch::Apply(deploy("web", "a", 1)))
        .await
        .expect("create");
    let err = api_error(
        deploys
            .patch("web", &pp, &Patch::Apply(deploy("web", "b", 1)))
            .await
            .expect_err("immutable"),
    );
    assert_eq!(err.code, 422);
    assert!(
        err.message.contains("spec.selector") && err.message.contains("field is immutable"),
        "{}",
        err.message
    );

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut frozen = cm("frozen", json!({"k": "1"}), json!({}));
    frozen["immutable"] = json!(true);
    cms.patch("frozen", &pp, &Patch::Apply(frozen.clone()))
        .await
        .expect("frozen");
    frozen["data"]["k"] = json!("2");
    let err = api_error(
        cms.patch("frozen", &pp, &Patch::Apply(frozen))
            .await
            .expect_err("immutable data"),
    );
    assert_eq!(err.code, 422);
    assert!(err.message.contains("field is immutable"));

    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let job = |image: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}}}})
    };
    jobs.patch("j", &pp, &Patch::Apply(job("a")))
        .await
        .expect("job");
    let err = api_error(
        jobs.patch("j", &pp, &Patch::Apply(job("b")))
            .await
            .expect_err("job template"),
    );
    assert!(
        err.message.contains("spec.template") && err.message.contains("field is immutable"),
        "{}",
        err.message
    );

    let mut bad = deploy("bad", "x", 1);
    bad["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("selector");
    let err = api_error(
        deploys
            .patch("bad", &pp, &Patch::Apply(bad))
            .await
            .expect_err("no selector"),
    );
    assert_eq!(err.code, 422);
    assert!(
        err.message.contains("spec.selector: Required value"),
        "{}",
        err.message
    );

    let raw: Api<DynamicObject> =
        Api::namespaced_with(client, "default", &ApiResource::erase::<ConfigMap>(&()));
    let err = api_error(
        raw.patch("n", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n", "labels": {"a": 1}}})))
            .await
            .expect_err("bad label type"),
    );
    assert_eq!(err.code, 400);
}

#[tokio::test]
async fn dry_run_persists_nothing() {
    let (_s, client) = server(quiet()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let dry = PatchParams::apply("t").dry_run();
    let out = api
        .patch(
            "c",
            &dry,
            &Patch::Apply(cm("c", json!({"k": "v"}), json!({}))),
        )
        .await
        .expect("dry apply");
    assert_eq!(out.data.expect("data")["k"], "v");
    assert_eq!(
        api_error(api.get("c").await.expect_err("nothing stored")).code,
        404
    );
    let pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let c: ConfigMap = serde_json::from_value(cm("d", json!({}), json!({}))).expect("cm");
    api.create(&pp, &c).await.expect("dry create");
    assert!(api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .is_empty());
}

#[tokio::test]
async fn list_filters_by_label_and_field_and_pages() {
    let (_s, client) = server(quiet()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for (n, tier) in [("a", "front"), ("b", "back"), ("c", "front")] {
        api.patch(
            n,
            &PatchParams::apply("t"),
            &Patch::Apply(cm(n, json!({}), json!({"tier": tier}))),
        )
        .await
        .expect("apply");
    }
    let names = |l: kube::core::ObjectList<ConfigMap>| {
        l.items
            .into_iter()
            .filter_map(|c| c.metadata.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            api.list(&ListParams::default().labels("tier=front"))
                .await
                .expect("list")
        ),
        ["a", "c"]
    );
    assert_eq!(
        names(
            api.list(&ListParams::default().fields("metadata.name=b"))
                .await
                .expect("list")
        ),
        ["b"]
    );
    let page1 = api
        .list(&ListParams::default().limit(2))
        .await
        .expect("page 1");
    let token = page1.metadata.continue_.clone().expect("continue token");
    assert_eq!(names(page1), ["a", "b"]);
    let page2 = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect("page 2");
    assert_eq!(names(page2), ["c"]);

    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("tier=front"),
    )
    .await
    .expect("deletecollection");
    assert_eq!(
        names(api.list(&ListParams::default()).await.expect("list")),
        ["b"]
    );
}

#[tokio::test]
async fn garbage_collection_follows_owner_references() {
    let (_s, client) = server(quiet()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let owner = api
        .patch(
            "owner",
            &PatchParams::apply("t"),
            &Patch::Apply(cm("owner", json!({}), json!({}))),
        )
        .await
        .expect("owner");
    let mut dep = cm("dep", json!({}), json!({}));
    dep["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid.expect("uid")}]);
    api.patch("dep", &PatchParams::apply("t"), &Patch::Apply(dep))
        .await
        .expect("dependent");
    api.delete("owner", &DeleteParams::background())
        .await
        .expect("delete owner");
    assert_eq!(
        api_error(api.get("dep").await.expect_err("collected")).code,
        404
    );
}

async fn wait_for<F: Fn(&Deployment) -> bool>(
    api: &Api<Deployment>,
    name: &str,
    f: F,
) -> Deployment {
    for _ in 0..100 {
        let d = api.get(name).await.expect("get");
        if f(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached for {name}");
}

#[tokio::test]
async fn simulated_controllers_roll_out_fail_on_request_and_complete_jobs() {
    let (_s, client) = server(Options::default()).await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let pp = PatchParams::apply("t");
    deploys
        .patch("ok", &pp, &Patch::Apply(deploy("ok", "ok", 3)))
        .await
        .expect("ok");
    let d = wait_for(&deploys, "ok", |d| {
        d.status.as_ref().and_then(|s| s.ready_replicas) == Some(3)
    })
    .await;
    assert_eq!(d.status.and_then(|s| s.observed_generation), Some(1));

    let mut failing = deploy("bad", "bad", 2);
    failing["metadata"]["annotations"] = json!({"driftless.dev/simulate": "fail-rollout"});
    deploys
        .patch("bad", &pp, &Patch::Apply(failing))
        .await
        .expect("bad");
    let d = wait_for(&deploys, "bad", |d| {
        d.status.as_ref().and_then(|s| s.observed_generation) == Some(1)
    })
    .await;
    let st = d.status.expect("status");
    assert_eq!(st.ready_replicas.unwrap_or(0), 0);
    let progressing = st
        .conditions
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_.as_deref() == Some("Progressing"))
        .expect("cond");
    assert_eq!(
        progressing.reason.as_deref(),
        Some("ProgressDeadlineExceeded")
    );

    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
    jobs.patch("j", &pp, &Patch::Apply(job)).await.expect("job");
    let mut done = false;
    for _ in 0..100 {
        let j = jobs.get("j").await.expect("job");
        if j.status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Complete" && c.status == "True")
        {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(done, "job completed");

    // The service account controller gives every namespace a `default` ServiceAccount.
    let nss: Api<Namespace> = Api::all(client.clone());
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
    nss.patch("team", &pp, &Patch::Apply(ns))
        .await
        .expect("namespace");
    let sas: Api<k8s_openapi::api::core::v1::ServiceAccount> = Api::namespaced(client, "team");
    let mut found = false;
    for _ in 0..100 {
        if sas.get_opt("default").await.expect("get sa").is_some() {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(found, "default service account created");
}

#[tokio::test]
async fn fail_rate_injects_errors_and_metrics_count_requests() {
    let (s, client) = server(Options {
        fail_rate: 1.0,
        ..quiet()
    })
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let err = api_error(
        api.list(&ListParams::default())
            .await
            .expect_err("injected"),
    );
    assert!([500, 429, 504].contains(&err.code), "{}", err.code);
    let (ok_server, ok_client) = server(quiet()).await;
    let api: Api<ConfigMap> = Api::namespaced(ok_client, "default");
    api.list(&ListParams::default()).await.expect("list");
    api.patch(
        "c",
        &PatchParams::apply("t"),
        &Patch::Apply(cm("c", json!({}), json!({}))),
    )
    .await
    .expect("apply");
    let body = reqwest_free_get(&format!("{}/metrics", ok_server.url())).await;
    assert!(body.contains("apiserver_request_total{"), "{body}");
    assert!(
        body.lines().any(|l| l.contains("verb=\"APPLY\"")
            && l.contains("resource=\"configmaps\"")
            && l.contains("code=\"201\"")),
        "{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.contains("verb=\"LIST\"") && l.contains("code=\"200\"")),
        "{body}"
    );
    let health = reqwest_free_get(&format!("{}/readyz", s.url())).await;
    assert_eq!(health, "ok");
}

/// A plain GET over a TCP socket (the tests avoid pulling in an HTTP client crate).
async fn reqwest_free_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut sock = tokio::net::TcpStream::connect(host).await.expect("connect");
    let req = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    sock.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    sock.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body)
    } else {
        body
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

#[tokio::test]
async fn data_dir_keeps_objects_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..quiet()
    };
    let (s, client) = server(opts.clone()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let created = api
        .patch(
            "kept",
            &PatchParams::apply("t"),
            &Patch::Apply(cm("kept", json!({"k": "v"}), json!({}))),
        )
        .await
        .expect("apply");
    s.save().expect("save");
    drop(s);
    let (_s2, client) = server(opts).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let got = api.get("kept").await.expect("restored");
    assert_eq!(got.metadata.uid, created.metadata.uid);
    assert_eq!(got.data.expect("data")["k"], "v");
    let again = api
        .patch(
            "kept",
            &PatchParams::apply("t"),
            &Patch::Apply(cm("kept", json!({"k": "v"}), json!({}))),
        )
        .await
        .expect("reapply");
    assert_eq!(
        again.metadata.resource_version,
        created.metadata.resource_version
    );
}

#[tokio::test]
async fn patch_types_strategic_json_and_merge_behave_like_kube_apiserver() {
    let (_s, client) = server(quiet()).await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let mut d = deploy("web", "web", 1);
    d["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .push(json!({"name": "side", "image": "busybox:1"}));
    deploys
        .patch("web", &PatchParams::apply("t"), &Patch::Apply(d))
        .await
        .expect("apply");
    // Strategic merge: containers merge by name.
    let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}});
    let out = deploys
        .patch("web", &PatchParams::default(), &Patch::Strategic(p))
        .await
        .expect("strategic");
    let cs = out.spec.template.spec.expect("pod spec").containers;
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0].image.as_deref(), Some("nginx:2"));
    let mf = out.metadata.managed_fields.expect("managedFields");
    assert!(
        mf.iter().any(|e| e.operation.as_deref() == Some("Update")),
        "patch recorded as Update"
    );
    // JSON patch (sent raw: kube's Patch::Json needs an extra feature).
    let body =
        serde_json::to_vec(&json!([{"op": "replace", "path": "/spec/replicas", "value": 4}]))
            .expect("json");
    let req = axum::http::Request::patch("/apis/apps/v1/namespaces/default/deployments/web")
        .header("content-type", "application/json-patch+json")
        .body(body)
        .expect("request");
    let out: Deployment = client.request(req).await.expect("json patch");
    assert_eq!(out.spec.replicas, Some(4));
    // Merge patch replaces lists wholesale.
    let p =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x:1"}]}}}});
    let out = deploys
        .patch("web", &PatchParams::default(), &Patch::Merge(p))
        .await
        .expect("merge");
    assert_eq!(
        out.spec.template.spec.expect("pod spec").containers.len(),
        1
    );

    // Custom resources do not take strategic merge patches.
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    let crd: Value = serde_json::from_str(WIDGET_CRD).expect("crd json");
    crds.patch(
        "widgets.example.com",
        &PatchParams::apply("t"),
        &Patch::Apply(crd),
    )
    .await
    .expect("crd");
    let widgets: Api<DynamicObject> = Api::namespaced_with(client, "default", &widget_resource());
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"n": 1}});
    widgets
        .patch("w", &PatchParams::apply("t"), &Patch::Apply(w))
        .await
        .expect("cr");
    let err = api_error(
        widgets
            .patch(
                "w",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"n": 2}})),
            )
            .await
            .expect_err("415"),
    );
    assert_eq!(err.code, 415);
    let out = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"n": 2}})),
        )
        .await
        .expect("merge");
    assert_eq!(out.data["spec"]["n"], 2);
    assert_eq!(
        out.metadata.generation,
        Some(2),
        "custom resources bump generation on spec changes"
    );
}

#[tokio::test]
async fn latency_option_delays_api_requests() {
    let (_s, client) = server(Options {
        latency: Duration::from_millis(150),
        ..quiet()
    })
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let start = std::time::Instant::now();
    api.list(&ListParams::default()).await.expect("list");
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn streaming_list_sends_initial_objects_then_an_end_bookmark() {
    let (_s, client) = server(quiet()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for n in ["a", "b"] {
        api.patch(
            n,
            &PatchParams::apply("t"),
            &Patch::Apply(cm(n, json!({}), json!({}))),
        )
        .await
        .expect("apply");
    }
    let mut stream = api
        .watch(&WatchParams::streaming_lists(), "0")
        .await
        .expect("watch")
        .boxed();
    let mut added = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("in time")
            .expect("ok");
        match ev.expect("open") {
            WatchEvent::Added(c) => added.push(c.metadata.name.expect("name")),
            WatchEvent::Bookmark(b) => {
                assert_eq!(
                    b.metadata
                        .annotations
                        .get("k8s.io/initial-events-end")
                        .map(String::as_str),
                    Some("true")
                );
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(added, ["a", "b"]);
}
