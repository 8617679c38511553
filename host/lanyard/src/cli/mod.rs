//! One module per subcommand.

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
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(not(feature = "sandbox"))]
#[path = "no_sandbox.rs"]
pub mod sandbox;
pub mod serve;
pub mod table;

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

/// The daemon's admin API address from its config (`listen`, with an
/// unspecified address read as this machine).
pub(crate) fn admin_base(config: &lanyard_server::config::Config) -> String {
    let mut addr = config.server.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}
