//! `jwt_decode(token)` and `jwt_decode(token, key=...)`.
//!
//! Without a key the token is only read: its header and claims, and
//! `verified: false`. Nothing about it is checked, so nothing in it can be
//! trusted; it is for showing what a token says, or for picking the key to
//! verify it with (`header.kid`). With a key the signature is verified by the
//! `jsonwebtoken` crate (HS256/384/512 with a shared secret; RS*, PS*, ES256,
//! ES384 and EdDSA with a public key in PEM, a JWK, or a JWK set whose key is
//! picked by the token's `kid`), then `exp` and `nbf` are checked against the
//! run's clock (not the machine's), with a leeway, and `audience=` and
//! `issuer=` against `aud` and `iss` when given. Any failure is an error;
//! `verified: true` means all of it passed.
//!
//! No message here contains the token or the key.

use super::invalid;
use crate::expr::{from_json, to_json};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use minijinja::Error;
use minijinja::value::{Kwargs, Value, ValueKind};
use serde_json::{Value as Json, json};
use std::str::FromStr;

/// The longest token read.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Seconds a token may be past `exp` or before `nbf`, unless `leeway=` says.
const DEFAULT_LEEWAY: i64 = 60;

pub(super) fn decode(args: &[Value], kwargs: Kwargs, now: DateTime<Utc>) -> Result<Value, Error> {
    let token = match args {
        [t] | [t, _] => t
            .as_str()
            .ok_or_else(|| invalid(format!("jwt_decode reads a token (text), not {}", t.kind())))?,
        _ => {
            return Err(invalid(
                "jwt_decode(token, key=...) takes the token and, to verify it, a key",
            ));
        }
    };
    // `key=none` (a missing secret) is an error, not a request to skip the check.
    let key = match args.get(1) {
        Some(k) => Some(k.clone()),
        None if kwargs.has("key") => Some(kwargs.get::<Value>("key")?),
        None => None,
    };
    let algorithms: Option<Vec<String>> = kwargs.get("algorithms")?;
    let audience: Option<Value> = kwargs.get("audience")?;
    let issuer: Option<String> = kwargs.get("issuer")?;
    let leeway: Option<i64> = kwargs.get("leeway")?;
    kwargs.assert_all_used()?;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid(format!(
            "the token is longer than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    let (header, claims) = read(token)?;
    let verified = match key {
        None => {
            if algorithms.is_some() || audience.is_some() || issuer.is_some() || leeway.is_some() {
                return Err(invalid(
                    "jwt_decode checks algorithms, audience, issuer and leeway only with a key (key=...)",
                ));
            }
            false
        }
        Some(key) => {
            verify(token, &header, &key, algorithms.as_deref())?;
            let leeway = leeway.unwrap_or(DEFAULT_LEEWAY);
            if !(0..=86_400).contains(&leeway) {
                return Err(invalid("leeway is 0 to 86400 seconds"));
            }
            check_claims(&claims, now, leeway, audience.as_ref(), issuer.as_deref())?;
            true
        }
    };
    Ok(from_json(
        &json!({ "header": header, "claims": claims, "verified": verified }),
    ))
}

/// The header and claims of a compact JWS (`header.claims.signature`).
fn read(token: &str) -> Result<(Json, Json), Error> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    match parts.len() {
        3 => {}
        5 => {
            return Err(invalid(
                "the token is encrypted (a JWE): it cannot be read without its key",
            ));
        }
        _ => {
            return Err(invalid(
                "not a JWT: expected three base64url parts separated by dots",
            ));
        }
    }
    let part = |i: usize, what: &str| -> Result<Json, Error> {
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let bytes = engine
            .decode(parts[i])
            .map_err(|_| invalid(format!("not a JWT: its {what} is not base64url")))?;
        let json: Json = serde_json::from_slice(&bytes)
            .map_err(|_| invalid(format!("not a JWT: its {what} is not JSON")))?;
        if !json.is_object() {
            return Err(invalid(format!(
                "not a JWT: its {what} is not a JSON object"
            )));
        }
        Ok(json)
    };
    Ok((part(0, "header")?, part(1, "claims")?))
}

fn verify(
    token: &str,
    header: &Json,
    key: &Value,
    allowed: Option<&[String]>,
) -> Result<(), Error> {
    let alg_name = header["alg"]
        .as_str()
        .ok_or_else(|| invalid("the token's header names no algorithm (`alg`)"))?;
    let alg = Algorithm::from_str(alg_name).map_err(|_| {
        invalid(format!(
            "the token's algorithm `{alg_name}` is not supported"
        ))
    })?;
    if let Some(allowed) = allowed
        && !allowed.iter().any(|a| a == alg_name)
    {
        return Err(invalid(format!(
            "the token's algorithm `{alg_name}` is not one of {}",
            allowed.join(", ")
        )));
    }
    let decoding_key = decoding_key(key, header, alg)?;
    let mut validation = Validation::new(alg);
    // Times, audience and issuer are checked by `check_claims`, on the run's clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    jsonwebtoken::decode::<Json>(token.trim(), &decoding_key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        invalid(match e.kind() {
            K::InvalidSignature => "the token's signature does not match the key".to_string(),
            K::InvalidAlgorithm => {
                format!("the key does not fit the token's algorithm `{alg_name}`")
            }
            other => format!("cannot verify the token: {other:?}"),
        })
    })?;
    Ok(())
}

