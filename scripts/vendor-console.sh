#!/usr/bin/env bash
# Refresh the third-party libraries the console embeds (yaml, diff): install
# the versions pinned in scripts/vendor-console/package-lock.json from npm
# (`npm ci`, install scripts off) in a scratch directory, bundle each into one
# ES module with esbuild (also pinned there) and write them, with their
# licences, to host/lanyard-server/src/console/assets/vendor/.
#
#   scripts/vendor-console.sh            # rebuild the files from the lockfile
#   scripts/vendor-console.sh --update   # also move the pins to the newest versions
#                                        # in the ranges of package.json (edit it first)
#
# Run by hand when refreshing, then review and commit the diff; the build and
# the install never run it (the console is served from the committed files).
# Needs node 18+ and npm.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pins="$repo/scripts/vendor-console"
out="$repo/host/lanyard-server/src/console/assets/vendor"

update=0
case "${1:-}" in
  "") ;;
  --update) update=1 ;;
  -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "vendor-console: unknown argument '$1'" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$pins/package.json" "$pins/package-lock.json" "$pins/build.mjs" "$work/"
cd "$work"
if [ "$update" = 1 ]; then
  npm install --ignore-scripts --no-audit --no-fund >&2
  cp package-lock.json "$pins/package-lock.json"
else
  npm ci --ignore-scripts --no-audit --no-fund >&2
fi
node build.mjs "$out"
ls -l "$out" >&2
