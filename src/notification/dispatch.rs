//! Asynchronous delivery. `Dispatcher::send` never waits on the network: it checks the dedup
//! table, puts the job on a bounded channel and returns. A worker task delivers jobs
//! concurrently (bounded), with a timeout per attempt and retries with exponential backoff,
//! so a slow or dead provider never holds up a reconcile.
//!
//! ```text
//!  reconcile ──send()──► dedup (same provider+object+reason+text+revision once per 5m)
//!                          │ new
//!                          ▼
//!                 bounded channel (full → dropped, counted)
//!                          │
//!                 worker ──► one lane per provider, up to N deliveries at once each:
//!                              redact ─► build payload ─► POST / SMTP (timeout)
//!                              5xx, 408, 429, network error ─► backoff 2s, 4s, … ≤ 30s, retry
//! ```
//!
//! With `DispatchMetrics` (the agent registers them on `/metrics`) every outcome is counted per
//! provider, and every delivery attempt is timed:
//!
//! ```text
//!  driftless_notifications_total{provider,type,result}   sent|failed|deduplicated|dropped
//!  driftless_notification_delivery_duration_seconds{provider,type}   histogram, per attempt
//! ```

use super::alert::AlertConfig;
use super::error::{Error, Result};
use super::event::Event;
use super::provider::{build_request, email_message, ProviderConfig, ProviderType, SmtpSecurity};
use super::redact::Redactor;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify, Semaphore};

/// Dispatcher tuning. The defaults follow Flux: 5 minute rate limit, 4 retries, 2–30 s backoff.
#[derive(Clone, Debug)]
pub struct DispatchOptions {
    /// Jobs waiting for delivery, overall and per provider; when full, new notifications are
    /// dropped (and counted).
    pub queue_capacity: usize,
    /// The same event is sent at most once per interval. Zero disables dedup.
    pub rate_limit: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Deliveries in flight at once per provider. Each provider has its own lane, so a slow or
    /// dead provider never holds up another.
    pub concurrency: usize,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        DispatchOptions {
            queue_capacity: 1024,
            rate_limit: Duration::from_secs(300),
            retries: 4,
            backoff_min: Duration::from_secs(2),
            backoff_max: Duration::from_secs(30),
            concurrency: 4,
        }
    }
}

/// What `send` did with a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Queued for delivery.
    Queued,
    /// The same event went to this provider within the rate-limit interval.
    Duplicate,
    /// The queue was full; the notification was dropped.
    Dropped,
}

/// An alert and the provider it sends to.
#[derive(Clone, Debug)]
pub struct Route {
    pub alert: AlertConfig,
    pub provider: Arc<ProviderConfig>,
}

/// Counters since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub queued: u64,
    pub duplicates: u64,
    pub dropped: u64,
    pub delivered: u64,
    pub failed: u64,
    pub attempts: u64,
    /// The last delivery error (redacted).
    pub last_error: Option<String>,
}

/// Prometheus series the dispatcher records into. Created unregistered; the owner registers
/// `collectors()` (the agent's `server::Metrics` does).
#[derive(Clone)]
pub struct DispatchMetrics {
    /// `driftless_notifications_total{provider,type,result}`: `sent` (delivered), `failed`
    /// (gave up after retries or a permanent error), `deduplicated` (same event within the
    /// rate-limit interval), `dropped` (queue full).
    pub total: IntCounterVec,
    /// `driftless_notification_delivery_duration_seconds{provider,type}`: one observation per
    /// delivery attempt (HTTP request or SMTP session), successful or not.
    pub duration: HistogramVec,
}

/// Delivery-time buckets: 5 ms to the 30 s upper bound of a provider timeout.
const DELIVERY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

impl DispatchMetrics {
    pub fn new() -> DispatchMetrics {
        DispatchMetrics {
            total: IntCounterVec::new(
                Opts::new(
                    "driftless_notifications_total",
                    "Notifications by provider and outcome (sent, failed, deduplicated, dropped).",
                ),
                &["provider", "type", "result"],
            )
            .expect("static metric definition"),
            duration: HistogramVec::new(
                HistogramOpts::new(
                    "driftless_notification_delivery_duration_seconds",
                    "Time one delivery attempt to a provider took.",
                )
                .buckets(DELIVERY_BUCKETS.to_vec()),
                &["provider", "type"],
            )
            .expect("static metric definition"),
        }
    }

