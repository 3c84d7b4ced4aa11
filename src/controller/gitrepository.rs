//! GitRepository reconcile: fetch the remote (one ls-remote when unchanged), keep the last good
//! artifact when a fetch fails, write the status Flux writes, and queue the Kustomizations of a
//! new revision.
//!
//! ```text
//!  spec ──► GitSource (+ auth from secretRef, + sandbox URL override)
//!       ──► source::fetch (blocking, in spawn_blocking)
//!            ├─ Unchanged ──► status stays Ready
//!            ├─ Fetched   ──► artifact stored ──► status Ready "stored artifact for revision …"
//!            │                                ──► queue the source's Kustomizations
//!            └─ Err       ──► Ready=False GitOperationFailed, last artifact kept
//! ```

use super::events::{self, EventType, Involved};
use super::{Context, Key, SOURCE_CONTROLLER};
use crate::api::condition::{self, reason, ConditionStatus, READY, RECONCILING, STALLED};
use crate::api::source::Artifact as StatusArtifact;
use crate::api::{GitRepository, GitRepositoryStatus};
use crate::source::{self, FetchOutcome, GitAuth, GitSource};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::Resource;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Used when `interval` does not parse.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Reconciles one GitRepository; returns when to run again.
pub async fn reconcile(ctx: &Arc<Context>, key: &Key) -> Option<Duration> {
    let repo = ctx.repository(key)?;
    let suspended = repo.spec.suspend.unwrap_or(false);
    if repo.meta().deletion_timestamp.is_some() || suspended {
        record_info(ctx, &repo, suspended);
        return None;
    }
    let interval = crate::api::parse_duration(&repo.spec.interval).unwrap_or(DEFAULT_INTERVAL);
    let src = match git_source(ctx, &repo).await {
        Ok(s) => s,
        Err(message) => {
            fail(ctx, key, &repo, reason::GIT_OPERATION_FAILED, &message).await;
            return Some(ctx.backoff(key, interval));
        }
    };
    let last = ctx.artifact(key);
    let cache = ctx
        .config
        .cache_dir
        .join("git")
        .join(&key.namespace)
        .join(&key.name);
    let started = Instant::now();
    let last_for_fetch = last.clone();
    let res =
        tokio::task::spawn_blocking(move || source::fetch(&src, &cache, last_for_fetch.as_ref()))
            .await;
    ctx.metrics
        .fetch_duration
        .with_label_values(&[&key.name, &key.namespace])
        .observe(started.elapsed().as_secs_f64());
    let outcome = match res {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            fail(
                ctx,
                key,
                &repo,
                reason::GIT_OPERATION_FAILED,
                &e.to_string(),
            )
            .await;
            ctx.metrics
                .reconcile_total
                .with_label_values(&["GitRepository", "failure"])
                .inc();
            return Some(ctx.backoff(key, interval));
        }
        Err(join) => {
            let message = format!("fetch of {} aborted: {join}", repo.spec.url);
            fail(ctx, key, &repo, reason::GIT_OPERATION_FAILED, &message).await;
            return Some(ctx.backoff(key, interval));
        }
    };
    ctx.reset_backoff(key);
    ctx.metrics
        .reconcile_total
        .with_label_values(&["GitRepository", "success"])
        .inc();
    let artifact = match outcome {
        FetchOutcome::Fetched(a) => {
            ctx.set_artifact(key, a.clone());
            let involved = involved(&repo);
            events::record(
                &ctx.client,
                SOURCE_CONTROLLER,
                &involved,
                EventType::Normal,
                "NewArtifact",
                &format!("stored artifact for commit '{}'", a.message),
                Some(&a.revision),
            )
            .await;
            ctx.notify(
                &super::alerts::event(
                    "GitRepository",
                    "source.toolkit.fluxcd.io/v1",
                    &key.namespace,
                    &key.name,
                    false,
                    "NewArtifact",
                    &format!("stored artifact for commit '{}'", a.message),
                    Some(&a.revision),
                    None,
                    SOURCE_CONTROLLER,
                ),
                repo.meta().labels.as_ref(),
            );
            ctx.trigger_source_users(key);
            a
        }
        FetchOutcome::Unchanged => match last {
            Some(a) => a,
            None => return Some(interval),
        },
    };
    succeed(ctx, key, &repo, &artifact).await;
    Some(interval)
}

