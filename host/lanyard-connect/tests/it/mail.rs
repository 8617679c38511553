//! Mail through lettre to the SMTP sink: STARTTLS with AUTH, plain loopback,
//! HTML alternative, cc, reply-to, and SMTP errors mapped to card errors.

use crate::support::env;
use lanyard_sandbox::{RecipientRule, SmtpSink, SmtpSinkConfig, SmtpSinkHandle, SmtpTls};
use lanyard_connect::{MailCapability, MailConfig};
use lanyard_core::ErrorKind;
use lanyard_core::caps::{MailApi, MailMessage};
use std::time::Duration;

async fn sink(config: SmtpSinkConfig) -> SmtpSinkHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    SmtpSink::start(listener, config).unwrap()
}

fn message() -> MailMessage {
    MailMessage {
        to: vec!["Jane Doe <jane.doe@example.com>".to_owned()],
        cc: vec!["it-ops@example.com".to_owned()],
        subject: "Enroll in MFA — reminder".to_owned(),
        text: "Hello Jane,\n.\n..leading dots survive\nEnroll at https://example.okta.com/enroll\n"
            .to_owned(),
        html: Some(
            "<p>Hello Jane, <a href=\"https://example.okta.com/enroll\">enroll</a></p>".to_owned(),
        ),
        reply_to: Some("helpdesk@example.com".to_owned()),
    }
}

fn plain_config(port: u16, extra: &str) -> MailConfig {
    toml::from_str(&format!(
        r#"
        host = "127.0.0.1"
        port = {port}
        tls = "none"
        from = {{ address = "lanyard@example.com", name = "Lanyard" }}
        timeout = "5s"
        {extra}
        "#
    ))
    .unwrap()
}

#[tokio::test]
async fn starttls_with_auth_delivers_a_parsed_message() {
    let sink = sink(SmtpSinkConfig {
        tls: SmtpTls::StarttlsRequired,
        credentials: Some(("lanyard".to_owned(), "relay-pass".to_owned())),
        ..SmtpSinkConfig::default()
    })
    .await;
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), sink.ca_pem().unwrap()).unwrap();
    let config: MailConfig = toml::from_str(&format!(
        r#"
        host = "localhost"
        port = {port}
        tls = "starttls"
        username = "lanyard"
        password = {{ env = "SMTP_PASSWORD" }}
        from = {{ address = "lanyard@example.com", name = "Lanyard" }}
        root_certificate = "{ca}"
        timeout = "5s"
        "#,
        port = sink.addr().port(),
        ca = ca.path().display()
    ))
    .unwrap();
    let mail =
        MailCapability::from_config_with_env(&config, &env(&[("SMTP_PASSWORD", "relay-pass")]))
            .unwrap();
    assert!(!format!("{mail:?}").contains("relay-pass"));
    let id = mail.send(message()).await.unwrap();
    assert!(id.starts_with('<') && id.ends_with("@example.com>"), "{id}");

    let received = sink.wait_for(1, Duration::from_secs(5)).await.unwrap();
    let got = &received[0];
    assert!(got.tls, "the message went in the clear");
    assert_eq!(got.authenticated_as.as_deref(), Some("lanyard"));
    assert_eq!(got.envelope_from, "lanyard@example.com");
    assert_eq!(
        got.envelope_to,
        vec!["jane.doe@example.com", "it-ops@example.com"]
    );
    assert_eq!(got.subject.as_deref(), Some("Enroll in MFA — reminder"));
    assert_eq!(got.from[0].address, "lanyard@example.com");
    assert_eq!(got.from[0].name.as_deref(), Some("Lanyard"));
    assert_eq!(got.to[0].address, "jane.doe@example.com");
    assert_eq!(got.to[0].name.as_deref(), Some("Jane Doe"));
    assert_eq!(got.cc[0].address, "it-ops@example.com");
    assert_eq!(got.reply_to[0].address, "helpdesk@example.com");
    assert_eq!(got.message_id.as_deref(), Some(id.trim_matches(['<', '>'])));
    let text = got.text.as_deref().unwrap().replace("\r\n", "\n");
    assert_eq!(text, message().text);
    assert_eq!(got.html.as_deref(), message().html.as_deref());
    assert!(
        got.header("content-type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "{:?}",
        got.headers
    );
    assert!(got.header("date").is_some());
}

