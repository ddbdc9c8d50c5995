# Shared shell helpers for the scripts: start the SQS emulator and create a queue.
# Source it; it defines functions only.

# An Authorization header naming the sqs service: moto routes unsigned requests by it (it
# checks no signature); the Node emulator ignores it.
SQS_AUTH_HEADER='Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0'

# start_sqs_emulator PORT LOGFILE -> starts the SQS emulator in the background and waits until
# it answers: local-aws-sqs (corrected by server.mjs to end a long poll when messages arrive,
# as SQS does), or moto's SQS with SQS_EMULATOR=moto.
start_sqs_emulator() {
  local port=$1 log=$2
  if [ "${SQS_EMULATOR:-node}" = moto ]; then
    scripts/moto/.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  else
    node scripts/sqs-emulator/server.mjs --port "$port" >"$log" 2>&1 &
  fi
  SQS_EMULATOR_PID=$!
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then return 0; fi
    sleep 0.1
  done
  echo "the SQS emulator did not start; see $log" >&2
  return 1
}

# create_queue ENDPOINT NAME -> prints the queue URL (SQS query protocol, as any SDK would send).
create_queue() {
  local endpoint=$1 name=$2 extra=""
  case "$name" in *.fifo) extra="&Attribute.1.Name=FifoQueue&Attribute.1.Value=true" ;; esac
  curl -s -X POST "$endpoint/" -H 'Content-Type: application/x-www-form-urlencoded' -H "$SQS_AUTH_HEADER" \
    -d "Action=CreateQueue&QueueName=$name$extra" | sed -n 's:.*<QueueUrl>\(.*\)</QueueUrl>.*:\1:p'
}

# wait_http URL -> waits until URL answers 2xx.
wait_http() {
  for _ in $(seq 1 200); do
    if curl -sf -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "$1 did not become ready" >&2
  return 1
}
