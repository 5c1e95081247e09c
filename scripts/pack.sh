#!/usr/bin/env bash
# Packs workspace packages, and every workspace package they depend on, into tarballs that install
# together into another project (the packages are not on the npm registry yet).
#
#   ./scripts/pack.sh [--out DIR] <package> [<package> ...]
#   ./scripts/pack.sh cli connector-url            # -> /tmp/tributary-packs/*.tgz
#   cd ~/my-app && npm install /tmp/tributary-packs/*.tgz
#
# A package is named by its folder under packages/ (cli, core, connector-url, ...) or its npm name
# (@tributary/cli). Dependencies and required peer dependencies on other workspace packages are
# followed (optional peers are not), so the tarballs never name a @tributary package npm cannot find.
# Builds what it packs first (quietly), unless TRIBUTARY_PACK_NO_BUILD=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$TRIBUTARY_ROOT"

out=/tmp/tributary-packs
if [ "${1:-}" = "--out" ]; then
  out="${2:?--out needs a directory}"
  shift 2
fi
if [ "$#" -eq 0 ]; then
  echo "usage: ./scripts/pack.sh [--out DIR] <package> [<package> ...]   (e.g. cli connector-url)" >&2
  exit 2
fi

# Resolve the closure over workspace dependencies (prints one folder name per line).
folders="$(node - "$@" <<'NODE'
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(process.cwd(), 'packages');
const byName = new Map();
for (const folder of fs.readdirSync(root)) {
  const file = path.join(root, folder, 'package.json');
  if (!fs.existsSync(file)) continue;
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  byName.set(manifest.name, { folder, manifest });
}
const byFolder = new Map([...byName.values()].map((entry) => [entry.folder, entry]));
const wanted = new Set();
const visit = (key) => {
  const entry = byFolder.get(key) ?? byName.get(key) ?? byName.get(`@tributary/${key}`);
  if (!entry) {
    const known = [...byFolder.keys()].sort().join(', ');
    console.error(`pack: no workspace package "${key}" (known: ${known})`);
    process.exit(2);
  }
  if (wanted.has(entry.folder)) return;
  if (entry.manifest.private) {
    console.error(`pack: ${entry.manifest.name} is private (not publishable yet): leave it out`);
    process.exit(2);
  }
  wanted.add(entry.folder);
  const { dependencies = {}, peerDependencies = {}, peerDependenciesMeta = {} } = entry.manifest;
  const required = [
    ...Object.keys(dependencies),
    ...Object.keys(peerDependencies).filter((name) => !peerDependenciesMeta[name]?.optional),
  ];
  for (const name of required) if (byName.has(name)) visit(name);
};
for (const key of process.argv.slice(2)) visit(key);
console.log([...wanted].join('\n'));
NODE
)"

filters=()
for folder in $folders; do filters+=("--filter=./packages/$folder"); done
if [ "${TRIBUTARY_PACK_NO_BUILD:-}" != "1" ]; then
  echo "[pack] building $(echo $folders | tr '\n' ' ')" >&2
  TURBO_TELEMETRY_DISABLED=1 pnpm exec turbo run build "${filters[@]}" --output-logs=errors-only >/dev/null
fi
mkdir -p "$out"
for folder in $folders; do
  (cd "packages/$folder" && pnpm pack --pack-destination "$out" >/dev/null)
  echo "[pack] packed packages/$folder" >&2
done
echo "[pack] done: npm install $out/*.tgz" >&2
