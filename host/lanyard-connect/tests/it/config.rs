//! Secrets, config validation and redaction.

use crate::support::{TestServer, capability, connections_toml, env, get};
use lanyard_connect::secret::ProcessEnv;
use lanyard_connect::{
    AuthKind, Connections, HttpCapability, HttpSettings, MailCapability, MailConfig, Secret,
    SecretSource, StaticLookup,
};
use lanyard_core::caps::HttpApi;
use std::io::Write;
use std::sync::Arc;

#[test]
fn env_secret_missing_names_connection_and_variable() {
    let config = connections_toml(
        r#"
        [connections.it-slack]
        base_url = "https://slack.com/api"
        auth = { bearer = { env = "SLACK_TOKEN" } }
        "#,
    );
    let err = Connections::from_config_with_env(&config, &env(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "connection `it-slack`: env var SLACK_TOKEN is not set"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let config = connections_toml(
        r#"
        [connections.a]
        base_url = "https://a.example.com"
        auth = { bearer = { env = "A_TOKEN" } }

        [connections.b]
        base_url = "ftp://b.example.com"

        [connections.c]
        base_url = "http://127.0.0.1:9/"

        [connections.d]
        base_url = "https://169.254.169.254/"
        allow_private = true

        [connections.e]
        base_url = "https://user:pw@e.example.com/"
        headers = { authorization = "Bearer x" }

        [connections.f]
        base_url = "https://metadata.google.internal/"
        allow_private = true
        "#,
    );
    let err = Connections::from_config_with_env(&config, &env(&[])).unwrap_err();
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert!(
        lines[0].starts_with("connection `a`: env var A_TOKEN is not set"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("connection `b`: base_url `ftp://b.example.com` has scheme `ftp`"),
        "{text}"
    );
    assert!(
        lines[2].contains("connection `c`") && lines[2].contains("https"),
        "{text}"
    );
    assert!(
        lines[3].contains("connection `c`")
            && lines[3].contains("loopback address; set allow_private = true"),
        "{text}"
    );
    assert!(
        lines[4].contains("connection `d`")
            && lines[4].contains("cloud metadata address; no connection may point there"),
        "{text}"
    );
    assert!(
        lines[5].contains("connection `e`") && lines[5].contains("must not hold credentials"),
        "{text}"
    );
    assert!(
        lines[6].contains("connection `e`") && lines[6].contains("credentials belong in `auth`"),
        "{text}"
    );
    assert!(
        lines[7].contains("connection `f`") && lines[7].contains("cloud metadata service"),
        "{text}"
    );
}

#[test]
fn metadata_host_name_is_refused_even_with_allow_private() {
    let config = connections_toml(
        r#"
        [connections.f]
        base_url = "https://metadata.google.internal/computeMetadata/v1"
        allow_private = true
        "#,
    );
    let err = Connections::from_config_with_env(&config, &env(&[])).unwrap_err();
    assert!(
        err.to_string().contains("connection `f`: base_url")
            && err.to_string().contains("metadata"),
        "{err}"
    );
}

#[test]
fn file_secret_errors_name_the_file() {
    let config = connections_toml(
        r#"
        [connections.jamf]
        base_url = "https://jamf.example.com"
        auth = { basic = { username = "svc", password = { file = "/nonexistent/lanyard/secret" } } }
        "#,
    );
    let err = Connections::from_config_with_env(&config, &env(&[])).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "connection `jamf`: cannot read secret file /nonexistent/lanyard/secret: "
        ),
        "{err}"
    );

    let empty = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(empty.path(), "\n").unwrap();
    let config = connections_toml(&format!(
        r#"
        [connections.jamf]
        base_url = "https://jamf.example.com"
        auth = {{ bearer = {{ file = "{}" }} }}
        "#,
        empty.path().display()
    ));
    let err = Connections::from_config_with_env(&config, &env(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "connection `jamf`: secret file {} is empty",
            empty.path().display()
        )
    );
}

#[tokio::test]
async fn secrets_from_env_and_file_reach_the_wire_trimmed() {
    let server = TestServer::ok().await;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "file-s3cret").unwrap();
    let http = capability(
        &format!(
            r#"
            [connections.from-env]
            base_url = "http://127.0.0.1:{port}/env"
            auth = {{ bearer = {{ env = "TOKEN" }} }}
            allow_private = true

            [connections.from-file]
            base_url = "http://127.0.0.1:{port}/file"
            auth = {{ bearer = {{ file = "{path}" }} }}
            allow_private = true
            "#,
            port = server.port(),
            path = file.path().display()
        ),
        &[("TOKEN", "env-s3cret\n")],
        StaticLookup::new(),
    );
    http.send(get("", Some("from-env"))).await.unwrap();
    assert_eq!(
        server.last().header("authorization"),
        Some("Bearer env-s3cret")
    );
    http.send(get("", Some("from-file"))).await.unwrap();
    assert_eq!(
        server.last().header("authorization"),
        Some("Bearer file-s3cret")
    );
}

