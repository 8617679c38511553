//! `lanyard demo` and `lanyard sandbox` in a build without the `sandbox`
//! feature (a production build): they are still commands, so that asking for
//! one says why it is missing and how to get it, rather than "unknown
//! subcommand". Must not start anything.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Whatever the command would have taken; ignored.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub async fn run(_args: Args) -> anyhow::Result<ExitCode> {
    eprintln!(
        "error: this build of lanyard has no sandbox (it was built without the `sandbox` feature): \
         no sandbox Okta org, no stand-ins, no demo.\n\
         Build one that has them with the default features: `cargo build -p lanyard --release`."
    );
    Ok(ExitCode::from(2))
}
