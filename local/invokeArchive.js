// Invokes a serialized Lambda archive the way the Node.js runtime does: require the handler module,
// call it with a scheduled EventBridge event and a context that counts down to a deadline.
// Plain JavaScript so it runs under any Node.js, including the Lambda runtime's version.
// Usage: node invokeArchive.js <archive dir> <result file>
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [dir, resultFile] = process.argv.slice(2);
const timeoutMs = Number(process.env.INVOKE_TIMEOUT_MS || 300000);
const deadline = Date.now() + timeoutMs;
const region = process.env.AWS_REGION || "us-east-1";
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME || "TagEC2Backups";

// INVOKE_PAYLOAD replaces the scheduled event, as a manual run from the console or CLI would.
const scheduledEvent = {
  version: "0",
  id: "e2e-00000000-0000-0000-0000-000000000000",
  "detail-type": "Scheduled Event",
  source: "aws.events",
  account: "123456789012",
  time: new Date().toISOString(),
  region,
  resources: [`arn:aws:events:${region}:123456789012:rule/${functionName}-DailyEC2BackupTagger`],
  detail: {},
};
const event =
  process.env.INVOKE_PAYLOAD === undefined ? scheduledEvent : JSON.parse(process.env.INVOKE_PAYLOAD);
const context = {
  functionName,
  awsRequestId: "e2e-request",
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};

// With every result, the file of every module loaded so far (require.cache, real paths): the tests
// check that the SDK came from the layer and nothing else.
const write = (result) =>
  fs.writeFileSync(resultFile, JSON.stringify({ ...result, loaded: Object.keys(require.cache) }));
try {
  const { handler } = require(path.resolve(dir, "__index.js"));
  Promise.resolve(handler(event, context)).then(
    // msLeft: what Lambda's clock said was left when the handler answered (below 0: killed).
    (response) => write({ ok: true, node: process.version, response, msLeft: deadline - Date.now() }),
    (error) => {
      write({
        ok: false,
        node: process.version,
        error: { name: error.name, message: error.message },
        msLeft: deadline - Date.now(),
      });
      process.exitCode = 1;
    },
  );
} catch (error) {
  write({ ok: false, node: process.version, error: { name: error.name, message: error.message } });
  process.exitCode = 1;
}