    /// The collectors to register.
    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![
            Box::new(self.total.clone()),
            Box::new(self.duration.clone()),
        ]
    }

    fn count(&self, p: &ProviderConfig, result: &str) {
        self.total
            .with_label_values(&[p.name.as_str(), p.kind.as_str(), result])
            .inc();
    }
}

impl Default for DispatchMetrics {
    fn default() -> Self {
        DispatchMetrics::new()
    }
}

struct Job {
    provider: Arc<ProviderConfig>,
    event: Event,
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    duplicates: AtomicU64,
    dropped: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    attempts: AtomicU64,
}

struct Inner {
    tx: mpsc::Sender<Job>,
    opts: DispatchOptions,
    dedup: Mutex<HashMap<[u8; 32], Instant>>,
    counters: Counters,
    last_error: Mutex<Option<String>>,
    extra_secrets: RwLock<Redactor>,
    idle: Notify,
    metrics: Option<DispatchMetrics>,
}

impl Inner {
    fn count(&self, p: &ProviderConfig, result: &str) {
        if let Some(m) = &self.metrics {
            m.count(p, result);
        }
    }
}

/// Handle to the delivery task; cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl Dispatcher {
    /// Starts the worker on the current tokio runtime (an error outside one).
    pub fn start(opts: DispatchOptions) -> Result<Dispatcher> {
        Dispatcher::start_with_metrics(opts, None)
    }

    /// As `start`, recording every outcome and attempt into `metrics`.
    pub fn start_with_metrics(
        opts: DispatchOptions,
        metrics: Option<DispatchMetrics>,
    ) -> Result<Dispatcher> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::config("dispatcher", "must be started inside a tokio runtime"))?;
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| Error::config("dispatcher", format!("HTTP client: {e}")))?;
        let (tx, rx) = mpsc::channel(opts.queue_capacity.max(1));
        let inner = Arc::new(Inner {
            tx,
            opts,
            dedup: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            last_error: Mutex::new(None),
            extra_secrets: RwLock::new(Redactor::default()),
            idle: Notify::new(),
            metrics,
        });
        runtime.spawn(worker(Arc::downgrade(&inner), rx, client));
        Ok(Dispatcher { inner })
    }

    /// Registers more values to mask in every message (e.g. the `data` of Secrets the
    /// reconciled objects reference).
    pub fn add_secret_values<I, S>(&self, values: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if let Ok(mut r) = self.inner.extra_secrets.write() {
            for v in values {
                r.add(v.as_ref());
            }
        }
    }

    /// Queues `event` for `provider` unless it is a duplicate. Never waits.
    pub fn send(&self, provider: Arc<ProviderConfig>, mut event: Event) -> Outcome {
        let c = &self.inner.counters;
        let key = dedup_key(&provider, &event);
        if !self.first_in_interval(key) {
            c.duplicates.fetch_add(1, Ordering::Relaxed);
            self.inner.count(&provider, "deduplicated");
            return Outcome::Duplicate;
        }
        if event.timestamp.is_empty() {
            event.timestamp = crate::apiserver::time::now_rfc3339();
        }
        c.queued.fetch_add(1, Ordering::Relaxed);
        match self.inner.tx.try_send(Job { provider, event }) {
            Ok(()) => Outcome::Queued,
            Err(e) => {
                c.queued.fetch_sub(1, Ordering::Relaxed);
                c.dropped.fetch_add(1, Ordering::Relaxed);
                self.inner.count(&e.into_inner().provider, "dropped");
                // Not sent, so not a duplicate next time.
                if let Ok(mut table) = self.inner.dedup.lock() {
                    table.remove(&key);
                }
                Outcome::Dropped
            }
        }
    }

    /// Sends `event` to the provider of every matching alert, enriched with that alert's
    /// metadata. `labels` are the involved object's labels.
    pub fn route(
        &self,
        routes: &[Route],
        event: &Event,
        labels: &BTreeMap<String, String>,
    ) -> Vec<Outcome> {
        routes
            .iter()
            .filter(|r| r.alert.matches(event, labels))
            .map(|r| self.send(r.provider.clone(), r.alert.enrich(event)))
            .collect()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            queued: c.queued.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            attempts: c.attempts.load(Ordering::Relaxed),
            last_error: self.inner.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }

    /// Waits until every queued notification was delivered or gave up, or `timeout` passed.
    /// Returns true when idle.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.idle.notified();
            if self.pending() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.pending() == 0;
            }
        }
    }

    fn pending(&self) -> u64 {
        let c = &self.inner.counters;
        let done = c.delivered.load(Ordering::Acquire) + c.failed.load(Ordering::Acquire);
        c.queued.load(Ordering::Acquire).saturating_sub(done)
    }

    /// Records the event in the dedup table; false when it was seen within the interval.
    fn first_in_interval(&self, key: [u8; 32]) -> bool {
        let interval = self.inner.opts.rate_limit;
        if interval.is_zero() {
            return true;
        }
        let now = Instant::now();
        let Ok(mut table) = self.inner.dedup.lock() else {
            return true;
        };
        if let Some(seen) = table.get(&key) {
            if now.duration_since(*seen) < interval {
                return false;
            }
        }
        if table.len() >= 4096 {
            table.retain(|_, seen| now.duration_since(*seen) < interval);
        }
        table.insert(key, now);
        true
    }
}

