//! Notifications over TLS to real servers on loopback whose certificate is signed by a private
//! CA (`tests/fixtures/tls`: `ca.crt`, and `server.crt`/`server.key` for `127.0.0.1` and
//! `localhost`). The Provider trusts that CA through `ca_cert` (a Provider's `certSecretRef`
//! Secret key `ca.crt`, as in Flux):
//!
//! - SMTP with STARTTLS (`smtp://`) and with implicit TLS (`smtps://`): the `mailin` SMTP
//!   engine behind a rustls server; the login is only offered after TLS, and the test checks
//!   the mail arrived on the encrypted stream;
//! - a generic webhook over HTTPS;
//! - without the CA the same servers are refused (the certificate is really verified).

use driftless::notification::{
    DispatchOptions, Dispatcher, ProviderConfig, ProviderType, SmtpConfig,
};
use notify::{apps_event, smtp_server, Mode};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tls::{ca_pem, https_server};

#[path = "common/notify.rs"]
mod notify;
#[path = "common/tls.rs"]
mod tls;

fn smtp_provider(address: &str, ca: Option<String>) -> ProviderConfig {
    let mut p = ProviderConfig::new("flux-system/email", ProviderType::Smtp, "");
    p.smtp = Some(
        SmtpConfig::from_address(
            address,
            "driftless@example.com",
            vec!["ops@example.com".into()],
        )
        .expect("valid address"),
    );
    p.secrets.insert("username".into(), "mailer".into());
    p.secrets.insert("password".into(), "pa55word".into());
    p.timeout = Duration::from_secs(5);
    p.ca_cert = ca;
    p
}

fn no_retries() -> DispatchOptions {
    DispatchOptions {
        retries: 0,
        ..Default::default()
    }
}

async fn deliver(p: ProviderConfig) -> driftless::notification::Stats {
    let d = Dispatcher::start(no_retries()).expect("dispatcher");
    d.send(Arc::new(p), apps_event());
    assert!(d.wait_idle(Duration::from_secs(10)).await);
    d.stats()
}

async fn recv<T: Send + 'static>(rx: mpsc::Receiver<T>) -> Option<T> {
    tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(10)).ok())
        .await
        .expect("join")
}

#[tokio::test]
async fn starttls_mail_is_sent_encrypted_to_a_server_signed_by_the_provider_ca() {
    let (port, mails) = smtp_server(Mode::StartTls);
    let stats = deliver(smtp_provider(
        &format!("smtp://127.0.0.1:{port}"),
        Some(ca_pem()),
    ))
    .await;
    assert_eq!((stats.delivered, stats.failed), (1, 0), "{stats:?}");
    let mail = recv(mails).await.expect("mail received");
    assert!(mail.over_tls, "the mail was sent after STARTTLS");
    assert_eq!(
        mail.auth,
        Some(("mailer".to_string(), "pa55word".to_string())),
        "logged in (the server offers AUTH only over TLS)"
    );
    assert_eq!(mail.to, vec!["ops@example.com"]);
    assert!(String::from_utf8_lossy(&mail.data).contains("Kustomization/flux-system/apps"));
}

#[tokio::test]
async fn implicit_tls_mail_is_sent_to_a_server_signed_by_the_provider_ca() {
    let (port, mails) = smtp_server(Mode::Implicit);
    let stats = deliver(smtp_provider(
        &format!("smtps://127.0.0.1:{port}"),
        Some(ca_pem()),
    ))
    .await;
    assert_eq!((stats.delivered, stats.failed), (1, 0), "{stats:?}");
    let mail = recv(mails).await.expect("mail received");
    assert!(mail.over_tls);
    assert_eq!(mail.to, vec!["ops@example.com"]);
}

#[tokio::test]
async fn without_the_ca_the_smtp_servers_certificate_is_refused_and_nothing_is_sent() {
    for (mode, scheme) in [(Mode::StartTls, "smtp"), (Mode::Implicit, "smtps")] {
        let (port, mails) = smtp_server(mode);
        let stats = deliver(smtp_provider(&format!("{scheme}://127.0.0.1:{port}"), None)).await;
        assert_eq!(
            (stats.delivered, stats.failed),
            (0, 1),
            "{scheme}: {stats:?}"
        );
        let err = stats.last_error.unwrap_or_default();
        assert!(!err.contains("pa55word"), "{err}");
        assert!(
            mails.recv_timeout(Duration::from_millis(200)).is_err(),
            "{scheme}: no mail"
        );
    }
}

#[tokio::test]
async fn an_https_webhook_is_delivered_when_the_provider_trusts_its_ca() {
    let (port, bodies) = https_server();
    let url = format!("https://127.0.0.1:{port}/hook");
    let untrusted = ProviderConfig::new("flux-system/hook", ProviderType::Generic, &url);
    let stats = deliver(untrusted.clone()).await;
    assert_eq!(
        (stats.delivered, stats.failed),
        (0, 1),
        "refused without the CA"
    );
    let mut trusted = untrusted;
    trusted.ca_cert = Some(ca_pem());
    let stats = deliver(trusted).await;
    assert_eq!((stats.delivered, stats.failed), (1, 0), "{stats:?}");
    let body = recv(bodies).await.expect("request received");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["involvedObject"]["name"], "apps");
}

#[test]
fn a_provider_with_an_invalid_ca_is_a_config_error() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut p = ProviderConfig::new(
            "flux-system/hook",
            ProviderType::Generic,
            "https://127.0.0.1:9/",
        );
        p.ca_cert = Some("not a certificate".into());
        let stats = deliver(p).await;
        assert_eq!(stats.failed, 1);
        assert!(
            stats.last_error.unwrap_or_default().contains("ca.crt"),
            "the error names the Secret key"
        );
    });
}
