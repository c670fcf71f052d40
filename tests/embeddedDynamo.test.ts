// The embedded emulator's DynamoDB, through the real SDK and the ledger's own code: the calls the
// serialized Lambda makes on its ledger table, and DynamoDB's answers to them.
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import { dynamoLedger } from "../handler/ledger";
import { startEmbedded, type EmbeddedEmulator } from "../local/emulator/server";
import { createLedgerTable, emulatorDynamo, ledgerEntries } from "../local/ledgerTable";

const TABLE = "TagEC2Backups-ledger";
const entry = (batchId: string, ids: string[]) => ({
  batchId,
  retention: "90days",
  deleteOn: "2027-02-27",
  ids,
});

async function failure(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "no error",
    (error: Error) => `${error.name}: ${error.message}`,
  );
}

describe("the embedded emulator's DynamoDB", function () {
  this.timeout(60_000);
  let emulator: EmbeddedEmulator;
  let db: DynamoDBClient;

  before(async () => {
    emulator = await startEmbedded();
    db = emulatorDynamo(emulator.endpoint);
  });
  after(async () => {
    db.destroy();
    await emulator.stop();
  });
  beforeEach(async () => emulator.reset());

  it("records a ledger entry once: a second PutItem under attribute_not_exists(pk) fails the condition", async () => {
    const ledger = await createLedgerTable(emulator.endpoint, TABLE);
    await ledger.record(entry("b1", ["snap-1", "snap-2"]));
    expect(await failure(ledger.record(entry("b1", ["snap-3"])))).to.equal(
      "ConditionalCheckFailedException: The conditional request failed",
    );
    expect(await ledgerEntries(emulator.endpoint, TABLE)).to.deep.equal({
      b1: { retention: "90days", deleteOn: "2027-02-27", ids: ["snap-1", "snap-2"] },
    });
  });

  it("reads entries back with BatchGetItem, leaving out batches never recorded", async () => {
    const ledger = await createLedgerTable(emulator.endpoint, TABLE);
    await ledger.record(entry("b1", ["snap-1"]));
    await ledger.record(entry("b2", ["ami-2"]));
    const found = await ledger.fetch(["b1", "b2", "never"], true);
    expect([...found.keys()].sort()).to.deep.equal(["b1", "b2"]);
    expect([...(found.get("b2")?.ids as Set<string>)]).to.deep.equal(["ami-2"]);
  });

  it("returns keys it did not answer as UnprocessedKeys, and the ledger asks again until all are read", async () => {
    const stingy = await startEmbedded({ batchGetAnswered: 1 });
    const client = emulatorDynamo(stingy.endpoint);
    try {
      const ledger = await createLedgerTable(stingy.endpoint, TABLE);
      for (const id of ["b1", "b2", "b3"]) {
        await ledger.record(entry(id, [`snap-${id}`]));
      }
      const keys = ["b1", "b2", "b3"].map((id) => ({ pk: { S: `batch#${id}` } }));
      const once = await client.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: keys } } }));
      expect([once.Responses?.[TABLE]?.length, once.UnprocessedKeys?.[TABLE]?.Keys?.length]).to.deep.equal([
        1, 2,
      ]);
      expect([...(await ledger.fetch(["b1", "b2", "b3"])).keys()].sort()).to.deep.equal(["b1", "b2", "b3"]);
    } finally {
      client.destroy();
      await stingy.stop();
    }
  });

  it("keeps the run's state with GetItem and PutItem", async () => {
    await createLedgerTable(emulator.endpoint, TABLE);
    const ledger = dynamoLedger(db, TABLE, "us-east-1");
    expect(await ledger.readState("notice")).to.equal(undefined);
    await ledger.writeState("notice", "2027-01-01");
    await ledger.writeState("notice", "2027-01-08");
    expect(await ledger.readState("notice")).to.equal("2027-01-08");
  });

  it("refuses a missing table, a second table of one name, and a key that is not the schema's", async () => {
    expect(
      await failure(db.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "x" } } }))),
    ).to.equal("ResourceNotFoundException: Requested resource not found");
    await createLedgerTable(emulator.endpoint, TABLE);
    expect(await failure(createLedgerTable(emulator.endpoint, TABLE))).to.equal(
      `ResourceInUseException: Table already exists: ${TABLE}`,
    );
    expect(
      await failure(db.send(new PutItemCommand({ TableName: TABLE, Item: { id: { S: "x" } } }))),
    ).to.equal(
      "ValidationException: One or more parameter values were invalid: Missing the key pk in the item",
    );
    expect(
      await failure(db.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { N: "1" } } }))),
    ).to.match(/^ValidationException: .*Type mismatch for key pk expected: S actual: N/);
  });

  it("refuses an empty or repeating string set, as DynamoDB does", async () => {
    await createLedgerTable(emulator.endpoint, TABLE);
    const put = (ids: string[]) =>
      failure(
        db.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: "batch#x" }, ids: { SS: ids } } })),
      );
    expect(await put([])).to.match(/^ValidationException: .*may not be empty/);
    expect(await put(["snap-1", "snap-1"])).to.match(/^ValidationException: .*contains duplicates/);
  });

  it("refuses an operation, a parameter or a condition it does not implement, by name", async () => {
    await createLedgerTable(emulator.endpoint, TABLE);
    expect(
      await failure(
        db.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key: { pk: { S: "x" } },
            UpdateExpression: "SET a = :a",
          }),
        ),
      ),
    ).to.equal("UnknownOperationException: this emulator does not implement UpdateItem");
    expect(
      await failure(
        db.send(
          new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "x" } }, ProjectionExpression: "ids" }),
        ),
      ),
    ).to.equal("ValidationException: this emulator does not implement GetItem with ProjectionExpression");
    expect(
      await failure(
        db.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: { pk: { S: "x" } },
            ConditionExpression: "size(ids) > :n",
          }),
        ),
      ),
    ).to.match(
      /^ValidationException: this emulator evaluates only attribute_exists\(name\) and attribute_not_exists/,
    );
  });

  it("creates a table only with a billing mode or provisioned throughput", async () => {
    expect(
      await failure(
        db.send(
          new CreateTableCommand({
            TableName: TABLE,
            KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
            AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
          }),
        ),
      ),
    ).to.equal("ValidationException: No provisioned throughput specified for the table");
  });
});
