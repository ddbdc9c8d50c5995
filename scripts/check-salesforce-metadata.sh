#!/usr/bin/env bash
# Checks the Salesforce DX project in salesforce/ without an org: Salesforce's
# source-deploy-retrieve library resolves and converts every component, then
# salesforce/tools/check.mjs checks the data model against the expected model and the
# default mapping, and the permission set (see salesforce/README.md).
# Installs the checker's npm dependencies when missing, pinned by
# salesforce/tools/package-lock.json. Needs Node.js 20 or later and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "Node.js is required for the Salesforce metadata check (apt-get install nodejs npm)" >&2
  exit 1
fi

tools=salesforce/tools
if [ ! -f "$tools/node_modules/@salesforce/source-deploy-retrieve/package.json" ] \
  || ! cmp -s "$tools/package-lock.json" "$tools/node_modules/.installed-lock.json"; then
  echo "==> installing the Salesforce metadata checker (npm ci, pinned by package-lock.json)"
  npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error
  cp "$tools/package-lock.json" "$tools/node_modules/.installed-lock.json"
fi

node "$tools/check.mjs"
