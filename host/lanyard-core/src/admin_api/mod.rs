//! The admin API's wire types: what `/api/v1/...` answers, as JSON.
//!
//! The daemon (`lanyard-server`) serializes these and the CLI's admin client
//! deserializes them; neither sends its internal types (history records, store
//! rows, the card set) straight onto the wire, so renaming a field inside the
//! daemon cannot change the API. A change here is a change to the API: the
//! console (`console/assets/api.js`) and the e2e tests read the same JSON, and
//! the tests below pin each shape.
//!
//! This module is serde only: no HTTP, no store, no server. The vocabulary
//! enums that already have one spelling everywhere (`RunStatus`, `ErrorKind`,
//! `WriteOutcome`, `Grants`) are used as they are; the tests pin their JSON
//! here too. Conversions from core's own records are here (the orphan rule
//! keeps them out of the crates that use both); those from the store's, the
//! flow model's and the daemon's types are the server's (`admin_wire.rs`).

use crate::history::{self, RunStatus};
use crate::{ErrorKind, Grants, WriteOutcome};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod runs;
mod flows;
mod tables;
mod cards;
mod builder;
mod events;

pub use runs::*;
pub use flows::*;
pub use tables::*;
pub use cards::*;
pub use builder::*;
pub use events::*;

// -- errors -----------------------------------------------------------------------

/// Every refusal: `{"error": {...}}` with a 4xx or 5xx status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorAnswer {
    pub error: ErrorBody,
}

