// Starts the local SQS emulator (local-aws-sqs) on the given port.
// Usage: node server.mjs [--port 9324] [--host 127.0.0.1]
// Prints one line "sqs-emulator listening on http://HOST:PORT" once it accepts requests.
//
// One correction to the pinned package, made here at load time: its ReceiveMessage holds a
// request until it has MaxNumberOfMessages messages or the wait time (plus 40 ms) is over.
// Amazon SQS answers as soon as messages are available ("Long polling lets you consume
// messages from your Amazon SQS queue as soon as they become available"; "Short polling
// returns responses immediately", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/best-practices-using-appropriate-polling-mode.html).
// The corrected receive answers at its first check (every 10 ms) that found any message.
// If the package ever changes so that the correction no longer applies, the emulator
// refuses to start rather than run uncorrected.
import { readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname } from "node:path";

function arg(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

/** The package's exports, with ReceiveMessage answering once any message was collected. */
function loadCorrectedPackage() {
  const require = createRequire(import.meta.url);
  const path = require.resolve("local-aws-sqs");
  const source = readFileSync(path, "utf8");
  // The end of the 10 ms check in the receive loop: after looking at every message, answer
  // if any was collected (the package only answers when the batch is full).
  const fullBatchOnly = "if(r.length==e){clearInterval(c),clearTimeout(n),o();break}}},10)";
  const anyMessage =
    "if(r.length==e){clearInterval(c),clearTimeout(n),o();break}}r.length&&(clearInterval(c),clearTimeout(n),o())},10)";
  if (source.split(fullBatchOnly).length !== 2) {
    throw new Error(`${path} changed: the ReceiveMessage correction in server.mjs no longer applies`);
  }
  const module = new Module(path);
  module.filename = path;
  module.paths = Module._nodeModulePaths(dirname(path));
  module._compile(source.replace(fullBatchOnly, anyMessage), path);
  return module.exports;
}

const { createSqsServer } = loadCorrectedPackage();
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
