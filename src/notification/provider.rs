//! Provider configuration (independent of the CRD types: the agent maps a
//! `notification.toolkit.fluxcd.io/v1beta3` Provider and its Secret onto `ProviderConfig`) and
//! the pure payload builders: event in, HTTP request (URL, headers, body) out.
//!
//! | type           | request                                                                 |
//! |----------------|-------------------------------------------------------------------------|
//! | `slack`        | Block Kit JSON to the incoming webhook; with a `token`, `chat.postMessage` + `Authorization: Bearer` |
//! | `msteams`      | Adaptive Card (or the legacy MessageCard for `*.webhook.office.com`), as Flux sends |
//! | `discord`      | Flux's behaviour: Slack attachments JSON to `<webhook>/slack`           |
//! | `telegram`     | `sendMessage` (`chat_id` = channel, HTML parse mode) to `/bot<token>/`  |
//! | `generic`      | Flux's event JSON with a `gotk-component` header                        |
//! | `generic-hmac` | the same plus `X-Signature: sha256=<hex HMAC of the body with token>`   |
//! | `smtp`         | a multipart (text + HTML) mail, built in `email_message`                |

use super::error::{Error, Result};
use super::event::{truncate_chars, Event, Severity};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Slack's Web API endpoint for bot tokens.
pub const SLACK_POST_MESSAGE: &str = "https://slack.com/api/chat.postMessage";
/// Telegram's API base.
pub const TELEGRAM_API: &str = "https://api.telegram.org";
/// Default per-attempt timeout (Flux uses 15 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// The provider types driftless delivers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderType {
    Slack,
    Smtp,
    MsTeams,
    Discord,
    Telegram,
    Generic,
    GenericHmac,
}

impl ProviderType {
    /// The `spec.type` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderType::Slack => "slack",
            ProviderType::Smtp => "smtp",
            ProviderType::MsTeams => "msteams",
            ProviderType::Discord => "discord",
            ProviderType::Telegram => "telegram",
            ProviderType::Generic => "generic",
            ProviderType::GenericHmac => "generic-hmac",
        }
    }
}

impl fmt::Display for ProviderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "slack" => ProviderType::Slack,
            "smtp" => ProviderType::Smtp,
            "msteams" => ProviderType::MsTeams,
            "discord" => ProviderType::Discord,
            "telegram" => ProviderType::Telegram,
            "generic" => ProviderType::Generic,
            "generic-hmac" => ProviderType::GenericHmac,
            other => return Err(format!("unsupported provider type {other:?}")),
        })
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required); port 587 by default.
    StartTls,
    /// TLS from the first byte (SMTPS); port 465 by default.
    Tls,
    /// No TLS at all: only for local relays and tests; port 25 by default.
    Plain,
}

/// Mail settings of an `smtp` provider. Username and password come from the Secret
/// (`username`, `password` keys of `ProviderConfig::secrets`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub from: String,
    pub to: Vec<String>,
}

impl SmtpConfig {
    /// Reads `smtp://host[:port]` (STARTTLS, 587), `smtps://host[:port]` (TLS, 465) or
    /// `smtp+plain://host[:port]` (no TLS, 25).
    pub fn from_address(address: &str, from: &str, to: Vec<String>) -> Result<SmtpConfig, String> {
        let (scheme, rest) = address.split_once("://").ok_or_else(|| {
            format!("smtp address {address:?} needs a scheme (smtp://, smtps://, smtp+plain://)")
        })?;
        let (security, default_port) = match scheme {
            "smtp" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::Tls, 465),
            "smtp+plain" => (SmtpSecurity::Plain, 25),
            other => return Err(format!("unsupported smtp scheme {other:?}")),
        };
        let hostport = rest.trim_end_matches('/');
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| format!("invalid smtp port {p:?}"))?;
                (h.trim_matches(['[', ']']).to_string(), port)
            }
            _ => (hostport.to_string(), default_port),
        };
        if host.is_empty() {
            return Err("smtp address has no host".to_string());
        }
        if to.is_empty() {
            return Err("smtp provider needs at least one recipient".to_string());
        }
        Ok(SmtpConfig {
            host,
            port,
            security,
            from: from.to_string(),
            to,
        })
    }
}