/// The key for `alg`: text in PEM is a public key, other text an HMAC
/// secret, a mapping a JWK or a JWK set (`{"keys": [...]}`).
fn decoding_key(key: &Value, header: &Json, alg: Algorithm) -> Result<DecodingKey, Error> {
    use jsonwebtoken::Algorithm as A;
    if key.kind() == ValueKind::Map {
        let json = to_json(key).map_err(invalid)?;
        let jwk: Jwk = if json.get("keys").is_some() {
            let set: JwkSet = serde_json::from_value(json)
                .map_err(|e| invalid(format!("the key is not a JWK set: {e}")))?;
            let kid = header["kid"].as_str();
            match kid {
                Some(kid) => set.find(kid).cloned().ok_or_else(|| {
                    invalid(format!(
                        "the JWK set has no key with the token's kid `{kid}`"
                    ))
                })?,
                None if set.keys.len() == 1 => set.keys[0].clone(),
                None => {
                    return Err(invalid(
                        "the token has no `kid` to pick a key of the JWK set with",
                    ));
                }
            }
        } else {
            serde_json::from_value(json)
                .map_err(|e| invalid(format!("the key is not a JWK: {e}")))?
        };
        return DecodingKey::from_jwk(&jwk)
            .map_err(|e| invalid(format!("the JWK cannot be used: {e}")));
    }
    let text = match key.kind() {
        ValueKind::String => key.as_str().unwrap_or_default(),
        ValueKind::None | ValueKind::Undefined => {
            return Err(invalid(
                "jwt_decode was given no key (it is none); leave `key` out to read the token unverified",
            ));
        }
        other => {
            return Err(invalid(format!(
                "the key is text (a secret or a PEM public key) or a JWK, not {other}"
            )));
        }
    };
    let pem = text.trim_start().starts_with("-----BEGIN");
    let bad = |e: jsonwebtoken::errors::Error| invalid(format!("the key cannot be read: {e}"));
    match alg {
        A::HS256 | A::HS384 | A::HS512 if pem => Err(invalid(format!(
            "the token is signed with `{alg:?}`, a shared secret, but the key is a public key"
        ))),
        A::HS256 | A::HS384 | A::HS512 => DecodingKey::from_secret(text.as_bytes()).map_err(bad),
        _ if !pem => Err(invalid(format!(
            "the token is signed with `{alg:?}`: the key must be a public key in PEM or a JWK"
        ))),
        A::ES256 | A::ES384 => DecodingKey::from_ec_pem(text.as_bytes()).map_err(bad),
        A::EdDSA => DecodingKey::from_ed_pem(text.as_bytes()).map_err(bad),
        _ => DecodingKey::from_rsa_pem(text.as_bytes()).map_err(bad),
    }
}

