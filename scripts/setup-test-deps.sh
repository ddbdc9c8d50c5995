#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need when it is missing:
#   - redis-server, from the distribution's packages (the tests start private instances);
#   - the SQS emulator local-aws-sqs, from the npm registry, pinned by
#     scripts/sqs-emulator/package-lock.json;
#   - promtool, from the distribution's package prometheus (workers/tests/monitoring checks
#     and unit-tests the alert rules in deploy/prometheus with it);
#   - moto (AWS Secrets Manager for the secrets tests), from PyPI into scripts/moto/.venv,
#     every package pinned by scripts/moto/requirements.txt.
# Node.js and npm must be on the machine. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; exit 1; fi
}

if ! command -v redis-server >/dev/null 2>&1; then
  echo "==> installing redis-server (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

if ! command -v promtool >/dev/null 2>&1; then
  echo "==> installing promtool (apt package prometheus)"
  as_root apt-get update -qq
  # The package's service is not wanted: only its promtool binary is used.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

if ! command -v node >/dev/null 2>&1; then
  echo "Node.js is required for the SQS emulator (apt-get install nodejs npm)" >&2
  exit 1
fi

emulator=scripts/sqs-emulator
if [ ! -f "$emulator/node_modules/local-aws-sqs/package.json" ] \
  || ! cmp -s "$emulator/package-lock.json" "$emulator/node_modules/.installed-lock.json"; then
  echo "==> installing the SQS emulator (npm ci, pinned by package-lock.json)"
  npm ci --prefix "$emulator" --no-audit --no-fund --loglevel=error
  cp "$emulator/package-lock.json" "$emulator/node_modules/.installed-lock.json"
fi

moto=scripts/moto
if [ ! -x "$moto/.venv/bin/moto_server" ] \
  || ! cmp -s "$moto/requirements.txt" "$moto/.venv/.installed-requirements.txt"; then
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "==> installing python3-venv (apt)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  echo "==> installing moto (pip, pinned by scripts/moto/requirements.txt)"
  rm -rf "$moto/.venv"
  python3 -m venv "$moto/.venv"
  # --no-deps: the file lists every package with its version, nothing else is resolved.
  "$moto/.venv/bin/pip" install -q --disable-pip-version-check --no-deps -r "$moto/requirements.txt"
  cp "$moto/requirements.txt" "$moto/.venv/.installed-requirements.txt"
fi

echo "==> test dependencies ready: $(redis-server --version | cut -d' ' -f3), $(promtool --version 2>&1 | head -1 | cut -d' ' -f1-3), node $(node --version), local-aws-sqs $(node -p "require('./$emulator/node_modules/local-aws-sqs/package.json').version"), moto $("$moto/.venv/bin/pip" show moto | sed -n 's/^Version: //p')"
