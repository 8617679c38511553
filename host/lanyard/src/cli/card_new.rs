//! `lanyard card new NAME --lang rust|python|js`: scaffold a working card.
//!
//! Writes a small card that builds as it is (a `build.sh` that produces
//! `<module>.wasm`) and tests its logic natively (`cargo test`,
//! `python3 -m unittest`, `node --test`), from templates embedded in the binary
//! (`host/lanyard/templates/`). Python and JS scaffolds carry a copy of
//! `wit/card.wit`; the Rust one gets it through `lanyard-sdk`, a path
//! dependency on the `sdk/` of a lanyard checkout (the SDK is published
//! nowhere): `--sdk-path`, else the checkout this binary was built from, else
//! one that encloses the new card's directory.
//!
//! This module only writes files into a directory that is new or empty: it never
//! overwrites anything, runs no tool and touches no network.

use super::toml_text::toml_string;
use anyhow::{Context, bail};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The card contract every scaffold is built against.
const CARD_WIT: &str = include_str!("../../../../wit/card.wit");

/// The `sdk/` of the checkout this binary was built from (`cargo run`,
/// `cargo install --path host/lanyard`): a Rust scaffold's `lanyard-sdk` when
/// no `--sdk-path` is given and the checkout is still there.
const BUILT_FROM_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk");

/// componentize-py version the Python scaffold's docs and build script name;
/// kept equal to `cards/examples/toolchain/requirements.txt`.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The language of a new card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// A Rust crate on `lanyard-sdk`, built for wasm32-wasip2.
    Rust,
    /// Python, built with componentize-py.
    Python,
    /// JavaScript, built with jco (componentize-js).
    #[value(alias = "javascript")]
    Js,
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
        })
    }
}

/// `lanyard card new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The card's dotted name, for example `acme.jamf-wipe`.
    pub name: String,
    /// The language to write the card in.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// The directory to create (default: the card's name, in the current directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Rust only: the lanyard SDK to build on: the `sdk/` folder of a lanyard
    /// checkout, or the checkout itself [default: the checkout this lanyard
    /// was built from, else one that encloses the card's directory].
    #[arg(long, env = "LANYARD_SDK_PATH", value_name = "DIR")]
    pub sdk_path: Option<PathBuf>,
}

/// Where generated files get what they depend on.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The SDK (or a checkout holding it) the user named, for Rust cards.
    pub sdk_path: Option<PathBuf>,
    /// The SDK of the checkout this binary was built from, which may be gone.
    pub built_from: PathBuf,
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            sdk_path: None,
            built_from: PathBuf::from(BUILT_FROM_SDK),
        }
    }
}

/// What [`scaffold`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scaffolded {
    /// The card's directory.
    pub dir: PathBuf,
    /// The card's dotted name.
    pub name: String,
    /// Every file written, relative to `dir`.
    pub files: Vec<PathBuf>,
    /// The component `./build.sh` writes, relative to `dir`.
    pub wasm: PathBuf,
    /// Shell command (run in `dir`) that tests the card's logic natively.
    pub test_command: &'static str,
    /// Shell command (run in `dir`) to run once before the first build, if any.
    pub setup_command: Option<String>,
    /// Rust: the `sdk/` the card's `Cargo.toml` points to.
    pub sdk: Option<PathBuf>,
}

/// Scaffold a `lang` card named `name` into `dir` (created; must be new or empty),
/// finding `lanyard-sdk` for Rust as `lanyard card new` does.
#[cfg(test)]
pub fn scaffold(name: &str, lang: Lang, dir: &Path) -> anyhow::Result<Scaffolded> {
    scaffold_with(name, lang, dir, &Sources::default())
}