/// What went wrong: a code for programs, a message for people, and what a
/// route adds (the registry: `detail`, `problems`, `flows`; a refused flow
/// write or reload: `diagnostics`, `rendered`, `current`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<String>>,
    /// The flows that use a card that cannot be removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<Vec<String>>,
    /// Why flows were refused (`POST /api/v1/admin/reload`, a flow write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Vec<Diagnostic>>,
    /// Those diagnostics rendered for people, with source lines (a reload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered: Option<String>,
    /// The file as it is now, when it changed since the writer read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<FlowText>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code: code.into(),
            message: message.into(),
            detail: None,
            problems: None,
            flows: None,
            diagnostics: None,
            rendered: None,
            current: None,
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each family's JSON, written out: a change here is a change to the API
    //! (the console and the e2e tests read these shapes).

    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Serializes to `expected`, and reads back as itself.
    fn pinned<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, expected: Value) {
        assert_eq!(serde_json::to_value(value).unwrap(), expected);
        assert_eq!(&serde_json::from_value::<T>(expected).unwrap(), value);
    }

    fn run() -> Run {
        Run {
            id: "01J".into(),
            flow: "offboard".into(),
            flow_digest: "abc".into(),
            trigger: Trigger::Okta { event_type: "user.lifecycle.deactivate".into(), event_uuid: "u-1".into(), source: "hook".into() },
            input: Value::Null,
            status: RunStatus::Failed,
            created: at("2026-12-01T09:00:00Z"),
            started: Some(at("2026-12-01T09:00:01Z")),
            ended: None,
            output: None,
            error: Some(Failure { kind: ErrorKind::NotFound, message: "gone".into(), step: Some("a".into()), card: None, retryable: false, detail: None }),
            reason: None,
            subject: Some("00u1".into()),
            dry_run: true,
            wait: None,
        }
    }

    fn run_json() -> Value {
        json!({
            "id": "01J", "flow": "offboard", "flow_digest": "abc",
            "trigger": { "kind": "okta", "event_type": "user.lifecycle.deactivate", "event_uuid": "u-1", "source": "hook" },
            "input": null, "status": "failed",
            "created": "2026-12-01T09:00:00Z", "started": "2026-12-01T09:00:01Z", "ended": null,
            "output": null,
            "error": { "kind": "not-found", "message": "gone", "step": "a", "card": null, "retryable": false },
            "reason": null, "subject": "00u1", "dry_run": true
        })
    }

    #[test]
    fn a_waiting_run_says_what_it_waits_for() {
        let waiting = Run {
            status: RunStatus::Waiting,
            error: None,
            wait: Some(Wait {
                step: "approval".into(),
                seq: 4,
                since: at("2026-12-01T09:00:02Z"),
                until: Some(at("2026-12-03T09:00:02Z")),
                signal: Some("approval".into()),
                choices: vec!["approve".into(), "reject".into()],
            }),
            ..run()
        };
        let mut expected = run_json();
        expected["status"] = json!("waiting");
        expected["error"] = Value::Null;
        expected["wait"] = json!({
            "step": "approval", "seq": 4, "since": "2026-12-01T09:00:02Z", "until": "2026-12-03T09:00:02Z",
            "signal": "approval", "choices": ["approve", "reject"]
        });
        pinned(&waiting, expected);
        // A time wait names no signal and no choices.
        let timed = Run { wait: Some(Wait { signal: None, choices: vec![], ..waiting.wait.clone().unwrap() }), ..waiting };
        assert_eq!(
            serde_json::to_value(&timed).unwrap()["wait"],
            json!({ "step": "approval", "seq": 4, "since": "2026-12-01T09:00:02Z", "until": "2026-12-03T09:00:02Z" })
        );
        pinned(&SignalRequest { signal: "approval".into(), choice: Some("approve".into()), data: None }, json!({ "signal": "approval", "choice": "approve" }));
    }

    #[test]
    fn runs() {
        let listed = ListedRun { run: run(), who: Some(Who { login: Some("jo@acme.com".into()), name: None }) };
        let mut with_who = run_json();
        with_who["who"] = json!({ "login": "jo@acme.com", "name": null });
        pinned(&RunList { runs: vec![listed], next_cursor: Some("c".into()) }, json!({ "runs": [with_who], "next_cursor": "c" }));
        // No one to name: no `who` key at all.
        pinned(&ListedRun { run: run(), who: None }, run_json());

        let step = Step {
            run_id: "01J".into(),
            path: "notify".into(),
            kind: "card".into(),
            card: Some("slack.post@1.0.0".into()),
            input: Some(json!({ "text": "hi" })),
            output: None,
            error: None,
            attempts: 1,
            started: at("2026-12-01T09:00:02Z"),
            duration_ms: 12,
            fuel_used: 99,
            logs: vec![LogLine { level: "info".into(), message: "sent".into(), fields: None }],
            effects: vec![Effect { capability: "http".into(), operation: "POST https://slack.com".into(), args: json!({}) }],
            seq: 3,
            withheld: false,
        };
        pinned(
            &RunDetail { run: run(), steps: vec![step], trace: "t".into() },
            json!({
                "run": run_json(),
                "steps": [{
                    "run_id": "01J", "path": "notify", "kind": "card", "card": "slack.post@1.0.0",
                    "input": { "text": "hi" }, "output": null, "error": null, "attempts": 1,
                    "started": "2026-12-01T09:00:02Z", "duration_ms": 12, "fuel_used": 99,
                    "logs": [{ "level": "info", "message": "sent" }],
                    "effects": [{ "capability": "http", "operation": "POST https://slack.com", "args": {} }],
                    "seq": 3
                }],
                "trace": "t"
            }),
        );
        for (trigger, expected) in [
            (
                Trigger::Schedule { cron: "0 9 * * *".into(), timezone: "UTC".into(), fire_time: at("2026-12-01T09:00:00Z") },
                json!({ "kind": "schedule", "cron": "0 9 * * *", "timezone": "UTC", "fire_time": "2026-12-01T09:00:00Z" }),
            ),
            (Trigger::Api, json!({ "kind": "api" })),
            (Trigger::Flow { parent_run: "p".into(), parent_step: "s".into() }, json!({ "kind": "flow", "parent_run": "p", "parent_step": "s" })),
            (Trigger::Manual, json!({ "kind": "manual" })),
            (Trigger::Rerun { of: "r".into() }, json!({ "kind": "rerun", "of": "r" })),
        ] {
            pinned(&trigger, expected);
        }
    }

    #[test]
    fn started_runs() {
        pinned(&RunStarted { run_id: "01J".into(), run: None }, json!({ "run_id": "01J" }));
        pinned(&RunStarted { run_id: "01J".into(), run: Some(run()) }, json!({ "run_id": "01J", "run": run_json() }));
    }

    #[test]
    fn test_runs() {
        let detail = RunDetail { run: run(), steps: vec![], trace: "t".into() };
        pinned(&TestRun { detail, recorded: false }, json!({ "run": run_json(), "steps": [], "trace": "t", "recorded": false }));
    }

    #[test]
    fn runs_convert_to_and_from_the_history_records_unchanged() {
        let record: history::RunRecord = run().into();
        assert_eq!(serde_json::to_value(&record).unwrap(), run_json(), "the history record and the wire agree today");
        assert_eq!(Run::from(record), run());
    }

    #[test]
    fn flows() {
        let flow = |trigger| ListedFlow {
            name: "offboard".into(),
            description: "Offboards.".into(),
            file: "offboard.yaml".into(),
            digest: "d".into(),
            enabled: true,
            trigger,
            running: false,
            stats: None,
            error_flow: false,
        };
        let okta = FlowTrigger::Okta(OktaTrigger {
            event_types: vec!["user.lifecycle.deactivate".into()],
            filter: Some("event.outcome.result == 'SUCCESS'".into()),
            include_own_events: false,
            org: "default".into(),
        });
        assert_eq!(
            serde_json::to_value(flow(okta)).unwrap(),
            json!({
                "name": "offboard", "description": "Offboards.", "file": "offboard.yaml", "digest": "d", "enabled": true,
                "trigger": { "okta": {
                    "event_types": ["user.lifecycle.deactivate"], "filter": "event.outcome.result == 'SUCCESS'",
                    "include_own_events": false, "org": "default"
                } },
                "running": false, "stats": null, "error_flow": false
            })
        );
        let input = FlowInput { name: "who".into(), ty: "string".into(), required: true, default: None, description: Some("a login".into()) };
        for (trigger, expected) in [
            (
                FlowTrigger::Schedule(ScheduleTrigger { cron: "0 9 * * 1".into(), timezone: "Europe/Paris".into(), catch_up: "skip".into(), overlap: false }),
                json!({ "schedule": { "cron": "0 9 * * 1", "timezone": "Europe/Paris", "catch_up": "skip", "overlap": false } }),
            ),
            (FlowTrigger::Api(ApiTrigger { sync_timeout: Some("30s".into()) }), json!({ "api": { "sync_timeout": "30s" } })),
            (FlowTrigger::Api(ApiTrigger { sync_timeout: None }), json!({ "api": {} })),
            (FlowTrigger::Flow(HelperTrigger { inputs: vec![] }), json!({ "flow": { "inputs": [] } })),
            (FlowTrigger::Manual(HelperTrigger { inputs: vec![] }), json!("manual")),
            (
                FlowTrigger::Manual(HelperTrigger { inputs: vec![input] }),
                json!({ "manual": { "inputs": [{ "name": "who", "type": "string", "required": true, "description": "a login" }] } }),
            ),
        ] {
            assert_eq!(serde_json::to_value(&trigger).unwrap(), expected);
        }
        let stats = FlowStats {
            last_run: Some(LastRun { id: "01J".into(), status: RunStatus::Succeeded, created: at("2026-12-01T09:00:00Z"), ended: None }),
            last_24h: [(RunStatus::Succeeded, 2), (RunStatus::Failed, 1)].into(),
            more: false,
        };
        assert_eq!(
            serde_json::to_value(stats).unwrap(),
            json!({
                "last_run": { "id": "01J", "status": "succeeded", "created": "2026-12-01T09:00:00Z", "ended": null },
                "last_24h": { "succeeded": 2, "failed": 1 },
                "more": false
            })
        );
    }

    #[test]
    fn flow_files() {
        let t = at("2026-12-01T09:00:00Z");
        pinned(
            &FlowSaved { name: "f".into(), etag: "sha256:e".into(), version: 3, generation: 7 },
            json!({ "name": "f", "etag": "sha256:e", "version": 3, "generation": 7 }),
        );
        pinned(
            &FlowCreated { name: "f".into(), file: "f.yaml".into(), etag: "sha256:e".into(), version: 1 },
            json!({ "name": "f", "file": "f.yaml", "etag": "sha256:e", "version": 1 }),
        );
        pinned(
            &FlowToggled { etag: "sha256:e".into(), version: None, generation: None, changed: false },
            json!({ "etag": "sha256:e", "version": null, "changed": false }),
        );
        pinned(
            &FlowToggled { etag: "sha256:e".into(), version: Some(2), generation: Some(8), changed: true },
            json!({ "etag": "sha256:e", "version": 2, "generation": 8, "changed": true }),
        );
        pinned(
            &FlowVersions { file: "f.yaml".into(), versions: vec![FlowVersionSummary { version: 2, at: t, etag: "sha256:e".into(), note: None, action: "save".into() }] },
            json!({ "file": "f.yaml", "versions": [{ "version": 2, "at": "2026-12-01T09:00:00Z", "etag": "sha256:e", "note": null, "action": "save" }] }),
        );
        pinned(
            &FlowVersion { version: 2, at: t, file: "f.yaml".into(), etag: "sha256:e".into(), action: "save".into(), note: None, source: "name: f".into() },
            json!({ "version": 2, "at": "2026-12-01T09:00:00Z", "file": "f.yaml", "etag": "sha256:e", "action": "save", "source": "name: f" }),
        );
        pinned(
            &AuditList {
                entries: vec![AuditEntry {
                    at: t,
                    flow: "f".into(),
                    file: "f.yaml".into(),
                    action: "disable".into(),
                    version: Some(2),
                    note: Some("quiet".into()),
                    summary: "turned off".into(),
                }],
            },
            json!({ "entries": [{
                "at": "2026-12-01T09:00:00Z", "flow": "f", "file": "f.yaml", "action": "disable",
                "version": 2, "note": "quiet", "summary": "turned off"
            }] }),
        );
    }

    #[test]
    fn tables() {
        pinned(&TableList { tables: vec![TableSummary { name: "people".into(), rows: 3, bytes: 120 }] }, json!({ "tables": [{ "name": "people", "rows": 3, "bytes": 120 }] }));
        pinned(&Row { key: "u1".into(), value: json!({ "n": 1 }) }, json!({ "key": "u1", "value": { "n": 1 } }));
        pinned(
            &RowPage { table: "people".into(), rows: vec![Row { key: "u1".into(), value: json!(1) }], next: None, examined: 1 },
            json!({ "table": "people", "rows": [{ "key": "u1", "value": 1 }], "next": null, "examined": 1 }),
        );
        pinned(&RowWritten { key: "u1".into(), outcome: WriteOutcome::Changed }, json!({ "key": "u1", "outcome": "changed" }));
        pinned(&RowWritten { key: "u1".into(), outcome: WriteOutcome::Unchanged }, json!({ "key": "u1", "outcome": "unchanged" }));
        pinned(
            &Imported { table: "people".into(), imported: ImportCounts { inserted: 1, updated: 2, unchanged: 3, deleted: 4 } },
            json!({ "table": "people", "imported": { "inserted": 1, "updated": 2, "unchanged": 3, "deleted": 4 } }),
        );
        pinned(&Cleared { table: "people".into(), deleted: 2 }, json!({ "table": "people", "deleted": 2 }));
    }

    fn view() -> CardView {
        CardView {
            name: "acme.sync".into(),
            version: "1.0.0".into(),
            digest: "d".into(),
            size: 10,
            published_at: at("2026-12-01T09:00:00Z"),
            description: "Syncs.".into(),
            world: Some("0.1.0".into()),
            input_schema: json!({}),
            output_schema: json!({}),
            requested: vec!["mail".into()],
            granted: None,
            configured: None,
            effective: vec![],
            state: GrantState::Pending,
            missing: vec!["mail".into()],
            approve: Some("lanyard card grant acme.sync@1.0.0 mail".into()),
            used_by: None,
            broken: None,
        }
    }

    fn view_json() -> Value {
        json!({
            "name": "acme.sync", "version": "1.0.0", "digest": "d", "size": 10,
            "published_at": "2026-12-01T09:00:00Z", "description": "Syncs.", "world": "0.1.0",
            "input_schema": {}, "output_schema": {}, "requested": ["mail"], "granted": null, "configured": null,
            "effective": [], "state": "pending", "missing": ["mail"],
            "approve": "lanyard card grant acme.sync@1.0.0 mail"
        })
    }

    #[test]
    fn cards() {
        pinned(&CardVersions { name: "acme.sync".into(), versions: vec![view()] }, json!({ "name": "acme.sync", "versions": [view_json()] }));
        let mut used = view();
        used.used_by = Some(vec!["f".into()]);
        used.broken = Some("stalled".into());
        used.state = GrantState::NoneNeeded;
        let mut used_json = view_json();
        used_json["used_by"] = json!(["f"]);
        used_json["broken"] = json!("stalled");
        used_json["state"] = json!("none-needed");
        pinned(&used, used_json);

        let reloaded = RegistryReload { ok: true, generation: Some(4), error: None };
        pinned(
            &Publication {
                published: Published { card: view(), new: true, imports: vec!["lanyard:card/log".into()], load_ms: 5, compiled_before: false },
                reload: reloaded.clone(),
            },
            json!({
                "published": { "card": view_json(), "new": true, "imports": ["lanyard:card/log"], "load_ms": 5, "compiled_before": false },
                "reload": { "ok": true, "generation": 4 }
            }),
        );
        let failed = RegistryReload { ok: false, generation: None, error: Some("bad flow".into()) };
        pinned(&GrantAnswer { card: view(), reload: failed }, json!({ "card": view_json(), "reload": { "ok": false, "error": "bad flow" } }));
        pinned(&Removal { removed: view(), reload: RegistryReload { ok: true, generation: None, error: None } }, json!({ "removed": view_json(), "reload": { "ok": true } }));

        let listed = ListedCard {
            name: "lanyard.echo".into(),
            version: "0.1.0".into(),
            digest: "e".into(),
            source: CardSource::Builtin,
            description: "Echoes.".into(),
            group: "Custom".into(),
            input_schema: json!({}),
            output_schema: json!({}),
            requested: Grants::default(),
            granted: Grants::default(),
            size: 7,
            used_by: vec!["f".into()],
            usage: CardUsage { calls: 1, errors: 0, fuel: 9 },
            loaded: true,
            held: false,
            broken: Some(CardBroken { message: "stalled".into(), kind: ErrorKind::Deadline, since: at("2026-12-01T09:00:00Z") }),
        };
        let grants = serde_json::to_value(Grants::default()).unwrap();
        pinned(
            &CardList { cards: vec![listed] },
            json!({ "cards": [{
                "name": "lanyard.echo", "version": "0.1.0", "digest": "e", "source": "builtin", "description": "Echoes.",
                "group": "Custom", "input_schema": {}, "output_schema": {}, "requested": grants, "granted": grants,
                "size": 7, "used_by": ["f"], "usage": { "calls": 1, "errors": 0, "fuel": 9 }, "loaded": true, "held": false,
                "broken": { "message": "stalled", "kind": "deadline", "since": "2026-12-01T09:00:00Z" }
            }] }),
        );
        assert_eq!(serde_json::to_value(CardSource::Registry).unwrap(), json!("registry"));
    }

    fn diagnostic() -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: "unknown-card".into(),
            file: "f.yaml".into(),
            span: Some(Span { start: Pos { line: 3, col: 5 }, end: Pos { line: 3, col: 9 } }),
            message: "no card `x`".into(),
            step: Some("steps[0]".into()),
            help: None,
        }
    }

    fn diagnostic_json() -> Value {
        json!({
            "severity": "error", "code": "unknown-card", "file": "f.yaml",
            "span": { "start": { "line": 3, "col": 5 }, "end": { "line": 3, "col": 9 } },
            "message": "no card `x`", "step": "steps[0]"
        })
    }

    #[test]
    fn flow_list_and_reloads() {
        let t = at("2026-12-01T09:00:00Z");
        let failed = LoadError { at: t, message: "1 error".into(), diagnostics: vec![diagnostic()], rendered: "f.yaml:3:5: error".into() };
        let failed_json = json!({ "at": "2026-12-01T09:00:00Z", "message": "1 error", "diagnostics": [diagnostic_json()], "rendered": "f.yaml:3:5: error" });
        let status = ReloadStatus { generation: 4, loaded_at: t, flows: 2, last_error: None };
        pinned(&status, json!({ "generation": 4, "loaded_at": "2026-12-01T09:00:00Z", "flows": 2, "last_error": null }));
        pinned(
            &ReloadStatus { last_error: Some(failed.clone()), ..status.clone() },
            json!({ "generation": 4, "loaded_at": "2026-12-01T09:00:00Z", "flows": 2, "last_error": failed_json }),
        );
        assert_eq!(
            serde_json::to_value(FlowList { flows: vec![], status, stats_error: Some("store busy".into()) }).unwrap(),
            json!({
                "flows": [],
                "status": { "generation": 4, "loaded_at": "2026-12-01T09:00:00Z", "flows": 2, "last_error": null },
                "stats_error": "store busy"
            })
        );
        // `POST /api/v1/admin/reload`, refused: 422.
        let error = ErrorBody { diagnostics: Some(failed.diagnostics), rendered: Some(failed.rendered), ..ErrorBody::new("invalid_flows", failed.message) };
        pinned(
            &ErrorAnswer { error },
            json!({ "error": { "code": "invalid_flows", "message": "1 error", "diagnostics": [diagnostic_json()], "rendered": "f.yaml:3:5: error" } }),
        );
    }

    #[test]
    fn run_actions() {
        pinned(&Rerun { run_id: "01K".into(), dry_run: true }, json!({ "run_id": "01K", "dry_run": true }));
        pinned(&Cancelled { run_id: "01J".into(), cancelled: CancelOutcome::Dequeued }, json!({ "run_id": "01J", "cancelled": "dequeued" }));
        pinned(&Cancelled { run_id: "01J".into(), cancelled: CancelOutcome::Stopped }, json!({ "run_id": "01J", "cancelled": "stopped" }));
    }

    #[test]
    fn flow_checks() {
        let outline = json!({ "name": "f", "file": "f.yaml", "steps": [] });
        pinned(
            &FlowFile {
                name: "f".into(),
                file: "f.yaml".into(),
                source: "name: f".into(),
                etag: "sha256:e".into(),
                enabled: false,
                diagnostics: vec![diagnostic()],
                outline: Some(outline.clone()),
            },
            json!({
                "name": "f", "file": "f.yaml", "source": "name: f", "etag": "sha256:e", "enabled": false,
                "diagnostics": [diagnostic_json()], "outline": outline
            }),
        );
        // A refusal of the whole set names no place.
        let set_wide = Diagnostic { severity: Severity::Error, code: "flow-set".into(), file: String::new(), span: None, message: "two error flows".into(), step: None, help: None };
        pinned(
            &FlowCheck { ok: false, diagnostics: vec![set_wide], outline: None },
            json!({ "ok": false, "diagnostics": [{ "severity": "error", "code": "flow-set", "file": "", "message": "two error flows" }], "outline": null }),
        );
        let warning = Diagnostic { severity: Severity::Warning, help: Some("add `id`".into()), step: None, ..diagnostic() };
        assert_eq!(serde_json::to_value(&warning).unwrap()["severity"], json!("warning"));
        assert_eq!(serde_json::to_value(&warning).unwrap()["help"], json!("add `id`"));

        let changed = ErrorBody { current: Some(FlowText { etag: "sha256:e".into(), source: "name: f".into() }), ..ErrorBody::new("changed", "the file changed") };
        pinned(
            &ErrorAnswer { error: changed },
            json!({ "error": { "code": "changed", "message": "the file changed", "current": { "etag": "sha256:e", "source": "name: f" } } }),
        );
        let invalid = ErrorBody { diagnostics: Some(vec![diagnostic()]), ..ErrorBody::new("invalid", "1 error") };
        pinned(&ErrorAnswer { error: invalid }, json!({ "error": { "code": "invalid", "message": "1 error", "diagnostics": [diagnostic_json()] } }));
    }

    #[test]
    fn builder_tests() {
        pinned(
            &InvalidDraft { error: ErrorBody::new("invalid", "the flow has an error; fix it to test"), diagnostics: vec![diagnostic()] },
            json!({ "error": { "code": "invalid", "message": "the flow has an error; fix it to test" }, "diagnostics": [diagnostic_json()] }),
        );
        pinned(
            &TestRunGoing { run_id: "01J".into(), recorded: true, message: "still going".into() },
            json!({ "run_id": "01J", "recorded": true, "message": "still going" }),
        );
        let before = ReplayOutcome { status: RunStatus::Succeeded, steps: [("notify".to_string(), "succeeded".to_string())].into() };
        let replayed = |after| Replayed {
            run_id: "01J".into(),
            created: at("2026-12-01T09:00:00Z"),
            event_summary: "jo@acme.com deactivated".into(),
            before: before.clone(),
            after,
            effects: vec![Effect { capability: "http".into(), operation: "POST https://slack.com".into(), args: json!({}) }],
            differs: false,
            differences: vec![],
        };
        let replayed_json = |after| {
            json!({
                "run_id": "01J", "created": "2026-12-01T09:00:00Z", "event_summary": "jo@acme.com deactivated",
                "before": { "status": "succeeded", "steps": { "notify": "succeeded" } }, "after": after,
                "effects": [{ "capability": "http", "operation": "POST https://slack.com", "args": {} }],
                "differs": false, "differences": []
            })
        };
        pinned(
            &Replay { flow: "offboard".into(), runs: vec![replayed(Some(before.clone())), replayed(None)] },
            json!({ "flow": "offboard", "runs": [
                replayed_json(json!({ "status": "succeeded", "steps": { "notify": "succeeded" } })),
                replayed_json(Value::Null)
            ] }),
        );
        pinned(
            &CardTest {
                card: Some("slack.post@1.0.0".into()),
                ok: false,
                output: None,
                error: Some(Failure { kind: ErrorKind::NotFound, message: "gone".into(), step: Some("slack.post".into()), card: None, retryable: false, detail: None }),
                logs: vec![LogLine { level: "info".into(), message: "sent".into(), fields: None }],
                effects: vec![],
                fuel_used: 9,
                duration_ms: 3,
                dry_run: true,
            },
            json!({
                "card": "slack.post@1.0.0", "ok": false, "output": null,
                "error": { "kind": "not-found", "message": "gone", "step": "slack.post", "card": null, "retryable": false },
                "logs": [{ "level": "info", "message": "sent" }], "effects": [], "fuel_used": 9, "duration_ms": 3, "dry_run": true
            }),
        );
        pinned(
            &EventSample { event_type: "user.lifecycle.deactivate".into(), source: "generated".into(), event: json!({ "uuid": "u" }) },
            json!({ "event_type": "user.lifecycle.deactivate", "source": "generated", "event": { "uuid": "u" } }),
        );
    }

    #[test]
    fn builder_reference() {
        let info = &crate::event_catalog::event_types()[0];
        let listed = EventTypes { event_types: vec![info.into()] };
        // The catalog's own serialization and the wire agree on every type.
        assert_eq!(serde_json::to_value(&listed).unwrap(), json!({ "event_types": [info] }));
        let all: Vec<EventType> = crate::event_catalog::event_types().iter().map(Into::into).collect();
        assert_eq!(serde_json::to_value(all).unwrap(), serde_json::to_value(crate::event_catalog::event_types()).unwrap());
        pinned(
            &EventType {
                event_type: "user.lifecycle.deactivate".into(),
                name: "User deactivated".into(),
                description: "d".into(),
                category: "Users".into(),
                words: "When a user is deactivated in Okta".into(),
            },
            json!({ "type": "user.lifecycle.deactivate", "name": "User deactivated", "description": "d", "category": "Users", "words": "When a user is deactivated in Okta" }),
        );
        pinned(
            &SchedulePreview { words: "Every day at 09:00 (UTC)".into(), next: vec!["2026-12-01T09:00:00Z".into()] },
            json!({ "words": "Every day at 09:00 (UTC)", "next": ["2026-12-01T09:00:00Z"] }),
        );
    }

    #[test]
    fn library() {
        let flow = LibraryFlow {
            id: "offboard".into(),
            file: "offboard.yaml".into(),
            name: "Offboard".into(),
            description: "Offboards.\n\nNeeds: a table.".into(),
            summary: "Offboards.".into(),
            trigger: LibraryTrigger { kind: "okta".into(), words: "When a user is deactivated in Okta".into(), event_types: vec!["user.lifecycle.deactivate".into()] },
            cards: vec!["lanyard.tables@1".into()],
            needs: Needs { tables: vec![TableNeed { name: "people".into(), read: true, write: false }], connections: vec![], mail: true },
            grants: "[cards.\"lanyard.tables@1\"]".into(),
            imported: false,
            problems: vec![],
        };
        let flow_json = json!({
            "id": "offboard", "file": "offboard.yaml", "name": "Offboard", "description": "Offboards.\n\nNeeds: a table.",
            "summary": "Offboards.",
            "trigger": { "kind": "okta", "words": "When a user is deactivated in Okta", "event_types": ["user.lifecycle.deactivate"] },
            "cards": ["lanyard.tables@1"],
            "needs": { "tables": [{ "name": "people", "read": true, "write": false }], "connections": [], "mail": true },
            "grants": "[cards.\"lanyard.tables@1\"]", "imported": false, "problems": []
        });
        pinned(&LibraryList { flows: vec![flow.clone()] }, json!({ "flows": [flow_json.clone()] }));
        let mut detail_json = flow_json;
        detail_json["source"] = json!("name: Offboard");
        detail_json["outline"] = Value::Null;
        pinned(&LibraryFlowDetail { flow, source: "name: Offboard".into(), outline: None }, detail_json);
    }

    #[test]
    fn events_and_orgs() {
        pinned(
            &Rejections {
                total: 3,
                recent: vec![RejectedEvent {
                    received: at("2026-12-01T09:00:00Z"),
                    source: "hook".into(),
                    uuid: Some("u-1".into()),
                    event_type: None,
                    reason: "too large".into(),
                }],
            },
            json!({ "total": 3, "recent": [{ "received": "2026-12-01T09:00:00Z", "source": "hook", "uuid": "u-1", "event_type": null, "reason": "too large" }] }),
        );
        pinned(
            &OrgList {
                orgs: vec![Org {
                    name: "prod".into(),
                    kind: "org".into(),
                    url: Some("https://acme.okta.com".into()),
                    default: true,
                    hook_path: None,
                    self_actor_ids: vec!["00u1".into()],
                }],
            },
            json!({ "orgs": [{ "name": "prod", "kind": "org", "url": "https://acme.okta.com", "default": true, "hook_path": null, "self_actor_ids": ["00u1"] }] }),
        );
    }

    #[test]
    fn errors() {
        pinned(&ErrorAnswer { error: ErrorBody::new("not_found", "no run") }, json!({ "error": { "code": "not_found", "message": "no run" } }));
        let mut body = ErrorBody::new("bad_describe", "refused");
        body.detail = Some("d".into());
        body.problems = Some(vec!["p".into()]);
        body.flows = Some(vec!["f".into()]);
        pinned(&ErrorAnswer { error: body }, json!({ "error": { "code": "bad_describe", "message": "refused", "detail": "d", "problems": ["p"], "flows": ["f"] } }));
    }
}
