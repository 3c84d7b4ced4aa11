//! `driftless reconcile ks|kustomization NAME [--with-source]` and `driftless reconcile source
//! git NAME` (`[-n flux-system] [--timeout 5m] [--kubeconfig F]`): ask the agent for a
//! reconcile now and wait for its outcome, as `flux reconcile` does.
//!
//! ```text
//!  GET ─► suspended? ✗ resource is suspended
//!  (--with-source: the same for the source first)
//!  PATCH reconcile.fluxcd.io/requestedAt=<now> ─► poll until status.lastHandledReconcileAt
//!  equals it and Ready is True/False at the current generation
//!  ─► ✔ applied revision main@sha1:… (exit 0) | ✗ <Ready message> (exit 1)
//! ```
//!
//! The waiting helpers are shared with `suspend`/`resume` (resume waits the same way).

use crate::api::condition::reason::DEPENDENCY_NOT_READY;
use crate::api::{GitRepository, Kustomization, REQUESTED_AT_ANNOTATION};
use anyhow::{anyhow, bail, Result};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct ReconcileArgs {
    #[command(subcommand)]
    pub what: ReconcileWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum ReconcileWhat {
    /// Reconcile a Kustomization (optionally its source first).
    #[command(visible_alias = "kustomization")]
    Ks(ReconcileKsArgs),
    /// Reconcile a source.
    Source(ReconcileSourceArgs),
}

#[derive(clap::Args, Debug)]
pub struct ReconcileKsArgs {
    #[command(flatten)]
    pub opts: ObjectOpts,
    /// Reconcile the Kustomization's source first and wait for it.
    #[arg(long)]
    pub with_source: bool,
}

#[derive(clap::Args, Debug)]
pub struct ReconcileSourceArgs {
    #[command(subcommand)]
    pub kind: ReconcileSourceKind,
}

#[derive(clap::Subcommand, Debug)]
pub enum ReconcileSourceKind {
    /// Reconcile a GitRepository.
    Git(ObjectOpts),
}

/// Name, namespace, timeout and kubeconfig of the object to act on.
#[derive(clap::Args, Debug, Clone)]
pub struct ObjectOpts {
    /// The object's name.
    pub name: String,
    /// The object's namespace.
    #[arg(short = 'n', long, default_value = "flux-system")]
    pub namespace: String,
    /// Give up waiting after this long, e.g. `90s`, `5m`.
    #[arg(long, default_value = "5m", value_parser = super::apply::parse_duration)]
    pub timeout: Duration,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// How often the status is polled while waiting.
const POLL: Duration = Duration::from_millis(200);

/// A Flux kind the reconcile/suspend/resume commands act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Kustomization,
    GitRepository,
}

impl Target {
    /// The kind as Flux prints it in `reconcile` (`Kustomization`, `GitRepository`).
    pub fn kind(self) -> &'static str {
        match self {
            Target::Kustomization => "Kustomization",
            Target::GitRepository => "GitRepository",
        }
    }

    /// The kind as Flux prints it in `suspend`/`resume` (`kustomization`, `source git`).
    pub fn human(self) -> &'static str {
        match self {
            Target::Kustomization => "kustomization",
            Target::GitRepository => "source git",
        }
    }

    fn resource(self) -> ApiResource {
        match self {
            Target::Kustomization => ApiResource::erase::<Kustomization>(&()),
            Target::GitRepository => ApiResource::erase::<GitRepository>(&()),
        }
    }

    /// The API for this kind in `namespace`.
    pub fn api(self, client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), namespace, &self.resource())
    }

    /// What Flux prints once a reconcile succeeded.
    pub fn success_message(self, obj: &Value) -> String {
        match self {
            Target::Kustomization => format!(
                "applied revision {}",
                str_at(obj, "/status/lastAppliedRevision")
            ),
            Target::GitRepository => format!(
                "fetched revision {}",
                str_at(obj, "/status/artifact/revision")
            ),
        }
    }
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// `► …` (an action starts).
pub fn action(msg: &str) {
    println!("► {msg}");
}

/// `✔ …` (an action succeeded).
pub fn success(msg: &str) {
    println!("✔ {msg}");
}

/// `◎ …` (waiting).
pub fn waiting(msg: &str) {
    println!("◎ {msg}");
}

/// `✗ …` (the command failed), on stderr.
pub fn failure(msg: &str) {
    eprintln!("✗ {msg}");
}