/// [`scaffold`], with explicit dependency sources.
pub fn scaffold_with(
    name: &str,
    lang: Lang,
    dir: &Path,
    sources: &Sources,
) -> anyhow::Result<Scaffolded> {
    check_name(name)?;
    let names = Names::of(name);
    let files = files_for(lang);

    // Found before anything is written, so a card that could not build leaves nothing behind.
    let sdk = match lang {
        Lang::Rust => Some(find_sdk(sources, dir)?),
        Lang::Python | Lang::Js => None,
    };
    let (lang_title, setup, test_command) = match lang {
        Lang::Rust => (
            "Rust",
            "rustup target add wasm32-wasip2\n".to_string(),
            "cargo test",
        ),
        Lang::Python => (
            "Python",
            format!("pip install componentize-py=={COMPONENTIZE_PY_VERSION}\n"),
            "python3 -m unittest",
        ),
        Lang::Js => ("JavaScript", "npm install\n".to_string(), "node --test"),
    };

    prepare_dir(dir)?;
    let sdk_dep = match &sdk {
        Some(sdk) => sdk_dependency(sdk, dir)?,
        None => String::new(),
    };
    let contract = match (&sdk, lang) {
        (Some(sdk), _) => format!(
            "The card gets the contract through `lanyard-sdk`, which generates its\n\
             bindings from the checkout's `wit/card.wit`. The SDK is published nowhere:\n\
             `Cargo.toml` takes it by path from a lanyard checkout, `{}`.\n\
             If you move the card or the checkout, change that path, or scaffold again\n\
             with `lanyard card new NAME --sdk-path DIR`.",
            sdk.display()
        ),
        (None, Lang::Python) => {
            "There is no Python SDK to install: `wit/card.wit` is a copy of the\n\
             contract this lanyard speaks, and componentize-py generates the bindings\n\
             (`wit_world`) from it at build time."
                .to_string()
        }
        (None, _) => "There is no JavaScript SDK to install: `wit/card.wit` is a copy of the\n\
             contract this lanyard speaks, and jco generates the bindings from it at\n\
             build time (the `lanyard:card/*` imports)."
            .to_string(),
    };
    let vars: [(&str, &str); 8] = [
        ("name", name),
        ("crate", &names.krate),
        ("module", &names.module),
        ("sdk_dep", &sdk_dep),
        ("lang_title", lang_title),
        ("setup", &setup),
        ("test_cmd", test_command),
        ("contract", &contract),
    ];
    let mut written = Vec::new();
    for (path, template) in files {
        let rel = PathBuf::from(path);
        let text = if path == "wit/card.wit" {
            template.to_string()
        } else {
            render(template, &vars).with_context(|| format!("template {lang}/{path}"))?
        };
        let full = dir.join(&rel);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        write_new(&full, &text)?;
        if path.ends_with(".sh") {
            make_executable(&full)?;
        }
        written.push(rel);
    }

    Ok(Scaffolded {
        dir: dir.to_path_buf(),
        name: name.to_string(),
        files: written,
        wasm: PathBuf::from(format!("{}.wasm", names.module)),
        test_command,
        setup_command: match lang {
            Lang::Rust => None,
            Lang::Python | Lang::Js => Some(setup.trim_end().to_string()),
        },
        sdk,
    })
}

/// The lanyard SDK a Rust card builds on, canonical: `--sdk-path` (the SDK or
/// a checkout holding it), else the checkout this binary was built from, else
/// the nearest checkout enclosing `card_dir`.
fn find_sdk(sources: &Sources, card_dir: &Path) -> anyhow::Result<PathBuf> {
    let canonical = |sdk: &Path| {
        sdk.canonicalize()
            .with_context(|| format!("sdk path {}", sdk.display()))
    };
    if let Some(given) = &sources.sdk_path {
        let Some(sdk) = [given.clone(), given.join("sdk")]
            .into_iter()
            .find(|p| is_sdk(p))
        else {
            bail!(
                "{} is not the lanyard sdk (no Cargo.toml of lanyard-sdk there or in its sdk/)",
                given.display()
            );
        };
        return canonical(&sdk);
    }
    if is_sdk(&sources.built_from) {
        return canonical(&sources.built_from);
    }
    let card_dir = std::path::absolute(card_dir)
        .with_context(|| format!("card directory {}", card_dir.display()))?;
    if let Some(sdk) = card_dir
        .ancestors()
        .map(|a| a.join("sdk"))
        .find(|p| is_sdk(p))
    {
        return canonical(&sdk);
    }
    bail!(
        "cannot find the lanyard SDK for a Rust card: this lanyard was built from {}, \
         which is not there any more, and {} is not inside a lanyard checkout; \
         pass --sdk-path with the sdk/ folder of a lanyard checkout",
        sources.built_from.display(),
        card_dir.display()
    )
}

