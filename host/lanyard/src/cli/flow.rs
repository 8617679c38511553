//! `lanyard validate` and `lanyard run`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}

#[derive(Debug, clap::Args)]
pub struct RunArgs {}

pub async fn validate(_args: ValidateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`lanyard validate` is not built yet")
}

pub async fn run(_args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`lanyard run` is not built yet")
}
