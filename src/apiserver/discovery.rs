//! Discovery documents: `/version`, `/api`, `/apis`, `/apis/<group>` and the APIResourceLists
//! of each group/version, built from the registry (so CRDs appear and disappear with it).

use super::http::Route;
use super::registry::Registry;
use serde_json::{json, Value};

/// The `/version` document (we present ourselves as Kubernetes 1.32).
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-driftless",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn group_doc(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(Value::Null)})
}

/// The discovery document for a non-resource route, `None` when the group/version is unknown.
pub fn serve(reg: &Registry, route: &Route) -> Option<Value> {
    match route {
        Route::ApiVersions => Some(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
        })),
        Route::GroupList => {
            let groups: Vec<Value> = reg
                .groups()
                .iter()
                .filter(|(g, _)| !g.is_empty())
                .map(|(g, vs)| group_doc(g, vs))
                .collect();
            Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
        }
        Route::Group(name) => {
            let groups = reg.groups();
            let (g, vs) = groups.iter().find(|(g, _)| g == name)?;
            let mut doc = group_doc(g, vs);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            Some(doc)
        }
        Route::ResourceList(group, version) => {
            let resources: Vec<Value> = reg
                .types()
                .iter()
                .filter(|t| t.group == *group && t.version == *version)
                .flat_map(|t| t.discovery_entries())
                .collect();
            if resources.is_empty() {
                return None;
            }
            let gv = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            Some(
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
            )
        }
        Route::Resource(_) => None,
    }
}

/// The media type of aggregated discovery (what kubectl and kube-rs ask for first).
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// The aggregated discovery document (`apidiscovery.k8s.io/v2`) of the core group (`core`)
/// or of all named groups.
pub fn aggregated(reg: &Registry, core: bool) -> Value {
    let items: Vec<Value> = reg
        .groups()
        .iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, vs)| {
            let versions: Vec<Value> = vs
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = reg
                        .types()
                        .iter()
                        .filter(|t| t.group == *g && t.version == *v)
                        .map(|t| {
                            let kind = json!({"group": t.group, "version": t.version, "kind": t.kind});
                            let mut subs = Vec::new();
                            if t.status_subresource {
                                subs.push(json!({"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}));
                            }
                            if t.group == "apps" && t.kind != "DaemonSet" {
                                subs.push(json!({"subresource": "scale",
                                    "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                                    "verbs": ["get", "patch", "update"]}));
                            }
                            let mut r = json!({
                                "resource": t.plural,
                                "responseKind": kind,
                                "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
                                "singularResource": t.singular,
                                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                            });
                            if !t.short_names.is_empty() {
                                r["shortNames"] = json!(t.short_names);
                            }
                            if !t.categories.is_empty() {
                                r["categories"] = json!(t.categories);
                            }
                            if !subs.is_empty() {
                                r["subresources"] = json!(subs);
                            }
                            r
                        })
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

/// The `/openapi/v3` index: one entry per served group/version.
pub fn openapi_v3_root(reg: &Registry) -> Value {
    let mut paths = serde_json::Map::new();
    for (g, vs) in reg.groups() {
        for v in vs {
            let key = if g.is_empty() {
                format!("api/{v}")
            } else {
                format!("apis/{g}/{v}")
            };
            paths.insert(key.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={}", reg.types().len())}));
        }
    }
    json!({"paths": paths})
}

/// A minimal OpenAPI v3 document for one group/version: each resource's PATCH operation with
/// its group-version-kind and the `fieldValidation` parameter, which is what kubectl checks to
/// leave field validation to the server. There are no schemas.
pub fn openapi_v3_gv(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut paths = serde_json::Map::new();
    for t in reg
        .types()
        .iter()
        .filter(|t| t.group == group && t.version == version)
    {
        let prefix = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let path = if t.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", t.plural)
        } else {
            format!("{prefix}/{}/{{name}}", t.plural)
        };
        let params = json!([
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}},
        ]);
        let gvk = json!({"group": group, "version": version, "kind": t.kind});
        paths.insert(
            path,
            json!({"patch": {"operationId": format!("patch{}", t.kind), "parameters": params,
                "responses": {"200": {"description": "OK"}}, "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk}}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
        "components": {"schemas": {}}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_list_excludes_core_and_resource_list_has_status_subresources() {
        let reg = Registry::new();
        let groups = serve(&reg, &Route::GroupList).expect("groups");
        let names: Vec<&str> = groups["groups"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|g| g["name"].as_str())
            .collect();
        assert!(names.contains(&"apps") && !names.contains(&""));
        let apps = serve(&reg, &Route::ResourceList("apps".into(), "v1".into())).expect("apps/v1");
        let res: Vec<&str> = apps["resources"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(res.contains(&"deployments") && res.contains(&"deployments/status"));
        assert!(serve(&reg, &Route::ResourceList("nope".into(), "v1".into())).is_none());
    }

    #[test]
    fn aggregated_discovery_lists_groups_resources_and_subresources() {
        let reg = Registry::new();
        let core = aggregated(&reg, true);
        assert_eq!(core["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(core["items"][0]["metadata"]["name"], "");
        let named = aggregated(&reg, false);
        let apps = named["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["metadata"]["name"] == "apps")
            .expect("apps");
        let dep = apps["versions"][0]["resources"]
            .as_array()
            .expect("res")
            .iter()
            .find(|r| r["resource"] == "deployments")
            .expect("dep");
        assert_eq!(dep["scope"], "Namespaced");
        assert_eq!(dep["subresources"][0]["subresource"], "status");
    }

    #[test]
    fn openapi_v3_declares_field_validation_for_each_kind() {
        let reg = Registry::new();
        assert!(openapi_v3_root(&reg)["paths"].get("apis/apps/v1").is_some());
        let doc = openapi_v3_gv(&reg, "apps", "v1").expect("doc");
        let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], "Deployment");
        assert_eq!(op["parameters"][0]["name"], "fieldValidation");
    }
}
