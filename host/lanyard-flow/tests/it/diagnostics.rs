//! Every broken flow in the corpus, with the diagnostics it must produce.

use crate::support::*;
use lanyard_flow::*;

#[test]
fn broken_flows_report_every_problem_with_its_place() {
    let files = fixtures("broken");
    assert!(files.len() >= 9);
    for file in &files {
        let v = validate(std::slice::from_ref(file), &catalog());
        assert!(v.has_errors(), "{} has no errors", file.path);
        assert!(v.flows.is_empty(), "{} produced a flow", file.path);
        for d in &v.diagnostics {
            assert!(d.span.start.line > 0, "{}: {d:?} has no place", file.path);
        }
        let name = file
            .path
            .trim_start_matches("broken/")
            .trim_end_matches(".yaml")
            .to_string();
        insta::assert_snapshot!(format!("diag-{name}"), v.render(std::slice::from_ref(file)));
    }
}

#[test]
fn diagnostics_have_a_structured_form() {
    let file = fixtures("broken")
        .into_iter()
        .find(|f| f.path.ends_with("unknown-card.yaml"))
        .unwrap();
    let v = validate(std::slice::from_ref(&file), &catalog());
    let json = serde_json::to_value(&v.diagnostics[0]).unwrap();
    assert_eq!(json["code"], "unknown-card");
    assert_eq!(json["file"], "broken/unknown-card.yaml");
    assert_eq!(json["span"]["start"]["line"], 6);
    assert_eq!(json["span"]["start"]["col"], 11);
    assert_eq!(json["step"], "steps[0] (id: user)");
    assert_eq!(json["severity"], "error");
}

fn set(files: &[(&str, &str)]) -> (Vec<SourceFile>, Validation) {
    let files: Vec<SourceFile> = files.iter().map(|(p, t)| SourceFile::new(*p, *t)).collect();
    let v = validate(&files, &catalog());
    (files, v)
}

#[test]
fn problems_across_flows_are_reported() {
    let (files, v) = set(&[
        (
            "flows/a.yaml",
            "name: a\ndescription: calls b\ntrigger: flow\nsteps:\n  - call: b\n",
        ),
        (
            "flows/b.yaml",
            "name: b\ndescription: calls a\ntrigger: flow\nsteps:\n  - call: a\n",
        ),
        (
            "flows/c.yaml",
            "name: c\ndescription: calls things\ntrigger: manual\nsteps:\n  - call: notify\n    with: { emial: x }\n  - call: d\n  - call: a-helper\n",
        ),
        (
            "flows/d.yaml",
            "name: d\ndescription: not a helper\ntrigger: manual\nsteps:\n  - stop:\n",
        ),
        (
            "flows/notify.yaml",
            "name: notify\ndescription: a helper\ntrigger:\n  flow:\n    inputs:\n      email: string\nsteps:\n  - return: '{{ inputs.email }}'\n",
        ),
        (
            "flows/d2.yaml",
            "name: d\ndescription: same name\ntrigger: manual\nsteps:\n  - stop:\n",
        ),
    ]);
    insta::assert_snapshot!("diag-across-flows", v.render(&files));
    let names: Vec<&str> = v.flows.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"notify"));
    // Two flows named `d`: neither is loaded, the name is ambiguous.
    assert_eq!(names, ["notify"]);
}

#[test]
fn a_helper_calling_itself_is_a_cycle() {
    let (_, v) = set(&[(
        "f.yaml",
        "name: f\ndescription: d\ntrigger: flow\nsteps:\n  - call: f\n",
    )]);
    assert_eq!(v.diagnostics.len(), 1);
    assert_eq!(v.diagnostics[0].code, "helper-cycle");
    assert!(v.diagnostics[0].message.ends_with("f → f"));
}

#[test]
fn handlers_and_ends_shape_what_is_defined() {
    // A step whose handler stops is defined after it; a branch that returns
    // does not stop its sibling's steps from counting; a loop body is not
    // visible after the loop.
    let (files, v) = set(&[(
        "scope.yaml",
        r#"
name: scope
description: d
trigger: manual
steps:
  - id: a
    card: test.echo
    on_error:
      - stop:
  - if: "a"
    then:
      - return: 1
    else:
      - id: b
        card: test.echo
  - card: test.echo
    with: { a: "{{ a }}", b: "{{ b }}" }
  - for_each: [1]
    steps:
      - id: inner
        card: test.echo
  - card: test.echo
    with: { x: "{{ inner }}" }
"#,
    )]);
    let text = v.render(&files);
    assert_eq!(v.diagnostics.len(), 1, "{text}");
    assert!(
        text.contains("step `inner` does not run on every path"),
        "{text}"
    );
}

#[test]
fn a_loop_over_pages_needs_a_card_that_pages_and_leaves_the_cursor_to_the_loop() {
    let (files, v) = set(&[(
        "pages.yaml",
        r#"
name: pages
description: d
trigger: manual
steps:
  - for_each:
      card: test.pages
      with: { after: "x" }
    steps:
      - card: test.echo
  - for_each:
      card: okta.get-user
      with: { id: "00u1" }
    steps:
      - card: test.echo
  - for_each:
      card: test.pages
      pages: 3
    steps:
      - card: test.echo
  - for_each:
      card: test.pages
      with: { page_size: 100 }
      retry: 3
    as: u
    steps:
      - card: test.echo
        with: { id: "{{ u.id }}" }
"#,
    )]);
    let text = v.render(&files);
    assert_eq!(v.diagnostics.len(), 3, "{text}");
    for want in [
        "`after` is the page cursor, which the loop passes to the card itself",
        "card `okta.get-user` does not answer in pages (it takes no `after`)",
        "unknown key `pages` in a `for_each` over pages",
    ] {
        assert!(text.contains(want), "`{want}` is not in:\n{text}");
    }
}
