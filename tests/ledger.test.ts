import {
  BatchGetItemCommand,
  DynamoDBClient,
  PutItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import sinon from "sinon";
import { dayNumber } from "../handler/dates";
import { createEntryCache } from "../handler/entryCache";
import { ENTRY_KEEP_DAYS, dynamoLedger } from "../handler/ledger";
import { proofStatus } from "../handler/proof";
import { MemoryLedger } from "../local/memoryLedger";
import { recordingLogger } from "./support/ec2Stub";

const item = (batchId: string, ids: string[]): Record<string, AttributeValue> => ({
  pk: { S: `batch#${batchId}` },
  scope: { S: "us-east-1" },
  retention: { S: "90days" },
  deleteOn: { S: "2027-02-27" },
  ids: { SS: ids },
});

describe("the ledger on DynamoDB", () => {
  let db: DynamoDBClient;
  let send: sinon.SinonStub;

  beforeEach(() => {
    db = new DynamoDBClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
    send = sinon.stub(db, "send") as unknown as sinon.SinonStub;
  });
  afterEach(() => sinon.restore());

  it("writes each entry once, bound to its scope, expiring 400 days after its future DeleteOn", async () => {
    send.resolves({});
    const ledger = dynamoLedger(db, "L", "us-east-1", () => new Date("2026-11-29T10:00:00Z"));
    await ledger.record({ batchId: "b1", retention: "90days", deleteOn: "2027-02-27", ids: ["snap-1"] });
    const input = (send.firstCall.args[0] as PutItemCommand).input;
    expect(input).to.deep.include({ TableName: "L", ConditionExpression: "attribute_not_exists(pk)" });
    expect(input.Item).to.deep.equal({
      ...item("b1", ["snap-1"]),
      recordedAt: { S: "2026-11-29T10:00:00.000Z" },
      expiresAt: { N: String(((dayNumber("2027-02-27") as number) + ENTRY_KEEP_DAYS) * 86_400) },
    });
  });

  it("keeps an entry whose DeleteOn is already past 400 days from the day it was written", async () => {
    // deleteOnFrom creation dates an old backup in the past; TTL from that date would let DynamoDB
    // remove the entry before the next run could prove the backup.
    send.resolves({});
    const ledger = dynamoLedger(db, "L", "us-east-1", () => new Date("2026-11-29T10:00:00Z"));
    await ledger.record({ batchId: "b1", retention: "90days", deleteOn: "2024-01-01", ids: ["snap-1"] });
    const expiresAt = Number((send.firstCall.args[0] as PutItemCommand).input.Item?.expiresAt?.N);
    expect(expiresAt).to.equal(((dayNumber("2026-11-29") as number) + ENTRY_KEEP_DAYS) * 86_400);
  });

  it("refuses to record a malformed date or an empty batch", async () => {
    const ledger = dynamoLedger(db, "L", "us-east-1");
    for (const entry of [
      { batchId: "b", retention: "90days", deleteOn: "0100-03-01", ids: ["snap-1"] },
      { batchId: "b", retention: "90days", deleteOn: "2027-02-27", ids: [] },
    ]) {
      let error: Error | undefined;
      await ledger.record(entry).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/refusing to record/);
    }
    expect(send.called).to.be.false;
  });

  it("reads up to 100 entries a call, and asks again for what DynamoDB left unprocessed", async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `b${i}`);
    send.callsFake(async (command: BatchGetItemCommand) => {
      const keys = command.input.RequestItems?.L.Keys ?? [];
      const batchIds = keys.map((k) => (k.pk.S as string).slice("batch#".length));
      // The first answer leaves its last key unprocessed.
      const [answered, left] =
        send.callCount === 1 ? [batchIds.slice(0, -1), keys.slice(-1)] : [batchIds, []];
      return {
        Responses: { L: answered.map((id) => item(id, [`snap-${id}`])) },
        UnprocessedKeys: left.length > 0 ? { L: { Keys: left } } : {},
      };
    });
    const found = await dynamoLedger(db, "L", "us-east-1").fetch(ids, true);
    expect(found.size).to.equal(150);
    expect(send.getCalls().map((c) => c.args[0].input.RequestItems.L.Keys.length)).to.deep.equal([
      100, 1, 50,
    ]);
    expect(send.firstCall.args[0].input.RequestItems.L.ConsistentRead).to.equal(true);
    expect(found.get("b99")?.ids.has("snap-b99")).to.be.true;
  });

  it("gives up with an error when keys stay unprocessed", async () => {
    send.callsFake(async (command: BatchGetItemCommand) => ({
      Responses: { L: [] },
      UnprocessedKeys: { L: { Keys: command.input.RequestItems?.L.Keys } },
    }));
    let error: Error | undefined;
    await dynamoLedger(db, "L", "us-east-1")
      .fetch(["b1"])
      .catch((e: Error) => (error = e));
    expect(error?.message).to.match(/left 1 keys unread after 5 attempts/);
  });
});

describe("the run's cache of ledger entries", () => {
  it("reads each batch once, and leaves unreadable ones unknown: never proven", async () => {
    const ledger = new MemoryLedger("us-east-1");
    ledger.entries.set("b1", {
      batchId: "b1",
      scope: "us-east-1",
      retention: "90days",
      deleteOn: "2027-02-27",
      ids: new Set(["snap-1"]),
    });
    const { log, lines } = recordingLogger();
    const cache = createEntryCache(ledger, log);
    await cache.load(["b1", "b2"]);
    await cache.load(["b1", "b2"]);
    expect(ledger.reads).to.equal(1);
    const tags = [
      { Key: "Retention", Value: "90days" },
      { Key: "DeleteOn", Value: "2027-02-27" },
      { Key: "RetentionBatch", Value: "b1" },
    ];
    expect(proofStatus("snap-1", tags, cache.lookup, "us-east-1")).to.equal("proven");
    expect(proofStatus("snap-1", tags, cache.lookup, "eu-west-1")).to.equal("unproven");
    ledger.failReads = true;
    await cache.load(["b3"]);
    await cache.load(["b4"]);
    const b3 = tags.map((t) => (t.Key === "RetentionBatch" ? { ...t, Value: "b3" } : t));
    expect(proofStatus("snap-1", b3, cache.lookup, "us-east-1")).to.equal("unknown");
    expect(lines.filter((l) => l.level === "WARN")).to.have.length(1);
  });
});