/// Everything needed to deliver to one provider.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// `namespace/name` of the Provider, for logs and errors.
    pub name: String,
    pub kind: ProviderType,
    /// Webhook URL (`spec.address`); the Secret's `address` key overrides it.
    pub address: String,
    /// Slack channel, Telegram chat id.
    pub channel: String,
    /// Display name for Slack/Discord.
    pub username: String,
    /// Secret data: `token`, `address`, `username`, `password`, `headers` (YAML map).
    /// Every value here is redacted from every message and error.
    pub secrets: BTreeMap<String, String>,
    /// Set for `smtp`.
    pub smtp: Option<SmtpConfig>,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// PEM CA certificates trusted for this provider's TLS (HTTPS and SMTP) on top of the
    /// public roots: the `ca.crt` key of the Provider's `certSecretRef` Secret, as in Flux.
    pub ca_cert: Option<String>,
}

impl ProviderConfig {
    /// A provider with no secrets and the default timeout.
    pub fn new(name: &str, kind: ProviderType, address: &str) -> ProviderConfig {
        ProviderConfig {
            name: name.to_string(),
            kind,
            address: address.to_string(),
            channel: String::new(),
            username: String::new(),
            secrets: BTreeMap::new(),
            smtp: None,
            timeout: DEFAULT_TIMEOUT,
            ca_cert: None,
        }
    }

    /// The Secret's value for `key`, if set and non-empty.
    pub fn secret(&self, key: &str) -> Option<&str> {
        self.secrets
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The effective address: the Secret's `address`, else `spec.address`.
    pub fn effective_address(&self) -> &str {
        self.secret("address").unwrap_or(&self.address)
    }
}

/// The Flux Provider fields the agent reads (spec plus Secret data), as plain values, so this
/// module does not depend on the CRD types.
#[derive(Clone, Debug, Default)]
pub struct ProviderSpec<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    /// `spec.type`.
    pub kind: &'a str,
    pub address: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub username: Option<&'a str>,
    /// `spec.timeout`, already parsed.
    pub timeout: Option<Duration>,
    /// The Secret's data, decoded.
    pub secrets: BTreeMap<String, String>,
    /// `ca.crt` of the `certSecretRef` Secret (PEM).
    pub ca_cert: Option<String>,
}

impl ProviderConfig {
    /// Maps a Flux Provider onto a `ProviderConfig`. For `smtp` (not in Flux) the same fields
    /// carry the mail settings:
    ///
    /// - `address` (or the Secret's `address`): `smtp://host[:587]` (STARTTLS),
    ///   `smtps://host[:465]` (TLS) or `smtp+plain://host[:25]` (no TLS);
    /// - `channel`: the recipients, comma-separated;
    /// - `username`: the sender (`Name <from@example.com>`);
    /// - the Secret's `username` and `password`: the SMTP login.
    pub fn from_spec(spec: ProviderSpec<'_>) -> Result<ProviderConfig> {
        let name = format!("{}/{}", spec.namespace, spec.name);
        let kind: ProviderType = spec
            .kind
            .parse()
            .map_err(|e: String| Error::config(&name, e))?;
        let mut p = ProviderConfig::new(&name, kind, spec.address.unwrap_or_default());
        p.channel = spec.channel.unwrap_or_default().to_string();
        p.username = spec.username.unwrap_or_default().to_string();
        p.secrets = spec.secrets;
        p.ca_cert = spec.ca_cert.filter(|c| !c.trim().is_empty());
        if let Some(t) = spec.timeout.filter(|t| !t.is_zero()) {
            p.timeout = t;
        }
        if kind == ProviderType::Smtp {
            let to: Vec<String> = p
                .channel
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            if p.username.is_empty() {
                return Err(Error::config(
                    &name,
                    "smtp needs the sender in spec.username",
                ));
            }
            let smtp = SmtpConfig::from_address(p.effective_address(), &p.username, to)
                .map_err(|e| Error::config(&name, e))?;
            p.smtp = Some(smtp);
        }
        Ok(p)
    }
}

