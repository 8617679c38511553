//! OAuth 2.0 service apps: `private_key_jwt` client credentials (ES256 and
//! RS256), scopes enforced per endpoint, DPoP-bound tokens with nonces, and the
//! app as the actor of what it does.

use crate::support::{Env, ec_key_pair};
use lanyard_core::ErrorKind;
use lanyard_core::okta::{LifecycleOp, OktaApi};
use lanyard_sandbox::okta::ServiceApp;
use lanyard_okta::{Auth, OktaCapability, OktaClient, OktaError, PrivateKeyJwt};
use std::time::Duration;

const RSA_PRIVATE: &str = include_str!("../data/test-rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../data/test-rsa-public.pem");

fn app(env: &Env, client_id: &str, public: &str, scopes: &[&str], dpop: bool) {
    env.org()
        .register_service_app(ServiceApp {
            client_id: client_id.into(),
            name: format!("{client_id} app"),
            public_key_pem: public.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            require_dpop: dpop,
        })
        .unwrap();
}

fn client(env: &Env, client_id: &str, private: &str, scopes: &[&str]) -> OktaClient {
    env.client_with(env.config(Auth::PrivateKeyJwt(PrivateKeyJwt {
        client_id: client_id.into(),
        private_key_pem: private.into(),
        key_id: Some("k1".into()),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    })))
}

#[tokio::test]
async fn a_bearer_token_from_an_rs256_assertion_is_fetched_once_and_cached() {
    let env = Env::new().await;
    app(
        &env,
        "0oarsa",
        RSA_PUBLIC,
        &["okta.users.read", "okta.users.manage"],
        false,
    );
    let c = client(
        &env,
        "0oarsa",
        RSA_PRIVATE,
        &["okta.users.read", "okta.users.manage"],
    );
    env.org().start_recording();
    let uid = env.org().service_user_id().to_string();
    c.get_user(&uid).await.unwrap();
    c.get_user(&uid).await.unwrap();
    let rec = env.org().take_recording();
    let tokens: Vec<_> = rec
        .iter()
        .filter(|e| e.path == "/oauth2/v1/token")
        .collect();
    assert_eq!(tokens.len(), 1, "one token for both calls");
    let form = tokens[0].request_body.as_ref().unwrap();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(form["scope"], "okta.users.read okta.users.manage");
    assert_eq!(
        tokens[0].response_body.as_ref().unwrap()["token_type"],
        "Bearer"
    );

    // Near expiry the token is renewed.
    env.clock.advance(Duration::from_secs(3590));
    c.get_user(&uid).await.unwrap();
    assert_eq!(
        env.org()
            .take_recording()
            .iter()
            .filter(|e| e.path == "/oauth2/v1/token")
            .count(),
        1
    );
}

#[tokio::test]
async fn dpop_is_used_when_the_app_requires_it_including_nonces() {
    let env = Env::new().await;
    let (private, public) = ec_key_pair();
    app(
        &env,
        "0oadpop",
        &public,
        &[
            "okta.users.read",
            "okta.users.manage",
            "okta.groups.read",
            "okta.groups.manage",
        ],
        true,
    );
    let c = client(
        &env,
        "0oadpop",
        &private,
        &[
            "okta.users.read",
            "okta.users.manage",
            "okta.groups.read",
            "okta.groups.manage",
        ],
    );
    env.org().start_recording();
    let okta = OktaCapability::new(c.clone());
    let user = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE" && u.profile["department"] == "Sales")
        .unwrap();
    okta.lifecycle(&user.id, LifecycleOp::Suspend)
        .await
        .unwrap();
    let rec = env.org().take_recording();
    let token_answers: Vec<_> = rec
        .iter()
        .filter(|e| e.path == "/oauth2/v1/token")
        .map(|e| {
            (
                e.status,
                e.response_body
                    .as_ref()
                    .unwrap()
                    .get("error")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    // First without a proof, then a proof without the nonce, then with it.
    assert_eq!(
        token_answers,
        [
            (400, "invalid_dpop_proof".to_string()),
            (400, "use_dpop_nonce".to_string()),
            (200, String::new())
        ]
    );
    let granted = rec
        .iter()
        .find(|e| e.path == "/oauth2/v1/token" && e.status == 200)
        .unwrap();
    assert_eq!(
        granted.response_body.as_ref().unwrap()["token_type"],
        "DPoP"
    );
    // The resource server asked for its nonce once, then every call went through.
    let api: Vec<_> = rec
        .iter()
        .filter(|e| e.path.starts_with("/api/"))
        .map(|e| e.status)
        .collect();
    assert_eq!(api.first(), Some(&401));
    assert!(api[1..].iter().all(|s| *s == 200), "{api:?}");
    assert!(
        rec.iter()
            .filter(|e| e.path.starts_with("/api/"))
            .all(|e| e.request_headers.iter().any(|(k, _)| k == "dpop"))
    );

    // The app is the actor.
    let ev = env.org().events().pop().unwrap();
    assert_eq!(ev.event_type, "user.lifecycle.suspend");
    assert_eq!(ev.actor.id, "0oadpop");
    assert_eq!(ev.actor.entity_type, "PublicClientApp");

    // A stolen DPoP-bound token is useless as a bearer token.
    let raw = reqwest::Client::new()
        .get(format!("{}/api/v1/users/{}", env.sandbox.base_url, user.id))
        .header("authorization", "Bearer not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
}

#[tokio::test]
async fn scopes_are_enforced_per_endpoint_with_a_clear_message() {
    let env = Env::new().await;
    let (private, public) = ec_key_pair();
    app(&env, "0oaread", &public, &["okta.users.read"], false);
    let okta = OktaCapability::new(client(&env, "0oaread", &private, &["okta.users.read"]));
    let user = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE")
        .unwrap();
    okta.get_user(&user.id).await.unwrap();
    let err = okta.clear_sessions(&user.id, true).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied);
    assert!(err.message.contains("okta.users.manage"), "{}", err.message);
    assert!(err.message.contains("403 forbidden"), "{}", err.message);

    // Asking for a scope the app was not granted fails at the token endpoint.
    let greedy = client(
        &env,
        "0oaread",
        &private,
        &["okta.users.read", "okta.logs.read"],
    );
    let err = greedy.get_user(&user.id).await.unwrap_err();
    assert!(
        matches!(&err, OktaError::Token { error, .. } if error == "invalid_scope"),
        "{err}"
    );
    assert_eq!(err.to_card_error().kind, ErrorKind::Denied);
}

#[tokio::test]
async fn assertions_signed_by_another_key_are_refused() {
    let env = Env::new().await;
    let (_, public) = ec_key_pair();
    let (other_private, _) = ec_key_pair();
    app(&env, "0oaimposter", &public, &["okta.users.read"], false);
    let c = client(&env, "0oaimposter", &other_private, &["okta.users.read"]);
    let err = c.get_user(env.org().service_user_id()).await.unwrap_err();
    assert!(
        matches!(&err, OktaError::Token { status: 401, error, .. } if error == "invalid_client"),
        "{err}"
    );
    let card = err.to_card_error();
    assert_eq!(card.kind, ErrorKind::Denied);
    assert!(card.message.contains("invalid_client"), "{}", card.message);
    let unknown = client(&env, "0oanobody", RSA_PRIVATE, &["okta.users.read"]);
    assert!(matches!(
        unknown.get_user("x").await,
        Err(OktaError::Token { status: 401, .. })
    ));
}
