import { DescribeImagesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import sinon from "sinon";
import { ATTEMPT_TIMEOUT_MS, CLIENT_CONFIG, MAX_ATTEMPTS, createEc2Client } from "../handler/awsClients";
import { createRunDeadline } from "../handler/deadline";
import { useFakeTime } from "../local/fakeTime";
import { tagBackups } from "../handler/tagger";
import { SEQUENTIAL } from "../handler/tuning";
import { recordingLogger } from "./support/ec2Stub";

// Below the SDK's serializer and retry middleware: an HTTP handler answering with EC2's own XML,
// so these tests exercise the client exactly as configured for Lambda.
const THROTTLED = `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r1</RequestID></Response>`;
const NO_IMAGES = `<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r2</requestId><imagesSet/></DescribeImagesResponse>`;
const NO_SNAPSHOTS = `<DescribeSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r3</requestId><snapshotSet/></DescribeSnapshotsResponse>`;

function reply(statusCode: number, xml: string) {
  return {
    response: {
      statusCode,
      headers: { "content-type": "text/xml" },
      body: Readable.from([Buffer.from(xml)]),
    },
  };
}

function httpStub(deadline?: ReturnType<typeof createRunDeadline>) {
  const handle = sinon.stub();
  const handler = { handle, updateHttpClientConfig: () => undefined, httpHandlerConfigs: () => ({}) };
  const client = createEc2Client(
    {
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
      requestHandler: handler,
    },
    deadline,
  );
  const actions = () =>
    handle.getCalls().map((c) => new URLSearchParams(String(c.args[0].body)).get("Action"));
  return { handle, client, actions };
}

describe("EC2 client configuration", () => {
  it("retries RequestLimitExceeded until the call succeeds", async () => {
    const { handle, client, actions } = httpStub();
    handle.onCall(0).callsFake(async () => reply(503, THROTTLED));
    handle.onCall(1).callsFake(async () => reply(503, THROTTLED));
    handle.callsFake(async (request: { body: string }) =>
      reply(200, String(request.body).includes("DescribeImages") ? NO_IMAGES : NO_SNAPSHOTS),
    );
    const { log } = recordingLogger();
    const report = await tagBackups(
      { ec2: client, clock: () => new Date(), log, remainingMs: () => 600_000 },
      // One call at a time, so the order of the calls is the order of the retries.
      { retentionDays: 90, extraTags: {}, dryRun: false, safetyMarginMs: 1000, tuning: SEQUENTIAL },
    );
    expect(actions()).to.deep.equal([
      "DescribeImages",
      "DescribeImages",
      "DescribeImages",
      "DescribeSnapshots",
    ]);
    expect(report.complete).to.be.true;
  });

  it("gives up after MAX_ATTEMPTS and surfaces the throttling error", async function () {
    this.timeout(120_000);
    const { handle, client } = httpStub();
    handle.callsFake(async () => reply(503, THROTTLED));
    const clock = sinon.useFakeTimers({ shouldAdvanceTime: true, advanceTimeDelta: 5 });
    try {
      const pending = client.send(new DescribeImagesCommand({ Owners: ["self"] }));
      const outcome = pending.then(
        () => undefined,
        (error: Error) => error,
      );
      // Skip the backoff sleeps instead of waiting them out.
      while (handle.callCount < MAX_ATTEMPTS) {
        await clock.tickAsync(30_000);
      }
      await clock.tickAsync(30_000);
      const error = await outcome;
      expect(error).to.have.property("name", "RequestLimitExceeded");
      expect(handle.callCount).to.equal(MAX_ATTEMPTS);
    } finally {
      clock.restore();
    }
  });

  describe("bounded calls", () => {
    let time: ReturnType<typeof useFakeTime> | undefined;
    afterEach(() => {
      time?.restore();
      time = undefined;
    });

    /** A handler that never answers unless its request is aborted, as a stalled connection. */
    const stall = (_request: unknown, options?: { abortSignal?: AbortSignal }) =>
      new Promise((_, reject) =>
        options?.abortSignal?.addEventListener("abort", () =>
          reject(Object.assign(new Error("Request aborted"), { name: "AbortError" })),
        ),
      );

    it("fails a stalled attempt after ATTEMPT_TIMEOUT_MS, as a retryable TimeoutError", async () => {
      time = useFakeTime(Date.parse("2026-11-29T10:00:00Z"));
      const { handle, client } = httpStub();
      handle.callsFake(stall);
      const start = Date.now();
      const error = await time.settle(
        client.send(new DescribeImagesCommand({ Owners: ["self"] }), {}).then(
          () => undefined,
          (e: Error) => e,
        ),
      );
      expect(error).to.have.property("name", "TimeoutError");
      // Every attempt timed out and was retried, then the call gave up.
      expect(handle.callCount).to.equal(MAX_ATTEMPTS);
      expect(Date.now() - start).to.be.at.least(MAX_ATTEMPTS * ATTEMPT_TIMEOUT_MS);
    });

    for (const seconds of [10, 60, 300, 900]) {
      it(`ends a stalled call at a ${seconds} s deadline, with no retry that could not finish`, async () => {
        time = useFakeTime(Date.parse("2026-11-29T10:00:00Z"));
        const deadline = createRunDeadline();
        const { handle, client } = httpStub(deadline);
        const started: number[] = [];
        handle.callsFake((request: unknown, options?: { abortSignal?: AbortSignal }) => {
          started.push(Date.now());
          return stall(request, options);
        });
        const start = Date.now();
        deadline.start(start + seconds * 1000);
        const error = await time.settle(
          client.send(new DescribeImagesCommand({ Owners: ["self"] })).then(
            () => undefined,
            (e: Error) => e,
          ),
        );
        expect(error?.name).to.be.oneOf(["TimeoutError", "AbortError"]);
        expect(Date.now() - start).to.be.at.most(seconds * 1000);
        // Every retry started with a whole attempt's time left before the deadline.
        expect(started.slice(1).every((at) => start + seconds * 1000 - at >= ATTEMPT_TIMEOUT_MS)).to.be.true;
        expect(started.length).to.be.within(1, MAX_ATTEMPTS);
      });

      it(`gives up on total throttling before a ${seconds} s deadline`, async () => {
        time = useFakeTime(Date.parse("2026-11-29T10:00:00Z"));
        const deadline = createRunDeadline();
        const { handle, client } = httpStub(deadline);
        const started: number[] = [];
        handle.callsFake(async () => {
          started.push(Date.now());
          return reply(503, THROTTLED);
        });
        const start = Date.now();
        const end = start + seconds * 1000;
        deadline.start(end);
        const error = await time.settle(
          client.send(new DescribeImagesCommand({ Owners: ["self"] })).then(
            () => undefined,
            (e: Error) => e,
          ),
        );
        expect(error?.name).to.be.oneOf(["RequestLimitExceeded", "AbortError"]);
        expect(Date.now()).to.be.at.most(end);
        // No retry started that could not finish an attempt before the deadline.
        expect(started.slice(1).every((at) => end - at >= ATTEMPT_TIMEOUT_MS)).to.be.true;
        expect(started.length).to.be.within(1, MAX_ATTEMPTS);
      });
    }

    it("the locked @smithy/node-http-handler throws at requestTimeout only with throwOnRequestTimeout", async function () {
      this.timeout(30_000);
      const sockets = new Set<import("node:net").Socket>();
      const server: Server = createServer(() => undefined);
      server.on("connection", (socket) => sockets.add(socket));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      // A plain client, without bound()'s own per-attempt limit: the handler alone must cut it.
      const plain = (requestHandler: object) =>
        new EC2Client({
          ...CLIENT_CONFIG,
          requestHandler,
          maxAttempts: 1,
          region: "us-east-1",
          endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          credentials: { accessKeyId: "x", secretAccessKey: "x" },
        });
      const warnings: string[] = [];
      const logger = { warn: (m: string) => warnings.push(m) };
      const withFlag = plain({ ...CLIENT_CONFIG.requestHandler, logger });
      const withoutFlag = plain({ requestTimeout: 300, logger });
      try {
        const start = Date.now();
        const error = await withFlag
          .send(new DescribeImagesCommand({ Owners: ["self"] }))
          .catch((e: Error) => e);
        expect(error).to.have.property("name", "TimeoutError");
        expect(Date.now() - start).to.be.within(ATTEMPT_TIMEOUT_MS - 100, ATTEMPT_TIMEOUT_MS + 1_000);
        // Without the flag the same handler only warns, and the call is still waiting long after.
        const pending = withoutFlag.send(new DescribeImagesCommand({ Owners: ["self"] })).then(
          () => "answered",
          () => "failed",
        );
        const outcome = await Promise.race([
          pending,
          new Promise((resolve) => setTimeout(() => resolve("still waiting"), 1_500)),
        ]);
        expect(outcome).to.equal("still waiting");
        expect(warnings.join("\n")).to.include("throwOnRequestTimeout=true");
      } finally {
        withFlag.destroy();
        withoutFlag.destroy();
        sockets.forEach((s) => s.destroy());
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it("really cuts a connection that accepts and never answers (Node's HTTP handler)", async function () {
      this.timeout(30_000);
      const sockets = new Set<import("node:net").Socket>();
      const server: Server = createServer(() => undefined);
      server.on("connection", (socket) => sockets.add(socket));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const client = createEc2Client({
          region: "us-east-1",
          endpoint: `http://127.0.0.1:${port}`,
          credentials: { accessKeyId: "x", secretAccessKey: "x" },
          maxAttempts: 1,
        });
        const start = Date.now();
        const error = await client
          .send(new DescribeImagesCommand({ Owners: ["self"] }))
          .catch((e: Error) => e);
        expect(error).to.have.property("name", "TimeoutError");
        // One attempt, cut at the attempt limit (with a second of slack for a busy machine).
        expect(Date.now() - start).to.be.within(ATTEMPT_TIMEOUT_MS - 100, ATTEMPT_TIMEOUT_MS + 1_000);
        client.destroy();
      } finally {
        sockets.forEach((s) => s.destroy());
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});
