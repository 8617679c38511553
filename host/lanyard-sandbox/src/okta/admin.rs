//! A client for the sandbox's own `/sandbox/v1` routes (things Okta has no API
//! for), used by `lanyard sandbox event` and by tests that drive a sandbox in
//! another process. Okta's own API goes through [`lanyard_okta::OktaClient`].

use serde_json::{Value, json};

use super::FaultRule;

pub struct SandboxAdmin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl SandboxAdmin {
    /// `base`: `http://127.0.0.1:<port>`; `token`: the admin (or service) API token.
    pub fn new(base: &str, token: &str) -> Self {
        SandboxAdmin {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", format!("SSWS {}", self.token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("cannot reach the sandbox at {}: {e}", self.base))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("reading the sandbox's answer: {e}"))?;
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if !status.is_success() {
            let summary = value
                .get("errorSummary")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            let causes: Vec<&str> = value
                .get("errorCauses")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .filter_map(|c| c.get("errorSummary").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            return Err(format!(
                "the sandbox answered {status}: {summary}{}",
                if causes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", causes.join("; "))
                }
            ));
        }
        Ok(value)
    }

    fn user_path(id_or_login: &str, tail: &str) -> String {
        let seg: String = url::form_urlencoded::byte_serialize(id_or_login.as_bytes()).collect();
        format!("/sandbox/v1/users/{}/{tail}", seg.replace('+', "%20"))
    }

    /// Counts, the credential owners and the sandbox's time.
    pub async fn info(&self) -> Result<Value, String> {
        self.call(reqwest::Method::GET, "/sandbox/v1/info", None)
            .await
    }

    /// Failed sign-ins until the account locks.
    pub async fn lock(&self, id_or_login: &str) -> Result<(), String> {
        self.call(
            reqwest::Method::POST,
            &Self::user_path(id_or_login, "lock"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// The user enrolls a factor (`push`, `token:software:totp`, `sms`, `webauthn`).
    pub async fn enroll_factor(
        &self,
        id_or_login: &str,
        factor_type: &str,
    ) -> Result<String, String> {
        let v = self
            .call(
                reqwest::Method::POST,
                &Self::user_path(id_or_login, "factors"),
                Some(json!({"factorType": factor_type})),
            )
            .await?;
        Ok(v["id"].as_str().unwrap_or_default().to_string())
    }

    /// The user signs in (a session starts).
    pub async fn sign_in(&self, id_or_login: &str) -> Result<(), String> {
        self.call(
            reqwest::Method::POST,
            &Self::user_path(id_or_login, "signIn"),
            None,
        )
        .await
        .map(|_| ())
    }

    pub async fn inject(&self, rule: &FaultRule) -> Result<(), String> {
        let body = serde_json::to_value(rule).map_err(|e| e.to_string())?;
        self.call(reqwest::Method::POST, "/sandbox/v1/faults", Some(body))
            .await
            .map(|_| ())
    }

    pub async fn clear_faults(&self) -> Result<(), String> {
        self.call(reqwest::Method::DELETE, "/sandbox/v1/faults", None)
            .await
            .map(|_| ())
    }
}