/// The current time as Go's RFC3339Nano (what `flux reconcile` writes into `requestedAt`).
pub fn now_rfc3339_nano() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = crate::apiserver::time::format_rfc3339(now.as_secs() as i64);
    let nanos = format!("{:09}", now.subsec_nanos());
    let nanos = nanos.trim_end_matches('0');
    match (secs.strip_suffix('Z'), nanos.is_empty()) {
        (Some(base), false) => format!("{base}.{nanos}Z"),
        _ => secs,
    }
}

/// GETs the object as JSON; a missing object is an error naming it.
pub async fn get(
    api: &Api<DynamicObject>,
    target: Target,
    namespace: &str,
    name: &str,
) -> Result<Value> {
    match api.get_opt(name).await {
        Ok(Some(o)) => Ok(serde_json::to_value(o)?),
        Ok(None) => bail!("{} '{namespace}/{name}' not found", target.kind()),
        Err(e) => Err(anyhow!(e)),
    }
}

/// Whether `spec.suspend` is true.
pub fn is_suspended(obj: &Value) -> bool {
    obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true)
}

/// Merge-patches `reconcile.fluxcd.io/requestedAt` (and `extra`, e.g. `spec.suspend`) onto the
/// object; returns the requested value.
pub async fn request(api: &Api<DynamicObject>, name: &str, extra: Option<Value>) -> Result<String> {
    let requested = now_rfc3339_nano();
    let mut patch = json!({"metadata": {"annotations": {REQUESTED_AT_ANNOTATION: requested}}});
    if let (Some(Value::Object(extra)), Some(p)) = (extra, patch.as_object_mut()) {
        p.extend(extra);
    }
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(requested)
}

/// The Ready condition's status and message, once Ready is decided (True or False) for the
/// object's current generation. `DependencyNotReady` is not decided: the agent reconciles again
/// the moment the dependency turns Ready (the request stays handled).
fn decided(obj: &Value) -> Option<(bool, String)> {
    let generation = obj.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed = obj
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    if generation.is_some() && observed.is_some() && generation != observed {
        return None;
    }
    let ready = obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c["type"] == "Ready")?;
    let message = ready["message"].as_str().unwrap_or("").to_string();
    match ready["status"].as_str() {
        Some("True") => Some((true, message)),
        Some("False") if ready["reason"] != DEPENDENCY_NOT_READY => Some((false, message)),
        _ => None,
    }
}

/// The Ready message, whatever its status (for a timeout).
fn ready_message(obj: &Value) -> Option<String> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c["type"] == "Ready")?["message"]
        .as_str()
        .map(str::to_string)
}

/// How waiting for a reconcile ended.
pub enum Outcome {
    /// Ready=True; the object as last read.
    Ready(Value),
    /// Ready=False with this message.
    Failed(String),
    /// The deadline passed first; the last Ready message, if any.
    TimedOut(Option<String>),
}

