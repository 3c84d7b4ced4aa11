//! The in-memory object store and the semantics of every verb: create, get, list, update,
//! patch (including server-side apply), delete with finalizers, propagation and namespace
//! teardown, deletecollection, the status subresource, dry-run, CRD registration, and the
//! bounded event history that watches resume from. No I/O: the HTTP layer calls into this.

use super::error::ApiError;
use super::patch::{self, PatchType};
use super::registry::{crd_types, Registry, ResourceType};
use super::select::{FieldSelector, LabelSelector};
use super::ssa::{self, Actor, ApplyOutcome};
use super::time::now_rfc3339;
use super::validate::{validate_object, validate_update};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;

/// (group, plural, namespace, name); namespace is "" for cluster-scoped objects.
pub type Key = (String, String, String, String);

/// A watch event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as kept in the history and sent to watchers.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub kind: EventType,
    pub group: String,
    pub plural: String,
    pub namespace: String,
    pub object: Arc<Value>,
}

/// Per-request write options.
#[derive(Debug, Clone, Default)]
pub struct WriteOpts {
    pub dry_run: bool,
    /// The `fieldManager` parameter, or the manager derived from the User-Agent.
    pub manager: String,
    /// Whether `fieldManager` was given explicitly (apply requires it).
    pub manager_given: bool,
    pub force: bool,
}

/// How dependents are treated on delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

/// The result of a delete.
#[derive(Debug, Clone, PartialEq)]
pub enum Deleted {
    /// Removed; the last state of the object.
    Gone(Value),
    /// Marked with deletionTimestamp, waiting on finalizers (or namespace teardown).
    Pending(Value),
}

/// List parameters.
#[derive(Debug, Clone, Default)]
pub struct ListOpts {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_after: Option<(String, String)>,
}

/// A page of a list.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub items: Vec<Value>,
    pub resource_version: u64,
    /// (namespace, name) of the last item when more remain.
    pub continue_after: Option<(String, String)>,
    pub remaining: usize,
}

/// What a watch starts with.
pub struct WatchStart {
    pub initial: Vec<Arc<Event>>,
    pub rx: broadcast::Receiver<Arc<Event>>,
    /// Events at or below this version are covered by `initial`.
    pub start_rv: u64,
}

/// The store. Callers hold it behind a mutex.
pub struct Store {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    history: VecDeque<Arc<Event>>,
    history_cap: usize,
    /// Highest resourceVersion dropped from the history.
    evicted_rv: u64,
    pub registry: Registry,
    tx: broadcast::Sender<Arc<Event>>,
}

fn key_of(rt: &ResourceType, ns: &str, name: &str) -> Key {
    (
        rt.group.clone(),
        rt.plural.clone(),
        if rt.namespaced {
            ns.to_string()
        } else {
            String::new()
        },
        name.to_string(),
    )
}

fn meta(obj: &Value, field: &str) -> String {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata").and_then(Value::as_object_mut) {
        Some(m) => m,
        None => unreachable!("metadata was just made an object"),
    }
}

fn random_suffix(n: usize) -> String {
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..n)
        .map(|_| CHARS[fastrand::usize(..CHARS.len())] as char)
        .collect()
}

