//! The web console at `/console/`: plain HTML, CSS and JavaScript modules,
//! embedded in the binary, so the daemon serves it offline with no build step.
//!
//! This module only serves those files. It must not serve data or know any
//! admin route: the console's pages call the admin API from the browser with
//! the admin token the person pastes (kept in the tab's `sessionStorage`), so
//! the assets themselves are public and carry no secret. The admin routes the
//! console calls are listed once, in `assets/api.js`; `tests/it/console.rs`
//! checks each against a running daemon.
//!
//! Every answer carries a strict Content-Security-Policy (`default-src 'self'`,
//! no inline script or style, no framing, no form posts, no `<base>`), so text
//! from events, cards and logs that the console shows cannot run as script even
//! if a page rendered it as markup by mistake. Assets are revalidated on every
//! load (`Cache-Control: no-cache` with a strong `ETag`), so an upgraded daemon
//! never serves old JavaScript next to new, and a reload costs one 304 each.

use crate::server::{allow, ApiError, Resp};
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use std::sync::OnceLock;

/// The policy of every console answer. `style-src 'self'` still lets scripts
/// set CSSOM properties, which the console does not need either.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
pub struct Asset {
    /// The name under `/console/`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// 64-bit FNV-1a, computed once per asset when the first tag is asked for
/// (at compile time it would exceed the const-evaluation budget on the
/// vendored libraries). An entity tag only has to change when the bytes do;
/// this is not a defence against anyone, so a cryptographic digest would buy
/// nothing.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Every file under `assets/`, listed by `build.rs`.
pub const ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// Strong entity tags, one per asset, computed once from the bytes.
fn etags() -> &'static [HeaderValue] {
    static TAGS: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let tag = format!("\"{:016x}-{:x}\"", fnv1a(a.body), a.body.len());
                HeaderValue::from_str(&tag).expect("a hex entity tag is a valid header value")
            })
            .collect()
    })
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, as RFC 9110
/// asks for `If-None-Match`; `*` matches any current representation).
fn none_match(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

fn with_security_headers(mut r: Resp) -> Resp {
    let h = r.headers_mut();
    h.insert(HeaderName::from_static("content-security-policy"), HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    h.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("no-referrer"));
    h.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    h.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    r
}

/// Serve `GET|HEAD /console` and `/console/{asset}`; `rest` is the path after
/// `/console` split on `/` (empty for `/console`, `[""]` for `/console/`).
pub(crate) fn serve<B>(req: &Request<B>, rest: &[&str]) -> Result<Resp, ApiError> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(allow("GET, HEAD"));
    }
    let joined;
    let name = match rest {
        // `/console` → `/console/`, so the pages' relative URLs resolve under
        // `/console/` (and under any prefix a reverse proxy adds, hence a
        // relative Location). The fragment (`#token=...`) survives a redirect.
        [] => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::PERMANENT_REDIRECT;
            r.headers_mut().insert(LOCATION, HeaderValue::from_static("console/"));
            return Ok(with_security_headers(r));
        }
        [""] => "index.html",
        [name] => name,
        // Third-party files, one folder deep (`vendor/yaml.js`).
        [dir, file] => {
            joined = format!("{dir}/{file}");
            joined.as_str()
        }
        _ => return Err(not_found(rest)),
    };
    let Some(index) = ASSETS.iter().position(|a| a.name == name) else {
        return Err(not_found(rest));
    };
    let asset = &ASSETS[index];
    let etag = &etags()[index];
    let fresh = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| none_match(v, etag.to_str().unwrap_or_default()));
    let mut r = if fresh {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Full::new(Bytes::from_static(asset.body)));
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        r
    };
    let h = r.headers_mut();
    h.insert(ETAG, etag.clone());
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(with_security_headers(r))
}

fn not_found(rest: &[&str]) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("the console has no file `{}`", rest.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists() {
        assert!(none_match("\"abc\"", "\"abc\""));
        assert!(none_match("W/\"abc\"", "\"abc\""));
        assert!(none_match("\"x\", \"abc\"", "\"abc\""));
        assert!(none_match("*", "\"abc\""));
        assert!(!none_match("\"abd\"", "\"abc\""));
        assert!(!none_match("", "\"abc\""));
    }

    #[test]
    fn every_asset_has_a_distinct_name_and_a_body() {
        for (i, a) in ASSETS.iter().enumerate() {
            assert!(!a.body.is_empty(), "{} is empty", a.name);
            assert!(ASSETS[..i].iter().all(|b| b.name != a.name), "{} twice", a.name);
        }
        assert_eq!(etags().len(), ASSETS.len());
    }
}