/// Whether `dir` holds the `lanyard-sdk` package.
fn is_sdk(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|manifest| {
        manifest
            .lines()
            .any(|l| l.trim() == r#"name = "lanyard-sdk""#)
    })
}

/// The `lanyard-sdk` dependency of the card in `card_dir` (which exists): a
/// relative path when the card is inside the SDK's checkout, so the two move
/// together (as `cards/examples/rust-jamf-offboard` does); an absolute one
/// otherwise.
fn sdk_dependency(sdk: &Path, card_dir: &Path) -> anyhow::Result<String> {
    let card_dir = card_dir
        .canonicalize()
        .with_context(|| format!("card directory {}", card_dir.display()))?;
    let path = match sdk
        .parent()
        .and_then(|root| card_dir.strip_prefix(root).ok())
    {
        Some(below) => {
            let mut rel: PathBuf = below.components().map(|_| "..").collect();
            rel.push("sdk");
            rel
        }
        None => sdk.to_path_buf(),
    };
    Ok(format!(
        "{{ path = {} }}",
        toml_string(&path.to_string_lossy())
    ))
}

/// `lanyard card new`: scaffold, then say what to do next.
pub async fn run_new(args: NewArgs) -> anyhow::Result<ExitCode> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let sources = Sources {
        sdk_path: args.sdk_path.clone(),
        ..Sources::default()
    };
    let made = scaffold_with(&args.name, args.lang, &dir, &sources)?;
    println!(
        "created {} card {} in {}",
        args.lang,
        made.name,
        made.dir.display()
    );
    for f in &made.files {
        println!("  {}", f.display());
    }
    if let Some(sdk) = &made.sdk {
        println!(
            "lanyard-sdk: {} (by path; --sdk-path to choose another)",
            sdk.display()
        );
    }
    println!();
    println!("next:");
    println!("  cd {}", made.dir.display());
    if let Some(setup) = &made.setup_command {
        println!("  {setup}");
    }
    println!("  {}", made.test_command);
    println!("  ./build.sh");
    println!(
        "  lanyard card run {} --input '{{\"email\": \"ada@example.com\", \"allowed_domains\": [\"example.com\"]}}'",
        made.wasm.display()
    );
    println!("  lanyard card publish {}", made.wasm.display());
    Ok(ExitCode::SUCCESS)
}

/// The names derived from a card's dotted name.
struct Names {
    /// `acme-jamf-wipe`: Cargo package / npm package name.
    krate: String,
    /// `acme_jamf_wipe`: the `.wasm` file stem (what cargo names a cdylib).
    module: String,
}

impl Names {
    fn of(name: &str) -> Self {
        let krate = name.replace('.', "-");
        let module = krate.replace('-', "_");
        Names { krate, module }
    }
}

/// Card names are dotted lowercase segments: `acme.jamf-wipe`, `okta.clear-sessions`.
fn check_name(name: &str) -> anyhow::Result<()> {
    const MAX: usize = 64;
    let hint = "a card name is dotted lowercase words, for example `acme.jamf-wipe`";
    if name.is_empty() || name.len() > MAX {
        bail!("card name must be 1 to {MAX} characters; {hint}");
    }
    let segments: Vec<&str> = name.split('.').collect();
    if segments.len() < 2 {
        bail!("card name {name:?} has no namespace; {hint} (try `acme.{name}`)");
    }
    for seg in &segments {
        let ok = seg.starts_with(|c: char| c.is_ascii_lowercase())
            && !seg.ends_with('-')
            && !seg.contains("--")
            && seg
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            bail!("card name {name:?} has a bad segment {seg:?}; {hint}");
        }
    }
    if segments[0] == "lanyard" || segments[0] == "okta" {
        bail!(
            "the `{}.` namespace is for built-in cards; {hint}",
            segments[0]
        );
    }
    Ok(())
}