/// Polls until the object reports `requested` as handled and Ready is decided, or `deadline`.
pub async fn wait_handled(
    api: &Api<DynamicObject>,
    target: Target,
    namespace: &str,
    name: &str,
    requested: &str,
    deadline: Instant,
) -> Result<Outcome> {
    loop {
        let obj = get(api, target, namespace, name).await?;
        if str_at(&obj, "/status/lastHandledReconcileAt") == requested {
            match decided(&obj) {
                Some((true, _)) => return Ok(Outcome::Ready(obj)),
                Some((false, message)) => return Ok(Outcome::Failed(message)),
                None => {}
            }
        }
        if Instant::now() >= deadline {
            return Ok(Outcome::TimedOut(ready_message(&obj)));
        }
        tokio::time::sleep(POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

/// Annotates one object and waits for its outcome, printing Flux's lines. Returns false (after
/// printing `✗ …`) on failure.
pub async fn reconcile_one(
    client: &kube::Client,
    target: Target,
    name: &str,
    namespace: &str,
    deadline: Instant,
) -> Result<bool> {
    let api = target.api(client, namespace);
    let obj = get(&api, target, namespace, name).await?;
    if is_suspended(&obj) {
        failure("resource is suspended");
        return Ok(false);
    }
    let kind = target.kind();
    action(&format!(
        "annotating {kind} {name} in {namespace} namespace"
    ));
    let requested = request(&api, name, None).await?;
    success(&format!("{kind} annotated"));
    waiting(&format!("waiting for {kind} reconciliation"));
    report(
        target,
        wait_handled(&api, target, namespace, name, &requested, deadline).await?,
    )
}

/// Prints the outcome of a wait; true on success.
pub fn report(target: Target, outcome: Outcome) -> Result<bool> {
    match outcome {
        Outcome::Ready(obj) => {
            success(&target.success_message(&obj));
            Ok(true)
        }
        Outcome::Failed(message) => {
            failure(&message);
            Ok(false)
        }
        Outcome::TimedOut(last) => {
            let mut msg = format!("timeout waiting for {} reconciliation", target.kind());
            if let Some(last) = last.filter(|m| !m.is_empty()) {
                msg.push_str(&format!(": {last}"));
            }
            failure(&msg);
            Ok(false)
        }
    }
}

/// Where a Kustomization's source lives (GitRepository only).
fn source_of(ks: &Value) -> Result<(String, String)> {
    let kind = str_at(ks, "/spec/sourceRef/kind");
    if kind != "GitRepository" {
        bail!("source kind '{kind}' is not supported (only GitRepository)");
    }
    let name = str_at(ks, "/spec/sourceRef/name").to_string();
    let ns = match str_at(ks, "/spec/sourceRef/namespace") {
        "" => str_at(ks, "/metadata/namespace").to_string(),
        ns => ns.to_string(),
    };
    Ok((name, ns))
}

pub fn run(args: ReconcileArgs) -> Result<i32> {
    let opts = match &args.what {
        ReconcileWhat::Ks(a) => &a.opts,
        ReconcileWhat::Source(s) => match &s.kind {
            ReconcileSourceKind::Git(o) => o,
        },
    };
    let deadline = Instant::now() + opts.timeout;
    let result = super::apply::runtime()?.block_on(async {
        let client = crate::apply::engine::client_from_kubeconfig(opts.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow!(e))?;
        match &args.what {
            ReconcileWhat::Ks(a) => {
                let api = Target::Kustomization.api(&client, &opts.namespace);
                let ks = get(&api, Target::Kustomization, &opts.namespace, &opts.name).await?;
                if is_suspended(&ks) {
                    failure("resource is suspended");
                    return Ok(false);
                }
                if a.with_source {
                    let (name, ns) = source_of(&ks)?;
                    if !reconcile_one(&client, Target::GitRepository, &name, &ns, deadline).await? {
                        return Ok(false);
                    }
                }
                reconcile_one(
                    &client,
                    Target::Kustomization,
                    &opts.name,
                    &opts.namespace,
                    deadline,
                )
                .await
            }
            ReconcileWhat::Source(_) => {
                reconcile_one(
                    &client,
                    Target::GitRepository,
                    &opts.name,
                    &opts.namespace,
                    deadline,
                )
                .await
            }
        }
    });
    match result {
        Ok(true) => Ok(0),
        Ok(false) => Ok(1),
        Err(e) => {
            failure(&format!("{e:#}"));
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_at_has_go_rfc3339_nano_shape() {
        let t = now_rfc3339_nano();
        assert!(
            t.ends_with('Z') && t.len() >= 20 && t.as_bytes()[10] == b'T',
            "{t}"
        );
        if let Some((_, frac)) = t.trim_end_matches('Z').split_once('.') {
            assert!(
                !frac.is_empty() && frac.len() <= 9 && !frac.ends_with('0'),
                "{t}"
            );
        }
    }

    #[test]
    fn ready_is_decided_only_for_the_current_generation() {
        let obj = |gen: i64, observed: i64, status: &str| {
            json!({"metadata": {"generation": gen}, "status": {"observedGeneration": observed,
                "conditions": [{"type": "Ready", "status": status, "message": "m"}]}})
        };
        assert_eq!(decided(&obj(2, 2, "True")), Some((true, "m".into())));
        assert_eq!(decided(&obj(2, 2, "False")), Some((false, "m".into())));
        assert_eq!(decided(&obj(2, 2, "Unknown")), None);
        assert_eq!(decided(&obj(3, 2, "True")), None);
        let mut waiting = obj(2, 2, "False");
        waiting["status"]["conditions"][0]["reason"] = json!("DependencyNotReady");
        assert_eq!(decided(&waiting), None);
    }

    #[test]
    fn success_messages_name_the_revision() {
        let ks = json!({"status": {"lastAppliedRevision": "main@sha1:abc"}});
        assert_eq!(
            Target::Kustomization.success_message(&ks),
            "applied revision main@sha1:abc"
        );
        let repo = json!({"status": {"artifact": {"revision": "main@sha1:abc"}}});
        assert_eq!(
            Target::GitRepository.success_message(&repo),
            "fetched revision main@sha1:abc"
        );
    }

    #[test]
    fn source_defaults_to_the_kustomization_namespace() {
        let ks = json!({"metadata": {"namespace": "apps"},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": "repo"}}});
        assert_eq!(source_of(&ks).unwrap(), ("repo".into(), "apps".into()));
        let oci = json!({"spec": {"sourceRef": {"kind": "OCIRepository", "name": "x"}}});
        assert!(source_of(&oci).is_err());
    }
}
