//! The documentation, run as written, through the real binary.
//!
//! - Every flow in `host/lanyard-flow/FORMAT.md` (and the one in
//!   `sdk/README.md`) passes `lanyard validate` against the built-in cards, so
//!   card names and inputs are checked; each `trigger:` example does too, inside
//!   a minimal flow. FORMAT.md's main example also runs, as a dry run against
//!   the embedded sandbox org.
//! - A Rust card made by `lanyard card new`, with no `--sdk-path`, builds for
//!   `wasm32-wasip2` offline against this repository's `sdk/`, passes its own
//!   tests, and runs with the command its README gives.
//! - Every `lanyard ...` command the READMEs and the card guides show parses
//!   as the binary's CLI does (it is run with `--help` after it, which clap
//!   reads only once every subcommand, flag and value before it has been
//!   accepted), and the complete card of `sdk/README.md` builds, offline, and
//!   its commands run as written.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The binary, with no config or SDK path from the environment and its
/// compiled-card cache in the target directory (shared by runs of this test).
fn lanyard(args: &[&str], dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lanyard"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("LANYARD_CONFIG")
        .env_remove("LANYARD_SDK_PATH")
        .env_remove("LANYARD_LOG")
        .env(
            "LANYARD_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("docs-card-cache"),
        )
        .env(
            "XDG_CACHE_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("docs-cache"),
        );
    cmd
}

fn shown(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A fenced block of a Markdown file: the line its text starts on (1-based),
/// its info string and its text, dedented by the fence's indentation.
struct Block {
    line: usize,
    info: String,
    text: String,
}

fn fenced_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, usize, String, Vec<&str>)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match (&mut open, trimmed.strip_prefix("```")) {
            (None, Some(info)) => open = Some((i + 2, indent, info.trim().to_string(), Vec::new())),
            (Some(_), Some("")) => {
                let (line, indent, info, lines) = open.take().unwrap();
                let text = lines
                    .iter()
                    .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
                    .collect::<Vec<_>>();
                blocks.push(Block {
                    line,
                    info,
                    text: text.join("\n") + "\n",
                });
            }
            (Some((.., lines)), _) => lines.push(line),
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a fenced block is never closed");
    blocks
}

fn is_whole_flow(text: &str) -> bool {
    ["name:", "description:", "trigger:", "steps:"]
        .iter()
        .all(|key| text.lines().any(|l| l.starts_with(key)))
}

/// `lanyard validate --format json` of every flow file in `dir`.
fn validate(dir: &Path) -> (Output, Value) {
    let out = lanyard(&["validate", "--format", "json", "."], dir)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", shown(&out)));
    (out, json)
}

/// The human report of the same, for a failing test's message.
fn validate_human(dir: &Path) -> String {
    shown(&lanyard(&["validate", "."], dir).output().unwrap())
}

