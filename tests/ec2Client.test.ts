import { DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { expect } from "chai";
import { Readable } from "node:stream";
import sinon from "sinon";
import { MAX_ATTEMPTS, createEc2Client } from "../handler/ec2Client";
import { tagBackups } from "../handler/tagger";
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

function httpStub() {
  const handle = sinon.stub();
  const handler = { handle, updateHttpClientConfig: () => undefined, httpHandlerConfigs: () => ({}) };
  const client = createEc2Client({
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
    requestHandler: handler,
  });
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
      { retentionDays: 90, extraTags: {}, dryRun: false, safetyMarginMs: 1000 },
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
});