fn involved(repo: &GitRepository) -> Involved<'_> {
    Involved {
        api_version: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        namespace: repo.meta().namespace.as_deref().unwrap_or("default"),
        name: repo.meta().name.as_deref().unwrap_or(""),
        uid: repo.meta().uid.as_deref(),
    }
}

/// The fetch request: spec, credentials and the sandbox's URL override.
async fn git_source(ctx: &Context, repo: &GitRepository) -> Result<GitSource, String> {
    let mut src = repo.to_source();
    for o in &ctx.config.source_overrides {
        if o.url == src.url {
            src.url = o.local_url.clone();
            if let Some(b) = &o.branch {
                if src.reference.commit.is_none()
                    && src.reference.name.is_none()
                    && src.reference.tag.is_none()
                    && src.reference.semver.is_none()
                {
                    src.reference.branch = Some(b.clone());
                }
            }
        }
    }
    if let Some(secret_ref) = &repo.spec.secret_ref {
        let ns = repo.meta().namespace.as_deref().unwrap_or("default");
        let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
        let secret = api
            .get_opt(&secret_ref.name)
            .await
            .map_err(|e| format!("failed to get secret '{ns}/{}': {e}", secret_ref.name))?
            .ok_or_else(|| format!("secret '{ns}/{}' not found", secret_ref.name))?;
        src.auth = auth_from_secret(&secret);
    }
    Ok(src)
}

/// Reads credentials the way Flux does: `identity` (+`known_hosts`, `password`) for ssh,
/// `bearerToken`, or `username`/`password`.
pub fn auth_from_secret(secret: &Secret) -> Option<GitAuth> {
    let data = secret.data.as_ref()?;
    let get = |k: &str| {
        data.get(k)
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
    };
    if let Some(identity) = get("identity") {
        return Some(GitAuth::Ssh {
            identity,
            passphrase: get("password"),
            known_hosts: get("known_hosts").unwrap_or_default(),
        });
    }
    if let Some(token) = get("bearerToken") {
        return Some(GitAuth::Bearer { token });
    }
    match (get("username"), get("password")) {
        (Some(username), Some(password)) => Some(GitAuth::Basic { username, password }),
        _ => None,
    }
}

fn record_info(ctx: &Context, repo: &GitRepository, suspended: bool) {
    let status = repo.status.clone().unwrap_or_default();
    let ready = condition::find(&status.conditions, READY)
        .map(|c| format!("{:?}", c.status))
        .unwrap_or_else(|| "Unknown".into());
    let revision = status.artifact.map(|a| a.revision).unwrap_or_default();
    ctx.metrics.set_resource_info(
        "GitRepository",
        repo.meta().name.as_deref().unwrap_or(""),
        repo.meta().namespace.as_deref().unwrap_or(""),
        &ready,
        suspended,
        &revision,
    );
}

async fn patch_status(ctx: &Context, key: &Key, status: &GitRepositoryStatus) {
    if let Some(updated) = super::write_status::<GitRepository>(&ctx.client, key, status).await {
        record_info(ctx, &updated, false);
        ctx.observe_repository(updated, false);
    }
}

