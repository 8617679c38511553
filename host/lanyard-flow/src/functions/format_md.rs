//! FORMAT.md's promises about functions, held by the tests: every row of an
//! `| expression | gives |` table gives what it says, every expression in
//! the Okta Workflows table compiles and calls only what exists, and every
//! function, filter, test and method this module adds is written there.

use super::testing::TestRun;
use super::{CONTEXT_FUNCTIONS, FILTERS, FUNCTIONS, TESTS, methods, unknown_calls};
use crate::expr::Expr;

/// The time FORMAT.md's examples run at: 2026-03-02T14:00:00Z.
const NOW: i64 = 1_772_460_000;

fn format_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/FORMAT.md");
    std::fs::read_to_string(path).expect("FORMAT.md beside the manifest")
}

/// The rows of every table whose header is `header`: each row's cells, with
/// `\|` read as `|`, and its line number.
fn rows(markdown: &str, header: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut inside = false;
    for (i, line) in markdown.lines().enumerate() {
        let line = line.trim();
        if line == header {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if !line.starts_with('|') {
            inside = false;
            continue;
        }
        if line.starts_with("|---") {
            continue;
        }
        let cells = line
            .replace("\\|", "\u{1}")
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().replace('\u{1}', "|"))
            .collect();
        out.push((i + 1, cells));
    }
    out
}

/// The text of each `code span` in a cell.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

#[test]
fn every_example_gives_what_format_md_says() {
    let md = format_md();
    let run = TestRun::at(NOW);
    let rows = rows(&md, "| expression | gives |");
    assert!(rows.len() >= 60, "only {} examples found", rows.len());
    for (line, cells) in rows {
        let [expr, gives] = &cells[..] else {
            panic!("FORMAT.md:{line}: a row of two cells, not {cells:?}");
        };
        let src = expr
            .strip_prefix('`')
            .and_then(|e| e.strip_suffix('`'))
            .unwrap_or_else(|| panic!("FORMAT.md:{line}: the expression is one `code span`"));
        let got = run
            .eval(src, serde_json::json!({}))
            .unwrap_or_else(|e| panic!("FORMAT.md:{line}: `{src}` fails: {e}"));
        // A result in one code span is JSON to compare; words describe one.
        if let Some(json) = gives.strip_prefix('`').and_then(|g| g.strip_suffix('`')) {
            let want: serde_json::Value = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("FORMAT.md:{line}: `{json}` is not JSON: {e}"));
            assert_eq!(got, want, "FORMAT.md:{line}: `{src}`");
        }
    }
}

#[test]
fn the_okta_table_uses_only_what_exists() {
    let md = format_md();
    let rows = rows(&md, "| Okta Workflows card | in lanyard |");
    assert!(rows.len() >= 50, "only {} cards found", rows.len());
    for (line, cells) in rows {
        let Some(lanyard) = cells.get(1) else {
            continue;
        };
        for span in code_spans(lanyard) {
            // A value with `{{ }}` holes is YAML text, not an expression.
            if span.contains("{{") {
                continue;
            }
            if let Err(e) = Expr::compile(span, "x") {
                panic!("FORMAT.md:{line}: `{span}` does not compile: {}", e.message);
            }
            let unknown = unknown_calls(span);
            assert!(
                unknown.is_empty(),
                "FORMAT.md:{line}: `{span}` calls {unknown:?}"
            );
        }
    }
}

#[test]
fn every_name_added_is_documented() {
    let md = format_md();
    let names = FUNCTIONS
        .iter()
        .chain(&CONTEXT_FUNCTIONS)
        .chain(&FILTERS)
        .chain(&TESTS)
        .chain(&methods::METHODS);
    for name in names {
        let written = md.match_indices(name).any(|(at, _)| {
            let before = md[..at].chars().next_back();
            let after = md[at + name.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        });
        assert!(written, "`{name}` is not in FORMAT.md");
    }
}
