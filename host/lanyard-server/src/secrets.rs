//! Every secret value in the daemon's configuration, gathered once into the
//! [`SecretSet`] the engine builds its [`lanyard_core::Redactor`] from: what
//! cards get back from the http capability and what the run history keeps are
//! scrubbed of all of them (see `lanyard_core::redact` for the forms matched
//! and the length below which a value is left alone).
//!
//! Reads the checked [`Config`] only; it must not log, print or keep a value.

use crate::config::{Config, OktaSetup, OrgConfig};
use lanyard_core::SecretSet;

/// The connections' credentials and secret base URLs, the SMTP password, the
/// Okta API token or OAuth private key and the Event Hook secret of every org, and the admin
/// and invoke tokens.
pub fn configured(config: &Config) -> SecretSet {
    let mut set = config.connections.secrets();
    if let Some(mail) = &config.mail {
        set.extend(mail.secrets());
    }
    let tokens = [&config.server.admin_token, &config.server.invoke_token];
    let hooks = config.orgs.iter().map(|o: &OrgConfig| &o.hook_secret);
    for token in tokens.into_iter().chain(hooks).flatten() {
        add_credential(&mut set, token.expose());
    }
    for org in &config.orgs {
        if let OktaSetup::Org { auth, .. } = &org.setup {
            match auth {
                lanyard_okta::Auth::Ssws(token) => add_credential(&mut set, token),
                lanyard_okta::Auth::PrivateKeyJwt(key) => add_pem(&mut set, &key.private_key_pem),
            }
        }
    }
    set
}

/// A credential as configured and, when it carries its scheme (the hook
/// secret is a whole `Authorization` value such as `Bearer abc…`), the token
/// alone.
fn add_credential(set: &mut SecretSet, value: &str) {
    set.add(value);
    if let Some((_, token)) = value.split_once(' ') {
        set.add(token.trim());
    }
}

/// A PEM private key: whole, each line of its body, and its body as one
/// base64 text (as a JSON echo or a log without line breaks would show it).
fn add_pem(set: &mut SecretSet, pem: &str) {
    set.add(pem.trim());
    let body: Vec<&str> = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("-----"))
        .collect();
    for line in &body {
        set.add(line);
    }
    set.add(&body.concat());
}
