//! `Table` output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`) for `kubectl get`:
//! NAME and AGE for every type, plus a few kind-specific columns and CRD printer columns.

use super::registry::ResourceType;
use super::time::{human_age, parse_rfc3339, unix_now};
use serde_json::{json, Value};
use std::collections::HashMap;

fn column(name: &str, ty: &str, format: &str) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": "", "priority": 0})
}

fn simple_json_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let p = path.trim_start_matches('.');
    let pointer = format!("/{}", p.replace('.', "/"));
    obj.pointer(&pointer)
}

fn cell(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => json!("<none>"),
        Some(Value::String(s)) => json!(s),
        Some(v) => json!(v.to_string()),
    }
}

/// A column definition and how to compute its cell.
type Column = (Value, Box<dyn Fn(&Value) -> Value>);

/// Extra columns for a type.
fn extra_columns(rt: &ResourceType) -> Vec<Column> {
    let mut out: Vec<Column> = Vec::new();
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Namespace") => out.push((
            column("Status", "string", ""),
            Box::new(|o| cell(o.pointer("/status/phase"))),
        )),
        ("", "Pod") => {
            out.push((
                column("Ready", "string", ""),
                Box::new(|o| {
                    let total = o
                        .pointer("/spec/containers")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    let ready = o
                        .pointer("/status/conditions")
                        .and_then(Value::as_array)
                        .is_some_and(|cs| {
                            cs.iter()
                                .any(|c| c["type"] == "Ready" && c["status"] == "True")
                        });
                    json!(format!("{}/{total}", if ready { total } else { 0 }))
                }),
            ));
            out.push((
                column("Status", "string", ""),
                Box::new(|o| cell(o.pointer("/status/phase"))),
            ));
            out.push((column("Restarts", "integer", ""), Box::new(|_| json!(0))));
        }
        ("", "Service") => {
            out.push((
                column("Type", "string", ""),
                Box::new(|o| cell(o.pointer("/spec/type"))),
            ));
            out.push((
                column("Cluster-IP", "string", ""),
                Box::new(|o| cell(o.pointer("/spec/clusterIP"))),
            ));
            out.push((
                column("Port(s)", "string", ""),
                Box::new(|o| {
                    let ports: Vec<String> = o
                        .pointer("/spec/ports")
                        .and_then(Value::as_array)
                        .map(|ps| {
                            ps.iter()
                                .map(|p| {
                                    let proto =
                                        p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                                    format!(
                                        "{}/{proto}",
                                        p.get("port").map(Value::to_string).unwrap_or_default()
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    json!(if ports.is_empty() {
                        "<none>".to_string()
                    } else {
                        ports.join(",")
                    })
                }),
            ));
        }
        ("batch", "Job") => out.push((
            column("Status", "string", ""),
            Box::new(|o| {
                let conds = o
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let has = |t: &str| {
                    conds
                        .iter()
                        .any(|c| c["type"] == t && c["status"] == "True")
                };
                json!(if has("Complete") {
                    "Complete"
                } else if has("Failed") {
                    "Failed"
                } else {
                    "Running"
                })
            }),
        )),
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet") => out.push((
            column("Ready", "string", ""),
            Box::new(|o| {
                let ready = o
                    .pointer("/status/readyReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let want = o
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                json!(format!("{ready}/{want}"))
            }),
        )),
        _ => {}
    }
    for (name, ty, path) in &rt.printer_columns {
        let path = path.clone();
        out.push((
            column(name, ty, ""),
            Box::new(move |o| cell(simple_json_path(o, &path))),
        ));
    }
    out
}

/// Renders objects as a meta.k8s.io/v1 Table.
pub fn table(rt: &ResourceType, items: &[Value], rv: u64, q: &HashMap<String, String>) -> Value {
    let include = q
        .get("includeObject")
        .map(String::as_str)
        .unwrap_or("Metadata");
    let extras = extra_columns(rt);
    let mut cols = vec![column("Name", "string", "name")];
    cols.extend(extras.iter().map(|(c, _)| c.clone()));
    cols.push(column("Age", "string", ""));
    let now = unix_now();
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut cells = vec![cell(o.pointer("/metadata/name"))];
            cells.extend(extras.iter().map(|(_, f)| f(o)));
            let created = o
                .pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .and_then(parse_rfc3339);
            cells.push(json!(created
                .map(|c| human_age(now - c))
                .unwrap_or_else(|| "<unknown>".into())));
            let object = match include {
                "Object" => o.clone(),
                "None" => Value::Null,
                _ => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                            "metadata": o.get("metadata").cloned().unwrap_or(Value::Null)}),
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv.to_string()},
           "columnDefinitions": cols, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::registry::Registry;

    #[test]
    fn table_has_name_and_age_and_partial_metadata() {
        let reg = Registry::new();
        let rt = reg.lookup("", "v1", "configmaps").expect("cm").clone();
        let t = table(
            &rt,
            &[json!({"metadata": {"name": "a", "creationTimestamp": "2020-01-01T00:00:00Z"}})],
            5,
            &HashMap::new(),
        );
        assert_eq!(t["columnDefinitions"][0]["name"], "Name");
        assert_eq!(t["rows"][0]["cells"][0], "a");
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    }
}
