// Every run ends on time and says why: the Lambda handler under simulated time, with every AWS
// call answered by a stub that stalls or throttles, for several function timeouts.
import { expect } from "chai";
import { Readable } from "node:stream";
import sinon from "sinon";
import { createHandler } from "../handler/lambdaHandler";
import { useFakeTime } from "../local/fakeTime";
import { emfLines, emfProblems } from "./support/emf";

const THROTTLED = `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r1</RequestID></Response>`;

const stalled = (_request: unknown, options?: { abortSignal?: AbortSignal }) =>
  new Promise((_, reject) =>
    options?.abortSignal?.addEventListener("abort", () =>
      reject(Object.assign(new Error("Request aborted"), { name: "AbortError" })),
    ),
  );
// DynamoDB (the ledger) is refused too, in its own JSON protocol: total throttling means every call.
const DYNAMO_THROTTLED = JSON.stringify({
  __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException",
  message: "Rate of requests exceeds the allowed throughput.",
});
const throttledCalls: string[] = [];
const throttled = async (request: { headers?: Record<string, string> }) => {
  const dynamo = String(request.headers?.["x-amz-target"] ?? "").startsWith("DynamoDB_");
  throttledCalls.push(dynamo ? "dynamodb" : "ec2");
  return {
    response: dynamo
      ? {
          statusCode: 400,
          headers: { "content-type": "application/x-amz-json-1.0" },
          body: Readable.from([Buffer.from(DYNAMO_THROTTLED)]),
        }
      : {
          statusCode: 503,
          headers: { "content-type": "text/xml" },
          body: Readable.from([Buffer.from(THROTTLED)]),
        },
  };
};

const scheduledEvent = { "detail-type": "Scheduled Event", source: "aws.events", detail: {} };

describe("every run ends on time and says why", () => {
  const savedEnv = { ...process.env };
  let lines: string[];
  let time: ReturnType<typeof useFakeTime> | undefined;

  beforeEach(() => {
    Object.assign(process.env, {
      RETENTION_DAYS: "90",
      METRICS_NAMESPACE: "TagEC2Backups",
      LEDGER_TABLE: "TagEC2Backups-ledger",
      AWS_LAMBDA_FUNCTION_NAME: "TagEC2Backups",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "x",
    });
    lines = [];
    throttledCalls.length = 0;
    sinon.stub(process.stdout, "write").callsFake((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      return true;
    });
  });

  afterEach(() => {
    time?.restore();
    time = undefined;
    sinon.restore();
    process.env = { ...savedEnv };
  });

  async function runFor(seconds: number, handle: (...args: never[]) => Promise<unknown>) {
    time = useFakeTime(Date.parse("2026-11-29T02:00:00Z"));
    const handler = createHandler({
      requestHandler: { handle, updateHttpClientConfig: () => undefined, httpHandlerConfigs: () => ({}) },
    });
    const end = Date.now() + seconds * 1000;
    const context = { getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) };
    const response = await time.settle(handler(scheduledEvent, context));
    return { response, finishedBy: end - Date.now() };
  }

  // The least allowed, the range where 10 throttled attempts (50-74 s) used to outlast the function, and the most.
  for (const seconds of [10, 11, 15, 30, 45, 60, 74, 90, 300, 900]) {
    for (const [label, handle, reason] of [
      ["a stalled endpoint", stalled, /^(time|timeout)/],
      ["total throttling", throttled, /^(time|throttled)/],
    ] as const) {
      it(`answers before a ${seconds} s timeout under ${label}, with complete: false, a summary and an EMF line`, async () => {
        const { response, finishedBy } = await runFor(seconds, handle);
        expect(finishedBy, "ms left at the end").to.be.greaterThan(0);
        expect(response).to.deep.include({ statusCode: 200, complete: false });
        expect(response.stop_reason).to.match(reason);
        expect(response.message).to.include("stopped early");
        const summary = lines.map((l) => JSON.parse(l)).find((l) => l.message === response.message);
        expect(summary).to.deep.include({ level: "INFO", complete: false });
        const [emf] = emfLines(lines.join("\n"));
        expect(emfProblems(JSON.stringify(emf))).to.deep.equal([]);
        expect(emf).to.deep.include({ RunComplete: 0, level: "INFO" });
        if (handle === throttled) {
          // Everything was refused: EC2 and the ledger alike.
          expect(throttledCalls).to.include.members(["ec2", "dynamodb"]);
        }
      });
    }
  }

  for (const level of ["WARN", "ERROR", "FATAL"]) {
    it(`keeps the summary and the metrics at log level ${level}, which Lambda would otherwise drop`, async () => {
      process.env.AWS_LAMBDA_LOG_LEVEL = level;
      const { response } = await runFor(60, throttled);
      const parsed = lines.map((l) => JSON.parse(l));
      expect(parsed.every((l) => typeof l.level === "string" && typeof l.timestamp === "string")).to.be.true;
      expect(parsed.filter((l) => l.level === "INFO" || l.level === "DEBUG")).to.deep.equal([]);
      expect(parsed.find((l) => l.message === response.message)).to.have.property("level", level);
      expect(emfLines(lines.join("\n"))[0]).to.deep.include({ level, RunComplete: 0 });
    });
  }
});
