//! `lanyard validate` and `lanyard run`.

use anyhow::{Context as _, bail};
use lanyard_flow::SourceFile;
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

    /// Check custom cards against the card registry of this config's data
    /// directory [default: ./lanyard.toml if it loads]. Without a registry, a
    /// card that is not built in is a warning ("not checked"), not an error.
    #[arg(long, short, env = "LANYARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Check custom cards against the card registry in this data directory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Test Flow: run a flow once against an event and print a readable
/// step-by-step trace. Exits 0 when the run succeeded or stopped, 1 when it
/// failed. The run is kept in the history (trigger `manual`).
///
/// Okta calls go to the org in the config's `[okta]`, or, without a config
/// file, to the embedded sandbox org. With `--dry-run`, writes (Okta changes,
/// HTTP other than GET, table writes, mail) are recorded as "would do" with
/// their arguments instead of done; reads are real.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The flow: a name from the flows directory, or a path to a flow file.
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// The event: an Okta Event Hook delivery (its first event is used), one
    /// System Log event, or any JSON (the input of an api, manual or helper
    /// flow). `-` reads stdin. Without it the flow gets `{}`.
    #[arg(long, value_name = "FILE")]
    pub event: Option<PathBuf>,
    /// Record writes instead of doing them.
    #[arg(long)]
    pub dry_run: bool,
    /// The configuration file [default: lanyard.toml if it exists, else the
    /// embedded sandbox org with data in ./lanyard-data and flows in ./flows].
    #[arg(long, short, env = "LANYARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the run and its steps as JSON instead of the trace.
    #[arg(long)]
    pub json: bool,
}

// The card catalog: the embedded built-in cards (names, versions, input
// schemas from `describe()`) plus the card registry (issue 6).
mod catalog;

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
    let catalog = catalog::load(&catalog::Sources {
        config: args.config.clone(),
        data_dir: args.data_dir.clone(),
    })
    .await?;
    let mut v = lanyard_flow::validate(&files, &catalog);
    if catalog::relax_unchecked(&mut v.diagnostics, &catalog) > 0 {
        v.flows = lanyard_flow::validate(&files, &catalog.trusting()).flows;
    }
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
            // Off flows are valid but start from no trigger: say so.
            for f in v.flows.iter().filter(|f| !f.enabled) {
                out.push_str(&format!("off: {} ({})\n", f.name, f.file));
            }
            let checked = files.len() + unreadable.len();
            out.push_str(&format!(
                "checked {checked} flow file{}: {} ok (cards: {} built in, {})\n",
                if checked == 1 { "" } else { "s" },
                v.flows.len(),
                lanyard_cards::builtin().len(),
                catalog.registry
            ));
        }
        Format::Json => {
            let names: Vec<&str> = v.flows.iter().map(|f| f.name.as_str()).collect();
            let off: Vec<&str> = v.flows.iter().filter(|f| !f.enabled).map(|f| f.name.as_str()).collect();
            let json = serde_json::json!({
                "ok": !failed,
                "registry": catalog.registry.to_string(),
                "flows": names,
                "off": off,
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

/// `path` itself, or the flow files of the folder, as the daemon would load
/// them (`lanyard_server::flows::flow_paths`: a top-level `library/` is
/// skipped; `lanyard validate flows/library/` checks the flow library itself).
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if std::fs::metadata(path)?.is_file() {
        out.push(path.to_path_buf());
    } else {
        out.extend(lanyard_server::flows::flow_paths(path)?);
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

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    use lanyard_core::history::RunStatus;
    let config = match &args.config {
        Some(path) => lanyard_server::Config::load(path)?,
        None if Path::new("lanyard.toml").is_file() => lanyard_server::Config::load(Path::new("lanyard.toml"))?,
        None => lanyard_server::Config::sandbox_defaults(),
    };
    let event: serde_json::Value = match &args.event {
        None => serde_json::json!({}),
        Some(p) => {
            let text = if p.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).context("cannot read the event from stdin")?;
                s
            } else {
                std::fs::read_to_string(p).with_context(|| format!("cannot read the event file {}", p.display()))?
            };
            serde_json::from_str(&text).with_context(|| format!("the event file {} is not JSON", p.display()))?
        }
    };
    let result = lanyard_server::testflow::run_once(lanyard_server::testflow::TestFlow {
        config,
        flow: args.flow,
        event,
        dry_run: args.dry_run,
        observer: None,
    })
    .await?;
    for note in &result.notes {
        eprintln!("note: {note}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "run": result.run, "steps": result.steps }))?);
    } else {
        print!("{}", result.trace);
    }
    Ok(match result.run.status {
        RunStatus::Succeeded | RunStatus::Stopped => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}
