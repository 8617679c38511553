//! The part of a `lanyard.toml` that points a daemon at the sandbox world:
//! `[okta]` over HTTP as lanyard's service account, the `it-slack`, `jamf`,
//! `zoom` and `asana` connections and `[mail]` through the SMTP sink. One copy,
//! written by `lanyard demo` and the end-to-end harness alike; each writes its
//! own `[server]`, hooks and grants around it.
//!
//! The secrets are inline: they are the stand-ins' own, made up for a demo or
//! a test. Nothing else may write these tables for the stand-ins.

use crate::{SlackStandInHandle, SmtpSinkHandle};

/// Where the stand-ins are and how lanyard signs in to them.
pub struct Services<'a> {
    /// The sandbox org's base URL and lanyard's service account token there.
    pub okta: (&'a str, &'a str),
    pub slack: &'a SlackStandInHandle,
    pub smtp: &'a SmtpSinkHandle,
    /// The SMTP sink's username and password (sent after STARTTLS).
    pub smtp_login: (&'a str, &'a str),
    /// `[mail] from`: address and display name.
    pub mail_from: (&'a str, &'a str),
    /// Base URL and bearer token of each.
    pub jamf: (&'a str, &'a str),
    pub zoom: (&'a str, &'a str),
    pub asana: (&'a str, &'a str),
}

/// The SMTP sink offers no TLS, so `[mail]` could not trust it.
#[derive(Debug, thiserror::Error)]
#[error("the SMTP stand-in offers no TLS")]
pub struct NoTls;

/// The tables, as TOML text ending in a newline.
pub fn services_toml(s: &Services<'_>) -> Result<String, NoTls> {
    let ca = s.smtp.ca_pem().ok_or(NoTls)?;
    Ok(format!(
        r#"# The sandbox org over HTTP, as lanyard's service account: events its writes
# cause carry that actor, and flows ignore them (loop protection).
[okta]
org_url = "{okta}"
auth = {{ ssws = {{ value = "{service}" }} }}

[connections.it-slack]
base_url = "{slack}"
auth = {{ bearer = {{ value = "{slack_token}" }} }}
allow_private = true

[connections.jamf]
base_url = "{jamf}"
auth = {{ bearer = {{ value = "{jamf_token}" }} }}
allow_private = true
timeout = "15s"

[connections.zoom]
base_url = "{zoom}"
auth = {{ bearer = {{ value = "{zoom_token}" }} }}
allow_private = true
timeout = "15s"

[connections.asana]
base_url = "{asana}"
auth = {{ bearer = {{ value = "{asana_token}" }} }}
allow_private = true
timeout = "15s"

[mail]
host = "127.0.0.1"
port = {smtp_port}
tls = "starttls"
username = "{smtp_user}"
password = {{ value = "{smtp_password}" }}
from = {{ address = "{from}", name = "{from_name}" }}
timeout = "10s"
root_certificate_pem = """
{ca}"""
"#,
        okta = s.okta.0,
        service = s.okta.1,
        slack = s.slack.api_base_url(),
        slack_token = s.slack.config().bot_token,
        jamf = s.jamf.0,
        jamf_token = s.jamf.1,
        zoom = s.zoom.0,
        zoom_token = s.zoom.1,
        asana = s.asana.0,
        asana_token = s.asana.1,
        smtp_port = s.smtp.addr().port(),
        smtp_user = s.smtp_login.0,
        smtp_password = s.smtp_login.1,
        from = s.mail_from.0,
        from_name = s.mail_from.1,
    ))
}