fn check_claims(
    claims: &Json,
    now: DateTime<Utc>,
    leeway: i64,
    audience: Option<&Value>,
    issuer: Option<&str>,
) -> Result<(), Error> {
    let now_s = now.timestamp();
    let at = |secs: i64| {
        DateTime::from_timestamp(secs, 0)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_else(|| secs.to_string())
    };
    let time = |name: &str| -> Result<Option<i64>, Error> {
        match &claims[name] {
            Json::Null => Ok(None),
            Json::Number(n) => Ok(Some(n.as_f64().unwrap_or(0.0) as i64)),
            _ => Err(invalid(format!(
                "the token's `{name}` is not a number of seconds"
            ))),
        }
    };
    if let Some(exp) = time("exp")?
        && now_s > exp.saturating_add(leeway)
    {
        return Err(invalid(format!("the token expired at {}", at(exp))));
    }
    if let Some(nbf) = time("nbf")?
        && now_s.saturating_add(leeway) < nbf
    {
        return Err(invalid(format!(
            "the token is not valid before {}",
            at(nbf)
        )));
    }
    if let Some(want) = issuer
        && claims["iss"].as_str() != Some(want)
    {
        return Err(invalid(format!("the token's issuer is not `{want}`")));
    }
    if let Some(audience) = audience {
        let wanted: Vec<String> = match audience.as_str() {
            Some(a) => vec![a.to_string()],
            None => audience
                .try_iter()?
                .map(|a| a.as_str().unwrap_or_default().to_string())
                .collect(),
        };
        let has: Vec<&str> = match &claims["aud"] {
            Json::String(a) => vec![a.as_str()],
            Json::Array(list) => list.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        if !has.iter().any(|a| wanted.iter().any(|w| w == a)) {
            return Err(invalid(format!(
                "the token's audience is not {}",
                wanted.join(" or ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::eval;
    use base64::Engine as _;
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    use serde_json::{Value as Json, json};

    const SECRET: &str = "a-shared-secret-of-some-length";
    /// The tests' clock: 2026-03-02T14:00:00Z.
    const NOW: i64 = 1_772_460_000;

    fn hs256(claims: Json) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        encode(
            &header,
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    /// `jwt_decode` with the tests' clock; the token is `t`, the secret `key`.
    fn decode(args: &str, token: &str) -> Result<Json, String> {
        let run = crate::functions::testing::TestRun::at(NOW);
        run.eval(
            &format!("jwt_decode({args})"),
            json!({"t": token, "key": SECRET}),
        )
    }

    #[test]
    fn without_a_key_the_token_is_only_read() {
        let t = hs256(json!({"sub": "00u1", "exp": NOW - 3600}));
        let out = decode("t", &t).unwrap();
        assert_eq!(out["header"]["alg"], "HS256");
        assert_eq!(out["header"]["kid"], "k1");
        assert_eq!(out["claims"], json!({"sub": "00u1", "exp": NOW - 3600}));
        assert_eq!(out["verified"], false);
        assert!(
            decode("t, audience='x'", &t)
                .unwrap_err()
                .contains("only with a key")
        );
    }

    #[test]
    fn with_a_secret_the_signature_and_times_are_checked() {
        let good = hs256(
            json!({"sub": "00u1", "exp": NOW + 600, "iss": "https://acme.okta.com", "aud": ["api", "other"]}),
        );
        let out = decode("t, key=key", &good).unwrap();
        assert_eq!(out["verified"], true);
        assert_eq!(out["claims"]["sub"], "00u1");
        assert!(
            decode(
                "t, key=key, issuer='https://acme.okta.com', audience='api'",
                &good
            )
            .is_ok()
        );
        assert!(decode("t, key=key, audience=['x', 'other']", &good).is_ok());
        let e = decode("t, key=key, audience='web'", &good).unwrap_err();
        assert!(e.contains("audience is not web"), "{e}");
        assert!(
            decode("t, key=key, issuer='https://evil'", &good)
                .unwrap_err()
                .contains("issuer")
        );
        let e = decode("t, key='another-secret'", &good).unwrap_err();
        assert!(e.contains("signature does not match"), "{e}");
        assert!(!e.contains(&good) && !e.contains(SECRET));
        // Expired an hour ago; within the leeway; before `nbf`.
        let old = hs256(json!({"exp": NOW - 3600}));
        let e = decode("t, key=key", &old).unwrap_err();
        assert!(e.contains("expired at 2026-03-02T13:00:00Z"), "{e}");
        assert!(decode("t, key=key", &hs256(json!({"exp": NOW - 30}))).is_ok());
        assert!(decode("t, key=key, leeway=0", &hs256(json!({"exp": NOW - 30}))).is_err());
        let early = hs256(json!({"nbf": NOW + 3600}));
        assert!(
            decode("t, key=key", &early)
                .unwrap_err()
                .contains("not valid before")
        );
        // Tampered claims.
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"admin","exp":9999999999}"#);
        parts[1] = &forged;
        assert!(
            decode("t, key=key", &parts.join("."))
                .unwrap_err()
                .contains("signature")
        );
        assert!(
            decode("t, key=key, algorithms=['RS256']", &good)
                .unwrap_err()
                .contains("not one of RS256")
        );
        // A key that is missing is an error, never an unverified read.
        assert!(
            decode("t, key=none", &good)
                .unwrap_err()
                .contains("given no key")
        );
        assert!(decode("t, key=nope", &good).is_err());
    }

    #[test]
    fn public_keys_and_jwk_sets() {
        // An EC P-256 key pair made for these tests with openssl, and its
        // public half as a JWK; it signs nothing else.
        let private = include_str!("../../tests/fixtures/keys/ec256-private.pem");
        let public = include_str!("../../tests/fixtures/keys/ec256-public.pem");
        let jwk: Json = serde_json::from_str(include_str!(
            "../../tests/fixtures/keys/ec256-public.jwk.json"
        ))
        .unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("ec1".into());
        let token = encode(
            &header,
            &json!({"sub": "00u1", "exp": NOW + 60}),
            &EncodingKey::from_ec_pem(private.as_bytes()).unwrap(),
        )
        .unwrap();
        let run = crate::functions::testing::TestRun::at(NOW);
        let ctx = json!({"t": token, "pem": public, "jwk": jwk, "jwks": {"keys": [jwk]}, "secret": SECRET});
        for args in ["t, key=pem", "t, key=jwk", "t, key=jwks"] {
            let out = run
                .eval(&format!("jwt_decode({args})"), ctx.clone())
                .unwrap_or_else(|e| panic!("{args}: {e}"));
            assert_eq!(out["verified"], true, "{args}");
        }
        let e = run
            .eval("jwt_decode(t, key=secret)", ctx.clone())
            .unwrap_err();
        assert!(e.contains("must be a public key"), "{e}");
        let e = run
            .eval("jwt_decode(t, key={'keys': []})", ctx)
            .unwrap_err();
        assert!(e.contains("no key with the token's kid `ec1`"), "{e}");
    }

    #[test]
    fn what_is_not_a_jwt_says_so() {
        for (token, why) in [
            ("abc", "three base64url parts"),
            ("a.b.c.d.e", "encrypted"),
            ("!!.e30.x", "header is not base64url"),
            ("e30.bm90IGpzb24.x", "claims is not JSON"),
        ] {
            let e = decode("t", token).unwrap_err();
            assert!(e.contains(why), "{token}: {e}");
        }
        let e = decode("3", "").unwrap_err();
        assert!(e.contains("not number"), "{e}");
        // Without a run, there is no jwt_decode to call.
        assert!(eval("jwt_decode(t)", json!({"t": "x"})).is_err());
    }
}
