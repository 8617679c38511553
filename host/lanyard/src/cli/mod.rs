//! One module per subcommand.

pub(crate) mod access;
pub(crate) mod admin_client;
pub mod card;
pub mod card_new;
pub mod card_registry;
// The simulated world (feature `sandbox`, on by default); a build without it
// keeps the subcommands and says how to get a build that has them.
#[cfg(feature = "sandbox")]
pub mod demo;
#[cfg(not(feature = "sandbox"))]
#[path = "no_sandbox.rs"]
pub mod demo;
pub mod flow;
pub mod history;
pub mod runs;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(not(feature = "sandbox"))]
#[path = "no_sandbox.rs"]
pub mod sandbox;
pub mod serve;
pub mod table;
mod toml_text;

/// The config a command reads the daemon's settings from: `--config`, else
/// `./lanyard.toml` when there is one, else the sandbox defaults.
pub(crate) fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<lanyard_server::config::Config> {
    use lanyard_server::config::Config;
    Ok(match path {
        Some(p) => Config::load(p)?,
        None if std::path::Path::new("lanyard.toml").is_file() => Config::load(std::path::Path::new("lanyard.toml"))?,
        None => Config::sandbox_defaults(),
    })
}

pub(crate) use access::admin_base;
