//! `/signals/{token}`: the pages behind a signal link (`crate::signal_links`).
//!
//! `GET` shows which flow and run asks, for what, and one button that posts
//! back to the same address; it never resumes the run, because mail and chat
//! clients fetch links to preview them. `POST` answers the run's wait through
//! [`Engine::signal_run`], the path the admin API's signal route takes, with
//! `by: link`. Every answer is a small HTML page (no script, no external
//! asset, a CSP that allows only its own style and a form to itself, never
//! cached, no referrer) whose status says what happened: 404 for a link that
//! is not one (tampered, another daemon's, a run no longer kept), 410 for one
//! expired or already used, 409 for a run not waiting for it now. A page says
//! no more than the link itself does, and escapes everything it shows.
//!
//! No admin token: whoever holds the link may answer with it; it must not
//! reach anything else.

use crate::engine::Engine;
use crate::runner::{Signal, SignalError};
use crate::server::Resp;
use crate::signal_links::{LinkClaims, TokenError};
use base64::Engine as _;
use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The most a confirmation's body may hold (the form sends none).
const MAX_BODY: usize = 1024;

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1b1f24;background:#fff}\
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{color:#57606a}dd{margin:0}\
button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#0b5cad;color:#fff;cursor:pointer}\
button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}.note{color:#57606a}";

/// Only this page's own style, and forms that post to itself.
static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!("default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
});

/// Answer one request for the link `token`.
pub(crate) async fn handle(engine: &Engine, req: Request<Incoming>, token: &str) -> Resp {
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD && method != Method::POST {
        let mut r = page(StatusCode::METHOD_NOT_ALLOWED, "Not allowed", &["Open the link in a browser."], None);
        r.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
        return r;
    }
    let claims = match engine.signal_links().open(token) {
        Ok(c) => c,
        Err(e) => return token_refused(&e),
    };
    let signal = Signal {
        name: claims.signal.clone(),
        choice: claims.choice.clone(),
        data: Value::Null,
        by: "link".into(),
        after: Some(claims.after_seq),
    };
    if method == Method::POST {
        // The form sends nothing; a body is read (to a bound) only so that
        // the connection stays usable.
        if let Err(e) = crate::server::read_body(req, MAX_BODY).await {
            return page(e.status, "Not recorded", &["The request was not one this page sends. Open the link again."], None);
        }
        return match engine.signal_run(&claims.run_id, signal).await {
            Ok(()) => {
                tracing::info!(run = %claims.run_id, signal = %claims.signal, choice = ?claims.choice, "a signal link answered a waiting run");
                let what = answer(&claims);
                page(StatusCode::OK, &format!("Recorded: {what}"), &[&format!("Run {} goes on with your answer. You can close this page.", claims.run_id)], None)
            }
            Err(e) => refused(&claims, e),
        };
    }
    match engine.check_signal(&claims.run_id, &signal).await {
        Ok(run) => {
            let what = answer(&claims);
            let lines = [
                format!("The flow \u{201c}{}\u{201d} is waiting for an answer.", run.flow),
                format!("This link answers \u{201c}{what}\u{201d}. Nothing is recorded until you confirm."),
            ];
            let facts = [("Flow", run.flow.as_str()), ("Run", run.id.as_str()), ("Asks for", claims.signal.as_str()), ("Answer", what)];
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            page(StatusCode::OK, &format!("Confirm: {what}"), &lines, Some((&facts, what)))
        }
        Err(e) => refused(&claims, e),
    }
}

/// The choice a link carries, or the signal's name when it has none.
fn answer(c: &LinkClaims) -> &str {
    c.choice.as_deref().unwrap_or(&c.signal)
}

fn token_refused(e: &TokenError) -> Resp {
    match e {
        TokenError::Malformed | TokenError::Forged => page(
            StatusCode::NOT_FOUND,
            "This link is not valid",
            &["Check that the whole link was copied, or ask for a new one."],
            None,
        ),
        TokenError::Expired(_) => page(
            StatusCode::GONE,
            "This link has expired",
            &["It can no longer answer. If an answer is still needed, ask for a new link."],
            None,
        ),
    }
}

fn refused(c: &LinkClaims, e: SignalError) -> Resp {
    match e {
        SignalError::NotFound(_) => page(StatusCode::NOT_FOUND, "This link is not valid", &["The run it answers is no longer kept."], None),
        SignalError::Answered { .. } => page(
            StatusCode::GONE,
            "Already answered",
            &["The request this link answers has already been answered (with this link or another one) or has timed out. Nothing was changed."],
            None,
        ),
        SignalError::NotWaiting { status, .. } => page(
            StatusCode::CONFLICT,
            "Not waiting for an answer",
            &[&format!("Run {} is {status}, not waiting for this answer. Nothing was changed.", c.run_id)],
            None,
        ),
        SignalError::OtherSignal { .. } | SignalError::BadChoice(_) | SignalError::TooLarge(_) => page(
            StatusCode::CONFLICT,
            "Not waiting for this answer",
            &[&format!("Run {} is waiting for something else right now. Nothing was changed.", c.run_id)],
            None,
        ),
        SignalError::Store(e) => {
            tracing::warn!(run = %c.run_id, error = %e, "a signal link could not be read or answered");
            page(StatusCode::SERVICE_UNAVAILABLE, "Try again shortly", &["lanyard cannot answer this link right now. Nothing was changed."], None)
        }
    }
}

/// A page: a heading, paragraphs, and (to confirm) facts and a button.
fn page(status: StatusCode, title: &str, lines: &[&str], confirm: Option<(&[(&str, &str)], &str)>) -> Resp {
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>{t} \u{2014} lanyard</title><style>{STYLE}</style></head>\n<body><main><h1>{t}</h1>\n",
        t = esc(title)
    );
    for l in lines {
        html.push_str(&format!("<p>{}</p>\n", esc(l)));
    }
    if let Some((facts, what)) = confirm {
        html.push_str("<dl>");
        for (k, v) in facts {
            html.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(v)));
        }
        html.push_str("</dl>\n<form method=\"post\">");
        html.push_str(&format!("<button type=\"submit\">{}</button></form>\n", esc(&capitalised(what))));
        html.push_str("<p class=\"note\">A link answers once.</p>\n");
    }
    html.push_str("</main></body></html>\n");
    let mut r = Response::new(Full::new(Bytes::from(html)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("no-referrer"));
    h.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&CSP) {
        h.insert(HeaderName::from_static("content-security-policy"), v);
    }
    r
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Text for HTML: every character that could start markup or end an
/// attribute, escaped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    async fn body(r: Resp) -> String {
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_page_escapes_what_it_shows_and_allows_only_its_own_style() {
        let facts = [("Flow", "<script>alert(1)</script>"), ("Run", "a\"b'c&d")];
        let r = page(StatusCode::OK, "Confirm: <b>", &["x < y"], Some((&facts, "ok")));
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"), "{csp}");
        assert!(!csp.contains("script-src"), "no script at all: {csp}");
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        let html = body(r).await;
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script"), "{html}");
        assert!(html.contains("a&quot;b&#39;c&amp;d"), "{html}");
        assert!(html.contains("<title>Confirm: &lt;b&gt; \u{2014} lanyard</title>"), "{html}");
        assert!(html.contains("<form method=\"post\"><button type=\"submit\">Ok</button></form>"), "{html}");
        // The hash in the CSP is the style's, so the page is styled.
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
        assert!(csp.contains(&hash) && html.contains(&format!("<style>{STYLE}</style>")));
    }
}