/// A ready-to-send HTTP POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Builds the HTTP request for `event` (smtp is not HTTP: see `email_message`).
pub fn build_request(p: &ProviderConfig, event: &Event) -> Result<HttpRequest> {
    let json_headers = || vec![("Content-Type".to_string(), "application/json".to_string())];
    let address = p.effective_address().to_string();
    let need_address = |addr: &str| -> Result<()> {
        if addr.is_empty() {
            return Err(Error::config(&p.name, "no address set"));
        }
        Ok(())
    };
    let req = match p.kind {
        ProviderType::Slack => {
            let mut headers = json_headers();
            let url = match p.secret("token") {
                Some(token) => {
                    headers.push(("Authorization".to_string(), format!("Bearer {token}")));
                    if address.is_empty() {
                        SLACK_POST_MESSAGE.to_string()
                    } else {
                        address
                    }
                }
                None => {
                    need_address(&address)?;
                    address
                }
            };
            HttpRequest {
                url,
                headers,
                body: to_vec(&slack_payload(p, event)),
            }
        }
        ProviderType::MsTeams => {
            need_address(&address)?;
            let body = if is_legacy_teams_connector(&address) {
                teams_message_card(event)
            } else {
                teams_adaptive_card(event)
            };
            HttpRequest {
                url: address,
                headers: json_headers(),
                body: to_vec(&body),
            }
        }
        ProviderType::Discord => {
            need_address(&address)?;
            HttpRequest {
                url: discord_url(&address),
                headers: json_headers(),
                body: to_vec(&discord_payload(p, event)),
            }
        }
        ProviderType::Telegram => {
            let token = p
                .secret("token")
                .ok_or_else(|| Error::config(&p.name, "telegram needs a token in the Secret"))?;
            if p.channel.is_empty() {
                return Err(Error::config(&p.name, "telegram needs a channel (chat id)"));
            }
            let base = if address.is_empty() {
                TELEGRAM_API.to_string()
            } else {
                address
            };
            HttpRequest {
                url: format!("{}/bot{token}/sendMessage", base.trim_end_matches('/')),
                headers: json_headers(),
                body: to_vec(&telegram_payload(p, event)),
            }
        }
        ProviderType::Generic | ProviderType::GenericHmac => {
            need_address(&address)?;
            let body = to_vec(&event.flux_json());
            let mut headers = json_headers();
            headers.push(("gotk-component".to_string(), event.controller().to_string()));
            headers.extend(secret_headers(p)?);
            if p.kind == ProviderType::GenericHmac {
                let token = p.secret("token").ok_or_else(|| {
                    Error::config(&p.name, "generic-hmac needs a token in the Secret")
                })?;
                headers.push(("X-Signature".to_string(), sign_sha256(token, &body)));
            }
            HttpRequest {
                url: address,
                headers,
                body,
            }
        }
        ProviderType::Smtp => {
            return Err(Error::config(&p.name, "smtp is not an HTTP provider"));
        }
    };
    Ok(req)
}

/// `sha256=<hex HMAC-SHA256(key, body)>`, Flux's generic-hmac `X-Signature`.
pub fn sign_sha256(key: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn to_vec(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Extra headers from the Secret's `headers` key (a YAML map of strings), as Flux reads them.
fn secret_headers(p: &ProviderConfig) -> Result<Vec<(String, String)>> {
    let Some(raw) = p.secret("headers") else {
        return Ok(Vec::new());
    };
    let map: BTreeMap<String, String> = serde_yaml::from_str(raw)
        .map_err(|_| Error::config(&p.name, "the Secret's headers key is not a map of strings"))?;
    Ok(map.into_iter().collect())
}

fn emoji(sev: Severity) -> &'static str {
    match sev {
        Severity::Info => "✅",
        Severity::Error => "❌",
    }
}

/// Slack Block Kit message: header, message, change list, context (revision, cluster) and
/// metadata fields. `text` is the notification fallback.
pub fn slack_payload(p: &ProviderConfig, event: &Event) -> Value {
    let title = format!(
        "{} {} {}",
        emoji(event.severity),
        event.involved_object.display(),
        event.reason
    );
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate_chars(&title, 150), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate_chars(&event.markdown(), 3000)}}),
    ];
    let mut context = Vec::new();
    if let Some(rev) = event.revision_line() {
        context.push(json!({"type": "mrkdwn", "text": format!("*revision* `{rev}`")}));
    }
    if let Some(cluster) = &event.cluster {
        context.push(json!({"type": "mrkdwn", "text": format!("*cluster* `{cluster}`")}));
    }
    if !context.is_empty() {
        blocks.push(json!({"type": "context", "elements": context}));
    }
    let fields: Vec<Value> = event
        .metadata
        .iter()
        .take(10)
        .map(|(k, v)| json!({"type": "mrkdwn", "text": truncate_chars(&format!("*{k}*\n{v}"), 2000)}))
        .collect();
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    let mut payload = json!({
        "username": if p.username.is_empty() { event.controller() } else { &p.username },
        "text": format!("{}: {}", event.involved_object.display(), event.reason),
        "blocks": blocks,
    });
    if !p.channel.is_empty() {
        payload["channel"] = Value::String(p.channel.clone());
    }
    payload
}

