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

/// The built-in card from `cards/builtin/<name>/`.
pub fn builtin_card(name: &str) -> Option<&'static BuiltinCard> {
    BUILTIN.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
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
