#!/usr/bin/env bash
# Build the acme.zoom-deprovision card: index.js + zoom.js -> zoom_deprovision.wasm.
#
# jco bundles the two modules into one (rolldown), then componentize-js
# snapshots an initialised StarlingMonkey engine with it loaded and wraps it
# as a WASI 0.2 component for the repository's wit/ (world `card`).
# `-d http fetch-event` leaves out fetch() and the HTTP server event: a card
# reaches the network only through the host's `lanyard:card/http`, so the
# component does not import wasi:http at all.
# Uses $JCO if set, else installs the pinned version with scripts/toolchains.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="${1:-$here/zoom_deprovision.wasm}"

if [ -z "${JCO:-}" ]; then
  eval "$("$repo/scripts/toolchains.sh" --print-env js)"
fi

cd "$here"
"$JCO" componentize index.js --bundle --bundle-config rolldown.config.mjs \
  --wit "$repo/wit" --world-name card --disable http fetch-event \
  --out "$out.tmp" >&2
mv "$out.tmp" "$out"
echo "built $out ($(wc -c <"$out") bytes)" >&2