/// Same provider, object, reason, full message and revision → same key.
fn dedup_key(provider: &ProviderConfig, event: &Event) -> [u8; 32] {
    let mut h = Sha256::new();
    let io = &event.involved_object;
    for part in [
        provider.name.as_str(),
        &io.kind,
        &io.namespace,
        &io.name,
        &event.reason,
        &event.text(),
        event.revision.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().into()
}

async fn worker(
    inner: std::sync::Weak<Inner>,
    mut rx: mpsc::Receiver<Job>,
    client: reqwest::Client,
) {
    // One lane per provider: a dead provider fills only its own lane.
    let mut lanes: HashMap<String, mpsc::Sender<Job>> = HashMap::new();
    while let Some(job) = rx.recv().await {
        let Some(strong) = inner.upgrade() else {
            break;
        };
        let lane = lanes.entry(job.provider.name.clone()).or_insert_with(|| {
            let (tx, lane_rx) = mpsc::channel(strong.opts.queue_capacity.max(1));
            tokio::spawn(lane_worker(
                inner.clone(),
                lane_rx,
                client.clone(),
                strong.opts.concurrency.max(1),
            ));
            tx
        });
        if let Err(e) = lane.try_send(job) {
            strong.count(&e.into_inner().provider, "dropped");
            let c = &strong.counters;
            c.dropped.fetch_add(1, Ordering::Relaxed);
            c.queued.fetch_sub(1, Ordering::AcqRel);
            strong.idle.notify_waiters();
        }
    }
}

async fn lane_worker(
    inner: std::sync::Weak<Inner>,
    mut rx: mpsc::Receiver<Job>,
    client: reqwest::Client,
    concurrency: usize,
) {
    let slots = Arc::new(Semaphore::new(concurrency));
    while let Some(job) = rx.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let Some(inner) = inner.upgrade() else {
            break;
        };
        let client = client.clone();
        tokio::spawn(async move {
            let provider = job.provider.clone();
            let result = deliver_with_retries(&inner, &client, job).await;
            inner.count(&provider, if result.is_ok() { "sent" } else { "failed" });
            let c = &inner.counters;
            match result {
                Ok(()) => c.delivered.fetch_add(1, Ordering::AcqRel),
                Err(e) => {
                    if let Ok(mut last) = inner.last_error.lock() {
                        *last = Some(e.to_string());
                    }
                    c.failed.fetch_add(1, Ordering::AcqRel)
                }
            };
            inner.idle.notify_waiters();
            drop(permit);
        });
    }
}