#[test]
fn every_flow_and_trigger_in_the_format_reference_validates() {
    let dir = tempfile::tempdir().unwrap();
    let (mut flows, mut triggers, mut fragments) = (0, 0, 0);
    let mut main_example = None;
    for block in fenced_blocks(&read("host/lanyard-flow/FORMAT.md")) {
        let at = block.line;
        match block.info.as_str() {
            "yaml" => {
                assert!(
                    is_whole_flow(&block.text),
                    "FORMAT.md:{at}: a ```yaml block must be a whole flow; mark a part of one ```yaml fragment"
                );
                let file = dir.path().join(format!("format-md-line-{at}.yaml"));
                std::fs::write(&file, &block.text).unwrap();
                main_example.get_or_insert(file);
                flows += 1;
            }
            "yaml trigger" => {
                // One or more `trigger:` values (`trigger: api` shows two forms).
                let mut starts: Vec<usize> = block
                    .text
                    .match_indices("trigger:")
                    .map(|(i, _)| i)
                    .collect();
                starts.retain(|&i| i == 0 || block.text.as_bytes()[i - 1] == b'\n');
                assert!(
                    !starts.is_empty(),
                    "FORMAT.md:{at}: a ```yaml trigger block without `trigger:`"
                );
                starts.push(block.text.len());
                for (n, pair) in starts.windows(2).enumerate() {
                    let trigger = &block.text[pair[0]..pair[1]];
                    let flow = format!(
                        "name: FORMAT.md line {at} trigger {n}\ndescription: a trigger example of FORMAT.md\n{}\nsteps:\n  - return: {{ ok: true }}\n",
                        trigger.trim_end()
                    );
                    std::fs::write(
                        dir.path()
                            .join(format!("format-md-line-{at}-trigger-{n}.yaml")),
                        flow,
                    )
                    .unwrap();
                    triggers += 1;
                }
            }
            "yaml fragment" => fragments += 1,
            info if info.starts_with("yaml") => {
                panic!("FORMAT.md:{at}: unknown block kind ```{info}")
            }
            _ => {}
        }
    }
    // What the reference holds today; a block that stops being found is a bug here.
    assert!(
        flows >= 1 && triggers >= 8 && fragments >= 7,
        "{flows} flows, {triggers} triggers, {fragments} fragments"
    );

    let (out, json) = validate(dir.path());
    let report = validate_human(dir.path());
    assert!(
        out.status.success() && json["ok"] == true,
        "FORMAT.md's examples do not validate:\n{report}"
    );
    // Not even a warning: every card is built in, so every name and input was checked.
    assert_eq!(json["diagnostics"], Value::Array(vec![]), "{report}");
    assert_eq!(
        json["flows"].as_array().unwrap().len(),
        flows + triggers,
        "{report}"
    );

    // The main example also runs: a dry run (writes recorded, reads real) against
    // the embedded sandbox org, on the sample deactivation event. Its data
    // directory, `./lanyard-data`, stays in the target directory between runs
    // of this test, with the built-in cards compiled once.
    let main_example = main_example.unwrap();
    assert!(
        std::fs::read_to_string(&main_example)
            .unwrap()
            .contains("okta: user.lifecycle.deactivate")
    );
    let workdir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("docs-format-run");
    std::fs::create_dir_all(&workdir).unwrap();
    let sample = repo().join("flows/samples/offboarding.json");
    let args = [
        "run",
        main_example.to_str().unwrap(),
        "--event",
        sample.to_str().unwrap(),
        "--dry-run",
        "--json",
    ];
    let out = lanyard(&args, &workdir).output().unwrap();
    let trace = || shown(&lanyard(&args[..5], &workdir).output().unwrap());
    let run: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", shown(&out)));
    assert_eq!(
        run["run"]["status"],
        "succeeded",
        "FORMAT.md's main example fails as a dry run:\n{}",
        trace()
    );
    let steps = run["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["error"].is_null()), "{}", trace());
    // The user was in groups to leave, so the loop had work.
    assert!(
        steps
            .iter()
            .any(|s| s["path"].as_str().unwrap().starts_with("remove-groups[0]/")),
        "{}",
        trace()
    );
}

/// A flow with a misspelt filter, an unknown function and a misspelt test:
/// the `text` block of FORMAT.md shows the first as validate prints it.
const WELCOME: &str = r#"name: welcome
description: Tell IT how many groups a new user is in.
trigger:
  okta: user.lifecycle.create
steps:
  - id: groups
    card: okta.list-user-groups
    with: { user: "{{ event.target[0].id }}" }
  - id: note
    card: slack.post
    with:
      connection: it-slack
      text: "{{ groups.items | lenght }} groups"
  - if: event.target[0] is definedd
    then:
      - assign: { ref: "{{ foo() }}" }
"#;

#[test]
fn validate_refuses_unknown_functions_filters_and_tests_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("flows")).unwrap();
    std::fs::write(dir.path().join("flows/welcome.yaml"), WELCOME).unwrap();
    let out = lanyard(&["validate", "flows"], dir.path())
        .output()
        .unwrap();
    let report = shown(&out);
    assert!(!out.status.success(), "{report}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let documented = fenced_blocks(&read("host/lanyard-flow/FORMAT.md"))
        .into_iter()
        .find(|b| b.info == "text" && b.text.contains("unknown filter"))
        .expect("FORMAT.md shows an unknown filter");
    assert!(
        stdout.contains(&documented.text),
        "FORMAT.md:{} shows\n{}\nbut validate prints\n{report}",
        documented.line,
        documented.text
    );
    for line in [
        "flows/welcome.yaml:14:28: error: unknown test `definedd` (did you mean `defined`?)",
        "flows/welcome.yaml:16:28: error: unknown function `foo`",
        "  help: the functions expressions can use are listed in FORMAT.md, \"Functions and filters\"",
        "3 errors, 0 warnings",
    ] {
        assert!(stdout.contains(line), "no `{line}` in\n{report}");
    }
    // `foo` is reported once, as a function, not also as an unknown name.
    assert!(!stdout.contains("unknown name"), "{report}");

    let (out, json) = validate(&dir.path().join("flows"));
    assert!(!out.status.success());
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["unknown-filter", "unknown-test", "unknown-function"],
        "{json}"
    );
    assert_eq!(
        json["diagnostics"][0]["span"]["start"],
        serde_json::json!({"line": 13, "col": 32})
    );
    assert_eq!(
        json["diagnostics"][0]["span"]["end"],
        serde_json::json!({"line": 13, "col": 38})
    );
}

