//! The SMTP sink is strict enough to catch a broken client: a raw client
//! breaking the protocol gets the refusals a real server gives.

use base64::Engine as _;
use lanyard_sandbox::{SmtpSink, SmtpSinkConfig, SmtpSinkHandle, SmtpTls};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Client {
    io: BufReader<TcpStream>,
}

impl Client {
    async fn connect(sink: &SmtpSinkHandle) -> Client {
        let mut client = Client {
            io: BufReader::new(TcpStream::connect(sink.addr()).await.unwrap()),
        };
        assert!(client.reply().await.starts_with("220 "));
        client
    }

    /// One whole reply (every line of a multi-line one), joined with `\n`.
    async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            self.io.read_line(&mut line).await.unwrap();
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let line = line.trim_end().to_owned();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines.join("\n");
            }
        }
    }

    async fn send(&mut self, raw: &str) -> String {
        self.io.get_mut().write_all(raw.as_bytes()).await.unwrap();
        self.reply().await
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.send(&format!("{line}\r\n")).await
    }
}

async fn start(config: SmtpSinkConfig) -> SmtpSinkHandle {
    SmtpSink::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        config,
    )
    .unwrap()
}

fn code(reply: &str) -> &str {
    &reply[..3]
}

#[tokio::test]
async fn commands_out_of_order_are_refused() {
    let sink = start(SmtpSinkConfig::default()).await;
    let mut c = Client::connect(&sink).await;
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.com>").await), "503");
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(
        ehlo.contains("250-SIZE") && ehlo.contains("8BITMIME"),
        "{ehlo}"
    );
    assert!(
        !ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert_eq!(code(&c.cmd("RCPT TO:<b@example.com>").await), "503");
    assert_eq!(code(&c.cmd("DATA").await), "503");
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.com>").await), "250");
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.com>").await), "503");
    assert_eq!(code(&c.cmd("DATA").await), "503", "DATA before RCPT");
    assert_eq!(
        code(&c.cmd("RCPT TO:b@example.com").await),
        "501",
        "no angle brackets"
    );
    assert_eq!(code(&c.cmd("RCPT TO:<not-an-address>").await), "553");
    assert_eq!(
        code(&c.cmd("AUTH PLAIN AGxhbnlhcmQAcHc=").await),
        "503",
        "AUTH not offered"
    );
    assert_eq!(
        code(&c.cmd("MAIL FROM:<a@example.com> SIZE=999999999999").await),
        "503"
    );
    assert_eq!(code(&c.cmd("RSET").await), "250");
    assert_eq!(
        code(&c.cmd("RCPT TO:<b@example.com>").await),
        "503",
        "RSET forgets the sender"
    );
    assert_eq!(
        code(&c.cmd("MAIL FROM:<a@example.com> SIZE=999999999999").await),
        "552"
    );
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.com> FOO=1").await), "555");
    assert_eq!(code(&c.send("NOOP\n").await), "500", "bare LF");
    assert_eq!(code(&c.cmd("NOOP").await), "250");
    assert_eq!(code(&c.cmd("FROB").await), "500");
    assert_eq!(code(&c.cmd("QUIT").await), "221");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn data_is_dot_unstuffed_and_kept() {
    let sink = start(SmtpSinkConfig::default()).await;
    let mut c = Client::connect(&sink).await;
    c.cmd("HELO client.example").await;
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.com>").await), "250");
    assert_eq!(code(&c.cmd("RCPT TO:<b@example.com>").await), "250");
    assert_eq!(code(&c.cmd("RCPT TO:<c@example.com>").await), "250");
    assert_eq!(code(&c.cmd("DATA").await), "354");
    let reply = c
        .send("From: a@example.com\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n..one\r\n...two\r\n.\r\n")
        .await;
    assert_eq!(code(&reply), "250", "{reply}");
    let got = &sink.wait_for(1, Duration::from_secs(5)).await.unwrap()[0];
    assert_eq!(
        got.raw,
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n.one\r\n..two\r\n"
    );
    assert_eq!(got.envelope_to, vec!["b@example.com", "c@example.com"]);
    assert_eq!(got.subject.as_deref(), Some("dots"));
    assert_eq!(got.helo, "client.example");
    // The transaction is over: DATA again needs MAIL and RCPT again.
    assert_eq!(code(&c.cmd("DATA").await), "503");
}

#[tokio::test]
async fn auth_is_checked_and_required() {
    let sink = start(SmtpSinkConfig {
        credentials: Some(("lanyard".to_owned(), "pw".to_owned())),
        ..SmtpSinkConfig::default()
    })
    .await;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let mut c = Client::connect(&sink).await;
    assert!(
        c.cmd("EHLO client.example")
            .await
            .contains("AUTH PLAIN LOGIN")
    );
    assert_eq!(
        code(&c.cmd("MAIL FROM:<a@example.com>").await),
        "530",
        "MAIL before AUTH"
    );
    assert_eq!(
        code(
            &c.cmd(&format!("AUTH PLAIN {}", b64(b"\0lanyard\0nope")))
                .await
        ),
        "535"
    );
    assert_eq!(code(&c.cmd("AUTH PLAIN !!!").await), "501");
    assert_eq!(code(&c.cmd("AUTH CRAM-MD5").await), "504");
    assert_eq!(code(&c.cmd("AUTH LOGIN").await), "334");
    assert_eq!(code(&c.cmd(&b64(b"lanyard")).await), "334");
    assert_eq!(code(&c.cmd(&b64(b"pw")).await), "235");
    assert_eq!(
        code(&c.cmd("AUTH LOGIN").await),
        "503",
        "already authenticated"
    );
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.com>").await), "250");
}

#[tokio::test]
async fn starttls_required_refuses_plaintext_mail_and_auth() {
    let sink = start(SmtpSinkConfig {
        tls: SmtpTls::StarttlsRequired,
        credentials: Some(("lanyard".to_owned(), "pw".to_owned())),
        ..SmtpSinkConfig::default()
    })
    .await;
    assert!(
        sink.ca_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let mut c = Client::connect(&sink).await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert_eq!(code(&c.cmd("AUTH PLAIN AGxhbnlhcmQAcHc=").await), "503");
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.com>").await), "530");
    assert_eq!(code(&c.cmd("STARTTLS extra").await), "501");
    // Commands pipelined after STARTTLS would be injected into the TLS session.
    let reply = c.send("STARTTLS\r\nMAIL FROM:<a@example.com>\r\n").await;
    assert_eq!(code(&reply), "554", "{reply}");
}
