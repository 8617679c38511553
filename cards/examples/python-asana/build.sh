#!/usr/bin/env bash
# Build the acme.asana-offboard card: app.py + asana.py -> asana_offboard.wasm.
#
# componentize-py generates the `wit_world` bindings from the repository's
# wit/ (world `card`), snapshots an initialised CPython with the app imported,
# and wraps it as a WASI 0.2 component. Uses $COMPONENTIZE_PY if set, else
# installs the pinned version with scripts/toolchains.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="${1:-$here/asana_offboard.wasm}"

if [ -z "${COMPONENTIZE_PY:-}" ]; then
  eval "$("$repo/scripts/toolchains.sh" --print-env python)"
fi

# Build from a clean copy of the sources only, so that no stray file (a
# __pycache__, a local venv) ends up inside the component.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/app.py" "$here/asana.py" "$work/"

"$COMPONENTIZE_PY" --wit-path "$repo/wit" --world card componentize app \
  --python-path "$work" --output "$out.tmp" >&2
mv "$out.tmp" "$out"
echo "built $out ($(wc -c <"$out") bytes)" >&2
