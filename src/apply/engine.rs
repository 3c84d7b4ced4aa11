//! The I/O half of the apply engine: server-side apply over `kube::Client`, change detection,
//! inventory storage, prune and the health wait. Everything it decides comes from the pure
//! modules (`plan`, `normalize`, `policy`, `health`, `inventory`); it returns a `Report` and
//! never prints.
//!
//! ```text
//!  GET inventory ConfigMap ─► per stage ─► per kind: LIST (label-selected, all namespaces)
//!     ├─ digest and resourceVersion both as recorded ──► unchanged (no request at all)
//!     ├─ not listed ──► apply ──► created (201) | configured (adopted, 200)
//!     └─ moved ──► dry-run apply ──► same as live? unchanged : apply ──► configured | drifted
//!  stage 1 done ─► wait: CRDs Established, Namespaces Active
//!  all applied ─► prune stale (reverse order, safety rules) ─► write inventory (only if changed)
//!  --wait ─► poll health (kstatus) until all Current, any Failed (fail-fast), or timeout
//! ```
//!
//! A no-op apply of N kinds costs N+1 requests: one GET and one LIST per kind.

use super::changeset::{Action, ChangeSet};
use super::diff;
use super::discovery::{collection_url, Discovery};
use super::error::{Error, Result};
use super::health::{health, Health};
use super::inventory::{entry_id, Entry, Inventory, KindMapping};
use super::normalize::{differs, digest, live_digest, normalize};
use super::object::{resource_version, set_label, ObjRef};
use super::plan::{self, Stage};
use super::policy::{
    policy_of, prune_decision, ObjectPolicy, Owner, PruneDecision, SsaMode, OWNER_NAMESPACE_LABEL,
    OWNER_NAME_LABEL,
};
use futures::stream::{self, StreamExt};
use http_body_util::BodyExt;
use kube::core::params::{DeleteParams, GetParams, ListParams, Patch, PatchParams};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// The field manager driftless applies with.
pub const FIELD_MANAGER: &str = "driftless";
/// Applies in flight at once inside one kind (objects of one kind never depend on each other).
const CONCURRENCY: usize = 16;
/// How long stage 1 may take to become usable (Flux uses the same fixed 60s).
const STAGE_TIMEOUT: Duration = Duration::from_secs(60);
/// Label put on the inventory ConfigMap.
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// How to apply.
#[derive(Clone, Debug)]
pub struct Options {
    /// Who owns the objects: written into the ownership labels.
    pub owner: Owner,
    /// Delete objects that left the source.
    pub prune: bool,
    /// Wait for every applied object to become healthy.
    pub wait: bool,
    /// Health wait limit (also bounds stage waits and recreate waits).
    pub timeout: Duration,
    /// Server-side dry-run: nothing is written, the ChangeSet says what would happen.
    pub dry_run: bool,
    /// Collect unified diffs (with `dry_run`, for `driftless diff`).
    pub diff: bool,
    /// Recreate objects whose change hits an immutable field (like Flux `spec.force`).
    pub force: bool,
    /// The namespace driftless runs in; never pruned.
    pub agent_namespace: Option<String>,
    /// Health poll interval.
    pub poll_interval: Duration,
    /// Source revision recorded with the inventory.
    pub revision: String,
    /// Keep the inventory in the ConfigMap `driftless-inventory-<owner.name>` in
    /// `owner.namespace` (the CLI); the agent keeps it in the Kustomization status instead.
    pub store_inventory: bool,
}

impl Options {
    pub fn new(owner: Owner) -> Options {
        Options {
            owner,
            prune: false,
            wait: false,
            timeout: Duration::from_secs(300),
            dry_run: false,
            diff: false,
            force: false,
            agent_namespace: None,
            poll_interval: Duration::from_secs(2),
            revision: String::new(),
            store_inventory: true,
        }
    }
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct Report {
    pub changes: ChangeSet,
    /// Unified diffs of changed objects (only with `Options::diff`).
    pub diffs: Vec<String>,
    /// Everything that went wrong; empty on success.
    pub errors: Vec<Error>,
    /// The inventory after this apply.
    pub inventory: Inventory,
}

impl Report {
    pub fn is_success(&self) -> bool {
        self.errors.is_empty()
    }
}

/// An HTTP answer that was not 2xx, or no answer.
#[derive(Debug)]
enum CallError {
    Status {
        code: u16,
        message: String,
        field: Option<String>,
    },
    Transport(kube::Error),
}

impl CallError {
    fn code(&self) -> u16 {
        match self {
            CallError::Status { code, .. } => *code,
            CallError::Transport(_) => 0,
        }
    }

