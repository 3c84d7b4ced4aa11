//! Outbound notifications: events that say what changed, alert routing, payloads for Slack,
//! MS Teams, Discord, Telegram, generic webhooks (plain and HMAC-signed) and email (SMTP),
//! with dedup, rate limiting, retries and secret redaction.
//!
//! ```text
//!  agent: ChangeSet + failures ──► Event ──► Dispatcher::route(alerts)
//!                                              │ alert.matches / enrich
//!                                              ▼
//!                                      Dispatcher::send (never blocks)
//!                                              │ dedup, bounded queue
//!                                              ▼
//!                                      worker: redact ─► provider payload ─► HTTP / SMTP
//! ```
//!
//! Where this differs from Flux's notification-controller, on purpose:
//!
//! - the message says what changed (counts, objects capped with "and N more", failures),
//!   plus revision, commit message and cluster; generic webhooks get it in `message`, and
//!   `metadata` carries `kustomize.toolkit.fluxcd.io/revision`, `commit` and `cluster`;
//! - Slack uses Block Kit (Flux sends legacy attachments); Discord keeps Flux's behaviour
//!   (Slack attachments to `<webhook>/slack`); Telegram uses HTML parse mode;
//! - `smtp` is new (Flux has no email);
//! - dedup is per provider (Flux: one key per event for all alerts), so two providers both
//!   get an event; each provider has its own delivery lane.
//!
//! Everything but `dispatch` is pure. The agent maps Provider and Alert CRDs (and their
//! Secrets) onto `ProviderConfig` (`ProviderConfig::from_spec`) and `AlertConfig`, and calls
//! `route` after each reconcile:
//!
//! ```no_run
//! # async fn demo(set: &driftless::apply::ChangeSet) -> Result<(), driftless::notification::Error> {
//! use driftless::notification::*;
//! use std::{collections::BTreeMap, sync::Arc};
//! let dispatcher = Dispatcher::start(DispatchOptions::default())?; // inside a tokio runtime
//! let provider = Arc::new(ProviderConfig::from_spec(ProviderSpec {
//!     namespace: "flux-system",
//!     name: "slack",
//!     kind: "slack",
//!     address: Some("https://hooks.slack.com/services/T0/B0/x"),
//!     ..Default::default()
//! })?);
//! let alert = AlertConfig {
//!     name: "flux-system/all".into(),
//!     namespace: "flux-system".into(),
//!     provider: provider.name.clone(),
//!     event_sources: vec![EventSource { kind: "Kustomization".into(), name: "*".into(), ..Default::default() }],
//!     ..Default::default()
//! };
//! let event = Event {
//!     involved_object: InvolvedObject {
//!         kind: "Kustomization".into(),
//!         namespace: "flux-system".into(),
//!         name: "apps".into(),
//!         ..Default::default()
//!     },
//!     reason: "ReconciliationSucceeded".into(),
//!     message: "Reconciliation finished in 1.2s".into(),
//!     revision: Some("main@sha1:4f2a9c1e".into()),
//!     changes: Some(Changes::from_changeset(set, event::DEFAULT_LIST_CAP)),
//!     ..Default::default()
//! };
//! // Returns at once; delivery, retries and dedup happen in the background.
//! dispatcher.route(&[Route { alert, provider }], &event, &BTreeMap::new());
//! # Ok(()) }
//! ```

pub mod alert;
pub mod dispatch;
pub mod error;
pub mod event;
pub mod provider;
pub mod redact;

pub use alert::{compile_patterns, AlertConfig, EventSource};
pub use dispatch::{DispatchMetrics, DispatchOptions, Dispatcher, Outcome, Route, Stats};
pub use error::{Error, Result};
pub use event::{Changes, Event, Failure, InvolvedObject, Severity};
pub use provider::{ProviderConfig, ProviderSpec, ProviderType, SmtpConfig, SmtpSecurity};
pub use redact::Redactor;