fn new_uid() -> String {
    let b: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Whether everything but metadata and status (what `generation` tracks) is equal.
fn spec_equal(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let tracked = |k: &String| !matches!(k.as_str(), "metadata" | "status");
    a.keys().filter(|k| tracked(k)).count() == b.keys().filter(|k| tracked(k)).count()
        && a.iter()
            .filter(|(k, _)| tracked(k))
            .all(|(k, v)| b.get(k) == Some(v))
}

impl Store {
    /// An empty store with the default namespaces.
    pub fn new(history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(8192);
        let mut s = Store {
            objects: BTreeMap::new(),
            rv: 0,
            history: VecDeque::new(),
            history_cap: history_cap.max(16),
            evicted_rv: 0,
            registry: Registry::new(),
            tx,
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let rt = s.registry.lookup("", "v1", "namespaces").cloned();
            if let Some(rt) = rt {
                let _ = s.create(
                    &rt,
                    "",
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                    &WriteOpts {
                        manager: "kube-apiserver".into(),
                        ..Default::default()
                    },
                );
            }
        }
        s
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Number of stored objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The stored object presented in the version of `rt` (CRDs may serve several versions).
    fn present(rt: &ResourceType, obj: &Value) -> Value {
        let mut o = obj.clone();
        if rt.custom {
            o["apiVersion"] = Value::String(rt.api_version());
        }
        o
    }

    fn emit(&mut self, kind: EventType, key: &Key, obj: Value) {
        let ev = Arc::new(Event {
            rv: self.rv,
            kind,
            group: key.0.clone(),
            plural: key.1.clone(),
            namespace: key.2.clone(),
            object: Arc::new(obj),
        });
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_cap {
            if let Some(old) = self.history.pop_front() {
                self.evicted_rv = old.rv;
            }
        }
        let _ = self.tx.send(ev);
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn check_namespace(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        creating: bool,
    ) -> Result<(), ApiError> {
        if !rt.namespaced {
            return Ok(());
        }
        if ns.is_empty() {
            return Err(ApiError::BadRequest(
                "the server could not find the requested resource: namespace is required".into(),
            ));
        }
        let nskey = (
            String::new(),
            "namespaces".to_string(),
            String::new(),
            ns.to_string(),
        );
        match self.objects.get(&nskey) {
            None => Err(ApiError::not_found("namespaces", "", ns)),
            Some(n) if creating && n.pointer("/metadata/deletionTimestamp").is_some() => Err(ApiError::Forbidden {
                message: format!(
                    "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    super::error::qualified(&rt.plural, &rt.group)
                ),
                target: super::error::Target { name: name.into(), group: rt.group.clone(), kind: rt.plural.clone() },
            }),
            Some(_) => Ok(()),
        }
    }

    /// GET one object.
    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&key_of(rt, ns, name))
            .map(|o| Self::present(rt, o))
            .ok_or_else(|| ApiError::not_found(&rt.plural, &rt.group, name))
    }

    /// Raw access for the simulated controllers.
    pub fn objects_of(&self, group: &str, plural: &str) -> Vec<(Key, Value)> {
        let start = (
            group.to_string(),
            plural.to_string(),
            String::new(),
            String::new(),
        );
        self.objects
            .range(start..)
            .take_while(|(k, _)| k.0 == group && k.1 == plural)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// LIST (namespace `None` = all namespaces).
    pub fn list(&self, rt: &ResourceType, ns: Option<&str>, opts: &ListOpts) -> ListPage {
        let start = (
            rt.group.clone(),
            rt.plural.clone(),
            ns.unwrap_or_default().to_string(),
            String::new(),
        );
        let mut items = Vec::new();
        let mut continue_after = None;
        let mut remaining = 0;
        for (k, v) in self.objects.range(start..) {
            if k.0 != rt.group || k.1 != rt.plural || ns.is_some_and(|n| rt.namespaced && k.2 != n)
            {
                break;
            }
            if let Some((cns, cname)) = &opts.continue_after {
                if (&k.2, &k.3) <= (cns, cname) {
                    continue;
                }
            }
            if !opts.labels.matches(v) || !opts.fields.matches(v) {
                continue;
            }
            if opts.limit.is_some_and(|l| items.len() >= l) {
                remaining += 1;
                continue;
            }
            items.push(Self::present(rt, v));
        }
        if remaining > 0 {
            if let Some(last) = items.last() {
                continue_after = Some((meta(last, "namespace"), meta(last, "name")));
            }
        }
        ListPage {
            items,
            resource_version: self.rv,
            continue_after,
            remaining,
        }
    }

    /// Starts a watch: the initial events (current objects, or history after `from_rv`) and a
    /// receiver for what follows. `Gone` when `from_rv` is older than the kept history.
    pub fn watch(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        from_rv: Option<u64>,
    ) -> Result<WatchStart, ApiError> {
        let rx = self.tx.subscribe();
        let initial = match from_rv {
            None | Some(0) => self
                .list(rt, ns, &ListOpts::default())
                .items
                .into_iter()
                .map(|o| {
                    Arc::new(Event {
                        rv: meta(&o, "resourceVersion").parse().unwrap_or(0),
                        kind: EventType::Added,
                        group: rt.group.clone(),
                        plural: rt.plural.clone(),
                        namespace: meta(&o, "namespace"),
                        object: Arc::new(o),
                    })
                })
                .collect(),
            Some(n) => {
                if n < self.evicted_rv {
                    return Err(ApiError::Gone(format!(
                        "too old resource version: {n} ({})",
                        self.evicted_rv + 1
                    )));
                }
                self.history
                    .iter()
                    .filter(|e| e.rv > n && e.group == rt.group && e.plural == rt.plural)
                    .filter(|e| ns.is_none_or(|n| e.namespace == n))
                    .cloned()
                    .collect()
            }
        };
        Ok(WatchStart {
            initial,
            rx,
            start_rv: self.rv,
        })
    }

    /// Fills server-set metadata on a new object and checks its identity against the URL.
    fn prepare_create(&self, rt: &ResourceType, ns: &str, obj: &mut Value) -> Result<(), ApiError> {
        if !obj.is_object() {
            return Err(ApiError::BadRequest(
                "the body of the request was not a JSON object".into(),
            ));
        }
        check_type(rt, obj)?;
        let generate = meta(obj, "generateName");
        let body_ns = meta(obj, "namespace");
        let m = meta_mut(obj);
        if m.get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            && !generate.is_empty()
        {
            m.insert(
                "name".into(),
                Value::String(format!("{generate}{}", random_suffix(5))),
            );
        }
        if rt.namespaced {
            if !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request".into(),
                ));
            }
            m.insert("namespace".into(), Value::String(ns.to_string()));
        } else {
            m.shift_remove("namespace");
        }
        m.insert("uid".into(), Value::String(new_uid()));
        m.insert("creationTimestamp".into(), Value::String(now_rfc3339()));
        for f in [
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
            "selfLink",
        ] {
            m.shift_remove(f);
        }
        if rt.has_generation() {
            m.insert("generation".into(), json!(1));
        } else {
            m.shift_remove("generation");
        }
        obj["apiVersion"] = Value::String(rt.api_version());
        obj["kind"] = Value::String(rt.kind.clone());
        if rt.status_subresource {
            if let Some(o) = obj.as_object_mut() {
                o.shift_remove("status");
            }
        }
        self.default_on_create(rt, obj);
        Ok(())
    }

    /// Server-side defaults that matter to clients (phase, cluster IP, CRD conditions).
    fn default_on_create(&self, rt: &ResourceType, obj: &mut Value) {
        match (rt.group.as_str(), rt.kind.as_str()) {
            ("", "Namespace") => {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
                obj["status"] = json!({"phase": "Active"});
            }
            ("", "Service") => {
                let ty = obj
                    .pointer("/spec/type")
                    .and_then(Value::as_str)
                    .unwrap_or("ClusterIP")
                    .to_string();
                if !obj.get("spec").is_some_and(Value::is_object) {
                    obj["spec"] = json!({});
                }
                if ty != "ExternalName"
                    && obj
                        .pointer("/spec/clusterIP")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                {
                    let n = self.rv + 1;
                    let ip = format!("10.96.{}.{}", (n / 250) % 250, n % 250 + 1);
                    obj["spec"]["clusterIP"] = json!(ip);
                    obj["spec"]["clusterIPs"] = json!([ip]);
                }
                if obj.pointer("/spec/type").is_none() {
                    obj["spec"]["type"] = json!("ClusterIP");
                }
                obj["status"] = json!({"loadBalancer": {}});
            }
            ("", "PersistentVolumeClaim") => obj["status"] = json!({"phase": "Pending"}),
            ("", "Pod") => obj["status"] = json!({"phase": "Pending"}),
            _ => {}
        }
    }

    /// CREATE (POST).
    pub fn create(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        mut obj: Value,
        opts: &WriteOpts,
    ) -> Result<Value, ApiError> {
        self.prepare_create(rt, ns, &mut obj)?;
        let name = meta(&obj, "name");
        self.check_namespace(rt, ns, &name, true)?;
        let key = key_of(rt, ns, &name);
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(&rt.plural, &rt.group, &name));
        }
        let time = now_rfc3339();
        let av = rt.api_version();
        let actor = actor_for(rt, opts, &time, &av);
        ssa::record_update(None, &mut obj, &actor, "");
        self.commit(rt, key, None, obj, opts)
    }

    /// Validates and stores `new` (or only returns it under dry-run). No-op writes keep the
    /// resourceVersion.
    fn commit(
        &mut self,
        rt: &ResourceType,
        key: Key,
        old: Option<Value>,
        mut new: Value,
        opts: &WriteOpts,
    ) -> Result<Value, ApiError> {
        super::defaults::apply_defaults(rt, &mut new);
        validate_object(rt, &new)?;
        if let Some(old) = &old {
            validate_update(rt, old, &new)?;
            if rt.has_generation() && !spec_equal(old, &new) {
                let g = old
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                meta_mut(&mut new).insert("generation".into(), json!(g + 1));
            }
            meta_mut(&mut new).insert(
                "resourceVersion".into(),
                json!(meta(old, "resourceVersion")),
            );
            if *old == new {
                return Ok(Self::present(rt, old));
            }
        }
        if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
            self.crd_status(&mut new)?;
        }
        if opts.dry_run {
            return Ok(Self::present(rt, &new));
        }
        let rv = self.next_rv();
        meta_mut(&mut new).insert("resourceVersion".into(), Value::String(rv.to_string()));
        let finalize_now = new.pointer("/metadata/deletionTimestamp").is_some()
            && !has_finalizers(&new)
            && rt.kind != "Namespace";
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.objects.insert(key.clone(), new.clone());
        self.emit(kind, &key, new.clone());
        if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
            self.register_crd(&new);
        }
        if finalize_now {
            self.remove(rt, &key, Propagation::Background);
        }
        if rt.kind == "Namespace" && rt.group.is_empty() {
            self.try_finish_namespace(&key.3);
        }
        Ok(Self::present(rt, &new))
    }

    /// Sets the CRD's status (accepted names, Established) and rejects a clash with built-ins.
    fn crd_status(&self, crd: &mut Value) -> Result<(), ApiError> {
        let Some(types) = crd_types(crd) else {
            return Ok(());
        };
        if let Some(t) = types.first() {
            if self
                .registry
                .types()
                .iter()
                .any(|b| !b.custom && b.group == t.group && b.plural == t.plural)
            {
                return Err(ApiError::invalid(
                    "CustomResourceDefinition",
                    "apiextensions.k8s.io",
                    &meta(crd, "name"),
                    vec![super::error::Cause {
                        reason: "FieldValueInvalid".into(),
                        field: "spec.group".into(),
                        message:
                            "Invalid value: the group and plural clash with a built-in resource"
                                .into(),
                    }],
                ));
            }
        }
        let established = crd
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.get("type").and_then(Value::as_str) == Some("Established"))
            });
        let now = now_rfc3339();
        let stored: Vec<Value> = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .map(|vs| {
                vs.iter()
                    .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                    .filter_map(|v| v.get("name").cloned())
                    .collect()
            })
            .unwrap_or_default();
        // storedVersions only grows (objects may still be stored in an old version).
        let mut stored_all: Vec<Value> = crd
            .pointer("/status/storedVersions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for v in stored {
            if !stored_all.contains(&v) {
                stored_all.push(v);
            }
        }
        let stored = stored_all;
        let names = crd.pointer("/spec/names").cloned().unwrap_or(Value::Null);
        let cond = |ty: &str, reason: &str, msg: &str| json!({"type": ty, "status": "True", "lastTransitionTime": now, "reason": reason, "message": msg});
        let conditions = if established {
            crd.pointer("/status/conditions")
                .cloned()
                .unwrap_or(Value::Null)
        } else {
            json!([
                cond("NamesAccepted", "NoConflicts", "no conflicts found"),
                cond(
                    "Established",
                    "InitialNamesAccepted",
                    "the initial names have been accepted"
                ),
            ])
        };
        crd["status"] = json!({
            "acceptedNames": names,
            "storedVersions": stored,
            "conditions": conditions,
        });
        Ok(())
    }

    fn register_crd(&mut self, crd: &Value) {
        if let Some(types) = crd_types(crd) {
            if let Some(t) = types.first() {
                let (g, p) = (t.group.clone(), t.plural.clone());
                self.registry.set_crd_types(&g, &p, types);
            }
        }
    }

    /// UPDATE (PUT) of the object or its status subresource.
    pub fn update(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        mut body: Value,
        status: bool,
        opts: &WriteOpts,
    ) -> Result<Value, ApiError> {
        if !body.is_object() {
            return Err(ApiError::BadRequest(
                "the body of the request was not a JSON object".into(),
            ));
        }
        check_type(rt, &body)?;
        let body_name = meta(&body, "name");
        if body_name != name {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let body_ns = meta(&body, "namespace");
        if rt.namespaced && !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request".into(),
            ));
        }
        let key = key_of(rt, ns, name);
        let old = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rt.plural, &rt.group, name))?;
        let rv = meta(&body, "resourceVersion");
        if !rv.is_empty() && rv != meta(&old, "resourceVersion") {
            return Err(ApiError::stale(&rt.plural, &rt.group, name));
        }
        if body.pointer("/metadata/managedFields").is_none() {
            if let Some(mf) = old.pointer("/metadata/managedFields").cloned() {
                meta_mut(&mut body).insert("managedFields".into(), mf);
            }
        }
        self.finish_update(rt, key, old, body, status, opts, None)
    }

    /// Carries server-owned fields over from `old`, records field ownership, and commits.
    #[allow(clippy::too_many_arguments)]
    fn finish_update(
        &mut self,
        rt: &ResourceType,
        key: Key,
        old: Value,
        body: Value,
        status: bool,
        opts: &WriteOpts,
        applied: Option<()>,
    ) -> Result<Value, ApiError> {
        let mut new = if status {
            // The status subresource changes only status (and the managedFields of the write).
            let mut n = old.clone();
            match body.get("status") {
                Some(s) => n["status"] = s.clone(),
                None => {
                    if let Some(o) = n.as_object_mut() {
                        o.shift_remove("status");
                    }
                }
            }
            if let Some(mf) = body.pointer("/metadata/managedFields") {
                meta_mut(&mut n).insert("managedFields".into(), mf.clone());
            }
            n
        } else {
            let mut n = body;
            if rt.status_subresource {
                match old.get("status") {
                    Some(s) => n["status"] = s.clone(),
                    None => {
                        if let Some(o) = n.as_object_mut() {
                            o.shift_remove("status");
                        }
                    }
                }
            }
            n
        };
        n_carry(&old, &mut new, rt);
        if applied.is_none() {
            let time = now_rfc3339();
            let av = rt.api_version();
            let actor = actor_for(rt, opts, &time, &av);
            ssa::record_update(
                Some(&old),
                &mut new,
                &actor,
                if status { "status" } else { "" },
            );
        }
        self.commit(rt, key, Some(old), new, opts)
    }

    /// PATCH with any of the four patch types. Apply may create the object.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        ptype: PatchType,
        body: &[u8],
        status: bool,
        opts: &WriteOpts,
    ) -> Result<(Value, bool), ApiError> {
        let key = key_of(rt, ns, name);
        let old = self.objects.get(&key).cloned();
        if ptype == PatchType::Apply {
            return self.apply(rt, ns, name, key, old, body, status, opts);
        }
        let old = old.ok_or_else(|| ApiError::not_found(&rt.plural, &rt.group, name))?;
        let p: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("error decoding patch: {e}")))?;
        let mut new = Self::present(rt, &old);
        match ptype {
            PatchType::Json => patch::json_patch(&mut new, &p)?,
            PatchType::Merge => patch::merge_patch(&mut new, &p),
            PatchType::Strategic => {
                if rt.custom {
                    return Err(ApiError::UnsupportedMediaType(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml".into(),
                    ));
                }
                patch::strategic_merge(&mut new, &p);
            }
            PatchType::Apply => unreachable!("handled above"),
        }
        if meta(&new, "name") != name {
            return Err(ApiError::BadRequest(
                "the name of the object may not be changed by a patch".into(),
            ));
        }
        let rv = meta(&new, "resourceVersion");
        if !rv.is_empty() && rv != meta(&old, "resourceVersion") {
            return Err(ApiError::stale(&rt.plural, &rt.group, name));
        }
        check_type(rt, &new)?;
        Ok((
            self.finish_update(rt, key, old, new, status, opts, None)?,
            false,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        key: Key,
        old: Option<Value>,
        body: &[u8],
        status: bool,
        opts: &WriteOpts,
    ) -> Result<(Value, bool), ApiError> {
        if !opts.manager_given || opts.manager.is_empty() {
            return Err(ApiError::invalid(
                "PatchOptions",
                "meta.k8s.io",
                "",
                vec![super::error::Cause {
                    reason: "FieldValueRequired".into(),
                    field: "fieldManager".into(),
                    message: "Required value: is required for apply patch".into(),
                }],
            ));
        }
        // Clients mostly send JSON (a YAML subset); parse it as such first, it is much faster.
        let applied: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => serde_yaml::from_slice(body)
                .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")))?,
        };
        if !applied.is_object() {
            return Err(ApiError::BadRequest(
                "the applied configuration must be an object".into(),
            ));
        }
        check_type(rt, &applied)?;
        if applied.get("apiVersion").is_none() || applied.get("kind").is_none() {
            return Err(ApiError::BadRequest(
                "apiVersion and kind must be set in an applied configuration".into(),
            ));
        }
        let body_name = meta(&applied, "name");
        if body_name != name {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let body_ns = meta(&applied, "namespace");
        if rt.namespaced && !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request".into(),
            ));
        }
        let time = now_rfc3339();
        let av = rt.api_version();
        let mut actor = actor_for(rt, opts, &time, &av);
        actor.skip_status = rt.status_subresource && !status;
        let live = old.as_ref().map(|o| Self::present(rt, o));
        let new = match ssa::apply(live.as_ref(), &applied, &actor, opts.force) {
            ApplyOutcome::Applied(v) => v,
            ApplyOutcome::Conflicts(c) => {
                let message = ssa::conflict_message(&c);
                return Err(ApiError::Conflict {
                    message,
                    target: super::error::Target {
                        name: name.into(),
                        group: rt.group.clone(),
                        kind: rt.kind.clone(),
                    },
                    causes: c
                        .iter()
                        .map(|c| super::error::Cause {
                            reason: "FieldManagerConflict".into(),
                            message: format!(
                                "conflict with \"{}\" using {}",
                                c.manager, c.api_version
                            ),
                            field: ssa::render_path(&c.path),
                        })
                        .collect(),
                });
            }
        };
        match old {
            None => {
                let mut obj = new;
                let mf = obj.pointer("/metadata/managedFields").cloned();
                self.prepare_create(rt, ns, &mut obj)?;
                if let Some(mf) = mf {
                    meta_mut(&mut obj).insert("managedFields".into(), mf);
                }
                self.check_namespace(rt, ns, name, true)?;
                Ok((self.commit(rt, key, None, obj, opts)?, true))
            }
            Some(old) => Ok((
                self.finish_update(rt, key, old, new, status, opts, Some(()))?,
                false,
            )),
        }
    }

    /// DELETE. Objects with finalizers get a deletionTimestamp; namespaces are torn down.
    #[allow(clippy::too_many_arguments)]
    pub fn delete(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        propagation: Propagation,
        precondition_rv: Option<&str>,
        precondition_uid: Option<&str>,
        dry_run: bool,
    ) -> Result<Deleted, ApiError> {
        let key = key_of(rt, ns, name);
        let old = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rt.plural, &rt.group, name))?;
        if precondition_rv.is_some_and(|rv| rv != meta(&old, "resourceVersion"))
            || precondition_uid.is_some_and(|uid| uid != meta(&old, "uid"))
        {
            return Err(ApiError::stale(&rt.plural, &rt.group, name));
        }
        if dry_run {
            return Ok(Deleted::Gone(Self::present(rt, &old)));
        }
        let is_ns = rt.group.is_empty() && rt.kind == "Namespace";
        if is_ns || has_finalizers(&old) {
            if old.pointer("/metadata/deletionTimestamp").is_none() {
                let mut new = old.clone();
                let m = meta_mut(&mut new);
                m.insert("deletionTimestamp".into(), Value::String(now_rfc3339()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
                if is_ns {
                    new["status"] = json!({"phase": "Terminating"});
                }
                let rv = self.next_rv();
                meta_mut(&mut new).insert("resourceVersion".into(), Value::String(rv.to_string()));
                self.objects.insert(key.clone(), new.clone());
                self.emit(EventType::Modified, &key, new);
            }
            if is_ns {
                let marked = self
                    .objects
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| old.clone());
                self.delete_namespace_contents(name);
                if let Some(gone) = self.try_finish_namespace(name) {
                    return Ok(Deleted::Gone(gone));
                }
                if !self.objects.contains_key(&key) {
                    // Emptied and removed while its contents were deleted.
                    return Ok(Deleted::Gone(marked));
                }
            }
            let cur = self.objects.get(&key).cloned().unwrap_or(old);
            return Ok(Deleted::Pending(Self::present(rt, &cur)));
        }
        let gone = self.remove(rt, &key, propagation);
        Ok(Deleted::Gone(Self::present(rt, &gone.unwrap_or(old))))
    }

    /// Removes an object for good, emits DELETED, and collects its dependents.
    fn remove(&mut self, rt: &ResourceType, key: &Key, propagation: Propagation) -> Option<Value> {
        let mut obj = self.objects.remove(key)?;
        let rv = self.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), Value::String(rv.to_string()));
        self.emit(EventType::Deleted, key, obj.clone());
        if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
            self.unregister_crd(&obj);
        }
        let uid = meta(&obj, "uid");
        self.collect_dependents(&uid, propagation);
        if !key.2.is_empty() {
            self.try_finish_namespace(&key.2.clone());
        }
        Some(obj)
    }

    /// Garbage collection: dependents whose owners are all gone are deleted (or, for Orphan,
    /// lose their owner reference).
    fn collect_dependents(&mut self, owner_uid: &str, propagation: Propagation) {
        if owner_uid.is_empty() {
            return;
        }
        let dependents: Vec<Key> = self
            .objects
            .iter()
            .filter(|(_, v)| {
                v.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter()
                            .any(|r| r.get("uid").and_then(Value::as_str) == Some(owner_uid))
                    })
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in dependents {
            let Some(obj) = self.objects.get(&key).cloned() else {
                continue;
            };
            let Some(rt) = self.type_of_key(&key, &obj) else {
                continue;
            };
            if propagation == Propagation::Orphan {
                let mut new = obj.clone();
                if let Some(refs) = new
                    .pointer_mut("/metadata/ownerReferences")
                    .and_then(Value::as_array_mut)
                {
                    refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid));
                }
                let rv = self.next_rv();
                meta_mut(&mut new).insert("resourceVersion".into(), Value::String(rv.to_string()));
                self.objects.insert(key.clone(), new.clone());
                self.emit(EventType::Modified, &key, new);
                continue;
            }
            let other_owner_alive = obj
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("uid").and_then(Value::as_str))
                .any(|u| u != owner_uid && self.objects.values().any(|o| meta(o, "uid") == u));
            if !other_owner_alive {
                let _ = self.delete(
                    &rt,
                    &key.2,
                    &key.3,
                    Propagation::Background,
                    None,
                    None,
                    false,
                );
            }
        }
    }

    fn type_of_key(&self, key: &Key, obj: &Value) -> Option<ResourceType> {
        let api_version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let version = api_version.rsplit('/').next().unwrap_or_default();
        self.registry
            .lookup(&key.0, version, &key.1)
            .or_else(|| {
                self.registry
                    .types()
                    .iter()
                    .find(|t| t.group == key.0 && t.plural == key.1)
            })
            .cloned()
    }

    fn unregister_crd(&mut self, crd: &Value) {
        let Some(types) = crd_types(crd) else { return };
        let Some(t) = types.first().cloned() else {
            return;
        };
        let keys: Vec<Key> = self
            .objects
            .keys()
            .filter(|k| k.0 == t.group && k.1 == t.plural)
            .cloned()
            .collect();
        for key in keys {
            self.remove(&t, &key, Propagation::Background);
        }
        self.registry.remove_crd_types(&t.group, &t.plural);
    }

    fn delete_namespace_contents(&mut self, ns: &str) {
        let keys: Vec<Key> = self.objects.keys().filter(|k| k.2 == ns).cloned().collect();
        for key in keys {
            let Some(obj) = self.objects.get(&key).cloned() else {
                continue;
            };
            if obj.pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            if let Some(rt) = self.type_of_key(&key, &obj) {
                let _ = self.delete(
                    &rt,
                    &key.2,
                    &key.3,
                    Propagation::Background,
                    None,
                    None,
                    false,
                );
            }
        }
    }

    /// Removes a terminating namespace once it is empty and has no finalizers left.
    fn try_finish_namespace(&mut self, ns: &str) -> Option<Value> {
        let key = (
            String::new(),
            "namespaces".to_string(),
            String::new(),
            ns.to_string(),
        );
        let nsobj = self.objects.get(&key)?;
        if nsobj.pointer("/metadata/deletionTimestamp").is_none() || has_finalizers(nsobj) {
            return None;
        }
        if self.objects.keys().any(|k| k.2 == ns) {
            return None;
        }
        let rt = self.registry.lookup("", "v1", "namespaces")?.clone();
        self.remove(&rt, &key, Propagation::Background)
    }

    /// DELETECOLLECTION: deletes every matching object; returns them.
    pub fn delete_collection(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        opts: &ListOpts,
        propagation: Propagation,
        dry_run: bool,
    ) -> Result<Vec<Value>, ApiError> {
        let page = self.list(
            rt,
            ns,
            &ListOpts {
                limit: None,
                continue_after: None,
                ..opts.clone()
            },
        );
        let mut out = Vec::new();
        for item in page.items {
            match self.delete(
                rt,
                &meta(&item, "namespace"),
                &meta(&item, "name"),
                propagation,
                None,
                None,
                dry_run,
            )? {
                Deleted::Gone(v) | Deleted::Pending(v) => out.push(v),
            }
        }
        Ok(out)
    }

    /// Every stored object and the resourceVersion counter, for `--data DIR` snapshots.
    pub fn snapshot(&self) -> Value {
        json!({"resourceVersion": self.rv, "objects": self.objects.values().collect::<Vec<_>>()})
    }

    /// Loads a snapshot written by [`Store::snapshot`] (replacing same-named objects);
    /// CRDs are registered first so their custom resources find their types. Returns the number
    /// of objects loaded; objects of unknown types are skipped.
    pub fn restore(&mut self, snap: &Value) -> usize {
        let objs = snap
            .get("objects")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let is_crd =
            |o: &Value| o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition");
        for crd in objs.iter().filter(|o| is_crd(o)) {
            self.register_crd(crd);
        }
        let mut loaded = 0;
        for o in &objs {
            let api_version = o
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            let rt = self
                .registry
                .by_kind(group, version, kind)
                .or_else(|| {
                    self.registry
                        .types()
                        .iter()
                        .find(|t| t.group == group && t.kind == kind)
                })
                .cloned();
            let Some(rt) = rt else { continue };
            let key = key_of(&rt, &meta(o, "namespace"), &meta(o, "name"));
            if key.3.is_empty() {
                continue;
            }
            self.objects.insert(key, o.clone());
            loaded += 1;
        }
        let rv = snap
            .get("resourceVersion")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        self.rv = self.rv.max(rv);
        // Watches cannot resume across a restart.
        self.evicted_rv = self.rv;
        self.history.clear();
        loaded
    }

    /// Writes an object's status as a controller would (manager `kube-controller-manager`),
    /// skipping the write when nothing changed.
    pub fn controller_set_status(&mut self, key: &Key, status: Value) -> Result<(), ApiError> {
        let Some(old) = self.objects.get(key).cloned() else {
            return Ok(());
        };
        if old.get("status") == Some(&status) {
            return Ok(());
        }
        let Some(rt) = self.type_of_key(key, &old) else {
            return Ok(());
        };
        let mut body = old.clone();
        body["status"] = status;
        let opts = WriteOpts {
            manager: "kube-controller-manager".into(),
            manager_given: true,
            ..Default::default()
        };
        self.finish_update(&rt, key.clone(), old, body, true, &opts, None)
            .map(|_| ())
    }
}