    fn is_not_found(&self) -> bool {
        self.code() == 404
    }

    /// `(field)` when this is an immutable-field rejection (Flux `ssa/errors/immutable.go`).
    fn immutable_field(&self) -> Option<String> {
        match self {
            CallError::Status {
                code: 422 | 409,
                message,
                field,
            } if message.contains("immutable") => {
                Some(field.clone().unwrap_or_else(|| field_from_message(message)))
            }
            _ => None,
        }
    }

    fn into_error(self, action: &'static str, object: &ObjRef) -> Error {
        match self {
            CallError::Status { code, message, .. } => Error::Api {
                action,
                object: object.clone(),
                message,
                code,
            },
            CallError::Transport(source) => Error::Transport {
                action,
                object: object.to_string(),
                source,
            },
        }
    }
}

/// Pulls `spec.selector` out of `Deployment.apps "web" is invalid: spec.selector: Invalid value: …`.
fn field_from_message(message: &str) -> String {
    let tail = message
        .split_once(" is invalid: ")
        .map_or(message, |(_, t)| t);
    match tail.split_once(':') {
        Some((f, _)) if !f.contains(' ') => f.to_string(),
        _ => "a field".to_string(),
    }
}

/// One desired object, ready to apply.
#[derive(Clone, Debug)]
struct Desired {
    r: ObjRef,
    obj: Value,
    digest: String,
    policy: ObjectPolicy,
}

/// What happened to one desired object.
#[derive(Debug)]
struct Done {
    action: Action,
    note: Option<String>,
    /// resourceVersion to record (empty: record nothing).
    rv: String,
    /// Live digest to record; computed from `live` when empty.
    ld: String,
    /// The object as the server last showed it, for health and stage waits.
    live: Option<Value>,
    diff: Option<String>,
}

impl Done {
    fn new(action: Action, live: Option<Value>) -> Done {
        let rv = live
            .as_ref()
            .map(|l| resource_version(l).to_string())
            .unwrap_or_default();
        Done {
            action,
            note: None,
            rv,
            ld: String::new(),
            live,
            diff: None,
        }
    }
}

/// The apply engine for one cluster. Keeps the discovery cache between applies.
pub struct Engine {
    client: kube::Client,
    discovery: Discovery,
}

impl Engine {
    pub fn new(client: kube::Client) -> Engine {
        Engine {
            client,
            discovery: Discovery::default(),
        }
    }

