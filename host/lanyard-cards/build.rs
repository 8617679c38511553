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
//!
//! A missing `wasm32-wasip2` target is installed with rustup first (with a
//! warning), so `cargo run -p lanyard -- demo` works on a fresh machine.

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

    ensure_target_installed(WASM_TARGET);

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

    let mut code = generate(&builtin, &tests);
    if env::var_os("CARGO_FEATURE_EXAMPLES").is_some() {
        code.push_str(&examples::build(&root, &target_dir));
    }
    std::fs::write(out_dir.join("cards.rs"), code).unwrap();
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

/// The target the cards are built for.
const WASM_TARGET: &str = "wasm32-wasip2";

/// A newcomer's first `cargo run` must not stop at a missing wasm target: if
/// the active toolchain has no standard library for `target`, install it with
/// rustup (saying so), and if that cannot be done, stop with the command that
/// would do it.
fn ensure_target_installed(target: &str) {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    if has_std(&rustc, target) {
        return;
    }
    // The toolchain to install into: the one cargo runs (rustup's proxy sets
    // RUSTUP_TOOLCHAIN), else the one this rustc lives in.
    let toolchain = env::var("RUSTUP_TOOLCHAIN").ok().or_else(|| {
        let sysroot = PathBuf::from(rustc_print(&rustc, &["--print", "sysroot"])?);
        (sysroot.parent()?.file_name()? == "toolchains").then(|| dir_name(&sysroot))
    });
    let mut args = vec!["target", "add", target];
    if let Some(t) = &toolchain {
        args.extend(["--toolchain", t.as_str()]);
    }
    let command = format!("rustup {}", args.join(" "));
    println!("cargo:warning=the {target} target is not installed; installing it with `{command}`");
    match Command::new("rustup").args(&args).status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "the built-in cards are built for {target}, which is not installed, and `{command}` failed \
             ({status}); run it yourself (it downloads from static.rust-lang.org), then build again"
        ),
        Err(e) => panic!(
            "the built-in cards are built for {target}, which is not installed for {}, and rustup cannot be \
             run ({e}); install the {target} standard library for this compiler (with rustup: `{command}`), \
             then build again",
            rustc.to_string_lossy()
        ),
    }
    if !has_std(&rustc, target) {
        panic!(
            "`{command}` succeeded but {} still has no {target} standard library; is cargo using a \
             compiler that rustup does not manage?",
            rustc.to_string_lossy()
        );
    }
}

/// Whether `rustc` has the standard library for `target` (its target libdir
/// holds `libcore`).
fn has_std(rustc: &std::ffi::OsStr, target: &str) -> bool {
    let Some(dir) = rustc_print(rustc, &["--print", "target-libdir", "--target", target]) else {
        return false;
    };
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
    })
}

/// What `rustc <args>` prints, trimmed, if it succeeds.
fn rustc_print(rustc: &std::ffi::OsStr, args: &[&str]) -> Option<String> {
    let out = Command::new(rustc).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
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

/// Feature `examples`: the Rust example cards in `cards/examples/rust-*/`,
/// embedded as bytes for `lanyard demo` and the end-to-end tests, which
/// publish them into the card registry as their author would. They are custom
/// cards, not built-ins: each is its own cargo project (own lock file, not a
/// member of the `cards/` workspace), built here exactly as its README says
/// (`cargo build --release --target wasm32-wasip2`). Added by the end-to-end
/// work (issue 6), kept apart from the built-in build above.
mod examples {
    use super::{LEAKY_ENV, dir_name};
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// Build every Rust example card and return the code that embeds them.
    pub fn build(root: &Path, target_dir: &Path) -> String {
        let dir = root.join("cards/examples");
        // A card added or removed changes the set (cargo scans the folder).
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut cards: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| {
                        p.join("Cargo.toml").is_file()
                            && dir_name(p).starts_with("rust-")
                    })
                    .collect()
            })
            .unwrap_or_default();
        cards.sort();
        let mut built = Vec::new();
        for card in &cards {
            for f in ["Cargo.toml", "Cargo.lock", "src"] {
                println!("cargo:rerun-if-changed={}", card.join(f).display());
            }
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut cmd = Command::new(cargo);
            // The shared target dir reuses the dependencies the built-in
            // cards compiled (same versions, same release profile).
            cmd.arg("build")
                .arg("--manifest-path")
                .arg(card.join("Cargo.toml"))
                .arg("--target")
                .arg("wasm32-wasip2")
                .arg("--release")
                .arg("--target-dir")
                .arg(target_dir);
            for key in LEAKY_ENV {
                cmd.env_remove(key);
            }
            let status = cmd.status().unwrap_or_else(|e| {
                panic!("cannot run cargo to build the example card {}: {e}", card.display())
            });
            if !status.success() {
                panic!(
                    "building the example card {} for wasm32-wasip2 failed ({status})",
                    card.display()
                );
            }
            let package = package_name(&card.join("Cargo.toml"));
            let wasm = target_dir
                .join("wasm32-wasip2/release")
                .join(format!("{}.wasm", package.replace('-', "_")));
            assert!(
                wasm.exists(),
                "example card {} built no {}",
                card.display(),
                wasm.display()
            );
            built.push((dir_name(card), wasm));
        }
        let mut out = String::new();
        out.push_str(
            "/// The Rust example cards from `cards/examples/rust-*/` (feature\n\
             /// `examples`): custom cards a demo or test publishes into the\n\
             /// registry. Never loaded as built-ins.\n\
             #[cfg(feature = \"examples\")]\npub mod examples {\n",
        );
        for (name, wasm) in &built {
            writeln!(
                out,
                "    /// `cards/examples/{name}`.\n    pub const {}: &[u8] = include_bytes!({:?});",
                name.replace('-', "_").to_ascii_uppercase(),
                wasm.display().to_string()
            )
            .unwrap();
        }
        out.push_str("    /// Every example card, by directory name.\n    pub const ALL: &[(&str, &[u8])] = &[\n");
        for (name, _) in &built {
            writeln!(out, "        ({name:?}, {}),", name.replace('-', "_").to_ascii_uppercase()).unwrap();
        }
        out.push_str("    ];\n\n    /// The example card from `cards/examples/<dir>/`.\n    pub fn example(dir: &str) -> Option<&'static [u8]> {\n        ALL.iter().find(|(d, _)| *d == dir).map(|(_, w)| *w)\n    }\n}\n");
        out
    }

    /// `[package] name` of a manifest (the wasm file is named after it).
    fn package_name(manifest: &Path) -> String {
        let text = std::fs::read_to_string(manifest).unwrap();
        let mut in_package = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_package = line == "[package]";
            } else if in_package {
                if let Some(v) = line.strip_prefix("name") {
                    if let Some(v) = v.trim_start().strip_prefix('=') {
                        return v.trim().trim_matches('"').to_string();
                    }
                }
            }
        }
        panic!("{} has no [package] name", manifest.display())
    }
}
