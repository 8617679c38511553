//! `lanyard validate` and `lanyard run`.

use anyhow::{Context as _, bail};
use lanyard_flow::{CardSummary, SourceFile, StaticCatalog};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Check flow files and report every problem at once, each with
/// `file:line:col` and the step it is in. Exits non-zero if any flow has an
/// error (warnings alone pass).
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Flow files, or folders searched for `*.yaml` and `*.yml` [default: flows]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// How to print the result: `human`, or `json` (the admin API's form).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {}

// ---------------------------------------------------------------------------
// PLACEHOLDER CARD LIST — the built-in card names `validate` checks `card:`
// against (issue 6). Replace with the embedded card set plus the card registry
// (names, versions and input schemas from each card's `describe()`), so that
// `with:` keys are checked too and custom cards are known.
const BUILTIN_CARDS: &[&str] = &[
    "okta.get-user",
    "okta.find-users",
    "okta.update-profile",
    "okta.list-user-groups",
    "okta.add-to-group",
    "okta.remove-from-group",
    "okta.remove-from-all-groups",
    "okta.clear-sessions",
    "okta.list-factors",
    "okta.activate",
    "okta.deactivate",
    "okta.suspend",
    "okta.unsuspend",
    "okta.unlock",
    "okta.get-manager",
    "slack.post",
    "mail.send",
    "http.request",
    "tables.get",
    "tables.put",
    "tables.delete",
    "tables.find",
];
// ---------------------------------------------------------------------------

fn catalog() -> StaticCatalog {
    StaticCatalog::new(BUILTIN_CARDS.iter().map(|name| CardSummary::new(name)))
}

pub async fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("flows")]
    } else {
        args.paths
    };
    let mut found = Vec::new();
    for p in &paths {
        collect(p, &mut found).with_context(|| format!("cannot read {}", p.display()))?;
    }
    if found.is_empty() {
        let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        bail!("no flow files (*.yaml, *.yml) in {}", list.join(", "));
    }
    let mut files = Vec::with_capacity(found.len());
    let mut unreadable = Vec::new();
    for path in found {
        match read_flow(&path) {
            Ok(text) => files.push(SourceFile::new(path.display().to_string(), text)),
            Err(e) => unreadable.push(format!("{}: error: {e:#}", path.display())),
        }
    }
    let v = lanyard_flow::validate(&files, &catalog());
    let failed = v.has_errors() || !unreadable.is_empty();
    let mut out = String::new();
    match args.format {
        Format::Human => {
            for line in &unreadable {
                out.push_str(line);
                out.push_str("\n\n");
            }
            if !v.diagnostics.is_empty() {
                out.push_str(&v.render(&files));
            }
            let checked = files.len() + unreadable.len();
            out.push_str(&format!(
                "checked {checked} flow file{}: {} ok\n",
                if checked == 1 { "" } else { "s" },
                v.flows.len()
            ));
        }
        Format::Json => {
            let names: Vec<&str> = v.flows.iter().map(|f| f.name.as_str()).collect();
            let json = serde_json::json!({
                "ok": !failed,
                "flows": names,
                "unreadable": unreadable,
                "diagnostics": v.diagnostics,
            });
            out.push_str(&serde_json::to_string_pretty(&json)?);
            out.push('\n');
        }
    }
    write_stdout(&out)?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Print, treating a closed pipe (`lanyard validate | head`) as done.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// Flow files under `path` (or `path` itself), sorted, hidden folders skipped.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            collect(&p, out)?;
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml")
        {
            out.push(p);
        }
    }
    Ok(())
}

/// The file's text, reading at most one byte past the size limit (the
/// validator reports files over it).
fn read_flow(path: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(path).context("cannot open")?;
    let mut bytes = Vec::new();
    file.take(lanyard_flow::yaml::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .context("cannot read")?;
    String::from_utf8(bytes).context("not UTF-8 text")
}

pub async fn run(_args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`lanyard run` is not built yet")
}
