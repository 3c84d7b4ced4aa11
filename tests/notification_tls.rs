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
    DispatchOptions, Dispatcher, Event, InvolvedObject, ProviderConfig, ProviderType, Severity,
    SmtpConfig,
};
use mailin::{response, Action as SmtpAction, AuthMechanism, Handler, Response, SessionBuilder};
use std::io::Write;
use std::net::{IpAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tls::{ca_pem, https_server, read_line, server_config, Stream};

#[path = "common/tls.rs"]
mod tls;

/// One received mail.
#[derive(Debug, Default, Clone)]
struct Received {
    to: Vec<String>,
    data: Vec<u8>,
    auth: Option<(String, String)>,
    /// Whether the message arrived on the TLS stream.
    over_tls: bool,
}

struct Collect {
    mail: Received,
    tls: Arc<AtomicBool>,
    out: mpsc::Sender<Received>,
}

impl Handler for Collect {
    fn rcpt(&mut self, to: &str) -> Response {
        self.mail.to.push(to.to_string());
        response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.mail.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        self.mail.over_tls = self.tls.load(Ordering::SeqCst);
        let _ = self.out.send(std::mem::take(&mut self.mail));
        response::OK
    }
    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.mail.auth = Some((user.to_string(), password.to_string()));
        response::AUTH_OK
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    StartTls,
    Implicit,
}

/// An SMTP server on 127.0.0.1:<random> with the fixture certificate; the login (AUTH PLAIN)
/// is only offered once TLS is on. Mails arrive on the returned channel.
fn smtp_server(mode: Mode) -> (u16, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel();
    let config = server_config();
    std::thread::spawn(move || {
        let mut builder = SessionBuilder::new("mail.test");
        builder.enable_start_tls().enable_auth(AuthMechanism::Plain);
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let (builder, tx, config) = (builder.clone(), tx.clone(), config.clone());
            std::thread::spawn(move || {
                let peer: IpAddr = tcp.peer_addr().expect("peer").ip();
                let tls = Arc::new(AtomicBool::new(false));
                let handler = Collect {
                    mail: Received::default(),
                    tls: tls.clone(),
                    out: tx,
                };
                let mut session = builder.build(peer, handler);
                let mut stream = Stream::Plain(tcp);
                if mode == Mode::Implicit {
                    stream = stream.upgrade(&config);
                    session.tls_active();
                    tls.store(true, Ordering::SeqCst);
                }
                if session.greeting().write_to(&mut stream).is_err() {
                    return;
                }
                let _ = stream.flush();
                loop {
                    let line = read_line(&mut stream);
                    if line.is_empty() {
                        return;
                    }
                    let res = session.process(&line);
                    match res.action {
                        SmtpAction::Reply => {
                            if res.write_to(&mut stream).is_err() {
                                return;
                            }
                        }
                        SmtpAction::Close => {
                            let _ = res.write_to(&mut stream);
                            let _ = stream.flush();
                            return;
                        }
                        SmtpAction::NoReply => {}
                        SmtpAction::UpgradeTls => {
                            if res.write_to(&mut stream).is_err() || stream.flush().is_err() {
                                return;
                            }
                            stream = stream.upgrade(&config);
                            session.tls_active();
                            tls.store(true, Ordering::SeqCst);
                        }
                    }
                    if stream.flush().is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, rx)
}

fn event() -> Event {
    Event {
        involved_object: InvolvedObject {
            kind: "Kustomization".into(),
            namespace: "flux-system".into(),
            name: "apps".into(),
            ..Default::default()
        },
        severity: Severity::Info,
        reason: "ReconciliationSucceeded".into(),
        message: "Reconciliation finished in 1.2s".into(),
        revision: Some("main@sha1:4f2a9c1e".into()),
        ..Default::default()
    }
}

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
    d.send(Arc::new(p), event());
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
