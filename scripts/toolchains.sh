#!/usr/bin/env bash
# Install the toolchains that build lanyard's Python and JavaScript cards, at
# the versions pinned in cards/examples/toolchain/, the driver of the
# console's browser tests, pinned in tests/browser/, and the sandbox org's
# conformance fuzzer, pinned in host/lanyard-okta/spec/, into a cache outside
# the repository. Idempotent: a second run checks a stamp and returns at once.
#
#   scripts/toolchains.sh [--print-env] [python] [js] [browser] [schemathesis]   (none: python and js)
#
#   python   componentize-py, from PyPI, into a virtualenv (hash-checked wheels)
#   js       jco + componentize-js, from npm, with `npm ci` on the committed lockfile
#   browser  playwright-core, from npm, with `npm ci`; it drives Debian's chromium
#            (apt-get install chromium), never a browser of its own download
#   schemathesis  schemathesis, from PyPI, into a virtualenv (the okta conformance test)
#
# --print-env prints shell assignments for the installed tools on stdout
# (COMPONENTIZE_PY=..., JCO=..., PLAYWRIGHT_MODULES=..., SCHEMATHESIS=...), for `eval "$(scripts/toolchains.sh --print-env python)"`.
# Progress and errors go to stderr.
#
# The cache is $LANYARD_TOOLCHAINS, else ${XDG_CACHE_HOME:-~/.cache}/lanyard-toolchains.
# Each install lives in a directory named after the hash of its pin file, so a
# changed pin installs beside the old one and never half-overwrites it.
# Needs: python3 (3.9+, with the venv module) for python; node 18+ and npm for js.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pins="$repo/cards/examples/toolchain"
cache="${LANYARD_TOOLCHAINS:-${XDG_CACHE_HOME:-$HOME/.cache}/lanyard-toolchains}"

print_env=0
langs=()
for arg in "$@"; do
  case "$arg" in
    --print-env) print_env=1 ;;
    python|js|browser|schemathesis) langs+=("$arg") ;;
    -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "toolchains: unknown argument '$arg' (expected python, js, browser, schemathesis or --print-env)" >&2; exit 2 ;;
  esac
done
[ ${#langs[@]} -eq 0 ] && langs=(python js)

say() { echo "toolchains: $*" >&2; }
die() { echo "toolchains: error: $*" >&2; exit 1; }

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

mkdir -p "$cache"
# One installer at a time (parallel test binaries may all ask at once).
exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

install_python() {
  local req="$pins/requirements.txt"
  local dir="$cache/componentize-py-$(hash_of "$req")"
  local tool="$dir/bin/componentize-py"
  if [ -f "$dir/.installed" ] && [ -x "$tool" ]; then
    COMPONENTIZE_PY="$tool"
    return
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 is needed to install componentize-py (apt-get install python3 python3-venv)"
  python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "componentize-py needs python 3.9 or later; found $(python3 --version 2>&1)"
  python3 -c 'import venv, ensurepip' 2>/dev/null \
    || die "python3 has no venv/ensurepip module (apt-get install python3-venv)"
  say "installing componentize-py into $dir (from PyPI)"
  local started=$SECONDS
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary :all: -r "$req" \
    || { rm -rf "$dir"; die "pip could not install componentize-py (see above); is PyPI reachable?"; }
  local version
  version="$("$tool" --version)" || { rm -rf "$dir"; die "componentize-py was installed but does not run"; }
  grep -q "componentize-py==${version#componentize-py }" "$req" \
    || { rm -rf "$dir"; die "installed '$version' but $req pins another version"; }
  touch "$dir/.installed"
  say "installed $version in $((SECONDS - started))s"
  COMPONENTIZE_PY="$tool"
}

# npm_install WHAT PINS_DIR DIR MIN_NODE PACKAGE: `npm ci` PINS_DIR's
# package.json and package-lock.json into DIR (replacing it), then check that
# PACKAGE is installed at the version package.json pins. --ignore-scripts:
# nothing needs to run at install (jco's packages ship their binaries as
# per-platform optional dependencies; playwright-core downloads nothing, and
# the tests use Debian's chromium).
npm_install() {
  local what="$1" pins_dir="$2" dir="$3" min_node="$4" package="$5"
  command -v node >/dev/null 2>&1 || die "node is needed to install $what (apt-get install nodejs npm)"
  command -v npm >/dev/null 2>&1 || die "npm is needed to install $what (apt-get install npm)"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge "$min_node" ] || die "$what needs node $min_node or later; found $(node --version)"
  say "installing $what into $dir (from the npm registry)"
  local started=$SECONDS
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$pins_dir/package.json" "$pins_dir/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2) \
    || { rm -rf "$dir"; die "npm ci failed (see above); is the npm registry reachable?"; }
  local version pinned
  version="$(node -p "require('$dir/node_modules/$package/package.json').version")" \
    || { rm -rf "$dir"; die "$package was installed but cannot be read"; }
  pinned="$(node -p "require('$pins_dir/package.json').dependencies['$package']")"
  [ "$version" = "$pinned" ] || { rm -rf "$dir"; die "installed $package $version but package.json pins $pinned"; }
  say "installed $package $version in $((SECONDS - started))s"
}