/// Copies identity and server-owned metadata from the stored object into an update.
fn n_carry(old: &Value, new: &mut Value, rt: &ResourceType) {
    let om = old.get("metadata").cloned().unwrap_or(Value::Null);
    let m = meta_mut(new);
    for f in [
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "namespace",
        "resourceVersion",
    ] {
        match om.get(f) {
            Some(v) => {
                m.insert(f.into(), v.clone());
            }
            None => {
                m.shift_remove(f);
            }
        }
    }
    new["apiVersion"] = Value::String(rt.api_version());
    new["kind"] = Value::String(rt.kind.clone());
    if rt.kind == "Namespace" && rt.group.is_empty() {
        if let Some(s) = old.get("spec") {
            new["spec"] = s.clone();
        }
    }
    if rt.kind == "Service" && rt.group.is_empty() {
        for f in ["clusterIP", "clusterIPs"] {
            if new.pointer(&format!("/spec/{f}")).is_none() {
                if let Some(v) = old.pointer(&format!("/spec/{f}")).cloned() {
                    if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                        spec.insert(f.into(), v);
                    }
                }
            }
        }
    }
}

fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

fn actor_for<'a>(
    rt: &ResourceType,
    opts: &'a WriteOpts,
    time: &'a str,
    api_version: &'a str,
) -> Actor<'a> {
    Actor {
        manager: &opts.manager,
        api_version,
        time,
        builtin: !rt.custom,
        skip_status: false,
    }
}