#[test]
fn process_environment_is_read() {
    // PATH is set wherever tests run; only the lookup is under test.
    let secret = SecretSource::Env("PATH".to_owned())
        .resolve("test", &ProcessEnv)
        .unwrap();
    assert!(!secret.expose().is_empty());
    let err = SecretSource::Env("LANYARD_SURELY_UNSET_VARIABLE_42".to_owned())
        .resolve("mail", &ProcessEnv)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "mail: env var LANYARD_SURELY_UNSET_VARIABLE_42 is not set"
    );
}

#[test]
fn secrets_never_print() {
    let secret = Secret::new("xoxb-very-secret");
    assert_eq!(format!("{secret:?}"), "[redacted]");
    assert_eq!(format!("{secret}"), "[redacted]");
    let source = SecretSource::Value("xoxb-very-secret".to_owned());
    assert!(!format!("{source:?}").contains("very-secret"));

    let config = connections_toml(
        r#"
        [connections.hook]
        base_url = { env = "HOOK_URL" }

        [connections.api]
        base_url = "https://api.example.com/v1"
        auth = { header = { name = "X-Api-Key", value = { value = "key-very-secret" } } }
        headers = { accept = "application/json" }

        [connections.q]
        base_url = "https://q.example.com"
        auth = { query = { name = "api_key", value = { env = "Q_KEY" } } }
        "#,
    );
    let environment = env(&[
        (
            "HOOK_URL",
            "https://hooks.slack.com/services/T1/B1/hook-very-secret",
        ),
        ("Q_KEY", "q-very-secret"),
    ]);
    let connections = Connections::from_config_with_env(&config, &environment).unwrap();
    let debug = format!("{connections:?}");
    let json = serde_json::to_string(&connections.list()).unwrap();
    let http = HttpCapability::new(Arc::new(connections), HttpSettings::default()).unwrap();
    let debug_cap = format!("{http:?}");
    for shown in [&debug, &json, &debug_cap] {
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("/services/"), "{shown}");
    }
    let hook = http.connections().get("hook").unwrap();
    assert_eq!(hook.base_url, "https://hooks.slack.com/[redacted]");
    assert!(hook.base_url_is_secret);
    let api = http.connections().get("api").unwrap();
    assert_eq!(api.auth, AuthKind::Header);
    assert_eq!(api.base_url, "https://api.example.com/v1");
    assert_eq!(api.headers, vec!["accept".to_owned()]);
    assert_eq!(http.connections().get("q").unwrap().auth, AuthKind::Query);
    assert!(http.connections().get("nope").is_none());
}

#[test]
fn connection_names_are_checked() {
    let config = connections_toml(
        r#"
        [connections."Bad Name"]
        base_url = "https://x.example.com"
        "#,
    );
    let err = Connections::from_config_with_env(&config, &env(&[])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("connection `Bad Name`: a connection name is"),
        "{err}"
    );
}

fn mail_config(text: &str) -> MailConfig {
    toml::from_str(text).unwrap()
}

