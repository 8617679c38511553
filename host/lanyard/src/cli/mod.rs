//! One module per subcommand.

pub mod card;
pub mod card_new;
pub mod card_registry;
pub mod demo;
pub mod flow;
pub mod history;
pub mod sandbox;
pub mod serve;
pub mod table;