/// The files of a scaffold: (path in the card, template text).
fn files_for(lang: Lang) -> Vec<(&'static str, &'static str)> {
    let mut files = match lang {
        Lang::Rust => vec![
            (
                "Cargo.toml",
                include_str!("../../templates/rust/Cargo.toml.tmpl"),
            ),
            (
                "src/lib.rs",
                include_str!("../../templates/rust/lib.rs.tmpl"),
            ),
            (
                "build.sh",
                include_str!("../../templates/rust/build.sh.tmpl"),
            ),
            (
                ".gitignore",
                include_str!("../../templates/rust/gitignore.tmpl"),
            ),
        ],
        Lang::Python => vec![
            ("app.py", include_str!("../../templates/python/app.py.tmpl")),
            (
                "logic.py",
                include_str!("../../templates/python/logic.py.tmpl"),
            ),
            (
                "test_logic.py",
                include_str!("../../templates/python/test_logic.py.tmpl"),
            ),
            (
                "build.sh",
                include_str!("../../templates/python/build.sh.tmpl"),
            ),
            (
                ".gitignore",
                include_str!("../../templates/python/gitignore.tmpl"),
            ),
            ("wit/card.wit", CARD_WIT),
        ],
        Lang::Js => vec![
            ("index.js", include_str!("../../templates/js/index.js.tmpl")),
            ("logic.js", include_str!("../../templates/js/logic.js.tmpl")),
            (
                "logic.test.js",
                include_str!("../../templates/js/logic.test.js.tmpl"),
            ),
            (
                "package.json",
                include_str!("../../templates/js/package.json.tmpl"),
            ),
            (
                "rolldown.config.mjs",
                include_str!("../../templates/js/rolldown.config.mjs.tmpl"),
            ),
            ("build.sh", include_str!("../../templates/js/build.sh.tmpl")),
            (
                ".gitignore",
                include_str!("../../templates/js/gitignore.tmpl"),
            ),
            ("wit/card.wit", CARD_WIT),
        ],
    };
    files.push((
        "README.md",
        include_str!("../../templates/common/README.md.tmpl"),
    ));
    files
}

