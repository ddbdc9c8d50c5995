#!/usr/bin/env bash
# See it work: builds the binaries and starts the whole fleet on this machine — Redis, the
# SQS emulator, the Salesforce and Stripe simulators, the ingress, a bridge, two realtime
# workers and a bulk worker — sends a realistic mix of signed Stripe events, then runs the
# loop through stripesim (a customer, a price and a paid Checkout session, whose webhooks
# stripesim signs and sends), and prints what happened.
#   scripts/demo.sh            leave the stack running until Ctrl-C
#   scripts/demo.sh --no-wait  stop after the summary
#   SQS_EMULATOR=moto scripts/demo.sh   moto's SQS instead of the Node emulator
# Ports (override with the variables): ingress LISTEN_ADDR 127.0.0.1:8000, emulator
# SQS_EMULATOR_PORT 9324, simulators SFSIM_PORT 7700 and STRIPESIM_PORT 12111, Redis
# DEMO_REDIS_PORT 6390.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sqs-lib.sh

wait_for_ctrl_c=1
[ "${1:-}" = "--no-wait" ] && wait_for_ctrl_c=0

scripts/setup-test-deps.sh
echo "==> building release binaries"
cargo build --release -q -p ingress -p workers -p testkit -p sfsim -p stripesim \
  --bin ingress --bin workers --bin sfsim --bin stripesim --bin loadgen

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
  queued=$(curl -s -X POST "$AWS_ENDPOINT_URL_SQS/" -H "$SQS_AUTH_HEADER" -d "Action=GetQueueAttributes&QueueUrl=$SQS_QUEUE_URL&AttributeName.1=All" \
    | sed -n 's:.*<Name>ApproximateNumberOfMessages</Name><Value>\([0-9]*\)</Value>.*:\1:p')
  [ "$high" = 0 ] && [ "$low" = 0 ] && [ "${queued:-0}" = 0 ] && break
  sleep 0.5
done

echo "==> the loop through stripesim: a customer, a monthly price, a Checkout session paid by the customer"
api="http://127.0.0.1:$stripesim_port"
stripe() { curl -s -u "$STRIPE_API_KEY:" "$api$1" "${@:2}"; }
customer=$(stripe /v1/customers -d email=ada@example.com -d 'name=Ada Lovelace' | json_field id)
product=$(stripe /v1/products -d name=Pro | json_field id)
price=$(stripe /v1/prices -d product="$product" -d currency=eur -d unit_amount=1500 -d nickname='Pro monthly' \
  -d 'recurring[interval]=month' | json_field id)
session=$(stripe /v1/checkout/sessions -d mode=subscription -d customer="$customer" \
  -d "line_items[0][price]=$price" -d 'line_items[0][quantity]=1' -d success_url=https://example.com/ok | json_field id)
subscription=$(curl -s -X POST "$api/__sim/checkout/sessions/$session/complete" | json_field subscription)
echo "  customer $customer, price $price, session $session → subscription $subscription"
for _ in $(seq 1 60); do
  curl -s "http://127.0.0.1:$sfsim_port/__sim/records/Stripe_Subscription__c" | grep -q "$subscription" \
    && curl -s "http://127.0.0.1:$sfsim_port/__sim/records/Stripe_Customer__c" | grep -q "$customer" && break
  sleep 0.5
done
echo "  in Salesforce: Stripe_Subscription__c $subscription: $(curl -s "http://127.0.0.1:$sfsim_port/__sim/records/Stripe_Subscription__c" \
  | tr '}' '\n' | grep "$subscription" | grep -o '"Status__c":"[^"]*"\|"Sync_Status__c":"[^"]*"\|"Amount__c":[0-9.]*' | tr '\n' ' ')"
echo "  webhook deliveries by stripesim: $(curl -s "$api/__sim/deliveries" | grep -o '"succeeded":true' | wc -l) succeeded"

echo "==> the other way: a Contact created in Salesforce becomes a Stripe customer (workers outbound)"
sf="http://127.0.0.1:$sfsim_port"
# A person at the org (sfsim's second user), not the integration user.
person=$(curl -s "$sf/services/oauth2/token" -d grant_type=password -d client_id=sfsim-client-id \
  -d client_secret=sfsim-client-secret -d username=admin@sfsim.example.com -d password=sfsim-adminSFSIMTOKEN \
  | json_field access_token)
contact=$(curl -s "$sf/services/data/v62.0/sobjects/Contact" -H "Authorization: Bearer $person" \
  -H 'Content-Type: application/json' -d '{"FirstName":"Grace","LastName":"Hopper","Email":"grace@example.com"}' | json_field id)
for _ in $(seq 1 60); do
  linked=$(curl -s "$sf/__sim/records/Contact" | tr '}' '\n' | grep "$contact" | grep -o '"Stripe_Customer_ID__c":"cus_[^"]*"' | cut -d'"' -f4)
  [ -n "$linked" ] && break
  sleep 0.5
done
echo "  Contact $contact → Stripe customer ${linked:-<none yet: see .run/outbound-1.log>}"

echo "==> records in Salesforce (the simulator)"
for object in Stripe_Customer__c Payment_Transaction__c Stripe_Subscription__c; do
  printf '  %-24s %s\n' "$object" "$(curl -s "http://127.0.0.1:$sfsim_port/__sim/records/$object" | sed -n 's/.*"totalSize":\([0-9]*\).*/\1/p')"
done
echo "==> Salesforce API calls used: $(curl -s "http://127.0.0.1:$sfsim_port/__sim/calls" | sed -n 's/^{"by_endpoint":.*"total":\([0-9]*\).*/\1/p;s/.*"total":\([0-9]*\).*/\1/p' | head -1)"
echo "==> dead letters"
target/release/workers dlq list
echo "==> consumer groups (redis-cli XINFO GROUPS)"
for stream in high low outbound; do echo "  {fleet}:$stream"; redis-cli -p "$redis_port" XINFO GROUPS "{fleet}:$stream" | paste - - | sed 's/^/    /'; done
target/release/workers pending

if [ "$wait_for_ctrl_c" = 1 ]; then
  echo "==> running; POST signed events to http://$listen/webhook/stripe, inspect with workers pending / dlq list. Ctrl-C stops."
  wait
fi
