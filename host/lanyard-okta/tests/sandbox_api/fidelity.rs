//! Answers as Okta documents them: status codes within each operation's
//! documented set, `limit=0` on the System Log, and Event Hook verification
//! that tries once more after a timeout or an error answer.

use crate::rest::Org;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An Event Hook endpoint whose first `fail` verification GETs answer
/// `status` (0: no answer within the timeout), then echo the challenge.
async fn flaky_receiver(fail: usize, status: u16) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let gets = Arc::new(AtomicUsize::new(0));
    let seen = gets.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let seen = seen.clone();
                    async move {
                        let n = seen.fetch_add(1, Ordering::SeqCst);
                        if n < fail {
                            if status == 0 {
                                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                            }
                            return Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .status(status.max(200))
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            );
                        }
                        let challenge = req
                            .headers()
                            .get(lanyard_okta::hooks::VERIFICATION_HEADER)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        Ok(Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(
                                json!({"verification": challenge}).to_string(),
                            )))
                            .unwrap())
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (url, gets)
}

async fn hook(o: &Org, uri: &str) -> String {
    let a = o
        .post(
            "/api/v1/eventHooks",
            json!({
                "name": "flaky", "events": {"type": "EVENT_TYPE", "items": ["user.lifecycle.create"]},
                "channel": {"type": "HTTP", "version": "1.0.0", "config": {"uri": uri}},
            }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn verification_is_tried_once_more_after_an_error_answer_or_a_timeout() {
    let o = Org::new().await;
    o.org()
        .set_delivery_config(lanyard_sandbox::okta::DeliveryConfig {
            timeout: std::time::Duration::from_millis(300),
            ..Default::default()
        });
    // One error answer, then the echo: verified, in two requests.
    let (url, gets) = flaky_receiver(1, 500).await;
    let id = hook(&o, &url).await;
    let a = o
        .post_empty(&format!("/api/v1/eventHooks/{id}/lifecycle/verify"))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["verificationStatus"], "VERIFIED");
    assert_eq!(gets.load(Ordering::SeqCst), 2);
    // No answer in time, then the echo.
    let (url, gets) = flaky_receiver(1, 0).await;
    let id = hook(&o, &url).await;
    let a = o
        .post_empty(&format!("/api/v1/eventHooks/{id}/lifecycle/verify"))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(gets.load(Ordering::SeqCst), 2);
    // Two error answers: one retry only, then Okta's 400.
    let (url, gets) = flaky_receiver(2, 404).await;
    let id = hook(&o, &url).await;
    let a = o
        .post_empty(&format!("/api/v1/eventHooks/{id}/lifecycle/verify"))
        .await;
    assert_eq!((a.status, a.code()), (400, "E0000001"));
    assert_eq!(gets.load(Ordering::SeqCst), 2);
    assert_eq!(
        o.get(&format!("/api/v1/eventHooks/{id}")).await.body["verificationStatus"],
        "UNVERIFIED"
    );
}

#[tokio::test]
async fn an_active_event_hook_is_not_deleted_with_the_documented_403() {
    let o = Org::new().await;
    let id = hook(&o, "http://127.0.0.1:1/never").await;
    let a = o.delete(&format!("/api/v1/eventHooks/{id}")).await;
    // deleteEventHook documents 204, 403, 404, 429.
    assert_eq!((a.status, a.code()), (403, "E0000006"), "{}", a.body);
    assert!(a.causes().contains("deactivated"));
    o.post_empty(&format!("/api/v1/eventHooks/{id}/lifecycle/deactivate"))
        .await;
    assert_eq!(
        o.delete(&format!("/api/v1/eventHooks/{id}")).await.status,
        204
    );
}

#[tokio::test]
async fn the_system_log_takes_limit_zero() {
    let o = Org::new().await;
    o.org().lock_user(&o.org().users()[5].id).unwrap();
    let a = o.get("/api/v1/logs?limit=0").await;
    assert_eq!((a.status, a.items().len()), (200, 0));
    assert!(
        a.next().is_some(),
        "a polling request always has a next link"
    );
    let a = o.get("/api/v1/logs?limit=1000").await;
    assert!(!a.items().is_empty());
    for bad in ["-1", "many"] {
        let a = o.get(&format!("/api/v1/logs?limit={bad}")).await;
        assert_eq!((a.status, a.code()), (400, "E0000001"), "{bad}");
    }
}

/// A page larger than an operation's maximum is the maximum; a limit that is
/// not a number is Okta's validation error.
#[tokio::test]
async fn limits_outside_the_documented_range_take_its_nearest_end() {
    let o = Org::new().await;
    let a = o.get("/api/v1/users?limit=100000").await;
    assert_eq!((a.status, a.items().len()), (200, 200));
    let a = o.get("/api/v1/users?limit=0").await;
    assert_eq!((a.status, a.items().len()), (200, 1));
    let a = o.get("/api/v1/users?limit=3.5").await;
    assert_eq!((a.status, a.code()), (400, "E0000001"));
    let apps = o.get("/api/v1/apps").await.ids();
    // listApplicationGroupAssignments: from 20 to 200.
    let a = o
        .get(&format!("/api/v1/apps/{}/groups?limit=1", apps[0]))
        .await;
    assert_eq!(a.status, 200);
    let v: Value = o.get("/api/v1/groups?limit=2").await.body;
    assert_eq!(v.as_array().unwrap().len(), 2);
}
