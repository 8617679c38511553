//! The sandbox's OAuth 2.0 side: `/oauth2/v1/token` for client credentials
//! with a `private_key_jwt` assertion, and the check of bearer and DPoP-bound
//! tokens on resource requests, as Okta's org authorization server does.
//!
//! Signatures are verified for real (jsonwebtoken against the registered public
//! key, or the JWK in a DPoP proof); times are checked against the org's clock;
//! assertion and proof ids cannot be replayed.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

use super::state::{AccessTokenRec, ApiError, OrgState, Principal};
use lanyard_okta::auth::{
    AssertionClaims, CLIENT_ASSERTION_TYPE, DpopClaims, access_token_hash, jwk_thumbprint,
};

/// An answer of the token endpoint.
pub struct TokenAnswer {
    pub status: u16,
    pub body: Value,
    pub dpop_nonce: Option<String>,
}

fn token_error(status: u16, error: &str, description: &str) -> TokenAnswer {
    TokenAnswer {
        status,
        body: json!({"error": error, "error_description": description}),
        dpop_nonce: None,
    }
}

/// Refuse a public key the sandbox could not verify with.
pub fn check_public_key(pem: &str) -> Result<(), String> {
    if DecodingKey::from_ec_pem(pem.as_bytes()).is_ok()
        || DecodingKey::from_rsa_pem(pem.as_bytes()).is_ok()
    {
        Ok(())
    } else {
        Err("the service app's public key is neither an EC nor an RSA PEM public key".into())
    }
}

fn remember_jti(s: &mut OrgState, jti: &str, exp: i64, now: DateTime<Utc>) -> bool {
    let now_ts = now.timestamp();
    if s.seen_jtis.len() > 10_000 {
        s.seen_jtis.retain(|_, e| *e > now_ts);
    }
    s.seen_jtis.insert(jti.to_string(), exp).is_none()
}

