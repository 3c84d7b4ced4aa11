//! Stand-ins shared by the notification tests: the Flux event they send (Kustomization
//! `flux-system/apps` reconciled at `main@sha1:4f2a9c1e`), and a real SMTP server on loopback
//! (the `mailin` protocol engine) speaking plain SMTP, STARTTLS or implicit TLS with the
//! fixture certificate. Included with `#[path]`, next to `common/tls.rs` as `mod tls`.
#![allow(dead_code)]

use crate::tls::{read_line, server_config, Stream};
use driftless::apply::ObjRef;
use driftless::notification::{Event, InvolvedObject, Severity};
use mailin::{response, Action as SmtpAction, AuthMechanism, Handler, Response, SessionBuilder};
use std::io::Write;
use std::net::{IpAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// A changed object `Kind/ns/name` (core `v1`) for the ChangeSets tests build.
pub fn obj(kind: &str, ns: &str, name: &str) -> ObjRef {
    ObjRef {
        kind: kind.into(),
        version: "v1".into(),
        namespace: ns.into(),
        name: name.into(),
        ..Default::default()
    }
}

/// `Kustomization/flux-system/apps`: `ReconciliationSucceeded`, "Reconciliation finished in
/// 1.2s", revision `main@sha1:4f2a9c1e`; tests override what they need.
pub fn apps_event() -> Event {
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

/// One received mail: envelope, login and raw data.
#[derive(Debug, Default, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
    pub auth: Option<(String, String)>,
    /// Whether the message arrived on the TLS stream.
    pub over_tls: bool,
}

struct Collect {
    mail: Received,
    tls: Arc<AtomicBool>,
    out: mpsc::Sender<Received>,
}

impl Handler for Collect {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.mail.from = from.to_string();
        response::OK
    }
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

/// How the SMTP server talks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// No TLS at all (no STARTTLS offered); the login is accepted in the clear.
    Plain,
    /// STARTTLS offered; the login only once TLS is on.
    StartTls,
    /// TLS from the first byte (`smtps`).
    Implicit,
}

/// An SMTP server on 127.0.0.1:<random>, one thread per connection; every mail arrives on the
/// returned channel. With TLS it presents `tests/fixtures/tls/server.crt`.
pub fn smtp_server(mode: Mode) -> (u16, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel();
    let config = server_config();
    std::thread::spawn(move || {
        let mut builder = SessionBuilder::new("mail.test");
        match mode {
            Mode::Plain => builder
                .enable_auth(AuthMechanism::Plain)
                .insecure_enable_plaintext_auth(),
            Mode::StartTls | Mode::Implicit => {
                builder.enable_start_tls().enable_auth(AuthMechanism::Plain)
            }
        };
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
                        SmtpAction::UpgradeTls if mode == Mode::Plain => return,
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
