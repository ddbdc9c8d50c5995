# Starts the whole fleet on this machine for the demo and the load test: Redis, the SQS
# emulator, the Salesforce and Stripe simulators, the ingress, a bridge, two realtime workers,
# a bulk worker and an outbound worker (Salesforce → Stripe, from sfsim's Pub/Sub API). Source it (after sqs-lib.sh) and call start_fleet; it exports the
# variables the processes use and kills them all on exit. stripesim gets a webhook endpoint
# for the ingress, whose signing secret the ingress accepts besides STRIPE_WEBHOOK_SECRETS.
# Ports: LISTEN_ADDR (127.0.0.1:8000), SQS_EMULATOR_PORT (9324), SFSIM_PORT (7700),
# SFSIM_PUBSUB_PORT (7443), STRIPESIM_PORT (12111), DEMO_REDIS_PORT (6390); logs in .run/.

# The first text value of "field" in the JSON on stdin (enough for the flat answers here).
json_field() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }

start_fleet() {
  mkdir -p .run

  redis_port=${DEMO_REDIS_PORT:-6390}
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    >.run/redis.log 2>&1 &
  pids+=($!)
  sqs_port=${SQS_EMULATOR_PORT:-9324}
  start_sqs_emulator "$sqs_port" .run/sqs-emulator.log
  pids+=("$SQS_EMULATOR_PID")
  sfsim_port=${SFSIM_PORT:-7700}
  pubsub_port=${SFSIM_PUBSUB_PORT:-7443}
  rm -f .run/sfsim-pubsub.pem
  SFSIM_LISTEN_ADDR=127.0.0.1:$sfsim_port SFSIM_PUBSUB_ADDR=127.0.0.1:$pubsub_port \
    SFSIM_PUBSUB_CERT_OUT=.run/sfsim-pubsub.pem target/release/sfsim >.run/sfsim.log 2>&1 &
  pids+=($!)

  export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$sqs_port" AWS_REGION=${AWS_REGION:-us-east-1} \
    AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test} \
    AWS_EC2_METADATA_DISABLED=true
  export SQS_QUEUE_URL=$(create_queue "$AWS_ENDPOINT_URL_SQS" stripe-events)
  listen=${LISTEN_ADDR:-127.0.0.1:8000}
  stripesim_port=${STRIPESIM_PORT:-12111}
  export STRIPE_API_KEY=${STRIPE_API_KEY:-sk_test_demo_key}
  STRIPESIM_LISTEN_ADDR=127.0.0.1:$stripesim_port STRIPESIM_RETRY_SCALE=0.001 target/release/stripesim \
    >.run/stripesim.log 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$stripesim_port/__sim/webhooks"
  stripesim_secret=$(curl -s -u "$STRIPE_API_KEY:" "http://127.0.0.1:$stripesim_port/v1/webhook_endpoints" \
    -d "url=http://$listen/webhook/stripe" -d 'enabled_events[]=*' | json_field secret)
  export STRIPE_WEBHOOK_SECRETS=${STRIPE_WEBHOOK_SECRETS:-whsec_demo_secret_change_me},$stripesim_secret
  export REDIS_URL=redis://127.0.0.1:$redis_port
  export SALESFORCE_LOGIN_URL=http://127.0.0.1:$sfsim_port
  export SALESFORCE_CLIENT_ID=sfsim-client-id SALESFORCE_CLIENT_SECRET=sfsim-client-secret
  export LOG_FORMAT=${LOG_FORMAT:-json} BULK_BATCH_AGE_MS=${BULK_BATCH_AGE_MS:-2000}

  LISTEN_ADDR=$listen target/release/ingress >.run/ingress.log 2>&1 & pids+=($!)
  METRICS_ADDR=127.0.0.1:9101 target/release/workers bridge >.run/bridge.log 2>&1 & pids+=($!)
  METRICS_ADDR=127.0.0.1:9102 WORKER_ID=realtime-1 target/release/workers realtime >.run/realtime-1.log 2>&1 & pids+=($!)
  METRICS_ADDR=127.0.0.1:9103 WORKER_ID=realtime-2 target/release/workers realtime >.run/realtime-2.log 2>&1 & pids+=($!)
  METRICS_ADDR=127.0.0.1:9104 WORKER_ID=bulk-1 target/release/workers bulk >.run/bulk-1.log 2>&1 & pids+=($!)
  wait_http "http://127.0.0.1:$sfsim_port/__sim/health"
  METRICS_ADDR=127.0.0.1:9105 WORKER_ID=outbound-1 STRIPE_API_BASE="http://127.0.0.1:$stripesim_port" \
    PUBSUB_URL="https://127.0.0.1:$pubsub_port" PUBSUB_CA_FILE=.run/sfsim-pubsub.pem PUBSUB_TLS_DOMAIN=localhost \
    target/release/workers outbound >.run/outbound-1.log 2>&1 & pids+=($!)
  wait_http "http://$listen/health/ready"
  for port in 9101 9102 9103 9104 9105; do wait_http "http://127.0.0.1:$port/health/live"; done
  echo "==> fleet up: ingress http://$listen, Salesforce simulator http://127.0.0.1:$sfsim_port, Stripe simulator http://127.0.0.1:$stripesim_port, Redis :$redis_port (logs in .run/)"
}
