//! A sync notification sent through a real SMTP server on loopback: the `mailin` SMTP protocol
//! engine behind a TCP listener. The received mail is parsed with `mail-parser` and checked
//! for subject, envelope and header recipients, and text and HTML bodies listing the changes.

use driftless::apply::{Action, ChangeSet};
use driftless::notification::{
    Changes, DispatchOptions, Dispatcher, Event, ProviderConfig, ProviderType, Severity, SmtpConfig,
};
use mail_parser::MessageParser;
use notify::{apps_event, obj, smtp_server, Mode};
use std::sync::Arc;
use std::time::Duration;

#[path = "common/notify.rs"]
mod notify;
#[path = "common/tls.rs"]
mod tls;

fn sync_event() -> Event {
    let mut cs = ChangeSet::default();
    cs.push(obj("Namespace", "", "shop"), Action::Created);
    cs.push(obj("ConfigMap", "shop", "settings"), Action::Unchanged);
    cs.push(obj("Deployment", "shop", "web"), Action::Configured);
    cs.push(obj("Service", "shop", "legacy"), Action::Deleted);
    Event {
        commit_message: Some("web: bump to 1.4".into()),
        cluster: Some("prod-eu".into()),
        changes: Some(Changes::from_changeset(&cs, 10)),
        timestamp: "2026-11-22T04:00:00Z".into(),
        ..apps_event()
    }
}

#[tokio::test]
async fn sync_mail_reaches_a_real_smtp_server_with_subject_recipients_and_bodies() {
    let (port, mails) = smtp_server(Mode::Plain);
    let mut p = ProviderConfig::new("flux-system/email", ProviderType::Smtp, "");
    p.smtp = Some(
        SmtpConfig::from_address(
            &format!("smtp+plain://127.0.0.1:{port}"),
            "driftless <driftless@example.com>",
            vec!["ops@example.com".into(), "dev@example.com".into()],
        )
        .unwrap(),
    );
    p.secrets.insert("username".into(), "mailer".into());
    p.secrets.insert("password".into(), "pa55word".into());
    p.timeout = Duration::from_secs(5);

    let d = Dispatcher::start(DispatchOptions::default()).unwrap();
    d.send(Arc::new(p), sync_event());
    let mail = tokio::task::spawn_blocking(move || mails.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("no mail received");
    assert!(d.wait_idle(Duration::from_secs(5)).await);
    assert_eq!(d.stats().delivered, 1);

    assert_eq!(mail.from, "driftless@example.com");
    assert_eq!(mail.to, vec!["ops@example.com", "dev@example.com"]);
    assert_eq!(
        mail.auth,
        Some(("mailer".to_string(), "pa55word".to_string()))
    );

    let msg = MessageParser::default().parse(&mail.data).expect("parse");
    assert_eq!(
        msg.subject(),
        Some("[prod-eu] Kustomization/flux-system/apps: ReconciliationSucceeded")
    );
    let to: Vec<&str> = msg
        .to()
        .unwrap()
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(to, vec!["ops@example.com", "dev@example.com"]);
    assert_eq!(
        msg.from().unwrap().first().unwrap().address(),
        Some("driftless@example.com")
    );

    // Mail bodies travel with CRLF line ends.
    let text = msg.body_text(0).expect("text part").replace("\r\n", "\n");
    assert_eq!(
        text.trim_end(),
        "Reconciliation finished in 1.2s\n\
         revision: main@sha1:4f2a9c1e \"web: bump to 1.4\"\n\
         cluster: prod-eu\n\
         3 changed: 1 created, 1 configured, 0 drifted, 1 deleted (1 unchanged)\n  \
         Namespace/shop created\n  \
         Deployment/shop/web configured\n  \
         Service/shop/legacy deleted"
    );
    let html = msg.body_html(0).expect("html part");
    for needle in [
        "<h2>Kustomization/flux-system/apps: ReconciliationSucceeded</h2>",
        "<li><code>Namespace/shop created</code></li>",
        "<li><code>Deployment/shop/web configured</code></li>",
        "<li><code>Service/shop/legacy deleted</code></li>",
        "<td>main@sha1:4f2a9c1e &quot;web: bump to 1.4&quot;</td>",
    ] {
        assert!(html.contains(needle), "missing {needle} in\n{html}");
    }
    assert!(!html.contains("ConfigMap/shop/settings"));
}

#[tokio::test]
async fn failure_mail_lists_failing_objects_and_never_the_password() {
    let (port, mails) = smtp_server(Mode::Plain);
    let mut p = ProviderConfig::new("flux-system/email", ProviderType::Smtp, "");
    p.smtp = Some(
        SmtpConfig::from_address(
            &format!("smtp+plain://127.0.0.1:{port}"),
            "driftless@example.com",
            vec!["ops@example.com".into()],
        )
        .unwrap(),
    );
    p.secrets.insert("password".into(), "pa55word".into());
    p.secrets.insert("username".into(), "mailer".into());
    let mut ev = sync_event();
    ev.severity = Severity::Error;
    ev.reason = "HealthCheckFailed".into();
    ev.message = "health check failed (password pa55word was rejected)".into();
    ev.changes = ev.changes.map(|c| {
        c.with_failures(vec![driftless::notification::Failure {
            object: "Deployment/shop/web".into(),
            reason: "timeout waiting for rollout".into(),
        }])
    });

    let d = Dispatcher::start(DispatchOptions::default()).unwrap();
    d.send(Arc::new(p), ev);
    let mail = tokio::task::spawn_blocking(move || mails.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("no mail received");
    let msg = MessageParser::default().parse(&mail.data).expect("parse");
    assert_eq!(
        msg.subject(),
        Some("[prod-eu] error: Kustomization/flux-system/apps: HealthCheckFailed")
    );
    let text = msg.body_text(0).unwrap();
    assert!(text.contains("failed: Deployment/shop/web: timeout waiting for rollout"));
    assert!(text.contains("password ***** was rejected"));
    assert!(!String::from_utf8_lossy(&mail.data).contains("pa55word"));
}

#[tokio::test]
async fn starttls_provider_never_falls_back_to_plaintext() {
    // The loopback server offers no STARTTLS; a provider configured for it must not send the
    // mail (or the password) in the clear.
    let (port, mails) = smtp_server(Mode::Plain);
    let mut p = ProviderConfig::new("flux-system/email", ProviderType::Smtp, "");
    p.smtp = Some(
        SmtpConfig::from_address(
            &format!("smtp://127.0.0.1:{port}"),
            "driftless@example.com",
            vec!["ops@example.com".into()],
        )
        .unwrap(),
    );
    p.secrets.insert("username".into(), "mailer".into());
    p.secrets.insert("password".into(), "pa55word".into());
    let d = Dispatcher::start(DispatchOptions {
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    d.send(Arc::new(p), sync_event());
    assert!(d.wait_idle(Duration::from_secs(10)).await);
    let s = d.stats();
    assert_eq!((s.delivered, s.failed), (0, 1));
    assert!(!s.last_error.unwrap_or_default().contains("pa55word"));
    assert!(mails.try_recv().is_err());
}
