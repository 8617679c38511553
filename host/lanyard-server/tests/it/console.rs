//! The web console (`src/console`): served at `/console/` with a strict CSP,
//! every file its pages load is there with the right type, revalidation, and
//! every admin route its JavaScript calls exists on the real server.

use crate::support::*;
use reqwest::header::{ETAG, IF_NONE_MATCH, LOCATION};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

const HELLO: &str = r#"
name: hello
description: Say hello.
trigger: manual
steps:
  - id: echo
    card: lanyard.echo
    with: { message: "hi {{ event.who }}" }
  - return: "{{ echo.message }}"
"#;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

fn assert_strict_csp(r: &reqwest::Response, what: &str) {
    let csp = header(r, "content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{what}: CSP `{csp}`");
    assert!(csp.contains("script-src 'self'"), "{what}: CSP `{csp}`");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP `{csp}`");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: CSP `{csp}`");
    assert_eq!(header(r, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(r, "referrer-policy"), "no-referrer", "{what}");
}

/// The values of `attr="..."` in `html`.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        rest = &rest[i + needle.len()..];
        let end = rest.find('"').expect("a closed attribute");
        out.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    out
}

/// The relative modules a JS module imports (`from './x.js'`, `import('./x.js')`).
fn js_imports(js: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pat in ["from './", "import('./"] {
        let mut rest = js;
        while let Some(i) = rest.find(pat) {
            rest = &rest[i + pat.len()..];
            let end = rest.find('\'').expect("a closed import path");
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

fn expected_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("html") => "text/html",
        _ => panic!("the console has a file of an unexpected kind: {name}"),
    }
}

/// Every console file reachable from `/console/`, by name, with its text:
/// the files the HTML names, and the modules those import, transitively.
/// Each must answer 200 with its type and the security headers.
async fn crawl(d: &Daemon) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    let mut todo = vec!["index.html".to_string()];
    while let Some(name) = todo.pop() {
        if seen.contains_key(&name) {
            continue;
        }
        let url = if name == "index.html" { d.url("/console/") } else { d.url(&format!("/console/{name}")) };
        let r = d.http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let ct = header(&r, "content-type");
        assert!(ct.starts_with(expected_type(&name)), "{name} is served as `{ct}`");
        assert_strict_csp(&r, &name);
        let text = r.text().await.unwrap();
        if name == "index.html" {
            for v in attr_values(&text, "src").into_iter().chain(attr_values(&text, "href")) {
                if v.starts_with('#') {
                    continue;
                }
                assert!(
                    !v.contains(':') && !v.starts_with('/') && !v.starts_with(".."),
                    "index.html loads `{v}`: the console must load only its own files, by relative URL"
                );
                todo.push(v);
            }
        } else if name.ends_with(".js") {
            todo.extend(js_imports(&text));
        }
        seen.insert(name, text);
    }
    seen
}

#[tokio::test]
async fn the_console_page_has_a_strict_csp_and_no_inline_script() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    // `/console` sends the browser to `/console/`, relative to where it is
    // mounted; the fragment (`#token=`) survives a redirect.
    let r = no_redirects().get(d.url("/console")).send().await.unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers().get(LOCATION).unwrap(), "console/");
    assert_strict_csp(&r, "/console");

    // No token needed for the page: it holds no data.
    let r = d.http.get(d.url("/console")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.url().path(), "/console/");
    assert!(header(&r, "content-type").starts_with("text/html"));
    assert_strict_csp(&r, "/console/");
    let html = r.text().await.unwrap();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains("<html lang=\"en\">"));
    // Every script is a file: no inline code, no inline handlers or styles
    // (the CSP would block them, so they would be silently dead).
    let mut scripts = 0;
    for (i, _) in html.match_indices("<script") {
        scripts += 1;
        let tag_end = i + html[i..].find('>').unwrap();
        assert!(html[i..tag_end].contains(" src=\""), "inline script at byte {i}");
        let close = tag_end + html[tag_end..].find("</script>").unwrap();
        assert!(html[tag_end + 1..close].trim().is_empty(), "a script with a src has a body at byte {i}");
    }
    assert!(scripts >= 1);
    assert!(!html.contains("<style"), "inline <style>");
    assert!(attr_values(&html, "style").is_empty(), "inline style attribute");
    for handler in ["onclick", "onload", "onerror", "onsubmit", "onchange", "oninput"] {
        assert!(attr_values(&html, handler).is_empty(), "inline {handler}");
    }
    assert!(!html.to_ascii_lowercase().contains("javascript:"));
    d.stop().await;
}