async fn succeed(ctx: &Context, key: &Key, repo: &GitRepository, a: &source::Artifact) {
    let old = repo.status.clone().unwrap_or_default();
    let message = format!("stored artifact for revision '{}'", a.revision);
    let already = old
        .artifact
        .as_ref()
        .is_some_and(|x| x.revision == a.revision)
        && condition::is_ready(&old.conditions)
        && old.observed_generation == repo.meta().generation
        && old.last_handled_reconcile_at.as_deref() == super::requested_at(repo.meta());
    if already {
        record_info(ctx, repo, false);
        return;
    }
    let now = condition::now_rfc3339();
    let mut status = old.clone();
    status.observed_generation = repo.meta().generation;
    status.last_handled_reconcile_at = super::requested_at(repo.meta()).map(str::to_string);
    let same = old
        .artifact
        .as_ref()
        .is_some_and(|x| x.revision == a.revision);
    status.artifact = Some(StatusArtifact {
        path: a.dir.display().to_string(),
        url: format!("file://{}", a.dir.display()),
        revision: a.revision.clone(),
        digest: Some(a.digest.clone()),
        last_update_time: if same {
            old.artifact
                .map(|x| x.last_update_time)
                .unwrap_or(now.clone())
        } else {
            now.clone()
        },
        size: None,
    });
    let g = repo.meta().generation;
    condition::set(
        &mut status.conditions,
        READY,
        ConditionStatus::True,
        reason::SUCCEEDED,
        &message,
        g,
        &now,
    );
    condition::set(
        &mut status.conditions,
        "ArtifactInStorage",
        ConditionStatus::True,
        reason::SUCCEEDED,
        &message,
        g,
        &now,
    );
    condition::remove(&mut status.conditions, "FetchFailed");
    condition::remove(&mut status.conditions, RECONCILING);
    condition::remove(&mut status.conditions, STALLED);
    patch_status(ctx, key, &status).await;
}

async fn fail(ctx: &Context, key: &Key, repo: &GitRepository, why: &str, message: &str) {
    tracing::warn!(object = %key, reason = why, message, "fetch failed");
    let old = repo.status.clone().unwrap_or_default();
    let unchanged = condition::find(&old.conditions, READY)
        .is_some_and(|c| c.status == ConditionStatus::False && c.message == message);
    // A requested reconcile is handled even when it fails (`flux reconcile source git` waits
    // for this).
    let requested = super::requested_at(repo.meta()).map(str::to_string);
    let handled = requested.is_none() || old.last_handled_reconcile_at == requested;
    if !unchanged {
        events::record(
            &ctx.client,
            SOURCE_CONTROLLER,
            &involved(repo),
            EventType::Warning,
            why,
            message,
            None,
        )
        .await;
        ctx.notify(
            &super::alerts::event(
                "GitRepository",
                "source.toolkit.fluxcd.io/v1",
                &key.namespace,
                &key.name,
                true,
                why,
                message,
                None,
                None,
                SOURCE_CONTROLLER,
            ),
            repo.meta().labels.as_ref(),
        );
    }
    let now = condition::now_rfc3339();
    let mut status = old;
    status.observed_generation = repo.meta().generation;
    if requested.is_some() {
        status.last_handled_reconcile_at = requested;
    }
    let g = repo.meta().generation;
    condition::set(
        &mut status.conditions,
        READY,
        ConditionStatus::False,
        why,
        message,
        g,
        &now,
    );
    condition::set(
        &mut status.conditions,
        "FetchFailed",
        ConditionStatus::True,
        why,
        message,
        g,
        &now,
    );
    if unchanged && handled {
        record_info(ctx, repo, false);
        return;
    }
    patch_status(ctx, key, &status).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    fn secret(pairs: &[(&str, &str)]) -> Secret {
        Secret {
            data: Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn secrets_map_to_flux_auth_kinds() {
        assert!(matches!(
            auth_from_secret(&secret(&[("username", "u"), ("password", "p")])),
            Some(GitAuth::Basic { .. })
        ));
        assert!(matches!(
            auth_from_secret(&secret(&[("bearerToken", "t")])),
            Some(GitAuth::Bearer { .. })
        ));
        assert!(matches!(
            auth_from_secret(&secret(&[("identity", "k"), ("known_hosts", "h")])),
            Some(GitAuth::Ssh { .. })
        ));
        assert!(auth_from_secret(&secret(&[("username", "u")])).is_none());
    }
}
