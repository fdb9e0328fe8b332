#!/usr/bin/env bash
# Installed size and package count of a memory-only install, for docs/install-size.md: each argument
# (a package name, name@version or a tarball path) is installed alone into an empty scratch project.
# Without arguments it packs this repository (run `npm run build` first) and measures the tarball
# beside cache-manager and bentocache. Needs the npm registry for the peers.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

if [ $# -eq 0 ]; then
  tarball="$scratch/$(npm pack --silent --ignore-scripts --pack-destination "$scratch")"
  set -- "$tarball" cache-manager bentocache
fi

echo "| package | installed (disk) | installed (apparent) | packages in node_modules |"
echo "|---|--:|--:|--:|"
i=0
for spec in "$@"; do
  i=$((i + 1))
  dir="$scratch/project-$i"
  mkdir -p "$dir"
  echo '{ "name": "scratch", "version": "1.0.0", "private": true }' >"$dir/package.json"
  (cd "$dir" && npm install "$spec" --no-audit --no-fund --loglevel=error >/dev/null)
  disk="$(du -sh "$dir/node_modules" | cut -f1)"
  apparent="$(du -sh --apparent-size "$dir/node_modules" | cut -f1)"
  count="$(node -e "const l = require('$dir/node_modules/.package-lock.json'); console.log(Object.keys(l.packages).filter(Boolean).length)")"
  echo "| $(basename "$spec") | $disk | $apparent | $count |"
done
