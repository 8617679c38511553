//! The compiled form of good flows, and what compiled triggers can do.

use crate::support::*;
use chrono::{DateTime, Utc};
use lanyard_flow::*;
use serde_json::json;

#[test]
fn good_flows_compile_to_their_snapshots() {
    let files = fixtures("good");
    assert!(files.len() >= 6);
    let v = validate(&files, &catalog());
    assert!(!v.has_errors(), "{}", v.render(&files));
    assert!(v.diagnostics.is_empty(), "{}", v.render(&files));
    assert_eq!(v.flows.len(), files.len());
    for (file, flow) in files.iter().zip(&v.flows) {
        let name = file
            .path
            .trim_start_matches("good/")
            .trim_end_matches(".yaml")
            .to_string();
        insta::assert_yaml_snapshot!(format!("compiled-{name}"), flow);
    }
}

#[test]
fn generated_ids_are_kind_and_number_and_skip_taken_ones() {
    let flow = compile_ok(
        "ids.yaml",
        r#"
name: ids
description: generated ids
trigger: manual
steps:
  - id: card-1
    card: test.echo
  - card: test.echo
  - if: "true"
    then:
      - card: test.echo
  - for_each: [1, 2]
    steps:
      - assign: { x: 1 }
"#,
    );
    let ids: Vec<&str> = flow.walk().iter().map(|s| &*s.id).collect();
    assert_eq!(
        ids,
        [
            "card-1",
            "card-2",
            "if-1",
            "card-3",
            "for-each-1",
            "assign-1"
        ]
    );
}

#[test]
fn schedules_fire_in_their_time_zone_across_dst() {
    let flow = good("mfa-reminder.yaml");
    let Trigger::Schedule(s) = &flow.trigger else {
        panic!("not a schedule")
    };
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    // Friday 2026-03-06 after 9:00 EST (14:00Z): next is Monday 9:00 EST.
    assert_eq!(
        s.next_fire_after(at("2026-03-06T15:00:00Z")),
        Some(at("2026-03-09T13:00:00Z"))
    );
    // DST started on 2026-03-08: Monday 9:00 EDT is 13:00Z, not 14:00Z.
    assert_eq!(
        s.next_fire_after(at("2026-03-02T13:00:00Z")),
        Some(at("2026-03-02T14:00:00Z"))
    );
    let fires = s.fires_between(at("2026-03-02T00:00:00Z"), at("2026-03-10T00:00:00Z"), 100);
    assert_eq!(fires.len(), 6);
    assert_eq!(
        s.fires_between(at("2026-03-02T00:00:00Z"), at("2026-03-10T00:00:00Z"), 2)
            .len(),
        2
    );
}

#[test]
fn cron_with_seconds_is_accepted() {
    let flow = compile_ok(
        "sec.yaml",
        "name: s\ndescription: d\ntrigger: { schedule: { cron: '30 */5 * * * *', timezone: UTC } }\nsteps: [ { stop: } ]\n",
    );
    let Trigger::Schedule(s) = &flow.trigger else {
        panic!()
    };
    let next = s
        .next_fire_after("2026-01-01T00:00:00Z".parse().unwrap())
        .unwrap();
    assert_eq!(next.to_rfc3339(), "2026-01-01T00:00:30+00:00");
}

#[test]
fn okta_trigger_matches_type_and_filter() {
    let flow = good("onboarding.yaml");
    let Trigger::Okta(t) = &flow.trigger else {
        panic!()
    };
    let mut ev = deactivate_event("00u1");
    assert!(
        !t.matches(&ev).unwrap(),
        "deactivate is not one of its types"
    );
    ev["eventType"] = json!("user.lifecycle.create");
    assert!(t.matches(&ev).unwrap());
    ev["target"][0]["type"] = json!("AppUser");
    assert!(!t.matches(&ev).unwrap(), "the filter refuses non-users");
    ev["target"] = json!([]);
    let err = t.matches(&ev).unwrap_err();
    assert_eq!(err.field, "filter");
}

#[test]
fn validation_exposes_a_library_of_helpers() {
    let files = fixtures("good");
    let v = validate(&files, &catalog());
    let lib = Library::new(v.flows);
    assert!(lib.helper("notify-person").is_some());
    assert!(lib.helper("api-check").is_none(), "not a helper");
    let lockout = lib.get("Manager notification on lockout").unwrap();
    assert_eq!(lockout.calls().collect::<Vec<_>>(), ["notify-person"]);
}

#[test]
fn enabled_is_on_when_absent_off_when_false_and_must_be_a_boolean() {
    let text = |enabled: &str| {
        format!("name: toggled\ndescription: on or off\n{enabled}trigger: manual\nsteps:\n  - card: test.echo\n")
    };
    assert!(compile_ok("on.yaml", &text("")).enabled);
    assert!(compile_ok("on.yaml", &text("enabled: true\n")).enabled);
    assert!(!compile_ok("off.yaml", &text("enabled: false\n")).enabled);
    let c = compile("bad.yaml", &text("enabled: \"no\"\n"), &catalog());
    assert!(c.flow.is_none());
    let d = c.diagnostics.iter().find(|d| d.is_error()).expect("an error");
    assert_eq!(d.message, "`enabled` must be true or false, not text");
    assert_eq!((d.span.start.line, d.span.start.col), (3, 10));
}
