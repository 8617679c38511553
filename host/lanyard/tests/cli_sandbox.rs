//! `lanyard sandbox`: the simulated Okta org as a command, grown with
//! `--extra-users` for sweeps that page (issue 15: "sandbox seed size
//! configurable"), serving its users a page at a time as Okta does.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_sandbox_org_grows_by_extra_users_and_pages_them() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lanyard"))
        .args(["sandbox", "--port", "0", "--json", "--extra-users", "2000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("lanyard sandbox starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the banner");
    let info: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let users = info["counts"]["users"].as_u64().expect("the org's user count");
    assert!((2040..2400).contains(&users), "the company and 2000 more: {users}");

    // A page of 200, and a `next` link to the page after it.
    let base = info["baseUrl"].as_str().unwrap().to_string();
    let token = info["readonlyToken"].as_str().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (count, next) = rt.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("{base}/api/v1/users?limit=200"))
            .header("authorization", format!("SSWS {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let next = r.headers().get_all("link").iter().any(|l| l.to_str().unwrap_or("").contains("rel=\"next\""));
        (r.json::<Vec<serde_json::Value>>().await.unwrap().len(), next)
    });
    assert_eq!((count, next), (200, true));
    let _ = child.kill();
    let _ = child.wait();
}