#[test]
fn the_sdk_readmes_flow_validates_but_for_its_unpublished_card() {
    let dir = tempfile::tempdir().unwrap();
    let flows: Vec<Block> = fenced_blocks(&read("sdk/README.md"))
        .into_iter()
        .filter(|b| b.info == "yaml")
        .collect();
    assert_eq!(flows.len(), 1, "sdk/README.md shows one flow");
    assert!(
        is_whole_flow(&flows[0].text),
        "sdk/README.md:{}:\n{}",
        flows[0].line,
        flows[0].text
    );
    std::fs::write(dir.path().join("notice.yaml"), &flows[0].text).unwrap();

    let (out, json) = validate(dir.path());
    let report = validate_human(dir.path());
    assert!(out.status.success() && json["ok"] == true, "{report}");
    // The card it builds is not in any registry here: that, and only that, is not checked.
    let diagnostics = json["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{report}");
    assert_eq!(diagnostics[0]["severity"], "warning", "{report}");
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .contains("`acme.offboard-notice` is not built in"),
        "{report}"
    );
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", shown(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Words of a shell command line: whitespace-separated, with '...' and "..."
/// quoting, up to a `#` comment.
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => (quote, in_word) = (Some(c), true),
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unclosed quote in {line:?}");
    if in_word {
        words.push(word);
    }
    words
}

/// Every `lanyard ...` command in `markdown`: lines of its code blocks
/// (continued with `\`; `cargo run -p lanyard -- ...` counts), and code spans.
fn commands(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    for block in fenced_blocks(markdown)
        .iter()
        .filter(|b| matches!(b.info.as_str(), "sh" | "bash" | ""))
    {
        for line in block.text.replace("\\\n", " ").lines() {
            let line = line.trim().replace("cargo run -p lanyard -- ", "lanyard ");
            if line.starts_with("lanyard ") {
                found.push(line);
            }
        }
    }
    for (i, _) in markdown.match_indices("`lanyard ") {
        let span = &markdown[i + 1..];
        let end = span.find('`').expect("a code span is closed");
        found.push(span[..end].split_whitespace().collect::<Vec<_>>().join(" "));
    }
    found
}

/// Panics unless the binary parses `command` (from `doc`) as it is written.
fn assert_takes(doc: &str, command: &str) {
    let mut words = shell_words(command);
    assert_eq!(words.remove(0), "lanyard");
    words.push("--help".into());
    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    let out = lanyard(&args, &repo()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("Usage: lanyard"),
        "{doc}: `{command}` is not a command lanyard takes:\n{}",
        shown(&out)
    );
}

#[test]
fn a_rust_card_from_card_new_builds_offline_against_this_sdk_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("card");
    // Outside the checkout, no --sdk-path: the SDK of the checkout the binary was built from.
    let said = run_ok(&mut lanyard(
        &[
            "card",
            "new",
            "acme.docs-check",
            "--dir",
            dir.to_str().unwrap(),
        ],
        tmp.path(),
    ));
    let sdk = repo().join("sdk");
    assert!(
        said.contains(&format!("lanyard-sdk: {}", sdk.display())),
        "{said}"
    );
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("lanyard-sdk = {{ path = \"{}\" }}", sdk.display())),
        "{manifest}"
    );

    // Offline: the SDK's dependencies come from what building lanyard's own
    // cards put in cargo's cache. One target dir for every run of this test.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("card-new-rust-target");
    let cargo = |program: &str| {
        let mut c = Command::new(program);
        c.current_dir(&dir)
            .env("CARGO", env!("CARGO"))
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET");
        c
    };
    let tested = run_ok(cargo(env!("CARGO")).args(["test", "--quiet"]));
    assert!(tested.contains("4 passed"), "{tested}");
    run_ok(cargo("bash").arg("build.sh"));
    let wasm = dir.join("acme_docs_check.wasm");
    assert!(wasm.is_file(), "build.sh wrote no {}", wasm.display());

    let inspected: Value = serde_json::from_str(&run_ok(&mut lanyard(
        &["card", "inspect", "--json", "acme_docs_check.wasm"],
        &dir,
    )))
    .unwrap();
    assert_eq!(inspected["name"], "acme.docs-check", "{inspected:#}");
    assert_eq!(inspected["version"], "0.1.0", "{inspected:#}");

    // The card's README says how to try it: that command, as written; the
    // others (publish, grant) need a daemon, and are only parsed.
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let shown_commands = commands(&readme);
    assert!(shown_commands.len() >= 3, "{readme}");
    for command in &shown_commands {
        assert_takes("the card's README.md", command);
    }
    let try_it = shown_commands
        .into_iter()
        .find(|c| c.starts_with("lanyard card run"))
        .expect("the README shows `lanyard card run`");
    let words = shell_words(&try_it);
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let ran = run_ok(&mut lanyard(&args, &dir));
    assert!(
        ran.contains("\"allowed\": true") && ran.contains("\"domain\": \"example.com\""),
        "{ran}"
    );
}

