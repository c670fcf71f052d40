import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { BatchGetItemCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import sinon from "sinon";
import { createHandler, safetyMarginMs } from "../handler/lambdaHandler";

const context = { getRemainingTimeInMillis: () => 300_000 };
/** An account of one untagged AMI, for runs that must write nothing. */
async function oneAmiNoWrites(command: unknown) {
  if (command instanceof DescribeImagesCommand) {
    return { Images: [{ ImageId: "ami-1" }] };
  }
  if (command instanceof DescribeSnapshotsCommand) {
    return { Snapshots: [] };
  }
  throw new Error("no write expected");
}
const scheduledEvent = { "detail-type": "Scheduled Event", source: "aws.events", detail: {} };

describe("Lambda handler", () => {
  const savedEnv = { ...process.env };
  let send: sinon.SinonStub;
  let ledgerSend: sinon.SinonStub;
  let logged: string[];

  beforeEach(() => {
    process.env.RETENTION_DAYS = "90";
    process.env.METRICS_NAMESPACE = "TagEC2Backups";
    process.env.AWS_LAMBDA_FUNCTION_NAME = "TagEC2Backups";
    process.env.AWS_REGION = "us-east-1";
    process.env.LEDGER_TABLE = "TagEC2Backups-ledger";
    process.env.AWS_ACCESS_KEY_ID = "x";
    process.env.AWS_SECRET_ACCESS_KEY = "x";
    logged = [];
    // The handler writes JSON lines (logs and EMF) straight to stdout.
    sinon.stub(process.stdout, "write").callsFake((chunk: string | Uint8Array) => {
      logged.push(...String(chunk).split("\n").filter(Boolean));
      return true;
    });
    // The handler builds its own client at cold start; stub every client's send.
    send = sinon.stub(EC2Client.prototype, "send") as unknown as sinon.SinonStub;
    // The ledger: writes succeed, reads find nothing.
    ledgerSend = sinon.stub(DynamoDBClient.prototype, "send") as unknown as sinon.SinonStub;
    ledgerSend.callsFake(async (command: unknown) =>
      command instanceof BatchGetItemCommand ? { Responses: {} } : {},
    );
  });

  afterEach(() => {
    sinon.restore();
    process.env = { ...savedEnv };
  });

  it("returns the seed's response fields first, then ours", async () => {
    send.callsFake(async (command: unknown) => {
      if (command instanceof DescribeImagesCommand) {
        return { Images: [{ ImageId: "ami-1", Tags: [] }] };
      }
      if (command instanceof DescribeSnapshotsCommand) {
        return {
          Snapshots: [
            { SnapshotId: "snap-1" },
            { SnapshotId: "snap-2", Tags: [{ Key: "Retention", Value: "keep" }] },
          ],
        };
      }
      if (command instanceof CreateTagsCommand) {
        return {};
      }
      throw new Error("unexpected command");
    });
    const response = await createHandler()(scheduledEvent, context);
    expect(Object.keys(response).slice(0, 6)).to.deep.equal([
      "statusCode",
      "message",
      "amis_tagged",
      "snapshots_tagged",
      "retention_days",
      "delete_on",
    ]);
    expect(response).to.deep.include({
      statusCode: 200,
      message: "Successfully tagged 1 AMIs and 1 snapshots",
      amis_tagged: 1,
      snapshots_tagged: 1,
      retention_days: 90,
      amis_skipped: 0,
      snapshots_skipped: 1,
      failed: [],
      failed_count: 0,
      complete: true,
      dry_run: false,
    });
    expect(response.delete_on).to.match(/^\d{4}-\d{2}-\d{2}$/);
    const summary = JSON.parse(
      logged.find((line) => line.includes('"level":"INFO"') && line.includes(response.message)) as string,
    );
    expect(summary).to.deep.include({ level: "INFO", message: response.message, snapshots_skipped: 1 });
  });

  it("records each dating batch in the ledger before writing its tags, and tags the batch ID", async () => {
    const order: string[] = [];
    ledgerSend.callsFake(async (command: unknown) => {
      order.push((command as object).constructor.name);
      return command instanceof BatchGetItemCommand ? { Responses: {} } : {};
    });
    send.callsFake(async (command: unknown) => {
      order.push((command as object).constructor.name);
      if (command instanceof DescribeImagesCommand) {
        return { Images: [] };
      }
      if (command instanceof DescribeSnapshotsCommand) {
        return { Snapshots: [{ SnapshotId: "snap-1" }, { SnapshotId: "snap-2" }] };
      }
      return {};
    });
    const response = await createHandler()(scheduledEvent, context);
    // Besides the sweep's place, read once (GetItem) and saved last (PutItem): the batch's entry
    // is written before the tags that name it.
    expect(order.filter((name) => name === "GetItemCommand")).to.have.length(1);
    expect(order.at(-1)).to.equal("PutItemCommand");
    expect(order.filter((name) => name !== "GetItemCommand").slice(0, -1)).to.deep.equal([
      "DescribeImagesCommand",
      "DescribeSnapshotsCommand",
      "PutItemCommand",
      "CreateTagsCommand",
    ]);
    const put = ledgerSend.getCalls().find((c) => c.args[0] instanceof PutItemCommand)?.args[0].input;
    const tags = send.getCalls().find((c) => c.args[0] instanceof CreateTagsCommand)?.args[0].input.Tags;
    const batchId = tags.find((t: { Key: string }) => t.Key === "RetentionBatch").Value;
    expect(put).to.deep.include({ TableName: "TagEC2Backups-ledger" });
    expect(put.Item).to.deep.include({
      pk: { S: `batch#${batchId}` },
      scope: { S: "us-east-1" },
      retention: { S: "90days" },
      deleteOn: { S: response.delete_on },
      ids: { SS: ["snap-1", "snap-2"] },
    });
    expect(response).to.deep.include({ snapshots_tagged: 2, ledger_writes: 1 });
  });

  it("writes no tags for a batch the ledger refused, and reports each resource", async () => {
    ledgerSend.rejects(
      Object.assign(new Error("Throughput exceeds the current capacity"), { name: "ThrottlingException" }),
    );
    send.callsFake(async (command: unknown) => {
      if (command instanceof DescribeImagesCommand) {
        return { Images: [] };
      }
      if (command instanceof DescribeSnapshotsCommand) {
        return { Snapshots: [{ SnapshotId: "snap-1" }] };
      }
      throw new Error("no tags may be written without a recorded batch");
    });
    const response = await createHandler()(scheduledEvent, context);
    expect(response).to.deep.include({ snapshots_tagged: 0, failed_count: 1, complete: true });
    expect(response.failed[0]).to.deep.include({ id: "snap-1", code: "LedgerWriteFailed" });
  });

  it("logs the seed's 500 body and throws when listing fails for a reason other than time or throttling", async () => {
    send.rejects(
      Object.assign(new Error("You are not authorized to perform this operation."), {
        name: "UnauthorizedOperation",
      }),
    );
    const handler = createHandler();
    let thrown: unknown;
    await handler(scheduledEvent, context).catch((error) => (thrown = error));
    expect(thrown).to.be.instanceOf(Error);
    const errorLine = JSON.parse(logged.find((line) => line.includes('"ERROR"')) as string);
    expect(errorLine).to.deep.include({
      level: "ERROR",
      statusCode: 500,
      message: "Error in lambda execution: You are not authorized to perform this operation.",
    });
    expect(errorLine.timestamp).to.match(/^\d{4}-\d{2}-\d{2}T/);
  });

  it("answers complete: false, with the reason, when EC2 throttles every attempt of the listing", async () => {
    send.rejects(Object.assign(new Error("Request limit exceeded."), { name: "RequestLimitExceeded" }));
    const response = await createHandler()(scheduledEvent, context);
    expect(response).to.deep.include({ statusCode: 200, complete: false });
    expect(response.stop_reason).to.equal(
      "throttled: RequestLimitExceeded on every attempt (Request limit exceeded.)",
    );
    expect(response.message).to.include("stopped early, throttled");
  });

  it("fails every invocation with a message naming the variable when the environment is bad", async () => {
    process.env.RETENTION_DAYS = "-3";
    const handler = createHandler();
    for (let i = 0; i < 2; i++) {
      let thrown: Error | undefined;
      await handler(scheduledEvent, context).catch((error: Error) => (thrown = error));
      expect(thrown?.message).to.equal(
        'Invalid environment: RETENTION_DAYS="-3": must be an integer from 1 to 36500',
      );
    }
    expect(send.called).to.be.false;
    expect(
      logged.some((line) => line.includes("Error in lambda execution: Invalid environment: RETENTION_DAYS")),
    ).to.be.true;
  });

  it("honours a manual {dryRun: true} and writes nothing", async () => {
    send.callsFake(oneAmiNoWrites);
    const response = await createHandler()({ dryRun: true }, context);
    expect(response).to.deep.include({ dry_run: true, amis_planned: 1, amis_tagged: 0 });
  });

  it("honours dryRun in a payload shaped like a scheduled event", async () => {
    send.callsFake(oneAmiNoWrites);
    const response = await createHandler()({ ...scheduledEvent, dryRun: true }, context);
    expect(response).to.deep.include({ dry_run: true, amis_planned: 1, amis_tagged: 0 });
    expect(ledgerSend.getCalls().some((c) => c.args[0] instanceof PutItemCommand)).to.be.false;
  });

  it("runs a null or empty payload with the stack's settings, as the schedule does", async () => {
    process.env.DRY_RUN = "true";
    send.callsFake(oneAmiNoWrites);
    const handler = createHandler();
    for (const payload of [null, undefined, {}]) {
      expect(await handler(payload, context), JSON.stringify(payload)).to.deep.include({ dry_run: true });
    }
  });

  it("refuses a bad payload before any API call, naming the field", async () => {
    let thrown: Error | undefined;
    await createHandler()({ dryRun: "please" }, context).catch((error: Error) => (thrown = error));
    expect(thrown?.message).to.equal('Invalid invocation payload: dryRun = "please": must be a boolean');
    expect(send.called).to.be.false;
  });

  it("keeps 10% of the run's time, between 1 and 30 seconds, as a safety margin", () => {
    expect(safetyMarginMs(300_000)).to.equal(30_000);
    expect(safetyMarginMs(900_000)).to.equal(30_000);
    expect(safetyMarginMs(60_000)).to.equal(6_000);
    expect(safetyMarginMs(3_000)).to.equal(1_000);
  });
});
