//! A sandbox on a loopback port with a hand-moved clock, and plain HTTP
//! requests to it with the admin's API token.

use chrono::{DateTime, Utc};
use lanyard_core::{LogEvent, ManualClock};
use lanyard_sandbox::okta::{RunningSandbox, SandboxConfig, SandboxOrg};
use serde_json::Value;
use std::sync::Arc;

pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub struct Org {
    pub sandbox: RunningSandbox,
    http: reqwest::Client,
    token: String,
}

/// One answer: status, `Link` headers and the JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub links: Vec<String>,
    pub body: Value,
}

impl Answer {
    /// The `rel="next"` URL of the `Link` headers.
    pub fn next(&self) -> Option<String> {
        self.links.iter().find_map(|l| {
            let (url, rel) = l.split_once(';')?;
            rel.contains("rel=\"next\"").then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
        })
    }

    pub fn code(&self) -> &str {
        self.body["errorCode"].as_str().unwrap_or("")
    }

    pub fn causes(&self) -> String {
        self.body["errorCauses"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|c| c["errorSummary"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }

    pub fn items(&self) -> &Vec<Value> {
        self.body.as_array().expect("a list")
    }

    pub fn ids(&self) -> Vec<String> {
        self.items()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Org {
    pub async fn new() -> Org {
        Self::with(SandboxConfig::default()).await
    }

    pub async fn with(config: SandboxConfig) -> Org {
        let clock = Arc::new(ManualClock::new(start_time()));
        let org = SandboxOrg::new(config, clock);
        let token = org.admin_token().to_string();
        let sandbox = RunningSandbox::start(org).await.expect("sandbox starts");
        Org {
            sandbox,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            token,
        }
    }

    pub fn org(&self) -> &Arc<SandboxOrg> {
        &self.sandbox.org
    }

    /// `path` is `/api/v1/...` (with its query), or a whole URL (a `next` link).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.sandbox.base_url)
        };
        let mut req = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .header("authorization", format!("SSWS {}", self.token))
            .header("accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the sandbox answers");
        let status = resp.status().as_u16();
        let links = resp
            .headers()
            .get_all("link")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON answer")
        };
        if status >= 400 {
            // Every error in Okta's shape.
            assert!(
                body["errorCode"].is_string() && body["errorCauses"].is_array(),
                "{body}"
            );
        }
        Answer {
            status,
            links,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call("POST", path, Some(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> Answer {
        self.call("POST", path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call("PUT", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call("DELETE", path, None).await
    }

    /// Every item of a list, following `next` links; each page's status is 200.
    pub async fn all(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = Some(path.to_string());
        while let Some(url) = next {
            let a = self.get(&url).await;
            assert_eq!(a.status, 200, "{url}: {}", a.body);
            out.extend(a.items().iter().cloned());
            next = a.next();
        }
        out
    }

    /// Events of `event_type` written since `since` (an index into the log).
    pub fn events_since(&self, since: usize, event_type: &str) -> Vec<LogEvent> {
        self.org().events()[since..]
            .iter()
            .filter(|e| e.event_type == event_type)
            .cloned()
            .collect()
    }

    pub fn log_len(&self) -> usize {
        self.org().events().len()
    }

    pub fn group_id(&self, name: &str) -> String {
        self.org().group_by_name(name).unwrap().id
    }
}

/// The ids an event names as targets.
pub fn target_ids(e: &LogEvent) -> Vec<String> {
    e.target.iter().map(|t| t.id.clone()).collect()
}

pub fn target_types(e: &LogEvent) -> Vec<String> {
    e.target.iter().map(|t| t.entity_type.clone()).collect()
}