async fn deliver_with_retries(inner: &Inner, client: &reqwest::Client, job: Job) -> Result<()> {
    let mut redactor = inner
        .extra_secrets
        .read()
        .map(|r| r.clone())
        .unwrap_or_default();
    for v in job.provider.secrets.values() {
        redactor.add(v);
    }
    let mut event = job.event;
    if !redactor.is_empty() {
        event.map_text(&|s| redactor.redact(s));
    }
    let opts = &inner.opts;
    let mut attempt = 0;
    loop {
        inner.counters.attempts.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = tokio::time::timeout(
            job.provider.timeout,
            deliver_once(client, &job.provider, &event),
        )
        .await;
        if let Some(m) = &inner.metrics {
            let p = &job.provider;
            m.duration
                .with_label_values(&[p.name.as_str(), p.kind.as_str()])
                .observe(started.elapsed().as_secs_f64());
        }
        let result = match outcome {
            Ok(r) => r,
            Err(_) => Err(Error::Delivery {
                provider: job.provider.name.clone(),
                message: format!("timed out after {:?}", job.provider.timeout),
                retryable: true,
            }),
        };
        match result {
            Ok(()) => return Ok(()),
            Err(e) if e.is_retryable() && attempt < opts.retries => {
                let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
                let wait = opts
                    .backoff_min
                    .saturating_mul(factor)
                    .min(opts.backoff_max);
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(redact_error(e, &redactor)),
        }
    }
}

fn redact_error(e: Error, r: &Redactor) -> Error {
    match e {
        Error::Delivery {
            provider,
            message,
            retryable,
        } => Error::Delivery {
            provider,
            message: r.redact(&message),
            retryable,
        },
        Error::Config { provider, message } => Error::Config {
            provider,
            message: r.redact(&message),
        },
        other => other,
    }
}

/// One attempt, HTTP or SMTP.
async fn deliver_once(client: &reqwest::Client, p: &ProviderConfig, event: &Event) -> Result<()> {
    if p.kind == ProviderType::Smtp {
        return send_mail(p, event).await;
    }
    let req = build_request(p, event)?;
    let custom;
    let client = match &p.ca_cert {
        Some(pem) => {
            custom = client_trusting(p, pem)?;
            &custom
        }
        None => client,
    };
    let mut rb = client.post(&req.url).timeout(p.timeout);
    for (k, v) in &req.headers {
        rb = rb.header(k, v);
    }
    let delivery = |message: String, retryable: bool| Error::Delivery {
        provider: p.name.clone(),
        message,
        retryable,
    };
    // `without_url`: the URL may carry a token (Telegram, Slack/Discord webhook paths).
    let resp = rb
        .body(req.body)
        .send()
        .await
        .map_err(|e| delivery(e.without_url().to_string(), true))?;
    let status = resp.status();
    if status.is_success() {
        if req.url == super::provider::SLACK_POST_MESSAGE {
            // chat.postMessage answers 200 with {"ok": false, "error": ...} on failure.
            let body: serde_json::Value = resp
                .json()
                .await
                .map_err(|e| delivery(e.without_url().to_string(), true))?;
            if body.get("ok").and_then(serde_json::Value::as_bool) != Some(true) {
                let err = body
                    .get("error")
                    .and_then(|v| v.as_str())
                    .unwrap_or("unknown");
                return Err(delivery(
                    format!("Slack responded with error: {err}"),
                    false,
                ));
            }
        }
        return Ok(());
    }
    let code = status.as_u16();
    let retryable = status.is_server_error() || code == 408 || code == 429;
    let text = resp.text().await.unwrap_or_default();
    Err(delivery(
        format!(
            "HTTP {code}: {}",
            super::event::truncate_chars(text.trim(), 200)
        ),
        retryable,
    ))
}

/// An HTTP client that also trusts the provider's CA certificates (built per delivery: only
/// providers with a `certSecretRef` pay for it).
fn client_trusting(p: &ProviderConfig, pem: &str) -> Result<reqwest::Client> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .ok()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::config(&p.name, "certSecretRef: ca.crt holds no PEM certificate"))?;
    certs
        .into_iter()
        .fold(reqwest::Client::builder(), |b, c| b.add_root_certificate(c))
        .build()
        .map_err(|e| Error::config(&p.name, format!("HTTP client: {e}")))
}

/// TLS settings for SMTP that trust the provider's CA certificates besides the public roots.
fn smtp_tls(
    p: &ProviderConfig,
    host: &str,
    pem: &str,
) -> Result<lettre::transport::smtp::client::TlsParameters> {
    use lettre::transport::smtp::client::{Certificate, TlsParameters};
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(Error::config(
            &p.name,
            "certSecretRef: ca.crt holds no PEM certificate",
        ));
    }
    let cert = Certificate::from_pem(pem.as_bytes())
        .map_err(|e| Error::config(&p.name, format!("certSecretRef: ca.crt: {e}")))?;
    TlsParameters::builder(host.to_string())
        .add_root_certificate(cert)
        .build_rustls()
        .map_err(|e| Error::config(&p.name, format!("smtp: {e}")))
}

