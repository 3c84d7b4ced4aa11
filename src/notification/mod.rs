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
//! Everything but `dispatch` is pure. The agent maps Provider and Alert CRDs (and their
//! Secrets) onto `ProviderConfig` and `AlertConfig`.

pub mod alert;
pub mod dispatch;
pub mod error;
pub mod event;
pub mod provider;
pub mod redact;

pub use alert::{compile_patterns, AlertConfig, EventSource};
pub use dispatch::{DispatchOptions, Dispatcher, Outcome, Route, Stats};
pub use error::{Error, Result};
pub use event::{Changes, Event, Failure, InvolvedObject, Severity};
pub use provider::{ProviderConfig, ProviderSpec, ProviderType, SmtpConfig, SmtpSecurity};
pub use redact::Redactor;