    /// The client this engine talks through.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    async fn call(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> std::result::Result<(u16, Value), CallError> {
        let res = self
            .client
            .send(req.map(kube::client::Body::from))
            .await
            .map_err(CallError::Transport)?;
        let code = res.status().as_u16();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(CallError::Transport)?
            .to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if (200..300).contains(&code) {
            return Ok((code, body));
        }
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).trim().to_string());
        let field = body
            .pointer("/details/causes")
            .and_then(Value::as_array)
            .and_then(|causes| {
                causes
                    .iter()
                    .find(|c| {
                        c.get("message")
                            .and_then(Value::as_str)
                            .is_some_and(|m| m.contains("immutable"))
                    })
                    .or_else(|| causes.first())
                    .and_then(|c| c.get("field").and_then(Value::as_str))
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
            });
        Err(CallError::Status {
            code,
            message,
            field,
        })
    }

    fn request(r: &ObjRef, m: &KindMapping) -> kube::core::Request {
        kube::core::Request::new(collection_url(r, m, Some(&r.namespace)))
    }

    async fn get(
        &self,
        r: &ObjRef,
        m: &KindMapping,
    ) -> std::result::Result<Option<Value>, CallError> {
        let req = Self::request(r, m)
            .get(&r.name, &GetParams::default())
            .map_err(|e| CallError::Transport(kube::Error::BuildRequest(e)))?;
        match self.call(req).await {
            Ok((_, v)) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn ssa(
        &self,
        d: &Desired,
        m: &KindMapping,
        dry_run: bool,
    ) -> std::result::Result<(u16, Value), CallError> {
        let mut pp = PatchParams::apply(FIELD_MANAGER).force();
        if dry_run {
            pp = pp.dry_run();
        }
        let req = Self::request(&d.r, m)
            .patch(&d.r.name, &pp, &Patch::Apply(&d.obj))
            .map_err(|e| CallError::Transport(kube::Error::BuildRequest(e)))?;
        self.call(req).await
    }

    async fn delete(&self, r: &ObjRef, m: &KindMapping) -> std::result::Result<(), CallError> {
        let req = Self::request(r, m)
            .delete(&r.name, &DeleteParams::background())
            .map_err(|e| CallError::Transport(kube::Error::BuildRequest(e)))?;
        match self.call(req).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Label-selected LIST of one kind across all namespaces: (namespace, name) → object.
    async fn list(
        &self,
        r: &ObjRef,
        m: &KindMapping,
        owner: &Owner,
    ) -> std::result::Result<HashMap<(String, String), Value>, CallError> {
        let url = collection_url(r, m, None);
        let req = kube::core::Request::new(url)
            .list(&ListParams::default().labels(&owner.selector()))
            .map_err(|e| CallError::Transport(kube::Error::BuildRequest(e)))?;
        let (_, body) = self.call(req).await?;
        let mut out = HashMap::new();
        let items = match body {
            Value::Object(mut o) => o.remove("items").unwrap_or(Value::Null),
            _ => Value::Null,
        };
        if let Value::Array(items) = items {
            for mut it in items {
                // LIST items come without apiVersion/kind; the drift test compares whole bodies.
                if let Some(o) = it.as_object_mut() {
                    o.insert("apiVersion".into(), json!(r.api_version()));
                    o.insert("kind".into(), json!(r.kind));
                }
                let ns = it
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let name = it
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                out.insert((ns, name), it);
            }
        }
        Ok(out)
    }

    fn inventory_name(owner: &Owner) -> String {
        format!("driftless-inventory-{}", owner.name)
    }

    /// Reads the inventory ConfigMap; `None` when there is none yet.
    pub async fn load_inventory(&self, owner: &Owner) -> Result<Option<Inventory>> {
        let name = Self::inventory_name(owner);
        let r = ObjRef {
            version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: owner.namespace.clone(),
            name: name.clone(),
            ..Default::default()
        };
        let m = KindMapping {
            plural: "configmaps".into(),
            namespaced: true,
        };
        let Some(cm) = self
            .get(&r, &m)
            .await
            .map_err(|e| e.into_error("read inventory", &r))?
        else {
            return Ok(None);
        };
        let text = cm
            .pointer("/data/inventory")
            .and_then(Value::as_str)
            .unwrap_or("{\"entries\":[]}");
        serde_json::from_str(text)
            .map(Some)
            .map_err(|e| Error::Inventory {
                name: format!("ConfigMap/{}/{name}", owner.namespace),
                message: e.to_string(),
            })
    }

    async fn store_inventory(&self, owner: &Owner, inv: &Inventory) -> Result<()> {
        let name = Self::inventory_name(owner);
        let text = serde_json::to_string(inv).map_err(|e| Error::Inventory {
            name: name.clone(),
            message: e.to_string(),
        })?;
        let cm = json!({"apiVersion":"v1","kind":"ConfigMap",
            "metadata":{"name": name, "namespace": owner.namespace, "labels": {MANAGED_BY: FIELD_MANAGER}},
            "data":{"inventory": text, "revision": inv.revision, "digest": inv.digest}});
        let d = Desired {
            r: ObjRef::from_object(&cm).unwrap_or_default(),
            obj: cm,
            digest: String::new(),
            policy: ObjectPolicy::default(),
        };
        let m = KindMapping {
            plural: "configmaps".into(),
            namespaced: true,
        };
        match self.ssa(&d, &m, false).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => {
                // The namespace is missing: create it, then try once more.
                let ns = json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name": owner.namespace}});
                let nd = Desired {
                    r: ObjRef::from_object(&ns).unwrap_or_default(),
                    obj: ns,
                    digest: String::new(),
                    policy: ObjectPolicy::default(),
                };
                let nm = KindMapping {
                    plural: "namespaces".into(),
                    namespaced: false,
                };
                self.ssa(&nd, &nm, false)
                    .await
                    .map_err(|e| e.into_error("create inventory namespace", &nd.r))?;
                self.ssa(&d, &m, false)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.into_error("write inventory", &d.r))
            }
            Err(e) => Err(e.into_error("write inventory", &d.r)),
        }
    }

    /// Applies `objects` (as the builder produced them) and returns what happened.
    /// Prune runs only when every object applied; the inventory keeps anything not deleted.
    pub async fn apply(&mut self, objects: Vec<Value>, opts: &Options) -> Report {
        let mut report = Report::default();
        let old = if opts.store_inventory {
            match self.load_inventory(&opts.owner).await {
                Ok(inv) => inv.unwrap_or_default(),
                Err(e) => {
                    report.errors.push(e);
                    return report;
                }
            }
        } else {
            Inventory::default()
        };
        let new = self
            .apply_with_inventory(objects, &old, opts, &mut report)
            .await;
        if opts.store_inventory && !opts.dry_run && new != old {
            if let Err(e) = self.store_inventory(&opts.owner, &new).await {
                report.errors.push(e);
            }
        }
        report.inventory = new;
        report
    }

    /// The apply itself, against a given previous inventory (the agent passes the one from the
    /// Kustomization status). Fills `report` and returns the new inventory.
    pub async fn apply_with_inventory(
        &mut self,
        objects: Vec<Value>,
        old: &Inventory,
        opts: &Options,
        report: &mut Report,
    ) -> Inventory {
        self.discovery.learn(&old.kinds);
        let mut desired = Vec::with_capacity(objects.len());
        for mut obj in objects {
            let Some(r) = ObjRef::from_object(&obj) else {
                let what = obj
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("object")
                    .to_string();
                report.errors.push(Error::InvalidObject(format!(
                    "{what} without apiVersion, kind or metadata.name"
                )));
                continue;
            };
            if r.kind == "CustomResourceDefinition" {
                self.discovery.learn_crd(&obj);
            }
            set_label(&mut obj, OWNER_NAME_LABEL, &opts.owner.name);
            set_label(&mut obj, OWNER_NAMESPACE_LABEL, &opts.owner.namespace);
            normalize(&mut obj);
            let policy = policy_of(&obj);
            desired.push(Desired {
                r,
                obj,
                digest: String::new(),
                policy,
            });
        }
        if !report.errors.is_empty() {
            return old.clone();
        }
        let old_index: BTreeMap<&str, &Entry> = old.index();
        let refs: Vec<ObjRef> = desired.iter().map(|d| d.r.clone()).collect();
        let mut results: Vec<Option<Done>> = (0..desired.len()).map(|_| None).collect();
        // Dry-run only: Namespaces this apply would create. Objects inside them cannot be
        // dry-run by the server (their namespace does not exist), so they are reported created.
        let mut new_namespaces: std::collections::HashSet<String> = Default::default();

        'stages: for (stage, idxs) in plan::plan(&refs) {
            for batch in kind_batches(&refs, &idxs) {
                let first = refs[batch[0]].clone();
                let m = match self.discovery.resolve(&self.client, &first).await {
                    Ok(m) => m,
                    Err(e) => {
                        report.errors.push(match e {
                            Error::UnknownKind {
                                api_version, kind, ..
                            } => Error::UnknownKind {
                                object: first.clone(),
                                api_version,
                                kind,
                            },
                            other => other,
                        });
                        continue;
                    }
                };
                for &i in &batch {
                    fix_scope(&mut desired[i], &m);
                    desired[i].digest = digest(&desired[i].obj);
                }
                let live = match self.list(&first, &m, &opts.owner).await {
                    Ok(l) => l,
                    Err(e)
                        if e.is_not_found()
                            && self.discovery.is_pending_crd(&first)
                            && opts.dry_run =>
                    {
                        HashMap::new()
                    }
                    Err(e) if e.is_not_found() => {
                        report.errors.push(Error::UnknownKind {
                            object: first.clone(),
                            api_version: first.api_version(),
                            kind: first.kind.clone(),
                        });
                        continue;
                    }
                    Err(e) => {
                        report.errors.push(e.into_error("list", &first));
                        continue;
                    }
                };
                let pending_crd =
                    opts.dry_run && self.discovery.is_pending_crd(&first) && live.is_empty();
                let this = &*self;
                let m = &m;
                let live = &live;
                let old_index = &old_index;
                let desired_ref = &desired;
                let new_namespaces = &new_namespaces;
                let outcomes: Vec<(usize, Result<Done>)> = stream::iter(batch.iter().copied())
                    .map(|i| {
                        let d = &desired_ref[i];
                        let l = live.get(&(d.r.namespace.clone(), d.r.name.clone()));
                        let o = old_index.get(entry_id(&d.r).as_str()).copied();
                        let virtual_object = pending_crd
                            || (opts.dry_run
                                && l.is_none()
                                && new_namespaces.contains(&d.r.namespace));
                        async move {
                            let res = this.reconcile_one(d, m, l, o, opts, virtual_object).await;
                            (i, res)
                        }
                    })
                    .buffer_unordered(CONCURRENCY)
                    .collect()
                    .await;
                let mut outcomes = outcomes;
                outcomes.sort_by_key(|(i, _)| *i);
                for (i, res) in outcomes {
                    match res {
                        Ok(done) => results[i] = Some(done),
                        Err(e) => report.errors.push(e),
                    }
                }
            }
            if !report.errors.is_empty() {
                break 'stages;
            }
            if opts.dry_run {
                for (d, res) in desired.iter().zip(&results) {
                    if d.r.kind == "Namespace"
                        && d.r.group.is_empty()
                        && res.as_ref().is_some_and(|r| r.action == Action::Created)
                    {
                        new_namespaces.insert(d.r.name.clone());
                    }
                }
            }
            if stage == Stage::Definitions && !opts.dry_run {
                if let Err(e) = self.wait_definitions(&desired, &results, opts).await {
                    report.errors.push(e);
                    break 'stages;
                }
            }
        }

        // ChangeSet in apply order.
        let mut order: Vec<usize> = (0..desired.len()).collect();
        order.sort_by(|&a, &b| plan::compare(&refs[a], &refs[b]));
        for &i in &order {
            if let Some(done) = &mut results[i] {
                if let Some(d) = done.diff.take() {
                    report.diffs.push(d);
                }
                let r = desired[i].r.clone();
                match &done.note {
                    Some(n) => report.changes.push_note(r, done.action.clone(), n.clone()),
                    None => report.changes.push(r, done.action.clone()),
                }
            }
        }

        // New inventory: what was applied now, plus (on failure) everything old, so that
        // nothing is forgotten or pruned after a failed apply.
        let mut new = Inventory {
            revision: opts.revision.clone(),
            ..Default::default()
        };
        for (d, res) in desired.iter().zip(&results) {
            let Some(done) = res else { continue };
            let (digest, rv, live) = match done.action {
                Action::Skipped(_) => (String::new(), String::new(), String::new()),
                _ if done.rv.is_empty() => (d.digest.clone(), String::new(), String::new()),
                _ if !done.ld.is_empty() => (d.digest.clone(), done.rv.clone(), done.ld.clone()),
                _ => (
                    d.digest.clone(),
                    done.rv.clone(),
                    done.live.as_ref().map(live_digest).unwrap_or_default(),
                ),
            };
            new.entries.push(Entry {
                id: entry_id(&d.r),
                v: d.r.version.clone(),
                digest,
                rv,
                live,
            });
        }
        let failed = !report.errors.is_empty();
        if failed {
            new.revision = old.revision.clone();
            new.digest = old.digest.clone();
        } else {
            new.digest = new.set_digest();
        }
        let stale = old.stale(&new);
        if failed || !opts.prune {
            // Keep stale entries: they are pruned by a later successful `--prune` run.
            let keep: std::collections::HashSet<String> = stale.iter().map(entry_id).collect();
            new.entries
                .extend(old.entries.iter().filter(|e| keep.contains(&e.id)).cloned());
        } else {
            let retained = self.prune(&stale, opts, report).await;
            new.entries.extend(
                old.entries
                    .iter()
                    .filter(|e| retained.contains(&e.id))
                    .cloned(),
            );
        }
        new.normalize();
        let refs_in_new: Vec<ObjRef> = new.entries.iter().filter_map(Entry::obj_ref).collect();
        new.kinds = self.discovery.mappings_for(refs_in_new.iter());

        if opts.wait && !failed && !opts.dry_run && report.errors.is_empty() {
            let watched: Vec<(ObjRef, Option<Value>)> = desired
                .iter()
                .zip(results.iter_mut())
                .filter_map(|(d, res)| match res {
                    Some(done) if !matches!(done.action, Action::Skipped(_)) => {
                        Some((d.r.clone(), done.live.take()))
                    }
                    _ => None,
                })
                .collect();
            if let Err(e) = self.wait_healthy(watched, opts).await {
                report.errors.push(e);
            }
        }
        new
    }

    /// Applies one object (or decides it needs nothing).
    async fn reconcile_one(
        &self,
        d: &Desired,
        m: &KindMapping,
        live: Option<&Value>,
        old: Option<&Entry>,
        opts: &Options,
        virtual_object: bool,
    ) -> Result<Done> {
        if d.policy.ssa == SsaMode::Ignore {
            return Ok(Done::new(Action::Skipped("ssa: Ignore".into()), None));
        }
        if d.policy.ssa == SsaMode::IfNotPresent || d.policy.reconcile_disabled {
            let existing = match live {
                Some(l) => Some(l.clone()),
                None => self
                    .get(&d.r, m)
                    .await
                    .map_err(|e| e.into_error("get", &d.r))?,
            };
            if let Some(l) = existing {
                let why = if d.policy.reconcile_disabled {
                    "reconcile: disabled"
                } else {
                    "ssa: IfNotPresent"
                };
                return Ok(Done::new(Action::Skipped(why.into()), Some(l)));
            }
        }
        if let (Some(l), Some(o)) = (live, old) {
            // Same desired state, and nobody but controllers touched the live object: keep the
            // recorded versions so the inventory is not rewritten either.
            if o.digest == d.digest
                && (o.rv == resource_version(l) || (!o.live.is_empty() && o.live == live_digest(l)))
            {
                let mut done = Done::new(Action::Unchanged, Some(l.clone()));
                done.rv = o.rv.clone();
                done.ld = o.live.clone();
                return Ok(done);
            }
        }
        if virtual_object {
            // Dry-run of an object whose CRD or Namespace is only being created now: the server
            // cannot dry-run it, and it certainly does not exist yet.
            let mut done = Done::new(Action::Created, None);
            if opts.diff {
                done.diff = Some(diff::unified(&d.r.to_string(), None, Some(&d.obj)));
            }
            return Ok(done);
        }
        let Some(l) = live else {
            // Not labeled as ours: create, or adopt an existing unlabeled object.
            let res = self.ssa(d, m, opts.dry_run).await;
            let (code, after) = match res {
                Ok(ok) => ok,
                Err(e) => return self.on_apply_error(e, d, m, opts).await,
            };
            let action = if code == 201 {
                Action::Created
            } else {
                Action::Configured
            };
            let mut done = Done::new(action, Some(after));
            if opts.diff {
                let before = if code == 201 {
                    None
                } else {
                    self.get(&d.r, m).await.ok().flatten()
                };
                done.diff = Some(diff::unified(
                    &d.r.to_string(),
                    before.as_ref(),
                    done.live.as_ref(),
                ));
            }
            if opts.dry_run {
                done.rv.clear();
            }
            return Ok(done);
        };
        // Listed as ours, but the desired digest or the live resourceVersion moved.
        let dry = match self.ssa(d, m, true).await {
            Ok((_, v)) => v,
            Err(e) => return self.on_apply_error(e, d, m, opts).await,
        };
        if !differs(&dry, l) {
            return Ok(Done::new(Action::Unchanged, Some(l.clone())));
        }
        let action = match old {
            Some(o) if o.digest == d.digest => Action::Drifted,
            _ => Action::Configured,
        };
        let mut done = if opts.dry_run {
            let mut done = Done::new(action, Some(l.clone()));
            done.rv.clear();
            done
        } else {
            match self.ssa(d, m, false).await {
                Ok((_, after)) => Done::new(action, Some(after)),
                Err(e) => return self.on_apply_error(e, d, m, opts).await,
            }
        };
        if opts.diff {
            done.diff = Some(diff::unified(&d.r.to_string(), Some(l), Some(&dry)));
        }
        Ok(done)
    }

    /// Turns an apply failure into an error, or recreates the object when an immutable field
    /// changed and force is on.
    async fn on_apply_error(
        &self,
        e: CallError,
        d: &Desired,
        m: &KindMapping,
        opts: &Options,
    ) -> Result<Done> {
        let Some(field) = e.immutable_field() else {
            return Err(e.into_error("apply", &d.r));
        };
        if !(opts.force || d.policy.force) {
            return Err(Error::Immutable {
                object: d.r.clone(),
                field,
            });
        }
        if opts.dry_run {
            let live = self.get(&d.r, m).await.ok().flatten();
            let mut done = Done::new(Action::Configured, None);
            done.note = Some(format!("would be recreated: {field} is immutable"));
            if opts.diff {
                done.diff = Some(diff::unified(&d.r.to_string(), live.as_ref(), Some(&d.obj)));
            }
            return Ok(done);
        }
        self.delete(&d.r, m)
            .await
            .map_err(|e| e.into_error("delete", &d.r))?;
        let deadline = Instant::now() + opts.timeout;
        loop {
            match self.get(&d.r, m).await {
                Ok(None) => break,
                Ok(Some(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Ok(Some(_)) => {
                    return Err(Error::StageTimeout(format!(
                        "{} to be deleted before recreating it",
                        d.r
                    )))
                }
                Err(e) => return Err(e.into_error("get", &d.r)),
            }
        }
        let (_, after) = self
            .ssa(d, m, false)
            .await
            .map_err(|e| e.into_error("recreate", &d.r))?;
        let mut done = Done::new(Action::Configured, Some(after));
        done.note = Some(format!("recreated: {field} is immutable"));
        Ok(done)
    }

    /// Waits for the CRDs of stage 1 to be Established and its Namespaces Active.
    async fn wait_definitions(
        &self,
        desired: &[Desired],
        results: &[Option<Done>],
        opts: &Options,
    ) -> Result<()> {
        let mut pending: Vec<(ObjRef, KindMapping)> = Vec::new();
        for (d, res) in desired.iter().zip(results) {
            if !matches!(d.r.kind.as_str(), "CustomResourceDefinition" | "Namespace") {
                continue;
            }
            let Some(done) = res else { continue };
            if matches!(done.action, Action::Skipped(_)) {
                continue;
            }
            if done.live.as_ref().is_some_and(|l| health(l).is_current()) {
                continue;
            }
            if let Some(m) = self.discovery.cached(&d.r) {
                pending.push((d.r.clone(), m.clone()));
            }
        }
        let deadline = Instant::now() + STAGE_TIMEOUT.min(opts.timeout);
        while !pending.is_empty() {
            let mut still = Vec::new();
            for (r, m) in pending {
                match self.get(&r, &m).await {
                    Ok(Some(l)) if health(&l).is_current() => {}
                    Ok(_) => still.push((r, m)),
                    Err(e) => return Err(e.into_error("get", &r)),
                }
            }
            pending = still;
            if pending.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                let names: Vec<String> = pending.iter().map(|(r, _)| r.to_string()).collect();
                return Err(Error::StageTimeout(names.join(", ")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Deletes stale objects in order. Returns the ids that must stay in the inventory
    /// (failed deletes, to be retried next time).
    async fn prune(
        &mut self,
        stale: &[ObjRef],
        opts: &Options,
        report: &mut Report,
    ) -> std::collections::HashSet<String> {
        let mut retained = std::collections::HashSet::new();
        let mut failures = Vec::new();
        for r in stale {
            let m = match self.discovery.resolve(&self.client, r).await {
                Ok(m) => m,
                Err(Error::UnknownKind { .. }) => continue, // its CRD is gone, and so is it
                Err(e) => {
                    retained.insert(entry_id(r));
                    failures.push(e.to_string());
                    continue;
                }
            };
            let live = match self.get(r, &m).await {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(e) => {
                    retained.insert(entry_id(r));
                    failures.push(e.into_error("get", r).to_string());
                    continue;
                }
            };
            match prune_decision(&live, &opts.owner, opts.agent_namespace.as_deref()) {
                PruneDecision::Skip(reason) => {
                    report.changes.push(r.clone(), Action::Skipped(reason))
                }
                PruneDecision::Delete => {
                    if opts.diff {
                        report
                            .diffs
                            .push(diff::unified(&r.to_string(), Some(&live), None));
                    }
                    if opts.dry_run {
                        report.changes.push(r.clone(), Action::Deleted);
                        continue;
                    }
                    match self.delete(r, &m).await {
                        Ok(()) => report.changes.push(r.clone(), Action::Deleted),
                        Err(e) => {
                            retained.insert(entry_id(r));
                            failures.push(e.into_error("delete", r).to_string());
                        }
                    }
                }
            }
        }
        if !failures.is_empty() {
            report.errors.push(Error::PruneFailed(failures));
        }
        retained
    }

    /// Polls until every object is Current, or all are Current or Failed (fail-fast), or the
    /// timeout passes.
    async fn wait_healthy(
        &mut self,
        objects: Vec<(ObjRef, Option<Value>)>,
        opts: &Options,
    ) -> Result<()> {
        let deadline = Instant::now() + opts.timeout;
        let mut state: Vec<(ObjRef, Health)> = objects
            .into_iter()
            .map(|(r, l)| {
                let h = l
                    .as_ref()
                    .map(health)
                    .unwrap_or_else(|| Health::InProgress("not found".into()));
                (r, h)
            })
            .collect();
        loop {
            let in_progress = state
                .iter()
                .any(|(_, h)| matches!(h, Health::InProgress(_)));
            let failed: Vec<String> = state
                .iter()
                .filter_map(|(r, h)| match h {
                    Health::Failed(why) => Some(format!("{r}: {why}")),
                    _ => None,
                })
                .collect();
            if !in_progress {
                return if failed.is_empty() {
                    Ok(())
                } else {
                    Err(Error::HealthFailed(failed))
                };
            }
            if Instant::now() >= deadline {
                let waiting = state
                    .iter()
                    .filter_map(|(r, h)| match h {
                        Health::Current => None,
                        Health::InProgress(why) | Health::Failed(why) => {
                            Some(format!("{r}: {why}"))
                        }
                    })
                    .collect();
                return Err(Error::HealthTimeout(waiting));
            }
            tokio::time::sleep(
                opts.poll_interval
                    .min(deadline.saturating_duration_since(Instant::now())),
            )
            .await;
            // One LIST per kind when several objects of it are pending, else one GET each.
            let mut pending_kinds: BTreeMap<(String, String), usize> = BTreeMap::new();
            for (r, h) in &state {
                if matches!(h, Health::InProgress(_)) {
                    *pending_kinds
                        .entry((r.api_version(), r.kind.clone()))
                        .or_default() += 1;
                }
            }
            let mut listed: HashMap<(String, String), HashMap<(String, String), Value>> =
                HashMap::new();
            for (r, h) in state.iter_mut() {
                if !matches!(h, Health::InProgress(_)) {
                    continue;
                }
                let m = self.discovery.resolve(&self.client, r).await?;
                let kind_key = (r.api_version(), r.kind.clone());
                let live = if pending_kinds.get(&kind_key).copied().unwrap_or(0) > 1 {
                    if !listed.contains_key(&kind_key) {
                        let items = self
                            .list(r, &m, &opts.owner)
                            .await
                            .map_err(|e| e.into_error("list", r))?;
                        listed.insert(kind_key.clone(), items);
                    }
                    listed
                        .get(&kind_key)
                        .and_then(|items| items.get(&(r.namespace.clone(), r.name.clone())))
                        .cloned()
                } else {
                    self.get(r, &m).await.map_err(|e| e.into_error("get", r))?
                };
                *h = match live {
                    Some(l) => health(&l),
                    None => Health::InProgress("not found".into()),
                };
            }
        }
    }
}

/// Splits one stage's indices into runs of the same apiVersion and kind (one LIST each).
fn kind_batches(refs: &[ObjRef], idxs: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for &i in idxs {
        match out.last_mut() {
            Some(b)
                if refs[b[0]].kind == refs[i].kind
                    && refs[b[0]].group == refs[i].group
                    && refs[b[0]].version == refs[i].version =>
            {
                b.push(i)
            }
            _ => out.push(vec![i]),
        }
    }
    out
}

/// Namespaced objects without a namespace go to `default` (as with kubectl); cluster-scoped
/// objects lose any namespace they were given.
fn fix_scope(d: &mut Desired, m: &KindMapping) {
    let want = if m.namespaced {
        if d.r.namespace.is_empty() {
            "default".to_string()
        } else {
            d.r.namespace.clone()
        }
    } else {
        String::new()
    };
    if want == d.r.namespace {
        return;
    }
    d.r.namespace = want.clone();
    if let Some(meta) = d.obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if want.is_empty() {
            meta.remove("namespace");
        } else {
            meta.insert("namespace".into(), Value::String(want));
        }
    }
}

/// Builds a client from a kubeconfig file (or the default lookup when `None`).
pub async fn client_from_kubeconfig(
    path: Option<&std::path::Path>,
) -> std::result::Result<kube::Client, String> {
    let config = match path {
        Some(p) => {
            let kc = kube::config::Kubeconfig::read_from(p)
                .map_err(|e| format!("failed to read kubeconfig {}: {e}", p.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| format!("failed to load kubeconfig {}: {e}", p.display()))?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| format!("failed to find a kubeconfig: {e}"))?,
    };
    kube::Client::try_from(config).map_err(|e| format!("failed to create a Kubernetes client: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immutable_field_read_from_message_when_causes_are_missing() {
        let e = CallError::Status {
            code: 422,
            message: "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: {}: field is immutable".into(),
            field: None,
        };
        assert_eq!(e.immutable_field().as_deref(), Some("spec.selector"));
        let e = CallError::Status {
            code: 422,
            message: "bad".into(),
            field: None,
        };
        assert_eq!(e.immutable_field(), None);
        let e = CallError::Status {
            code: 422,
            message: "x: field is immutable".into(),
            field: Some("spec.template".into()),
        };
        assert_eq!(e.immutable_field().as_deref(), Some("spec.template"));
    }

    #[test]
    fn namespaced_objects_default_and_cluster_objects_lose_namespace() {
        let obj = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}});
        let mut d = Desired {
            r: ObjRef::from_object(&obj).unwrap(),
            obj,
            digest: String::new(),
            policy: ObjectPolicy::default(),
        };
        fix_scope(
            &mut d,
            &KindMapping {
                plural: "configmaps".into(),
                namespaced: true,
            },
        );
        assert_eq!(d.r.namespace, "default");
        assert_eq!(
            d.obj.pointer("/metadata/namespace"),
            Some(&json!("default"))
        );
        fix_scope(
            &mut d,
            &KindMapping {
                plural: "x".into(),
                namespaced: false,
            },
        );
        assert_eq!(d.r.namespace, "");
        assert!(d.obj.pointer("/metadata/namespace").is_none());
    }
}