#[test]
fn mail_config_refuses_cleartext_to_a_remote_relay_and_collects_problems() {
    let config = mail_config(
        r#"
        host = "smtp.example.com"
        tls = "none"
        username = "lanyard"
        from = "not an address"
        "#,
    );
    let err = MailCapability::from_config_with_env(&config, &env(&[])).unwrap_err();
    let text = err.to_string();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains(
            "mail: tls = \"none\" sends mail and password in the clear to smtp.example.com"
        ),
        "{text}"
    );
    assert!(
        text.contains("mail: from `not an address` is not a valid address"),
        "{text}"
    );
    assert!(
        text.contains("mail: username and password go together"),
        "{text}"
    );

    let insecure = mail_config(
        r#"
        host = "smtp.example.com"
        tls = "none"
        allow_insecure = true
        from = { address = "lanyard@example.com", name = "Lanyard" }
        "#,
    );
    MailCapability::from_config_with_env(&insecure, &env(&[])).unwrap();

    let missing = mail_config(
        r#"
        host = "smtp.example.com"
        username = "lanyard"
        password = { env = "SMTP_PASSWORD" }
        from = "lanyard@example.com"
        root_certificate = "/nonexistent/ca.pem"
        "#,
    );
    let text = MailCapability::from_config_with_env(&missing, &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("mail: env var SMTP_PASSWORD is not set"),
        "{text}"
    );
    assert!(
        text.contains("mail: cannot read root_certificate /nonexistent/ca.pem"),
        "{text}"
    );
}

#[test]
fn durations_parse() {
    let config: MailConfig = toml::from_str(
        r#"
        host = "localhost"
        tls = "none"
        from = "a@example.com"
        timeout = "1500ms"
        "#,
    )
    .unwrap();
    assert_eq!(config.timeout, Some(std::time::Duration::from_millis(1500)));
    let bad = toml::from_str::<MailConfig>(
        r#"
        host = "localhost"
        from = "a@example.com"
        timeout = "soon"
        "#,
    );
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("`soon` is not a duration")
    );
}

/// The example in the crate docs, as the daemon will embed it in lanyard.toml.
#[test]
fn the_documented_lanyard_toml_parses_and_validates() {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct LanyardToml {
        http: lanyard_connect::HttpSettings,
        connections: lanyard_connect::ConnectionsConfig,
        mail: MailConfig,
    }
    let text = r#"
        [http]
        timeout = "30s"
        max_response_bytes = 4194304

        [connections.it-slack]
        base_url = "https://slack.com/api"
        auth = { bearer = { env = "SLACK_BOT_TOKEN" } }

        [connections.it-webhook]
        base_url = { file = "/run/secrets/slack-webhook-url" }

        [connections.jamf]
        base_url = "https://acme.jamfcloud.com/api"
        auth = { basic = { username = "lanyard", password = { env = "JAMF_PASSWORD" } } }
        headers = { accept = "application/json" }
        timeout = "10s"

        [connections.intranet]
        base_url = "http://10.0.4.20:8080/hooks"
        allow_private = true

        [mail]
        host = "smtp.example.com"
        tls = "starttls"
        username = "lanyard"
        password = { env = "SMTP_PASSWORD" }
        from = { address = "lanyard@example.com", name = "Lanyard" }
    "#;
    let parsed: LanyardToml = toml::from_str(text).unwrap();
    assert_eq!(parsed.http.timeout, std::time::Duration::from_secs(30));
    let environment = env(&[
        ("SLACK_BOT_TOKEN", "xoxb-1"),
        ("JAMF_PASSWORD", "pw"),
        ("SMTP_PASSWORD", "pw"),
    ]);
    let err = Connections::from_config_with_env(&parsed.connections, &environment).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    assert!(
        err.to_string().starts_with(
            "connection `it-webhook`: cannot read secret file /run/secrets/slack-webhook-url"
        ),
        "{err}"
    );
    let mut connections = parsed.connections.clone();
    connections.0.remove("it-webhook");
    let connections = Connections::from_config_with_env(&connections, &environment).unwrap();
    assert_eq!(
        connections.names().collect::<Vec<_>>(),
        ["intranet", "it-slack", "jamf"]
    );
    assert_eq!(connections.get("jamf").unwrap().timeout_ms, Some(10_000));
    MailCapability::from_config_with_env(&parsed.mail, &environment).unwrap();
}