async fn send_mail(p: &ProviderConfig, event: &Event) -> Result<()> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::Tls;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let smtp = p
        .smtp
        .as_ref()
        .ok_or_else(|| Error::config(&p.name, "smtp settings missing"))?;
    let message = email_message(p, event)?;
    let builder = match (smtp.security, &p.ca_cert) {
        (SmtpSecurity::Plain, _) => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        }
        // With a private CA: the same modes, with that CA trusted too.
        (SmtpSecurity::StartTls, Some(pem)) => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
                .tls(Tls::Required(smtp_tls(p, &smtp.host, pem)?))
        }
        (SmtpSecurity::Tls, Some(pem)) => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
                .tls(Tls::Wrapper(smtp_tls(p, &smtp.host, pem)?))
        }
        (SmtpSecurity::StartTls, None) => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| Error::config(&p.name, format!("smtp: {e}")))?
        }
        (SmtpSecurity::Tls, None) => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| Error::config(&p.name, format!("smtp: {e}")))?,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(p.timeout));
    if let Some(user) = p.secret("username") {
        builder = builder.credentials(Credentials::new(
            user.to_string(),
            p.secret("password").unwrap_or_default().to_string(),
        ));
    }
    let transport = builder.build();
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| Error::Delivery {
            provider: p.name.clone(),
            retryable: !e.is_permanent(),
            message: format!("smtp: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::event::InvolvedObject;

    fn event(msg: &str) -> Event {
        Event {
            involved_object: InvolvedObject {
                kind: "Kustomization".into(),
                namespace: "flux-system".into(),
                name: "apps".into(),
                ..Default::default()
            },
            message: msg.into(),
            revision: Some("main@sha1:1".into()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn same_event_is_a_duplicate_until_the_interval_passes() {
        let d = Dispatcher::start(DispatchOptions {
            rate_limit: Duration::from_millis(200),
            ..Default::default()
        })
        .unwrap();
        // Port 9 on loopback: nothing listens; deliveries fail in the background.
        let mut p = ProviderConfig::new("ns/p", ProviderType::Generic, "http://127.0.0.1:9/");
        p.timeout = Duration::from_millis(50);
        let p = Arc::new(p);
        assert_eq!(d.send(p.clone(), event("boom")), Outcome::Queued);
        assert_eq!(d.send(p.clone(), event("boom")), Outcome::Duplicate);
        // A different message or revision is a different event.
        assert_eq!(d.send(p.clone(), event("other")), Outcome::Queued);
        let mut rev2 = event("boom");
        rev2.revision = Some("main@sha1:2".into());
        assert_eq!(d.send(p.clone(), rev2), Outcome::Queued);
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(d.send(p, event("boom")), Outcome::Queued);
    }

    #[tokio::test]
    async fn metrics_count_failures_and_duplicates_per_provider_and_time_each_attempt() {
        let m = DispatchMetrics::new();
        let d = Dispatcher::start_with_metrics(
            DispatchOptions {
                retries: 1,
                backoff_min: Duration::from_millis(1),
                backoff_max: Duration::from_millis(1),
                ..Default::default()
            },
            Some(m.clone()),
        )
        .unwrap();
        // Nothing listens on port 9: both attempts fail, then the delivery gives up.
        let mut p = ProviderConfig::new("ns/dead", ProviderType::Generic, "http://127.0.0.1:9/");
        p.timeout = Duration::from_millis(500);
        let p = Arc::new(p);
        assert_eq!(d.send(p.clone(), event("boom")), Outcome::Queued);
        assert_eq!(d.send(p.clone(), event("boom")), Outcome::Duplicate);
        assert!(d.wait_idle(Duration::from_secs(5)).await);
        let count = |result: &str| {
            m.total
                .with_label_values(&["ns/dead", "generic", result])
                .get()
        };
        assert_eq!(
            (count("sent"), count("failed"), count("deduplicated")),
            (0, 1, 1)
        );
        let attempts = m
            .duration
            .with_label_values(&["ns/dead", "generic"])
            .get_sample_count();
        assert_eq!(attempts, 2, "the first attempt and one retry are timed");
    }

    #[test]
    fn start_outside_a_runtime_is_an_error_not_a_panic() {
        assert!(matches!(
            Dispatcher::start(DispatchOptions::default()),
            Err(Error::Config { .. })
        ));
    }

    #[tokio::test]
    async fn full_queue_drops_instead_of_waiting() {
        let d = Dispatcher::start(DispatchOptions {
            queue_capacity: 1,
            concurrency: 1,
            rate_limit: Duration::ZERO,
            ..Default::default()
        })
        .unwrap();
        let p = Arc::new(ProviderConfig::new(
            "ns/p",
            ProviderType::Generic,
            "http://127.0.0.1:9/",
        ));
        let outcomes: Vec<Outcome> = (0..50).map(|_| d.send(p.clone(), event("x"))).collect();
        assert!(outcomes.contains(&Outcome::Dropped));
        assert!(d.stats().dropped > 0);
    }
}
