//! Encodings and digests: base64 (standard and URL-safe), URL encoding and
//! parsing, SHA-256 and HMAC-SHA256, and `fromjson`.
//!
//! Text is UTF-8 throughout: what is encoded is a text's bytes, and a decoded
//! value must be UTF-8 text again (flows carry no raw bytes). HMAC is the
//! `jsonwebtoken` crate's HS256 signer, which is HMAC-SHA256 (RFC 7518 §3.2)
//! over the bytes given; the tests hold it to RFC 4231's vectors.

use super::{bounded, invalid};
use crate::expr::{JsonMap, from_json};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// Decoders that take the text with or without its `=` padding.
const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Everything but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`):
/// what is safe in a path segment or a query value.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("fromjson", |s: &str| -> Result<Value, Error> {
        let json: serde_json::Value =
            serde_json::from_str(s).map_err(|e| invalid(format!("not JSON: {e}")))?;
        Ok(from_json(&json))
    });
    env.add_filter("b64encode", |s: &str| encode(&STANDARD, s));
    env.add_filter("b64decode", |s: &str| decode(&STANDARD, s, "base64"));
    env.add_filter("b64url_encode", |s: &str| encode(&URL_SAFE, s));
    env.add_filter("b64url_decode", |s: &str| {
        decode(&URL_SAFE, s, "URL-safe base64")
    });
    env.add_filter("urlencode", urlencode);
    env.add_filter("urldecode", |s: &str| -> Result<String, Error> {
        percent_decode_str(s)
            .decode_utf8()
            .map(|t| t.into_owned())
            .map_err(|_| invalid("the decoded text is not UTF-8"))
    });
    env.add_filter("sha256", |s: &str, encoding: Option<&str>| {
        digest_text(&Sha256::digest(s.as_bytes()), encoding)
    });
    env.add_filter("hmac_sha256", hmac_sha256);
    env.add_function("parse_url", parse_url);
}

fn encode(engine: &GeneralPurpose, s: &str) -> Result<String, Error> {
    bounded("the encoded text", engine.encode(s.as_bytes()))
}

fn decode(engine: &GeneralPurpose, s: &str, what: &str) -> Result<String, Error> {
    // Line breaks and spaces (MIME wraps base64 at 76 columns) are not data.
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = engine
        .decode(compact.as_bytes())
        .map_err(|e| invalid(format!("not {what}: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|_| invalid(format!("the {what} does not decode to UTF-8 text")))
}

/// `s | urlencode` (one component: a path segment or a query value) or
/// `m | urlencode` (a query string, `a=1&b=x%20y`; a list value repeats its key,
/// none is left out).
fn urlencode(v: Value) -> Result<String, Error> {
    let text = |v: &Value| -> String {
        match v.as_str() {
            Some(s) => s.to_string(),
            None => v.to_string(),
        }
    };
    if v.kind() != ValueKind::Map {
        return bounded(
            "the encoded text",
            utf8_percent_encode(&text(&v), COMPONENT).to_string(),
        );
    }
    let mut pairs = Vec::new();
    for key in v.try_iter()? {
        let value = v.get_item(&key)?;
        let values: Vec<Value> = match value.kind() {
            ValueKind::Seq | ValueKind::Iterable => value.try_iter()?.collect(),
            ValueKind::None | ValueKind::Undefined => continue,
            _ => vec![value],
        };
        let k = utf8_percent_encode(&text(&key), COMPONENT).to_string();
        for item in values {
            pairs.push(format!(
                "{k}={}",
                utf8_percent_encode(&text(&item), COMPONENT)
            ));
        }
    }
    bounded("the query string", pairs.join("&"))
}

/// Bytes as text: `hex` (the default), `base64` or `base64url` (no padding).
fn digest_text(bytes: &[u8], encoding: Option<&str>) -> Result<String, Error> {
    match encoding.unwrap_or("hex") {
        "hex" => Ok(hex::encode(bytes)),
        "base64" => Ok(base64::engine::general_purpose::STANDARD.encode(bytes)),
        "base64url" => Ok(URL_SAFE.encode(bytes)),
        other => Err(invalid(format!(
            "unknown encoding `{other}`: use hex, base64 or base64url"
        ))),
    }
}

/// `message | hmac_sha256(key, encoding)`: the key is the text's UTF-8 bytes.
fn hmac_sha256(message: &str, key: &str, encoding: Option<&str>) -> Result<String, Error> {
    use jsonwebtoken::{Algorithm, EncodingKey, crypto};
    let key =
        EncodingKey::from_secret(key.as_bytes()).map_err(|_| invalid("the HMAC key is empty"))?;
    let signature = crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
        .map_err(|e| invalid(format!("cannot compute the HMAC: {e}")))?;
    let bytes = URL_SAFE
        .decode(signature.as_bytes())
        .map_err(|e| invalid(format!("cannot compute the HMAC: {e}")))?;
    digest_text(&bytes, encoding)
}

/// `parse_url(u)`: its parts, with the query read as form data (`+` is a space).
fn parse_url(u: &str) -> Result<Value, Error> {
    let url = url::Url::parse(u.trim()).map_err(|e| invalid(format!("not a URL: {e}")))?;
    let text = |s: &str| Value::from(s);
    let opt = |s: Option<&str>| s.map(Value::from).unwrap_or(Value::from(()));
    let mut params: Vec<(Value, Value)> = Vec::new();
    let mut pairs = Vec::new();
    for (k, v) in url.query_pairs() {
        if !params.iter().any(|(p, _)| p.as_str() == Some(&*k)) {
            params.push((text(&k), text(&v)));
        }
        pairs.push(Value::from(vec![text(&k), text(&v)]));
    }
    Ok(JsonMap::value(vec![
        (text("scheme"), text(url.scheme())),
        (text("username"), text(url.username())),
        (text("host"), opt(url.host_str())),
        (
            text("port"),
            url.port_or_known_default()
                .map(Value::from)
                .unwrap_or(Value::from(())),
        ),
        (text("path"), text(url.path())),
        (text("query"), opt(url.query())),
        (text("fragment"), opt(url.fragment())),
        (text("params"), JsonMap::value(params)),
        (text("pairs"), Value::from(pairs)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fails, ok};
    use serde_json::json;

    #[test]
    fn base64_both_alphabets_round_trip() {
        assert_eq!(ok("'Zoë?>' | b64encode"), json!("Wm/Dqz8+"));
        assert_eq!(ok("'Zoë?>' | b64url_encode"), json!("Wm_Dqz8-"));
        assert_eq!(ok("'Wm/Dqz8+' | b64decode"), json!("Zoë?>"));
        assert_eq!(ok("'Wm_Dqz8-' | b64url_decode"), json!("Zoë?>"));
        assert_eq!(ok("'aGk=' | b64decode"), json!("hi"));
        assert_eq!(ok("'aGk' | b64decode"), json!("hi"));
        assert_eq!(ok("'aG\\nk=' | b64decode"), json!("hi"));
        assert!(fails("'***' | b64decode").contains("not base64"));
        assert!(fails("'Wm/Dqz8+' | b64url_decode").contains("not URL-safe base64"));
        assert!(fails("'/w==' | b64decode").contains("UTF-8"));
    }

    #[test]
    fn urls_encode_decode_and_parse() {
        assert_eq!(ok("'a b&c/é~' | urlencode"), json!("a%20b%26c%2F%C3%A9~"));
        assert_eq!(
            ok("{'q': 'a b', 'n': 2, 'tag': ['x', 'y'], 'skip': none} | urlencode"),
            json!("q=a%20b&n=2&tag=x&tag=y")
        );
        assert_eq!(ok("'a%20b%26c%2F%C3%A9+' | urldecode"), json!("a b&c/é+"));
        assert!(fails("'%FF' | urldecode").contains("UTF-8"));
        let u = ok("parse_url('https://jo@acme.okta.com/api/v1/users?limit=2&q=a+b&limit=3#top')");
        assert_eq!(u["scheme"], json!("https"));
        assert_eq!(u["username"], json!("jo"));
        assert_eq!(u["host"], json!("acme.okta.com"));
        assert_eq!(u["port"], json!(443));
        assert_eq!(u["path"], json!("/api/v1/users"));
        assert_eq!(u["query"], json!("limit=2&q=a+b&limit=3"));
        assert_eq!(u["fragment"], json!("top"));
        assert_eq!(u["params"], json!({"limit": "2", "q": "a b"}));
        assert_eq!(
            u["pairs"],
            json!([["limit", "2"], ["q", "a b"], ["limit", "3"]])
        );
        assert!(fails("parse_url('not a url')").contains("not a URL"));
    }

    #[test]
    fn sha256_and_hmac_match_the_standard_vectors() {
        // FIPS 180-2 appendix B.1.
        assert_eq!(
            ok("'abc' | sha256"),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            ok("'abc' | sha256('base64')"),
            json!("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        );
        // RFC 4231 test case 2.
        assert_eq!(
            ok("'what do ya want for nothing?' | hmac_sha256('Jefe')"),
            json!("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
        assert_eq!(
            ok("'what do ya want for nothing?' | hmac_sha256('Jefe', 'base64url')"),
            json!("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM")
        );
        assert!(fails("'x' | hmac_sha256('')").contains("empty"));
        assert!(fails("'x' | sha256('rot13')").contains("unknown encoding"));
    }
}