/// Flux appends `/slack` to Discord webhooks and sends Slack attachments.
pub fn discord_url(address: &str) -> String {
    let (base, query) = match address.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (address, None),
    };
    let mut url = if base.ends_with("/slack") {
        base.to_string()
    } else {
        format!("{}/slack", base.trim_end_matches('/'))
    };
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Flux's Discord payload: a Slack attachment with `author_name` = `kind/name.namespace`,
/// colour `good`/`danger`, the message (with the change list) and metadata fields.
pub fn discord_payload(p: &ProviderConfig, event: &Event) -> Value {
    let fields: Vec<Value> = event
        .full_metadata()
        .iter()
        .map(|(k, v)| json!({"title": k, "value": v, "short": false}))
        .collect();
    json!({
        "channel": p.channel,
        "username": if p.username.is_empty() { event.controller() } else { &p.username },
        "icon_url": "",
        "icon_emoji": "",
        "attachments": [{
            "color": if event.severity == Severity::Error { "danger" } else { "good" },
            "author_name": event.involved_object.flux_name(),
            "text": event.markdown(),
            "mrkdwn_in": ["text"],
            "fields": fields,
        }],
    })
}

/// Flux switches to the deprecated MessageCard for `*.webhook.office.com` connectors.
pub fn is_legacy_teams_connector(address: &str) -> bool {
    let host = address
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(address)
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = host.split(':').next().unwrap_or("");
    host.ends_with(".webhook.office.com")
}

/// Flux's MS Teams Adaptive Card (version 1.4, full width): the object, the message (red for
/// errors), then facts with `summary` first and the rest sorted by key.
pub fn teams_adaptive_card(event: &Event) -> Value {
    let meta = event.full_metadata();
    let mut facts = Vec::new();
    if let Some(s) = meta.get("summary") {
        facts.push(json!({"title": "summary", "value": s}));
    }
    facts.extend(
        meta.iter()
            .filter(|(k, _)| k.as_str() != "summary")
            .map(|(k, v)| json!({"title": k, "value": v})),
    );
    let mut message = json!({"type": "TextBlock", "text": event.text(), "wrap": true});
    if event.severity == Severity::Error {
        message["color"] = json!("attention");
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [{
                    "type": "Container",
                    "items": [
                        {"type": "TextBlock", "text": event.involved_object.flux_name(), "size": "large", "weight": "bolder", "wrap": true},
                        message,
                        {"type": "FactSet", "facts": facts},
                    ],
                }],
                "msteams": {"width": "Full"},
            },
        }],
    })
}

/// Flux's legacy Office 365 connector MessageCard.
pub fn teams_message_card(event: &Event) -> Value {
    let facts: Vec<Value> = event
        .full_metadata()
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let name = event.involved_object.flux_name();
    json!({
        "@type": "MessageCard",
        "@context": "http://schema.org/extensions",
        "themeColor": if event.severity == Severity::Error { "FF0000" } else { "0076D7" },
        "summary": name,
        "sections": [{"activityTitle": event.text(), "activitySubtitle": name, "facts": facts}],
    })
}

/// Telegram `sendMessage` body: bold object and reason, then the full text, HTML-escaped.
pub fn telegram_payload(p: &ProviderConfig, event: &Event) -> Value {
    use super::event::escape_html;
    let text = format!(
        "{} <b>{}</b> {}\n<pre>{}</pre>",
        emoji(event.severity),
        escape_html(&event.involved_object.display()),
        escape_html(&event.reason),
        escape_html(&truncate_chars(&event.text(), 3800))
    );
    json!({"chat_id": p.channel, "text": text, "parse_mode": "HTML", "disable_web_page_preview": true})
}

/// The mail subject: `[cluster] Kind/ns/name: Reason` (the cluster part only when known).
pub fn email_subject(event: &Event) -> String {
    let mut s = String::new();
    if let Some(c) = &event.cluster {
        s.push_str(&format!("[{c}] "));
    }
    if event.severity == Severity::Error {
        s.push_str("error: ");
    }
    s.push_str(&format!(
        "{}: {}",
        event.involved_object.display(),
        event.reason
    ));
    s
}

