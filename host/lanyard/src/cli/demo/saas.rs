//! The demo's Zoom and Asana: the stand-ins from `lanyard_sandbox`,
//! filled with the sandbox org's people, and a printer for what they receive.
//!
//! Everyone ACTIVE in the org has a Zoom user (found by email, as the
//! `acme.zoom-deprovision` card looks them up) and is a member of the one Asana
//! workspace, with a few open tasks and one done, so the offboarding scene
//! shows a leaver's tasks moving to their manager.

use lanyard_sandbox::{
    AsanaConfig, AsanaStandIn, AsanaStandInHandle, AsanaTask, AsanaUser, AsanaWorkspace, StandInRequest, ZoomConfig,
    ZoomStandIn, ZoomStandInHandle, ZoomUser,
};
use lanyard_core::okta::User;
use std::time::Duration;

/// The demo company's Asana workspace.
pub const WORKSPACE: (&str, &str) = ("1200000000000001", "Acme");

/// What each open task is about, by the owner's place in the list.
const TASKS: [&str; 5] = [
    "Quarterly access review",
    "Update the team runbook",
    "Plan the next offsite",
    "Review the vendor contract",
    "Draft the hiring plan",
];

/// Start both stand-ins on loopback, with these tokens, knowing `people`.
pub async fn start(
    people: &[User],
    zoom_token: &str,
    asana_token: &str,
) -> anyhow::Result<(ZoomStandInHandle, AsanaStandInHandle)> {
    let zoom = ZoomStandIn::start(super::loopback().await?, ZoomConfig { token: zoom_token.to_owned() })
        .map_err(|e| anyhow::anyhow!("cannot start the Zoom stand-in: {e}"))?;
    let asana = AsanaStandIn::start(super::loopback().await?, AsanaConfig { token: asana_token.to_owned() })
        .map_err(|e| anyhow::anyhow!("cannot start the Asana stand-in: {e}"))?;
    asana.add_workspace(AsanaWorkspace { gid: WORKSPACE.0.into(), name: WORKSPACE.1.into() });
    let mut task = 0u64;
    for (i, u) in people.iter().filter(|u| u.status == "ACTIVE").enumerate() {
        let (email, first, last) = (super::prof(u, "email"), super::prof(u, "firstName"), super::prof(u, "lastName"));
        if email.is_empty() {
            continue;
        }
        zoom.add_user(ZoomUser {
            id: format!("zm{i:06}"),
            email: email.to_owned(),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            status: "active".into(),
        });
        let gid = format!("1201{i:012}");
        asana.add_user(AsanaUser {
            gid: gid.clone(),
            email: email.to_owned(),
            name: format!("{first} {last}"),
            workspaces: vec![WORKSPACE.0.into()],
        });
        // One to three open tasks and one done, the same at every start.
        for k in 0..(1 + i % 3) + 1 {
            task += 1;
            asana.add_task(AsanaTask {
                gid: format!("1202{task:012}"),
                name: TASKS[(i + k) % TASKS.len()].into(),
                workspace: WORKSPACE.0.into(),
                assignee: Some(gid.clone()),
                completed: k == 0,
            });
        }
    }
    Ok((zoom, asana))
}

/// Print every request the Zoom stand-in receives, as it arrives.
pub async fn print_zoom(zoom: ZoomStandInHandle) {
    let mut n = 0;
    loop {
        if let Ok(seen) = zoom.wait_for(n + 1, PATIENCE).await {
            if seen.len() <= n {
                // The stand-in keeps the latest requests only: enough printed.
                return;
            }
            show("zoom", &seen[n..]);
            n = seen.len();
        }
    }
}

/// Print every request the Asana stand-in receives, as it arrives.
pub async fn print_asana(asana: AsanaStandInHandle) {
    let mut n = 0;
    loop {
        if let Ok(seen) = asana.wait_for(n + 1, PATIENCE).await {
            if seen.len() <= n {
                // The stand-in keeps the latest requests only: enough printed.
                return;
            }
            show("asana", &seen[n..]);
            n = seen.len();
        }
    }
}

/// `[zoom]  PUT /v2/users/zm000123/status {"action":"deactivate"} -> 204`,
/// aligned with the other stand-ins' lines.
fn show(label: &str, requests: &[StandInRequest]) {
    for r in requests {
        let body = r.json.as_ref().map(|j| format!(" {j}")).unwrap_or_default();
        let label = format!("[{label}]");
        super::say(&format!("    {label:<7} {} {}{body} -> {}", r.method, r.target, r.status));
    }
}

/// Long enough that the printers only wake for requests.
const PATIENCE: Duration = Duration::from_secs(3600);
