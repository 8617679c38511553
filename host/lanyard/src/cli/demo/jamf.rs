//! A JAMF Pro stand-in for the demo: the two endpoints `acme.jamf-offboard`
//! calls (the computer inventory search by user email, and MDM commands),
//! with the bearer token the `jamf` connection holds. Every user has one
//! managed MacBook, so an offboarding run has a Mac to lock. It answers one
//! request per connection and keeps nothing but a counter; what it receives
//! is printed by the demo.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the stand-in received, for the demo to print.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub target: String,
    pub body: Value,
    pub status: u16,
}

/// Serve on `listener` until the task is aborted; each request also goes to `seen`.
pub async fn serve(listener: TcpListener, token: String, seen: mpsc::UnboundedSender<Received>) {
    let commands = Arc::new(AtomicU32::new(0));
    while let Ok((conn, _)) = listener.accept().await {
        let (token, seen, commands) = (token.clone(), seen.clone(), commands.clone());
        tokio::spawn(async move {
            if let Some(r) = one(conn, &token, &commands).await {
                let _ = seen.send(r);
            }
        });
    }
}

const MAX: usize = 1 << 20;

async fn one(mut conn: TcpStream, token: &str, commands: &AtomicU32) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) if buf.len() + n > MAX => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(MAX);
    while buf.len() < head_end + len {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body: Value =
        serde_json::from_slice(&buf[head_end..(head_end + len).min(buf.len())]).unwrap_or(Value::Null);
    let authorized = headers.get("authorization").map(String::as_str) == Some(&format!("Bearer {token}"));
    let (status, answer) = if authorized {
        answer(&method, &target, &body, commands)
    } else {
        error(401, "INVALID_TOKEN", "missing or wrong bearer token")
    };
    let bytes = serde_json::to_vec(&answer).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        if status < 300 { "OK" } else { "Error" },
        bytes.len()
    );
    let _ = conn.write_all(head.as_bytes()).await;
    let _ = conn.write_all(&bytes).await;
    let _ = conn.shutdown().await;
    Some(Received { method, target, body, status })
}

fn error(status: u16, code: &str, text: &str) -> (u16, Value) {
    (status, json!({ "httpStatus": status, "errors": [{ "code": code, "description": text }] }))
}

fn answer(method: &str, target: &str, body: &Value, commands: &AtomicU32) -> (u16, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match (method, path) {
        ("GET", "/api/v1/computers-inventory") => {
            let email = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("filter="))
                .map(percent_decode)
                .and_then(|f| {
                    f.strip_prefix("userAndLocation.email==\"")
                        .and_then(|f| f.strip_suffix('"'))
                        .map(str::to_string)
                });
            let Some(email) = email else {
                return error(400, "INVALID_FILTER", "expected userAndLocation.email==\"...\"");
            };
            let local = email.split('@').next().unwrap_or("someone");
            let first = local.split('.').next().unwrap_or(local);
            let mut name: Vec<char> = first.chars().collect();
            if let Some(c) = name.first_mut() {
                *c = c.to_ascii_uppercase();
            }
            let id = 100 + (email.bytes().map(u32::from).sum::<u32>() % 900);
            let computer = json!({
                "id": id.to_string(),
                "general": {
                    "name": format!("{}'s MacBook Pro", name.into_iter().collect::<String>()),
                    "managementId": format!("mgmt-{id}"),
                    "lastContactTime": "2026-02-27T16:40:00Z"
                },
                "hardware": { "serialNumber": format!("C02DEMO{id}") },
                "userAndLocation": { "email": email }
            });
            (200, json!({ "totalCount": 1, "results": [computer] }))
        }
        ("POST", "/api/v2/mdm/commands") => {
            if body["clientData"][0]["managementId"].as_str().is_none() {
                return error(400, "INVALID_FIELD", "clientData[0].managementId is required");
            }
            let n = commands.fetch_add(1, Ordering::Relaxed) + 1;
            let id = format!("cmd-{n:04}");
            (201, json!([{ "id": id, "href": format!("/api/v2/mdm/commands/{id}") }]))
        }
        _ => error(404, "NOT_FOUND", "the demo's JAMF stand-in has no such route"),
    }
}

/// `%XX` sequences decoded (and `+` as a space), lossily.
fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_cards_filter() {
        assert_eq!(
            percent_decode("userAndLocation.email%3D%3D%22ada%40acme.example%22"),
            "userAndLocation.email==\"ada@acme.example\""
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