/// Rejects a body whose apiVersion/kind do not belong to the URL's resource.
fn check_type(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    if let Some(kind) = obj.get("kind").and_then(Value::as_str) {
        if kind != rt.kind {
            return Err(ApiError::BadRequest(format!(
                "the kind of the object ({kind}) does not match the kind of the resource ({})",
                rt.kind
            )));
        }
    }
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str) {
        let group = av.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        if group != rt.group {
            return Err(ApiError::BadRequest(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                rt.api_version()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store::new(100)
    }

    fn rt(s: &Store, group: &str, plural: &str) -> ResourceType {
        s.registry
            .types()
            .iter()
            .find(|t| t.group == group && t.plural == plural)
            .cloned()
            .expect("type")
    }

    fn opts(m: &str) -> WriteOpts {
        WriteOpts {
            manager: m.into(),
            manager_given: true,
            ..Default::default()
        }
    }

    fn cm(name: &str, v: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": name}}, "data": {"k": v}})
    }

    #[test]
    fn create_sets_identity_and_rejects_duplicates_and_missing_namespace() {
        let mut s = store();
        let t = rt(&s, "", "configmaps");
        let o = s
            .create(&t, "default", cm("a", "1"), &opts("test"))
            .expect("created");
        assert!(!meta(&o, "uid").is_empty());
        assert!(!meta(&o, "creationTimestamp").is_empty());
        assert_eq!(meta(&o, "namespace"), "default");
        assert_eq!(
            s.create(&t, "default", cm("a", "1"), &opts("test"))
                .expect_err("dup")
                .code(),
            409
        );
        assert_eq!(
            s.create(&t, "nope", cm("b", "1"), &opts("test"))
                .expect_err("no ns")
                .code(),
            404
        );
    }

    #[test]
    fn update_with_stale_resource_version_conflicts() {
        let mut s = store();
        let t = rt(&s, "", "configmaps");
        let o = s
            .create(&t, "default", cm("a", "1"), &opts("test"))
            .expect("created");
        let mut u = o.clone();
        u["data"]["k"] = json!("2");
        let u2 = s
            .update(&t, "default", "a", u.clone(), false, &opts("test"))
            .expect("updated");
        assert_ne!(meta(&u2, "resourceVersion"), meta(&o, "resourceVersion"));
        assert_eq!(
            s.update(&t, "default", "a", u, false, &opts("test"))
                .expect_err("stale")
                .code(),
            409
        );
    }

    #[test]
    fn generation_bumps_on_spec_change_only() {
        let mut s = store();
        let t = rt(&s, "apps", "deployments");
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}});
        let o = s.create(&t, "default", d, &opts("t")).expect("created");
        assert_eq!(o["metadata"]["generation"], 1);
        let mut l = o.clone();
        l["metadata"]["labels"] = json!({"x": "y"});
        let o2 = s
            .update(&t, "default", "web", l, false, &opts("t"))
            .expect("label update");
        assert_eq!(o2["metadata"]["generation"], 1);
        let mut sp = o2.clone();
        sp["spec"]["replicas"] = json!(3);
        let o3 = s
            .update(&t, "default", "web", sp, false, &opts("t"))
            .expect("spec update");
        assert_eq!(o3["metadata"]["generation"], 2);
    }

    #[test]
    fn finalizers_delay_deletion_until_removed() {
        let mut s = store();
        let t = rt(&s, "", "configmaps");
        let mut c = cm("a", "1");
        c["metadata"]["finalizers"] = json!(["example.com/keep"]);
        s.create(&t, "default", c, &opts("t")).expect("created");
        let Deleted::Pending(p) = s
            .delete(
                &t,
                "default",
                "a",
                Propagation::Background,
                None,
                None,
                false,
            )
            .expect("delete")
        else {
            panic!("expected pending")
        };
        assert!(p.pointer("/metadata/deletionTimestamp").is_some());
        let mut u = p.clone();
        u["metadata"]["finalizers"] = json!([]);
        s.update(&t, "default", "a", u, false, &opts("t"))
            .expect("finalizer removed");
        assert_eq!(s.get(&t, "default", "a").expect_err("gone").code(), 404);
    }

    #[test]
    fn namespace_deletion_removes_contents_and_blocks_creation_while_terminating() {
        let mut s = store();
        let nst = rt(&s, "", "namespaces");
        let t = rt(&s, "", "configmaps");
        s.create(&nst, "", json!({"metadata": {"name": "team"}}), &opts("t"))
            .expect("ns");
        s.create(&t, "team", cm("a", "1"), &opts("t"))
            .expect("cm a");
        let mut held = cm("b", "1");
        held["metadata"]["finalizers"] = json!(["x/y"]);
        s.create(&t, "team", held, &opts("t")).expect("cm b");
        s.delete(&nst, "", "team", Propagation::Background, None, None, false)
            .expect("delete ns");
        assert_eq!(s.get(&t, "team", "a").expect_err("a gone").code(), 404);
        assert_eq!(
            s.create(&t, "team", cm("c", "1"), &opts("t"))
                .expect_err("terminating")
                .code(),
            403
        );
        let mut b = s.get(&t, "team", "b").expect("b held");
        b["metadata"]["finalizers"] = json!([]);
        s.update(&t, "team", "b", b, false, &opts("t"))
            .expect("release");
        assert_eq!(s.get(&nst, "", "team").expect_err("ns gone").code(), 404);
    }

    #[test]
    fn dry_run_persists_nothing() {
        let mut s = store();
        let t = rt(&s, "", "configmaps");
        let o = WriteOpts {
            dry_run: true,
            ..opts("t")
        };
        s.create(&t, "default", cm("a", "1"), &o).expect("dry");
        assert!(s.get(&t, "default", "a").is_err());
        let (_, created) = s
            .patch(
                &t,
                "default",
                "a",
                PatchType::Apply,
                cm("a", "1").to_string().as_bytes(),
                false,
                &o,
            )
            .expect("dry apply");
        assert!(created);
        assert!(s.get(&t, "default", "a").is_err());
    }

    #[test]
    fn reapply_keeps_resource_version_and_watch_resumes() {
        let mut s = store();
        let t = rt(&s, "", "configmaps");
        let body = cm("a", "1").to_string();
        let (o1, _) = s
            .patch(
                &t,
                "default",
                "a",
                PatchType::Apply,
                body.as_bytes(),
                false,
                &opts("m"),
            )
            .expect("apply");
        let (o2, _) = s
            .patch(
                &t,
                "default",
                "a",
                PatchType::Apply,
                body.as_bytes(),
                false,
                &opts("m"),
            )
            .expect("again");
        assert_eq!(meta(&o1, "resourceVersion"), meta(&o2, "resourceVersion"));
        let from: u64 = meta(&o1, "resourceVersion").parse().expect("rv");
        s.patch(
            &t,
            "default",
            "a",
            PatchType::Apply,
            cm("a", "2").to_string().as_bytes(),
            false,
            &opts("m"),
        )
        .expect("change");
        let w = s.watch(&t, Some("default"), Some(from)).expect("watch");
        assert_eq!(w.initial.len(), 1);
        assert_eq!(w.initial[0].kind, EventType::Modified);
    }

    #[test]
    fn watch_from_evicted_version_is_gone() {
        let mut s = Store::new(16);
        let t = rt(&s, "", "configmaps");
        for i in 0..40 {
            s.create(&t, "default", cm(&format!("c{i}"), "1"), &opts("t"))
                .expect("created");
        }
        assert!(matches!(s.watch(&t, None, Some(1)), Err(ApiError::Gone(_))));
    }

    #[test]
    fn crd_registers_and_unregisters_its_resource() {
        let mut s = store();
        let t = rt(&s, "apiextensions.k8s.io", "customresourcedefinitions");
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": true, "storage": true}]}});
        let o = s.create(&t, "", crd, &opts("t")).expect("crd");
        assert_eq!(o["status"]["conditions"][1]["type"], "Established");
        let w = s
            .registry
            .lookup("example.com", "v1", "widgets")
            .cloned()
            .expect("registered");
        s.create(
            &w,
            "default",
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
            &opts("t"),
        )
        .expect("cr");
        s.delete(
            &t,
            "",
            "widgets.example.com",
            Propagation::Background,
            None,
            None,
            false,
        )
        .expect("delete crd");
        assert!(s.registry.lookup("example.com", "v1", "widgets").is_none());
        assert!(s.objects_of("example.com", "widgets").is_empty());
    }

    #[test]
    fn deleting_owner_collects_dependents() {
        let mut s = store();
        let t = rt(&s, "", "configmaps");
        let owner = s
            .create(&t, "default", cm("owner", "1"), &opts("t"))
            .expect("owner");
        let mut dep = cm("dep", "1");
        dep["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": meta(&owner, "uid")}]);
        s.create(&t, "default", dep, &opts("t")).expect("dep");
        s.delete(
            &t,
            "default",
            "owner",
            Propagation::Background,
            None,
            None,
            false,
        )
        .expect("delete");
        assert!(s.get(&t, "default", "dep").is_err());
    }

    #[test]
    fn snapshot_restores_objects_crds_and_resource_version() {
        let mut s = store();
        let crd_t = rt(&s, "apiextensions.k8s.io", "customresourcedefinitions");
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": true, "storage": true}]}});
        s.create(&crd_t, "", crd, &opts("t")).expect("crd");
        let w = s
            .registry
            .lookup("example.com", "v1", "widgets")
            .cloned()
            .expect("registered");
        s.create(
            &w,
            "default",
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
            &opts("t"),
        )
        .expect("cr");
        let t = rt(&s, "", "configmaps");
        s.create(&t, "default", cm("a", "1"), &opts("t"))
            .expect("cm");
        let snap = s.snapshot();

        let mut fresh = Store::new(100);
        fresh.restore(&snap);
        assert_eq!(fresh.len(), s.len());
        assert_eq!(fresh.resource_version(), s.resource_version());
        assert!(fresh.get(&w, "default", "w").is_ok());
        assert_eq!(fresh.get(&t, "default", "a").expect("cm")["data"]["k"], "1");
        assert!(matches!(
            fresh.watch(&t, None, Some(1)),
            Err(ApiError::Gone(_))
        ));
    }

    #[test]
    fn list_pages_with_limit_and_continue() {
        let mut s = store();
        let t = rt(&s, "", "configmaps");
        for n in ["a", "b", "c"] {
            s.create(&t, "default", cm(n, "1"), &opts("t"))
                .expect("created");
        }
        let p1 = s.list(
            &t,
            Some("default"),
            &ListOpts {
                limit: Some(2),
                ..Default::default()
            },
        );
        assert_eq!(p1.items.len(), 2);
        assert_eq!(p1.remaining, 1);
        let p2 = s.list(
            &t,
            Some("default"),
            &ListOpts {
                limit: Some(2),
                continue_after: p1.continue_after,
                ..Default::default()
            },
        );
        assert_eq!(p2.items.len(), 1);
        assert_eq!(meta(&p2.items[0], "name"), "c");
        let sel = s.list(
            &t,
            None,
            &ListOpts {
                labels: LabelSelector::parse("app=b").expect("sel"),
                ..Default::default()
            },
        );
        assert_eq!(sel.items.len(), 1);
    }
}
