// Starts the local SQS emulator (local-aws-sqs) on the given port.
// Usage: node server.mjs [--port 9324] [--host 127.0.0.1]
// Prints one line "sqs-emulator listening on http://HOST:PORT" once it accepts requests.
import { createSqsServer } from "local-aws-sqs";

function arg(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

const port = Number(arg("port", process.env.SQS_EMULATOR_PORT || "9324"));
const hostname = arg("host", "127.0.0.1");

const server = await createSqsServer({
  port,
  hostname,
  region: process.env.AWS_REGION || "us-east-1",
  emulateQueueCreationLifecycle: false,
});
console.log(`sqs-emulator listening on http://${hostname}:${port}`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
