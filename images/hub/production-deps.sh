#!/bin/sh
# production-deps.sh DIR: installs the services' npm packages into DIR/node_modules, from the
# package.json and package-lock.json already in DIR, the same way for both builds of hub/hub (the
# Dockerfile's build stage and build.sh): `npm ci --omit=dev --ignore-scripts` (no install script runs;
# the lock's versions exactly), then without what the compiled services never load:
#   - @swc-node/register and @swc/core (with what only they need: typescript, the oxc resolver): they
#     run TypeScript sources for `npm run hub` and the CLI; the image runs dist/, plain JavaScript;
#   - type declarations, TypeScript sources and source maps of the packages (*.ts, *.mts, *.cts, *.map).
# DIR/package.json is left naming what is installed. Needs npm (and the npm registry or its cache).
set -eu

dir=${1:?usage: production-deps.sh DIR (holding package.json and package-lock.json)}
cd "$dir"
[ -f package.json ] && [ -f package-lock.json ] || {
  echo "production-deps: $dir has no package.json and package-lock.json" >&2
  exit 1
}

npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
node -e '
  const fs = require("fs");
  const manifest = JSON.parse(fs.readFileSync("package.json", "utf8"));
  for (const name of ["@swc-node/register", "@swc/core"]) delete manifest.dependencies[name];
  delete manifest.devDependencies;
  fs.writeFileSync("package.json", JSON.stringify(manifest, null, 2) + "\n");
'
npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
find node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \) -delete
rm -f package-lock.json node_modules/.package-lock.json
