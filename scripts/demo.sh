#!/usr/bin/env bash
# See it work: builds the binaries and starts the whole fleet on this machine — Redis, the
# SQS emulator, the Salesforce simulator, the ingress, a bridge, two realtime workers and a
# bulk worker — sends a realistic mix of signed Stripe events, and prints what happened.
#   scripts/demo.sh            leave the stack running until Ctrl-C
#   scripts/demo.sh --no-wait  stop after the summary
# Ports (override with the variables): ingress LISTEN_ADDR 127.0.0.1:8000, emulator
# SQS_EMULATOR_PORT 9324, simulator SFSIM_PORT 7700, Redis DEMO_REDIS_PORT 6390.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sqs-lib.sh

wait_for_ctrl_c=1
[ "${1:-}" = "--no-wait" ] && wait_for_ctrl_c=0

scripts/setup-test-deps.sh
echo "==> building release binaries"
cargo build --release -q -p ingress -p workers -p testkit -p sfsim --bin ingress --bin workers --bin sfsim --bin loadgen

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
source scripts/fleet-lib.sh
start_fleet

echo "==> sending signed events for 5 s at 100/s (customer updates → low, payments → high)"
# The bridge consumes the queue, so the load generator does not check it here.
env -u SQS_QUEUE_URL target/release/loadgen ingress --url "http://$listen/webhook/stripe" --rate 100 --duration 5

echo "==> waiting for the queue and the streams to drain"
for _ in $(seq 1 60); do
  high=$(redis-cli -p "$redis_port" XLEN '{fleet}:high'); low=$(redis-cli -p "$redis_port" XLEN '{fleet}:low')
  queued=$(curl -s -X POST "$AWS_ENDPOINT_URL_SQS/" -d "Action=GetQueueAttributes&QueueUrl=$SQS_QUEUE_URL&AttributeName.1=All" \
    | sed -n 's:.*<Name>ApproximateNumberOfMessages</Name><Value>\([0-9]*\)</Value>.*:\1:p')
  [ "$high" = 0 ] && [ "$low" = 0 ] && [ "${queued:-0}" = 0 ] && break
  sleep 0.5
done

echo "==> records in Salesforce (the simulator)"
for object in Stripe_Customer__c Payment_Transaction__c Stripe_Subscription__c; do
  printf '  %-24s %s\n' "$object" "$(curl -s "http://127.0.0.1:$sfsim_port/__sim/records/$object" | sed -n 's/.*"totalSize":\([0-9]*\).*/\1/p')"
done
echo "==> Salesforce API calls used: $(curl -s "http://127.0.0.1:$sfsim_port/__sim/calls" | sed -n 's/^{"by_endpoint":.*"total":\([0-9]*\).*/\1/p;s/.*"total":\([0-9]*\).*/\1/p' | head -1)"
echo "==> dead letters"
target/release/workers dlq list
echo "==> consumer groups (redis-cli XINFO GROUPS)"
for stream in high low; do echo "  {fleet}:$stream"; redis-cli -p "$redis_port" XINFO GROUPS "{fleet}:$stream" | paste - - | sed 's/^/    /'; done
target/release/workers pending

if [ "$wait_for_ctrl_c" = 1 ]; then
  echo "==> running; POST signed events to http://$listen/webhook/stripe, inspect with workers pending / dlq list. Ctrl-C stops."
  wait
fi