#[tokio::test]
async fn every_file_the_console_loads_is_served_with_its_type() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    let files = crawl(&d).await;
    // Every embedded file is used, and every used file is embedded.
    let embedded: BTreeSet<&str> = lanyard_server::console::ASSETS.iter().map(|a| a.name).collect();
    let loaded: BTreeSet<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(embedded, loaded, "embedded console files vs. the files its pages load");

    // Untrusted text is only ever set as text: no console module parses
    // markup or evaluates strings.
    for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".js")) {
        for banned in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('on"] {
            let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            assert!(!code.contains(banned), "{name} uses {banned}");
        }
        // No CDN, no remote anything: the daemon must work offline.
        assert!(!text.contains("http://") && !text.contains("https://"), "{name} names a remote URL");
    }
    d.stop().await;
}

#[tokio::test]
async fn console_files_revalidate_with_etags() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    for path in ["/console/", "/console/app.js", "/console/app.css"] {
        let r = d.http.get(d.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "cache-control"), "no-cache", "{path}");
        let etag = r.headers().get(ETAG).expect("an ETag").to_str().unwrap().to_string();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong tag: {etag}");
        let body = r.bytes().await.unwrap();

        let r = d.http.get(d.url(path)).header(IF_NONE_MATCH, &etag).send().await.unwrap();
        assert_eq!(r.status(), 304, "{path}");
        assert_eq!(header(&r, "etag"), etag);
        assert_strict_csp(&r, path);
        assert!(r.bytes().await.unwrap().is_empty());

        // A list, and a weak form of the same tag, match too.
        let r = d.http.get(d.url(path)).header(IF_NONE_MATCH, format!("\"other\", W/{etag}")).send().await.unwrap();
        assert_eq!(r.status(), 304, "{path}");

        let r = d.http.get(d.url(path)).header(IF_NONE_MATCH, "\"something-else\"").send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.bytes().await.unwrap(), body);

        let r = d.http.head(d.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "HEAD {path}");
        assert_eq!(header(&r, "etag"), etag);
    }
    d.stop().await;
}