#[tokio::test]
async fn plain_smtp_to_a_loopback_relay() {
    let sink = sink(SmtpSinkConfig::default()).await;
    let mail =
        MailCapability::from_config_with_env(&plain_config(sink.addr().port(), ""), &env(&[]))
            .unwrap();
    let msg = MailMessage {
        to: vec!["a@example.com".to_owned(), "b@example.com".to_owned()],
        cc: vec![],
        subject: "plain".to_owned(),
        text: "just text".to_owned(),
        html: None,
        reply_to: None,
    };
    mail.send(msg).await.unwrap();
    let got = &sink.wait_for(1, Duration::from_secs(5)).await.unwrap()[0];
    assert!(!got.tls);
    assert_eq!(got.authenticated_as, None);
    assert_eq!(got.envelope_to, vec!["a@example.com", "b@example.com"]);
    assert_eq!(got.text.as_deref().map(str::trim_end), Some("just text"));
    assert_eq!(got.html, None);
    assert!(
        got.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(got.cc.is_empty() && got.reply_to.is_empty());
}

#[tokio::test]
async fn wrong_password_is_denied_with_a_clear_message() {
    let sink = sink(SmtpSinkConfig {
        tls: SmtpTls::Starttls,
        credentials: Some(("lanyard".to_owned(), "right".to_owned())),
        ..SmtpSinkConfig::default()
    })
    .await;
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), sink.ca_pem().unwrap()).unwrap();
    let config: MailConfig = toml::from_str(&format!(
        r#"
        host = "127.0.0.1"
        port = {}
        username = "lanyard"
        password = {{ value = "wrong" }}
        from = "lanyard@example.com"
        root_certificate = "{}"
        "#,
        sink.addr().port(),
        ca.path().display()
    ))
    .unwrap();
    let mail = MailCapability::from_config_with_env(&config, &env(&[])).unwrap();
    let err = mail.send(message()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied, "{err}");
    assert!(!err.retryable);
    assert!(
        err.message.contains("refused lanyard's credentials"),
        "{err}"
    );
    assert!(
        sink.refusals().iter().any(|r| r.starts_with("535 ")),
        "{:?}",
        sink.refusals()
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn untrusted_certificate_fails_without_sending() {
    let sink = sink(SmtpSinkConfig {
        tls: SmtpTls::StarttlsRequired,
        ..SmtpSinkConfig::default()
    })
    .await;
    let config: MailConfig = toml::from_str(&format!(
        r#"
        host = "localhost"
        port = {}
        from = "lanyard@example.com"
        timeout = "5s"
        "#,
        sink.addr().port()
    ))
    .unwrap();
    let mail = MailCapability::from_config_with_env(&config, &env(&[])).unwrap();
    let err = mail.send(message()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(err.message.contains("tls"), "{err}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn smtp_replies_map_to_card_errors() {
    let sink = sink(SmtpSinkConfig {
        recipient_rules: vec![
            RecipientRule {
                address: "gone@example.com".to_owned(),
                code: 550,
                message: "5.1.1 <gone@example.com>: Recipient address rejected: User unknown"
                    .to_owned(),
            },
            RecipientRule {
                address: "busy@example.com".to_owned(),
                code: 451,
                message: "4.3.0 <busy@example.com>: Temporary lookup failure".to_owned(),
            },
        ],
        ..SmtpSinkConfig::default()
    })
    .await;
    let mail =
        MailCapability::from_config_with_env(&plain_config(sink.addr().port(), ""), &env(&[]))
            .unwrap();
    let to = |addr: &str| MailMessage {
        to: vec![addr.to_owned()],
        cc: vec![],
        html: None,
        reply_to: None,
        ..message()
    };

    let err = mail.send(to("gone@example.com")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
    assert!(!err.retryable);
    assert!(err.message.contains("gone@example.com"), "{err}");

    let err = mail.send(to("busy@example.com")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(err.retryable);
    assert!(err.message.contains("deferred"), "{err}");

    assert!(sink.messages().is_empty());
    mail.send(to("fine@example.com")).await.unwrap();
    assert_eq!(
        sink.wait_for(1, Duration::from_secs(5))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn messages_are_validated_before_connecting() {
    let sink = sink(SmtpSinkConfig::default()).await;
    let mail = MailCapability::from_config_with_env(
        &plain_config(
            sink.addr().port(),
            "max_recipients = 3\nmax_message_bytes = 1000",
        ),
        &env(&[]),
    )
    .unwrap();
    let cases = [
        (
            MailMessage {
                to: vec!["not-an-address".to_owned()],
                ..message()
            },
            ErrorKind::InvalidInput,
            "to address `not-an-address` is not valid",
        ),
        (
            MailMessage {
                cc: vec!["x@".to_owned()],
                ..message()
            },
            ErrorKind::InvalidInput,
            "cc address `x@`",
        ),
        (
            MailMessage {
                reply_to: Some("a b c".to_owned()),
                ..message()
            },
            ErrorKind::InvalidInput,
            "reply-to address `a b c`",
        ),
        (
            MailMessage {
                to: vec![],
                ..message()
            },
            ErrorKind::InvalidInput,
            "at least one `to`",
        ),
        (
            MailMessage {
                to: vec!["a@x.com".into(), "b@x.com".into(), "c@x.com".into()],
                ..message()
            },
            ErrorKind::InvalidInput,
            "4 recipients",
        ),
        (
            MailMessage {
                subject: "a\r\nBcc: evil@example.com".to_owned(),
                ..message()
            },
            ErrorKind::InvalidInput,
            "control characters",
        ),
        (
            MailMessage {
                text: "x".repeat(2000),
                ..message()
            },
            ErrorKind::TooLarge,
            "the cap is 1000 bytes",
        ),
    ];
    for (msg, kind, text) in cases {
        let err = mail.send(msg).await.unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
        assert!(err.message.contains(text), "{err}");
    }
    assert!(sink.messages().is_empty());
    assert!(sink.refusals().is_empty());
}

#[tokio::test]
async fn relay_down_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mail = MailCapability::from_config_with_env(&plain_config(port, ""), &env(&[])).unwrap();
    let err = mail.send(message()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(err.retryable);
}

#[tokio::test]
async fn the_sinks_own_mail_config_works_with_tls_and_auth() {
    let sink = sink(SmtpSinkConfig {
        tls: SmtpTls::StarttlsRequired,
        credentials: Some(("demo".to_owned(), "demo-pass".to_owned())),
        ..SmtpSinkConfig::default()
    })
    .await;
    let mail =
        MailCapability::from_config(&sink.mail_config("Lanyard <lanyard@sandbox.test>")).unwrap();
    let id = mail.send(message()).await.unwrap();
    let got = &sink.wait_for(1, Duration::from_secs(5)).await.unwrap()[0];
    assert!(got.tls);
    assert_eq!(got.authenticated_as.as_deref(), Some("demo"));
    assert_eq!(got.from[0].name.as_deref(), Some("Lanyard"));
    assert_eq!(got.message_id.as_deref(), Some(id.trim_matches(['<', '>'])));
    assert!(id.ends_with("@sandbox.test>"));
}

#[tokio::test]
async fn implicit_tls_relay() {
    let sink = sink(SmtpSinkConfig {
        tls: SmtpTls::Implicit,
        credentials: Some(("lanyard".to_owned(), "pw".to_owned())),
        ..SmtpSinkConfig::default()
    })
    .await;
    let config = sink.mail_config("lanyard@example.com");
    assert_eq!(config.tls, lanyard_connect::MailTls::Tls);
    let mail = MailCapability::from_config(&config).unwrap();
    mail.send(message()).await.unwrap();
    let got = &sink.wait_for(1, Duration::from_secs(5)).await.unwrap()[0];
    assert!(got.tls);
    assert_eq!(got.authenticated_as.as_deref(), Some("lanyard"));

    // A client expecting STARTTLS on an implicit-TLS port gets no greeting.
    let mut plain = sink.mail_config("lanyard@example.com");
    plain.tls = lanyard_connect::MailTls::Starttls;
    plain.timeout = Some(Duration::from_millis(500));
    let err = MailCapability::from_config(&plain)
        .unwrap()
        .send(message())
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Timeout | ErrorKind::Unavailable),
        "{err}"
    );
    assert_eq!(sink.messages().len(), 1);
}