/// `POST /oauth2/v1/token`.
pub fn token(
    s: &mut OrgState,
    now: DateTime<Utc>,
    form: &HashMap<String, String>,
    dpop: Option<&str>,
    token_url: &str,
) -> TokenAnswer {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if field("grant_type") != "client_credentials" {
        return token_error(
            400,
            "unsupported_grant_type",
            "The authorization server does not support the requested grant type.",
        );
    }
    if field("client_assertion_type") != CLIENT_ASSERTION_TYPE
        || field("client_assertion").is_empty()
    {
        return token_error(
            401,
            "invalid_client",
            "Client authentication failed: a private_key_jwt client_assertion is required.",
        );
    }
    let assertion = field("client_assertion");
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return token_error(401, "invalid_client", "The client_assertion is not a JWT.");
    };
    let Ok(unverified) =
        jsonwebtoken::dangerous::insecure_decode_claims::<AssertionClaims>(assertion)
    else {
        return token_error(
            401,
            "invalid_client",
            "The client_assertion claims are not readable.",
        );
    };
    let Some(app) = s.service_apps.get(&unverified.iss).cloned() else {
        return token_error(401, "invalid_client", "The client_id is not registered.");
    };
    if form.get("client_id").is_some_and(|c| *c != app.client_id) {
        return token_error(
            401,
            "invalid_client",
            "The client_id does not match the client_assertion issuer.",
        );
    }
    let key = match header.alg {
        Algorithm::ES256 => DecodingKey::from_ec_pem(app.public_key_pem.as_bytes()),
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            DecodingKey::from_rsa_pem(app.public_key_pem.as_bytes())
        }
        _ => {
            return token_error(
                401,
                "invalid_client",
                "The client_assertion algorithm is not supported.",
            );
        }
    };
    let Ok(key) = key else {
        return token_error(
            401,
            "invalid_client",
            "The client_assertion algorithm does not match the registered key.",
        );
    };
    let mut v = Validation::new(header.alg);
    v.validate_exp = false;
    v.required_spec_claims = ["iss", "sub", "aud", "exp"]
        .into_iter()
        .map(String::from)
        .collect();
    v.set_audience(&[token_url]);
    let claims = match jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &v) {
        Ok(d) => d.claims,
        Err(e) => {
            return token_error(
                401,
                "invalid_client",
                &format!("The client_assertion is invalid: {e}."),
            );
        }
    };
    if claims.sub != app.client_id {
        return token_error(
            401,
            "invalid_client",
            "The client_assertion subject must be the client_id.",
        );
    }
    let now_ts = now.timestamp();
    if claims.exp <= now_ts - 30 {
        return token_error(401, "invalid_client", "The client_assertion has expired.");
    }
    if claims.exp - claims.iat > 3600 || claims.iat > now_ts + 60 {
        return token_error(
            401,
            "invalid_client",
            "The client_assertion must be valid for at most one hour from now.",
        );
    }
    if !remember_jti(s, &format!("assertion:{}", claims.jti), claims.exp, now) {
        return token_error(
            401,
            "invalid_client",
            "The client_assertion jti has already been used.",
        );
    }
    let requested: BTreeSet<String> = field("scope")
        .split_ascii_whitespace()
        .map(String::from)
        .collect();
    if requested.is_empty() {
        return token_error(
            400,
            "invalid_scope",
            "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
        );
    }
    let refused: Vec<&String> = requested
        .iter()
        .filter(|r| !app.scopes.contains(*r))
        .collect();
    if !refused.is_empty() {
        let list: Vec<&str> = refused.iter().map(|s| s.as_str()).collect();
        return token_error(
            400,
            "invalid_scope",
            &format!(
                "The following scopes are not allowed: [{}].",
                list.join(", ")
            ),
        );
    }
    let mut jkt = None;
    if app.require_dpop {
        let Some(proof) = dpop else {
            return token_error(
                400,
                "invalid_dpop_proof",
                "The DPoP proof JWT header is missing.",
            );
        };
        let nonce = s.dpop_nonce.clone();
        match verify_proof(s, now, proof, "POST", token_url, None) {
            Ok((thumb, got_nonce)) => {
                if got_nonce.as_deref() != Some(nonce.as_str()) {
                    let mut a = token_error(
                        400,
                        "use_dpop_nonce",
                        "Authorization server requires nonce in DPoP proof.",
                    );
                    a.dpop_nonce = Some(nonce);
                    return a;
                }
                jkt = Some(thumb);
            }
            Err(e) => return token_error(400, "invalid_dpop_proof", &e),
        }
    }
    let token = s.random_token(48);
    let expires_in = 3600;
    s.access_tokens.insert(
        token.clone(),
        AccessTokenRec {
            client_id: app.client_id.clone(),
            scopes: requested.clone(),
            expires: now + Duration::seconds(expires_in),
            jkt: jkt.clone(),
        },
    );
    let scope: Vec<&str> = requested.iter().map(String::as_str).collect();
    TokenAnswer {
        status: 200,
        body: json!({
            "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
            "expires_in": expires_in,
            "access_token": token,
            "scope": scope.join(" "),
        }),
        dpop_nonce: None,
    }
}

