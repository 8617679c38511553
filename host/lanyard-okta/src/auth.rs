//! OAuth 2.0 pieces for an Okta service app: the `private_key_jwt` client
//! assertion (RFC 7523) and DPoP proofs (RFC 9449).
//!
//! Pure construction of signed JWTs; the token exchange itself (and the nonce
//! dance) is in the client. Shared with the sandbox org, which verifies what is
//! built here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::OktaError;

pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A service app's signing key, read from PEM.
#[derive(Clone)]
pub struct ClientKey {
    pub(crate) key: EncodingKey,
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

impl ClientKey {
    /// An EC P-256 key signs ES256; an RSA key RS256.
    pub fn from_pem(pem: &str, kid: Option<String>) -> Result<Self, OktaError> {
        if let Ok(key) = EncodingKey::from_ec_pem(pem.as_bytes()) {
            return Ok(ClientKey {
                key,
                alg: Algorithm::ES256,
                kid,
            });
        }
        match EncodingKey::from_rsa_pem(pem.as_bytes()) {
            Ok(key) => Ok(ClientKey {
                key,
                alg: Algorithm::RS256,
                kid,
            }),
            Err(e) => Err(OktaError::Config(format!(
                "the service app private key is neither a P-256 (PKCS#8) nor an RSA PEM key: {e}"
            ))),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssertionClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// The `client_assertion` for `POST /oauth2/v1/token`: signed by the app's key,
/// `iss` = `sub` = client id, `aud` = the token endpoint, valid five minutes.
pub fn client_assertion(
    key: &ClientKey,
    client_id: &str,
    token_url: &str,
    now: DateTime<Utc>,
) -> Result<String, OktaError> {
    let mut header = Header::new(key.alg);
    header.kid = key.kid.clone();
    let claims = AssertionClaims {
        iss: client_id.to_string(),
        sub: client_id.to_string(),
        aud: token_url.to_string(),
        iat: now.timestamp(),
        exp: now.timestamp() + 300,
        jti: random_id(),
    };
    jsonwebtoken::encode(&header, &claims, &key.key)
        .map_err(|e| OktaError::Config(format!("cannot sign the client assertion: {e}")))
}

/// An ephemeral P-256 key that DPoP-bound tokens are bound to.
#[derive(Clone)]
pub struct DpopKey {
    key: EncodingKey,
    jwk: Jwk,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DpopClaims {
    pub htm: String,
    pub htu: String,
    pub iat: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
}

impl DpopKey {
    pub fn generate() -> Result<Self, OktaError> {
        use p256::pkcs8::EncodePrivateKey;
        use rand::RngCore;
        // A uniformly random 32-byte string is a valid scalar except with
        // negligible probability; loop for the rest.
        let secret = loop {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| OktaError::Config(format!("cannot encode the dpop key: {e}")))?;
        let key = EncodingKey::from_ec_der(der.as_bytes());
        let jwk = Jwk::from_encoding_key(&key, Algorithm::ES256)
            .map_err(|e| OktaError::Config(format!("cannot build the dpop jwk: {e}")))?;
        Ok(DpopKey { key, jwk })
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// A proof for one request. `htu` is the URL without query and fragment;
    /// `access_token` (for resource requests) adds `ath`.
    pub fn proof(
        &self,
        htm: &str,
        htu: &str,
        now: DateTime<Utc>,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String, OktaError> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".to_string());
        header.jwk = Some(self.jwk.clone());
        let claims = DpopClaims {
            htm: htm.to_string(),
            htu: htu.to_string(),
            iat: now.timestamp(),
            jti: random_id(),
            nonce: nonce.map(str::to_string),
            ath: access_token.map(access_token_hash),
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| OktaError::Config(format!("cannot sign a dpop proof: {e}")))
    }
}

/// `ath`: base64url(SHA-256(access token)).
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The RFC 7638 SHA-256 thumbprint of a JWK (`cnf.jkt`).
pub fn jwk_thumbprint(jwk: &Jwk) -> Option<String> {
    jwk.thumbprint(ThumbprintHash::SHA256).ok()
}

/// `htu`: scheme, authority and path; no query, no fragment.
pub fn htu(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token_type: String,
    pub access_token: String,
    pub expires_in: i64,
    #[serde(default)]
    pub scope: Option<String>,
}

/// The token endpoint's error (RFC 6749 §5.2).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenError {
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

pub(crate) fn random_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpop_proofs_carry_the_public_key_and_the_token_hash() {
        let key = DpopKey::generate().unwrap();
        let proof = key
            .proof(
                "GET",
                "https://acme.okta.com/api/v1/users",
                Utc::now(),
                Some("n1"),
                Some("tok"),
            )
            .unwrap();
        let header = jsonwebtoken::decode_header(&proof).unwrap();
        assert_eq!(header.typ.as_deref(), Some("dpop+jwt"));
        let jwk = header.jwk.unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<DpopClaims>(&proof, &decoding, &validation).unwrap();
        assert_eq!(data.claims.htm, "GET");
        assert_eq!(data.claims.nonce.as_deref(), Some("n1"));
        assert_eq!(
            data.claims.ath.as_deref(),
            Some(access_token_hash("tok").as_str())
        );
        assert_eq!(jwk_thumbprint(&jwk), jwk_thumbprint(key.jwk()));
    }
}