/// Builds the multipart/alternative (text + HTML) mail for an smtp provider.
pub fn email_message(p: &ProviderConfig, event: &Event) -> Result<lettre::Message> {
    use lettre::message::{Mailbox, MultiPart};
    let smtp = p
        .smtp
        .as_ref()
        .ok_or_else(|| Error::config(&p.name, "smtp settings missing"))?;
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| Error::config(&p.name, format!("invalid from address: {e}")))?;
    let mut builder = lettre::Message::builder()
        .from(from)
        .subject(email_subject(event));
    for to in &smtp.to {
        let mb: Mailbox = to
            .parse()
            .map_err(|e| Error::config(&p.name, format!("invalid to address {to:?}: {e}")))?;
        builder = builder.to(mb);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            event.text(),
            event.html(),
        ))
        .map_err(|e| Error::config(&p.name, format!("cannot build mail: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_signature_matches_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign_sha256("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn discord_gets_slack_suffix_once() {
        assert_eq!(
            discord_url("https://discord.com/api/webhooks/1/x"),
            "https://discord.com/api/webhooks/1/x/slack"
        );
        assert_eq!(
            discord_url("https://discord.com/api/webhooks/1/x/slack?wait=true"),
            "https://discord.com/api/webhooks/1/x/slack?wait=true"
        );
    }

    #[test]
    fn teams_legacy_connector_detected_by_host() {
        assert!(is_legacy_teams_connector(
            "https://xxx.webhook.office.com/webhookb2/abc"
        ));
        assert!(!is_legacy_teams_connector(
            "https://prod-1.westus.logic.azure.com:443/workflows/1"
        ));
    }

    #[test]
    fn smtp_address_schemes_pick_security_and_port() {
        let to = vec!["ops@example.com".to_string()];
        let c = SmtpConfig::from_address("smtps://mail.example.com", "a@b.c", to.clone()).unwrap();
        assert_eq!((c.security, c.port), (SmtpSecurity::Tls, 465));
        let c =
            SmtpConfig::from_address("smtp://mail.example.com:2525", "a@b.c", to.clone()).unwrap();
        assert_eq!(
            (c.security, c.port, c.host.as_str()),
            (SmtpSecurity::StartTls, 2525, "mail.example.com")
        );
        let c =
            SmtpConfig::from_address("smtp+plain://127.0.0.1:2500", "a@b.c", to.clone()).unwrap();
        assert_eq!(c.security, SmtpSecurity::Plain);
        assert!(SmtpConfig::from_address("http://x", "a@b.c", to).is_err());
        assert!(SmtpConfig::from_address("smtp://x", "a@b.c", vec![]).is_err());
    }

    #[test]
    fn slack_with_token_and_no_address_uses_chat_post_message_with_bearer() {
        let mut p = ProviderConfig::new("ns/slack", ProviderType::Slack, "");
        p.secrets.insert("token".into(), "xoxb-1".into());
        p.channel = "#ops".into();
        let req = build_request(&p, &Event::default()).unwrap();
        assert_eq!(req.url, SLACK_POST_MESSAGE);
        assert!(req
            .headers
            .contains(&("Authorization".to_string(), "Bearer xoxb-1".to_string())));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["channel"], "#ops");
    }

    #[test]
    fn smtp_spec_maps_channel_to_recipients_and_username_to_sender() {
        let p = ProviderConfig::from_spec(ProviderSpec {
            namespace: "flux-system",
            name: "mail",
            kind: "smtp",
            channel: Some("ops@example.com, dev@example.com"),
            username: Some("driftless <flux@example.com>"),
            timeout: Some(Duration::from_secs(3)),
            secrets: BTreeMap::from([(
                "address".to_string(),
                "smtps://mail.example.com".to_string(),
            )]),
            ..Default::default()
        })
        .unwrap();
        let smtp = p.smtp.unwrap();
        assert_eq!(smtp.to, vec!["ops@example.com", "dev@example.com"]);
        assert_eq!(smtp.from, "driftless <flux@example.com>");
        assert_eq!(
            (smtp.host.as_str(), smtp.port, smtp.security),
            ("mail.example.com", 465, SmtpSecurity::Tls)
        );
        assert_eq!(p.timeout, Duration::from_secs(3));
        assert_eq!(p.name, "flux-system/mail");
        let unknown = ProviderConfig::from_spec(ProviderSpec {
            kind: "rocket",
            ..Default::default()
        });
        assert!(unknown
            .unwrap_err()
            .to_string()
            .contains("unsupported provider type"));
    }

    #[test]
    fn missing_address_is_a_config_error() {
        let p = ProviderConfig::new("ns/g", ProviderType::Generic, "");
        assert!(matches!(
            build_request(&p, &Event::default()),
            Err(Error::Config { .. })
        ));
    }
}