install_js() {
  local dir="$cache/jco-$(hash_of "$pins/package.json" "$pins/package-lock.json")"
  local tool="$dir/node_modules/.bin/jco"
  if [ -f "$dir/.installed" ] && [ -x "$tool" ]; then
    JCO="$tool"
    return
  fi
  npm_install "jco and componentize-js" "$pins" "$dir" 18 "@bytecodealliance/jco"
  "$tool" --version >/dev/null || { rm -rf "$dir"; die "jco was installed but does not run"; }
  touch "$dir/.installed"
  JCO="$tool"
}

install_browser() {
  local pins_dir="$repo/tests/browser"
  local dir="$cache/playwright-$(hash_of "$pins_dir/package.json" "$pins_dir/package-lock.json")"
  if [ ! -f "$dir/.installed" ]; then
    npm_install "playwright-core" "$pins_dir" "$dir" 20 "playwright-core"
    touch "$dir/.installed"
  fi
  PLAYWRIGHT_MODULES="$dir/node_modules"
}

install_schemathesis() {
  local req="$repo/host/lanyard-okta/spec/schemathesis-requirements.txt"
  local dir="$cache/schemathesis-$(hash_of "$req")"
  local tool="$dir/bin/schemathesis"
  if [ -f "$dir/.installed" ] && [ -x "$tool" ]; then
    SCHEMATHESIS="$tool"
    return
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 is needed to install schemathesis (apt-get install python3 python3-venv)"
  python3 -c 'import venv, ensurepip' 2>/dev/null \
    || die "python3 has no venv/ensurepip module (apt-get install python3-venv)"
  say "installing schemathesis into $dir (from PyPI)"
  local started=$SECONDS
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" \
    || { rm -rf "$dir"; die "pip could not install schemathesis (see above); is PyPI reachable?"; }
  local version
  version="$("$tool" --version)" || { rm -rf "$dir"; die "schemathesis was installed but does not run"; }
  grep -q "schemathesis==${version##* }" "$req" \
    || { rm -rf "$dir"; die "installed '$version' but $req pins another version"; }
  touch "$dir/.installed"
  say "installed $version in $((SECONDS - started))s"
  SCHEMATHESIS="$tool"
}

for lang in "${langs[@]}"; do
  case "$lang" in
    python) install_python ;;
    js) install_js ;;
    browser) install_browser ;;
    schemathesis) install_schemathesis ;;
  esac
done

if [ "$print_env" -eq 1 ]; then
  [ -n "${COMPONENTIZE_PY:-}" ] && printf 'COMPONENTIZE_PY=%q\n' "$COMPONENTIZE_PY"
  [ -n "${JCO:-}" ] && printf 'JCO=%q\n' "$JCO"
  [ -n "${PLAYWRIGHT_MODULES:-}" ] && printf 'PLAYWRIGHT_MODULES=%q\n' "$PLAYWRIGHT_MODULES"
  [ -n "${SCHEMATHESIS:-}" ] && printf 'SCHEMATHESIS=%q\n' "$SCHEMATHESIS"
fi
exit 0