/// Replace every `{{key}}` (no spaces inside) with its value. Anything else in
/// double braces, like a flow expression `{{ user.id }}`, is left alone; an
/// unknown `{{key}}` is a template bug.
fn render(template: &str, vars: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let key_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(after.len());
        if key_len > 0 && after[key_len..].starts_with("}}") {
            let key = &after[..key_len];
            let value = vars
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .with_context(|| format!("unknown placeholder {{{{{key}}}}}"))?;
            out.push_str(value);
            rest = &after[key_len + 2..];
        } else {
            out.push_str("{{");
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} already exists and is not empty; pick another --dir",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_mode(perms.mode() | 0o111);
    std::fs::set_permissions(path, perms)
        .with_context(|| format!("making {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "lanyard-card-new-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .unwrap()
    }

    /// Run `cmd` in `dir`; panic with its output if it fails.
    fn run_ok(dir: &Path, cmd: &mut Command) -> String {
        let out = cmd
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "{cmd:?} in {} failed:\n{text}",
            dir.display()
        );
        text
    }

    /// The pinned toolchains (installed by scripts/toolchains.sh when missing:
    /// the same script CI runs first), as environment assignments.
    fn toolchain_env(lang: &str) -> Vec<(String, String)> {
        let repo = repo();
        let out = run_ok(
            &repo,
            Command::new("bash").args(["scripts/toolchains.sh", "--print-env", lang]),
        );
        // `--print-env` prints NAME=value lines (shell-quoted; our paths need none).
        out.lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A component, not a core module: `\0asm`, version 0x0d, layer 1.
    fn assert_component(path: &Path, name: &str) {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            &bytes[..8],
            b"\0asm\x0d\x00\x01\x00",
            "{} is not a component",
            path.display()
        );
        let needle = name.as_bytes();
        assert!(
            bytes.windows(needle.len()).any(|w| w == needle),
            "{} does not mention {name}",
            path.display()
        );
        let wit = b"lanyard:card/types@0.1.0";
        assert!(
            bytes.windows(wit.len()).any(|w| w == wit),
            "{} does not import lanyard:card",
            path.display()
        );
    }

    fn text(dir: &Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file)).unwrap()
    }

    #[test]
    fn render_fills_placeholders_and_leaves_flow_expressions() {
        let vars = [("name", "acme.x"), ("crate", "acme-x")];
        assert_eq!(
            render("{{name}} is {{crate}}; {{ user.id }} {{x", &vars).unwrap(),
            "acme.x is acme-x; {{ user.id }} {{x"
        );
        let err = render("{{nope}}", &vars).unwrap_err();
        assert!(
            err.to_string().contains("unknown placeholder {{nope}}"),
            "{err}"
        );
    }

    #[test]
    fn names_are_dotted_lowercase_and_not_built_in() {
        for good in ["acme.jamf-wipe", "acme.zoom.deprovision", "a1.b2"] {
            check_name(good).unwrap();
        }
        for (bad, why) in [
            ("jamf", "no namespace"),
            ("Acme.x", "bad segment"),
            ("acme.", "bad segment"),
            ("acme.-x", "bad segment"),
            ("acme.x-", "bad segment"),
            ("acme.x_y", "bad segment"),
            ("acme.x y", "bad segment"),
            ("okta.clear-sessions", "built-in"),
            ("lanyard.echo", "built-in"),
            ("", "1 to 64"),
        ] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert!(check_name(&format!("acme.{}", "x".repeat(70))).is_err());
        let names = Names::of("acme.jamf-wipe");
        assert_eq!(
            (names.krate.as_str(), names.module.as_str()),
            ("acme-jamf-wipe", "acme_jamf_wipe")
        );
    }

    #[test]
    fn every_language_scaffolds_complete_files() {
        for lang in [Lang::Rust, Lang::Python, Lang::Js] {
            let tmp = TempDir::new("files");
            let dir = tmp.0.join("card");
            let made = scaffold("acme.domain-check", lang, &dir).unwrap();
            assert_eq!(made.wasm, PathBuf::from("acme_domain_check.wasm"));
            assert!(made.files.contains(&PathBuf::from("build.sh")), "{lang}");
            assert!(made.files.contains(&PathBuf::from("README.md")), "{lang}");
            for f in &made.files {
                let body = text(&dir, f.to_str().unwrap());
                // No placeholder survives (flow expressions like `{{ user.id }}` have spaces).
                let leftover = body
                    .match_indices("{{")
                    .any(|(i, _)| body[i + 2..].starts_with(|c: char| c.is_ascii_lowercase()));
                assert!(
                    !leftover,
                    "{lang} {}: placeholder left:\n{body}",
                    f.display()
                );
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(dir.join("build.sh"))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_ne!(mode & 0o111, 0, "{lang}: build.sh is not executable");
            }
            let readme = text(&dir, "README.md");
            assert!(readme.contains("lanyard card publish acme_domain_check.wasm"));
            match lang {
                Lang::Rust => {
                    // Outside any checkout: the SDK of the one this binary was built from.
                    let sdk = repo().join("sdk");
                    assert_eq!(made.sdk.as_deref(), Some(sdk.as_path()));
                    let manifest = text(&dir, "Cargo.toml");
                    assert!(manifest.contains("name = \"acme-domain-check\""));
                    let dep = format!(
                        "lanyard-sdk = {{ path = {} }}",
                        toml_string(&sdk.to_string_lossy())
                    );
                    assert!(manifest.contains(&dep), "{manifest}");
                    assert!(readme.contains(&format!("`{}`", sdk.display())), "{readme}");
                    assert!(
                        text(&dir, "src/lib.rs")
                            .contains("const NAME: &'static str = \"acme.domain-check\";")
                    );
                }
                Lang::Python | Lang::Js => {
                    assert_eq!(made.sdk, None);
                    assert_eq!(text(&dir, "wit/card.wit"), CARD_WIT, "{lang}");
                    assert!(
                        readme.contains("SDK to install: `wit/card.wit` is a copy"),
                        "{readme}"
                    );
                }
            }
        }
    }

    #[test]
    fn never_writes_into_a_non_empty_directory() {
        let tmp = TempDir::new("busy");
        std::fs::write(tmp.0.join("keep.txt"), "mine").unwrap();
        let err = scaffold("acme.x", Lang::Python, &tmp.0).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        assert_eq!(std::fs::read_dir(&tmp.0).unwrap().count(), 1);
        assert_eq!(text(&tmp.0, "keep.txt"), "mine");
        // An existing empty directory is fine.
        let empty = tmp.0.join("empty");
        std::fs::create_dir(&empty).unwrap();
        scaffold("acme.x", Lang::Js, &empty).unwrap();
    }

    #[test]
    fn a_bad_sdk_path_is_refused() {
        let tmp = TempDir::new("sdk");
        let sources = Sources {
            sdk_path: Some(tmp.0.join("nowhere")),
            ..Sources::default()
        };
        let err = scaffold_with("acme.x", Lang::Rust, &tmp.0.join("card"), &sources).unwrap_err();
        assert!(err.to_string().contains("is not the lanyard sdk"), "{err}");
    }

    /// A checkout with only what makes `sdk/` the SDK.
    fn fake_checkout(root: &Path) -> PathBuf {
        let sdk = root.join("sdk");
        std::fs::create_dir_all(&sdk).unwrap();
        std::fs::write(
            sdk.join("Cargo.toml"),
            "[package]\nname = \"lanyard-sdk\"\n",
        )
        .unwrap();
        sdk.canonicalize().unwrap()
    }

    #[test]
    fn without_the_built_from_checkout_the_enclosing_one_or_the_named_one_is_used() {
        let tmp = TempDir::new("enclosing");
        let sdk = fake_checkout(&tmp.0.join("lanyard"));
        let gone = Sources {
            sdk_path: None,
            built_from: tmp.0.join("gone/sdk"),
        };
        // Inside the checkout: a relative path, so card and checkout move together.
        let inside = tmp.0.join("lanyard/cards/mine");
        let made = scaffold_with("acme.x", Lang::Rust, &inside, &gone).unwrap();
        assert_eq!(made.sdk.as_deref(), Some(sdk.as_path()));
        assert!(text(&inside, "Cargo.toml").contains(r#"lanyard-sdk = { path = "../../sdk" }"#));
        // Named, as the checkout or as its sdk/: an absolute path.
        for named in [tmp.0.join("lanyard"), sdk.clone()] {
            let dir = tmp.0.join(format!(
                "elsewhere-{}",
                named.file_name().unwrap().to_string_lossy()
            ));
            let sources = Sources {
                sdk_path: Some(named),
                ..gone.clone()
            };
            let made = scaffold_with("acme.x", Lang::Rust, &dir, &sources).unwrap();
            assert_eq!(made.sdk.as_deref(), Some(sdk.as_path()));
            let dep = format!(
                "lanyard-sdk = {{ path = {} }}",
                toml_string(&sdk.to_string_lossy())
            );
            assert!(text(&dir, "Cargo.toml").contains(&dep));
        }
    }

    #[test]
    fn with_no_sdk_to_be_found_a_rust_card_is_refused_and_nothing_is_written() {
        let tmp = TempDir::new("nosdk");
        let sources = Sources {
            sdk_path: None,
            built_from: tmp.0.join("gone/sdk"),
        };
        let dir = tmp.0.join("card");
        let err = scaffold_with("acme.x", Lang::Rust, &dir, &sources).unwrap_err();
        assert!(err.to_string().contains("pass --sdk-path"), "{err}");
        assert!(!dir.exists());
        // The other languages need no SDK.
        scaffold_with("acme.x", Lang::Python, &dir, &sources).unwrap();
    }

    // The Rust scaffold is built, tested and run through the real binary, with
    // the SDK found as a user's would be: host/lanyard/tests/docs.rs.

    #[test]
    fn python_scaffold_tests_pass_and_it_builds_a_component() {
        let tmp = TempDir::new("python");
        let dir = tmp.0.join("card");
        let made = scaffold("acme.domain-check", Lang::Python, &dir).unwrap();
        let out = run_ok(&dir, Command::new("python3").args(["-m", "unittest", "-v"]));
        assert!(out.contains("Ran 4 tests") && out.contains("OK"), "{out}");
        let env = toolchain_env("python");
        run_ok(&dir, Command::new("bash").arg("build.sh").envs(env));
        assert_component(&dir.join(&made.wasm), "acme.domain-check");
    }

    #[test]
    fn js_scaffold_tests_pass_and_it_builds_a_component() {
        let tmp = TempDir::new("js");
        let dir = tmp.0.join("card");
        let made = scaffold("acme.domain-check", Lang::Js, &dir).unwrap();
        let out = run_ok(&dir, Command::new("node").arg("--test"));
        assert!(
            out.contains("# pass 4") && out.contains("# fail 0"),
            "{out}"
        );
        let env = toolchain_env("js");
        run_ok(&dir, Command::new("bash").arg("build.sh").envs(env));
        assert_component(&dir.join(&made.wasm), "acme.domain-check");
    }
}
