//! Builds the guest workspace in `cards/` for `wasm32-wasip2` and generates the
//! code that embeds the results.
//!
//! The nested cargo gets its own target directory inside `OUT_DIR` (sharing the
//! host's would deadlock on its build lock) and none of the host build's
//! compiler flags or wrappers, which are meant for the host target.
//!
//! Without the `test-cards` feature only `cards/builtin/*` is built (release
//! profile, no DWARF): that is what ships. With it, `cards/test/*` is built too,
//! with the `test-cards` profile (line tables kept, for symbolized backtraces).

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment that the outer cargo sets for this build script (or that the user
/// set for the host build) and that must not leak into the wasm build.
const LEAKY_ENV: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_PROFILE_RELEASE_DEBUG",
    "CARGO_PROFILE_RELEASE_STRIP",
    "CARGO_PROFILE_RELEASE_LTO",
    "CARGO_PROFILE_RELEASE_OPT_LEVEL",
    "CARGO_LLVM_COV",
    "CARGO_LLVM_COV_TARGET_DIR",
    "LLVM_PROFILE_FILE",
];

struct Card {
    /// The directory name, which is also the package name.
    dir_name: String,
    wasm: PathBuf,
}

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.join("../..");
    let cards = root.join("cards");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let with_tests = env::var_os("CARGO_FEATURE_TEST_CARDS").is_some();

    for path in [
        cards.join("Cargo.toml"),
        cards.join("Cargo.lock"),
        cards.join("builtin"),
        cards.join("builtin-kit"),
        cards.join("test"),
        root.join("sdk/Cargo.toml"),
        root.join("sdk/src"),
        root.join("wit"),
    ] {
        println!("cargo:rerun-if-changed={}", path.display());
    }

    let builtin_dirs = card_dirs(&cards.join("builtin"));
    let test_dirs = if with_tests {
        card_dirs(&cards.join("test"))
    } else {
        Vec::new()
    };

    let profile = if with_tests { "test-cards" } else { "release" };
    let target_dir = out_dir.join("cards-target");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(cards.join("Cargo.toml"))
        .arg("--target")
        .arg("wasm32-wasip2")
        .arg("--profile")
        .arg(profile)
        .arg("--target-dir")
        .arg(&target_dir);
    for dir in builtin_dirs.iter().chain(&test_dirs) {
        cmd.arg("-p").arg(dir_name(dir));
    }
    for key in LEAKY_ENV {
        cmd.env_remove(key);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the cards in {}: {e}", cards.display()));
    if !status.success() {
        panic!(
            "building the cards in {} for wasm32-wasip2 failed ({status}); \
             is the target installed (`rustup target add wasm32-wasip2`)?",
            cards.display()
        );
    }

    let wasm_dir = target_dir.join("wasm32-wasip2").join(profile);
    let collect = |dirs: &[PathBuf]| -> Vec<Card> {
        dirs.iter()
            .map(|dir| {
                let dir_name = dir_name(dir);
                let wasm = wasm_dir.join(format!("{}.wasm", dir_name.replace('-', "_")));
                assert!(
                    wasm.exists(),
                    "card {} built no {}: is its package named after its directory, \
                     with crate-type = [\"cdylib\"]?",
                    dir.display(),
                    wasm.display()
                );
                Card { dir_name, wasm }
            })
            .collect()
    };
    let builtin = collect(&builtin_dirs);
    let tests = collect(&test_dirs);

    std::fs::write(out_dir.join("cards.rs"), generate(&builtin, &tests)).unwrap();
}

/// The card crates under `dir`, sorted by name.
fn card_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("Cargo.toml").is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    dirs.sort();
    dirs
}

fn dir_name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

fn generate(builtin: &[Card], tests: &[Card]) -> String {
    let mut out = String::new();
    out.push_str("/// The built-in cards, by directory name, sorted.\n");
    out.push_str("static BUILTIN: &[BuiltinCard] = &[\n");
    for card in builtin {
        writeln!(
            out,
            "    BuiltinCard {{ name: {:?}, wasm: include_bytes!({:?}) }},",
            card.dir_name,
            card.wasm.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n\n");

    out.push_str("/// The test cards from `cards/test/`: hostile and capability-probing\n");
    out.push_str("/// components for the runtime's tests. Never shipped.\n");
    out.push_str("#[cfg(feature = \"test-cards\")]\npub mod test_cards {\n");
    for card in tests {
        writeln!(
            out,
            "    /// `cards/test/{}`.\n    pub const {}: &[u8] = include_bytes!({:?});",
            card.dir_name,
            card.dir_name.replace('-', "_").to_ascii_uppercase(),
            card.wasm.display().to_string()
        )
        .unwrap();
    }
    out.push_str("    /// Every test card, by directory name.\n    pub const ALL: &[(&str, &[u8])] = &[\n");
    for card in tests {
        writeln!(
            out,
            "        ({:?}, {}),",
            card.dir_name,
            card.dir_name.replace('-', "_").to_ascii_uppercase()
        )
        .unwrap();
    }
    out.push_str("    ];\n}\n\n");

    out.push_str(
        "/// Calls `$mac!(snake_case_name)` for every test card, so a test suite can\n\
         /// require a test per card: a card without one then fails to compile.\n\
         #[cfg(feature = \"test-cards\")]\n#[macro_export]\nmacro_rules! foreach_test_card {\n    ($mac:ident) => {\n",
    );
    for card in tests {
        writeln!(out, "        $mac!({});", card.dir_name.replace('-', "_")).unwrap();
    }
    out.push_str("    };\n}\n");
    out
}
