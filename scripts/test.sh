#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
# install missing dependencies, check the Salesforce metadata (salesforce/), check formatting,
# lint, then run every test.
# The tests start their own redis-server, SQS emulator and project binaries on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."

# A clean clone gains nothing from incremental compilation, and its files would double the
# target directory's size on disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

scripts/setup-test-deps.sh

echo "==> Salesforce metadata"
scripts/check-salesforce-metadata.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test"
cargo test --workspace --locked --no-fail-fast

# The ingress and bridge tests again with moto's SQS in place of the Node emulator: a second,
# independent implementation of the SQS protocol.
echo "==> cargo test (ingress and bridge against moto's SQS)"
SQS_EMULATOR=moto cargo test --workspace --locked --no-fail-fast \
  --test bridge --test delivery --test durability --test invalid_signatures --test verification
