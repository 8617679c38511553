//! The built-in cards, built from `cards/` for wasm32-wasip2 and embedded.
//!
//! `build.rs` runs a nested cargo over the guest workspace and generates the
//! tables below. This crate only carries bytes: it knows nothing of wasmtime;
//! the runtime validates and compiles whatever it is handed.
//!
//! With the `test-cards` feature it also carries the test cards (`test_cards`
//! and `foreach_test_card!`); that feature is for tests and benchmarks only.

/// One card that ships inside the `lanyard` binary.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinCard {
    /// The card's directory under `cards/builtin/` (its real name, such as
    /// `lanyard.echo`, is what its `describe()` says).
    pub name: &'static str,
    /// The component.
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/cards.rs"));

/// Every built-in card, sorted by directory name.
pub fn builtin() -> &'static [BuiltinCard] {
    BUILTIN
}

/// The built-in card named `name` as flows name it (`http.request`,
/// `lanyard.echo`), or by its directory under `cards/builtin/`
/// (`http-request`, `echo`).
pub fn builtin_card(name: &str) -> Option<&'static BuiltinCard> {
    BUILTIN.iter().find(|c| c.name == name || card_name(c.name) == name)
}

/// The name flows use for the built-in card in `cards/builtin/<dir>/`: the
/// first `-` is the dot (`okta-get-user` is `okta.get-user`); a directory
/// without one is a `lanyard.` card (`echo` is `lanyard.echo`).
pub fn card_name(dir: &str) -> String {
    match dir.split_once('-') {
        Some((family, rest)) => format!("{family}.{rest}"),
        None => format!("lanyard.{dir}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_built_in_card_is_found_by_the_name_flows_use() {
        assert_eq!(super::card_name("okta-get-user"), "okta.get-user");
        assert_eq!(super::card_name("echo"), "lanyard.echo");
        for name in ["http.request", "http-request"] {
            assert_eq!(super::builtin_card(name).map(|c| c.name), Some("http-request"), "{name}");
        }
        assert_eq!(super::builtin_card("lanyard.echo").map(|c| c.name), Some("echo"));
        assert!(super::builtin_card("http.nothing").is_none());
    }

    #[test]
    fn builtin_cards_are_components() {
        assert!(!super::builtin().is_empty());
        for card in super::builtin() {
            // The component-model preamble: magic, then version 0x0d with layer 1.
            assert_eq!(&card.wasm[..8], b"\0asm\x0d\0\x01\0", "card {}", card.name);
        }
        assert!(super::builtin_card("echo").is_some());
    }
}