/// Check a DPoP proof: signature by the JWK in its header, `htm`, `htu`, a
/// fresh `iat`, an unused `jti`, and `ath` when a token goes with it. Returns
/// the key's thumbprint and the proof's nonce.
fn verify_proof(
    s: &mut OrgState,
    now: DateTime<Utc>,
    proof: &str,
    htm: &str,
    htu: &str,
    access_token: Option<&str>,
) -> Result<(String, Option<String>), String> {
    let header = jsonwebtoken::decode_header(proof)
        .map_err(|e| format!("The DPoP proof is not a JWT: {e}."))?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err("The DPoP proof typ must be dpop+jwt.".into());
    }
    let jwk = header.jwk.ok_or("The DPoP proof header has no jwk.")?;
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|e| format!("The DPoP proof jwk is not usable: {e}."))?;
    let mut v = Validation::new(header.alg);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<DpopClaims>(proof, &key, &v)
        .map_err(|e| format!("The DPoP proof signature is invalid: {e}."))?
        .claims;
    if !claims.htm.eq_ignore_ascii_case(htm) {
        return Err(format!(
            "The DPoP proof htm `{}` does not match the request method.",
            claims.htm
        ));
    }
    if claims.htu.trim_end_matches('/') != htu.trim_end_matches('/') {
        return Err(format!(
            "The DPoP proof htu `{}` does not match the request URL `{htu}`.",
            claims.htu
        ));
    }
    if (claims.iat - now.timestamp()).abs() > 300 {
        return Err("The DPoP proof iat is not recent.".into());
    }
    if let Some(token) = access_token
        && claims.ath.as_deref() != Some(access_token_hash(token).as_str())
    {
        return Err("The DPoP proof ath does not match the access token.".into());
    }
    if !remember_jti(
        s,
        &format!("dpop:{}", claims.jti),
        now.timestamp() + 600,
        now,
    ) {
        return Err("The DPoP proof jti has already been used.".into());
    }
    let thumb = jwk_thumbprint(&jwk).ok_or("The DPoP proof jwk has no thumbprint.")?;
    Ok((thumb, claims.nonce))
}

/// A 401 as Okta's resource server sends it.
fn unauthorized(scheme: &str, error: &str, description: &str) -> ApiError {
    let mut e = ApiError::new(401, "E0000011", "Invalid token provided");
    e.www_authenticate = Some(format!(
        "{scheme} realm=\"IdpApiRealm\", error=\"{error}\", error_description=\"{description}\""
    ));
    e
}

/// The caller of a resource request made with an OAuth access token.
/// `Err` with a 401 (and a `DPoP-Nonce` to send, for `use_dpop_nonce`).
#[allow(clippy::too_many_arguments)]
pub fn resource_principal(
    s: &mut OrgState,
    now: DateTime<Utc>,
    scheme: &str,
    token: &str,
    proof: Option<&str>,
    method: &str,
    htu: &str,
    require_nonce: bool,
) -> Result<Principal, (ApiError, Option<String>)> {
    let Some(rec) = s.access_tokens.get(token).cloned() else {
        return Err((
            unauthorized("Bearer", "invalid_token", "The access token is invalid."),
            None,
        ));
    };
    if rec.expires <= now {
        s.access_tokens.remove(token);
        return Err((
            unauthorized("Bearer", "invalid_token", "The access token is expired."),
            None,
        ));
    }
    match (&rec.jkt, scheme) {
        (None, "Bearer") => {}
        (Some(jkt), "DPoP") => {
            let Some(proof) = proof else {
                return Err((
                    unauthorized(
                        "DPoP",
                        "invalid_dpop_proof",
                        "The DPoP proof JWT header is missing.",
                    ),
                    None,
                ));
            };
            let (thumb, nonce) = verify_proof(s, now, proof, method, htu, Some(token))
                .map_err(|e| (unauthorized("DPoP", "invalid_dpop_proof", &e), None))?;
            if &thumb != jkt {
                return Err((
                    unauthorized(
                        "DPoP",
                        "invalid_dpop_proof",
                        "The DPoP proof key is not the one the token is bound to.",
                    ),
                    None,
                ));
            }
            if require_nonce && nonce.as_deref() != Some(s.dpop_nonce.as_str()) {
                return Err((
                    unauthorized(
                        "DPoP",
                        "use_dpop_nonce",
                        "Resource server requires nonce in DPoP proof.",
                    ),
                    Some(s.dpop_nonce.clone()),
                ));
            }
        }
        (Some(_), _) => {
            return Err((
                unauthorized(
                    "DPoP",
                    "invalid_token",
                    "The access token is DPoP-bound: send it with the DPoP scheme and a proof.",
                ),
                None,
            ));
        }
        (None, _) => {
            return Err((
                unauthorized(
                    "Bearer",
                    "invalid_token",
                    "The access token is a bearer token.",
                ),
                None,
            ));
        }
    }
    let name = s
        .service_apps
        .get(&rec.client_id)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    Ok(Principal::App {
        client_id: rec.client_id,
        name,
        scopes: rec.scopes,
    })
}