#[test]
fn every_command_the_readmes_show_is_one_the_binary_takes() {
    let mut checked = 0;
    for doc in [
        "README.md",
        "sdk/README.md",
        "cards/examples/README.md",
        "host/lanyard-flow/FORMAT.md",
        "docs/cards-python.md",
        "docs/cards-js.md",
        "flows/README.md",
    ] {
        for command in commands(&read(doc)) {
            assert_takes(doc, &command);
            checked += 1;
        }
    }
    // The README's everyday commands alone are ten.
    assert!(checked >= 20, "only {checked} commands found");
}

#[test]
fn a_command_the_binary_does_not_take_fails_the_check() {
    // The check above would pass anything if `--help` short-cut every parse.
    for wrong in [
        &["history", "RUN_ID", "--help"][..],
        &["card", "run", "x.wasm", "--no-such-flag", "--help"],
        &["card", "frobnicate", "--help"],
    ] {
        let out = lanyard(wrong, &repo()).output().unwrap();
        assert!(
            !out.status.success(),
            "{wrong:?} was taken:\n{}",
            shown(&out)
        );
    }
}

#[test]
fn the_sdk_readmes_card_builds_and_its_commands_run_as_written() {
    let readme = read("sdk/README.md");
    let blocks = fenced_blocks(&readme);
    let first = |info: &str| {
        blocks
            .iter()
            .find(|b| b.info == info)
            .unwrap_or_else(|| panic!("sdk/README.md has no ```{info} block"))
    };
    let (manifest, lib) = (first("toml"), first("rust"));
    let try_it = blocks
        .iter()
        .find(|b| b.info == "sh" && b.text.contains("cargo build"))
        .expect("sdk/README.md shows how to build");

    // The card next to a checkout at `../lanyard`, as its Cargo.toml says; kept
    // between runs so that cargo builds only what changed, and outside the
    // repository (whose workspace would claim it).
    let base = std::env::temp_dir().join("lanyard-docs-sdk-readme-card");
    let card = base.join("acme-offboard-notice");
    std::fs::create_dir_all(card.join("src")).unwrap();
    let checkout = base.join("lanyard");
    let _ = std::fs::remove_file(&checkout);
    std::os::unix::fs::symlink(repo(), &checkout).unwrap();
    assert!(
        manifest
            .text
            .contains(r#"lanyard-sdk = { path = "../lanyard/sdk" }"#),
        "{}",
        manifest.text
    );
    std::fs::write(card.join("Cargo.toml"), &manifest.text).unwrap();
    std::fs::write(card.join("src/lib.rs"), &lib.text).unwrap();

    let mut ran = Vec::new();
    for line in try_it.text.replace("\\\n", " ").lines() {
        let words = shell_words(line);
        let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        let out = match words[0].as_str() {
            // The machine running the tests has it: lanyard's own cards need it.
            "rustup" => continue,
            "cargo" => run_ok(
                Command::new(env!("CARGO"))
                    .args(&args)
                    .current_dir(&card)
                    .env("CARGO_NET_OFFLINE", "true")
                    .env_remove("CARGO_TARGET_DIR")
                    .env_remove("CARGO_ENCODED_RUSTFLAGS")
                    .env_remove("RUSTFLAGS")
                    .env_remove("CARGO_BUILD_TARGET"),
            ),
            "lanyard" => run_ok(&mut lanyard(&args, &card)),
            other => panic!(
                "sdk/README.md:{}: a command this test does not know: {other}",
                try_it.line
            ),
        };
        ran.push((words, out));
    }
    let said = |command: &[&str]| {
        let (_, out) = ran
            .iter()
            .find(|(words, _)| {
                words
                    .iter()
                    .map(String::as_str)
                    .take(command.len())
                    .eq(command.iter().copied())
            })
            .unwrap_or_else(|| panic!("sdk/README.md does not run `{}`", command.join(" ")));
        out
    };
    assert!(said(&["lanyard", "card", "inspect"]).contains("acme.offboard-notice"));
    let output: Value = serde_json::from_str(said(&["lanyard", "card", "run"])).unwrap();
    assert_eq!(output["login"], "sofia.williams@acme.example", "{output:#}");
    assert_eq!(output["sessions_cleared"], true, "{output:#}");
    assert!(output["groups_removed"].as_u64().unwrap() > 0, "{output:#}");
}