#[tokio::test]
async fn unknown_console_files_are_404_and_other_methods_405() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    for path in ["/console/nope.js", "/console/app.js/x", "/console/assets/app.js", "/console/%2e%2e%2fCargo.toml", "/console/index.htm"] {
        let r = d.http.get(d.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let r = d.http.post(d.url("/console/")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(header(&r, "allow"), "GET, HEAD");
    d.stop().await;
}

/// `name: { method: 'M', path: '/api/...' }` lines of the ENDPOINTS list.
fn endpoints(api_js: &str) -> Vec<(String, String, String)> {
    let field = |line: &str, key: &str| -> String {
        let start = line.find(&format!("{key}: '")).map(|i| i + key.len() + 3).expect("a quoted field");
        let end = start + line[start..].find('\'').unwrap();
        line[start..end].to_string()
    };
    api_js
        .lines()
        .filter(|l| l.contains("method: '") && l.contains("path: '"))
        .map(|l| {
            let name = l.trim().split(':').next().unwrap().trim().to_string();
            (name, field(l, "method"), field(l, "path"))
        })
        .collect()
}

#[tokio::test]
async fn the_console_calls_only_admin_routes_that_exist() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    let files = crawl(&d).await;
    let list = endpoints(&files["api.js"]);
    let names: BTreeSet<&str> = list.iter().map(|(n, _, _)| n.as_str()).collect();
    for must in ["flows", "runNow", "runs", "run", "cards", "tables", "rows", "row"] {
        assert!(names.contains(must), "api.js lists no `{must}` endpoint: {names:?}");
    }
    // Routes are named in api.js only, so this list is all the console calls.
    for (name, text) in &files {
        if name != "api.js" {
            assert!(!text.contains("/api/"), "{name} names an API path; add it to ENDPOINTS in api.js");
        }
    }
    let api_paths = files["api.js"].matches("'/api/").count();
    assert_eq!(api_paths, list.len(), "every /api/ path in api.js is one ENDPOINTS line");

    // Things for the routes to find: a finished run, a table row.
    let (status, started) = d.admin_post("/api/v1/flows/hello/run?wait=true", Some(json!({ "who": "ops" }))).await;
    assert_eq!(status, 200, "{started}");
    let run_id = started["run_id"].as_str().unwrap().to_string();
    let r = d.http.put(d.url("/api/v1/tables/audit/rows/u%201")).bearer_auth(ADMIN).json(&json!({ "login": "jo" })).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let params = [
        ("{flow}", "hello"),
        ("{run}", run_id.as_str()),
        ("{table}", "audit"),
        ("{key}", "u%201"),
        ("{version}", "1"),
        ("{card}", "lanyard.echo"),
        ("{type}", "user.account.lock"),
        ("{id}", "stale-accounts"),
    ];
    let created = HELLO.replace("name: hello", "name: created");

    for (name, method, path) in &list {
        let mut url = path.clone();
        for (p, v) in params {
            url = url.replace(p, v);
        }
        assert!(!url.contains('{'), "endpoint {name}: no test value for a parameter of {path}");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        // Without the token: refused, which also proves the route exists.
        let r = d.http.request(method.clone(), d.url(&url)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{method} {url} ({name}) without a token");
        // What the console sends each write route.
        let body = match name.as_str() {
            "runNow" => Some(json!({ "who": "console" })),
            "checkFlow" | "saveFlow" => Some(json!({ "source": HELLO })),
            "createFlow" => Some(json!({ "source": created })),
            // Off: a real change, so the file gets its first versions.
            "setEnabled" => Some(json!({ "enabled": false })),
            "revert" => Some(json!({ "version": 1 })),
            "testFlow" => Some(json!({ "source": HELLO, "file": "hello.yaml", "event": { "who": "console" } })),
            "replay" => Some(json!({ "source": HELLO })),
            "testCard" => Some(json!({ "input": { "message": "hi" } })),
            "putRow" => Some(json!({ "login": "jo" })),
            "rerun" => Some(json!({ "dry_run": true })),
            "grantCard" => Some(json!({ "grants": [], "replace": true })),
            "signalRun" => Some(json!({ "signal": "approval", "choice": "approve" })),
            _ => None,
        };
        let mut req = d.http.request(method.clone(), d.url(&url)).bearer_auth(ADMIN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if name == "importCsv" {
            req = req.header("content-type", "text/csv").body("key,login\nu2,ann\n");
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        let expected = match name.as_str() {
            "runNow" => 202,
            "createFlow" => 201,
            // Writes over a file need the etag the console read it with.
            "saveFlow" | "revert" => 428,
            // Without `cron` and `timezone`: the route says what it needs.
            "schedulePreview" => 400,
            "checkFlow" | "setEnabled" | "testFlow" | "replay" | "testCard" => 200,
            "putRow" | "deleteRow" | "clearTable" | "importCsv" => 200,
            "rerun" => 202,
            // A built-in's grants are the config's: no published card to grant.
            "grantCard" => 404,
            // The run is over: the route exists and says so.
            "cancelRun" | "signalRun" => 409,
            _ if method == reqwest::Method::GET => 200,
            "reload" => 200,
            other => panic!("api.js calls {method} {path} ({other}): say here what it answers"),
        };
        assert_eq!(status, expected, "{method} {url} ({name}): {body}");
        match name.as_str() {
            "flows" => assert_eq!(body["flows"][0]["name"], "hello"),
            "runs" => assert!(body["runs"].as_array().is_some_and(|r| !r.is_empty()), "{body}"),
            "run" => assert_eq!(body["run"]["id"], run_id.as_str()),
            "rows" => assert_eq!(body["rows"][0]["key"], "u 1"),
            "row" => assert_eq!(body["value"]["login"], "jo"),
            "runNow" => assert!(body["run_id"].is_string(), "{body}"),
            "flow" => assert_eq!(body["outline"]["name"], "hello", "{body}"),
            "checkFlow" => assert_eq!(body["ok"], true, "{body}"),
            "testFlow" => assert_eq!(body["run"]["output"], "hi console", "{body}"),
            "version" => assert_eq!(body["source"], HELLO, "{body}"),
            "testCard" => assert_eq!(body["output"]["message"], "hi", "{body}"),
            "eventSample" => assert_eq!(body["event"]["eventType"], "user.account.lock", "{body}"),
            "library" => assert_eq!(body["flows"].as_array().map(Vec::len), Some(lanyard_server::library::FLOWS.len()), "{body}"),
            "libraryFlow" => assert!(body["id"] == "stale-accounts" && body["source"].as_str().is_some_and(|s| s.contains("enabled: false")), "{body}"),
            _ => {}
        }
    }
    d.stop().await;
}
