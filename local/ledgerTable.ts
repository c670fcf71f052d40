// The ledger's DynamoDB table on an emulator, shaped as the stack creates it (infra/backupTagger.ts),
// for the end-to-end tests and the demo.
import { CreateTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { dynamoLedger, type Ledger } from "../handler/ledger";

export function emulatorDynamo(endpoint: string, region = "us-east-1"): DynamoDBClient {
  return new DynamoDBClient({
    region,
    endpoint,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
}

export async function createLedgerTable(
  endpoint: string,
  table: string,
  region = "us-east-1",
): Promise<Ledger> {
  const db = emulatorDynamo(endpoint, region);
  await db.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    }),
  );
  return dynamoLedger(db, table, region);
}

/** Every batch entry in the table: batch ID -> the IDs it dated. */
export async function ledgerEntries(
  endpoint: string,
  table: string,
  region = "us-east-1",
): Promise<Record<string, { retention: string; deleteOn: string; ids: string[] }>> {
  const items =
    (await emulatorDynamo(endpoint, region).send(new ScanCommand({ TableName: table }))).Items ?? [];
  return Object.fromEntries(
    items
      .filter((item) => item.pk?.S?.startsWith("batch#"))
      .map((item) => [
        (item.pk.S as string).slice("batch#".length),
        { retention: item.retention?.S ?? "", deleteOn: item.deleteOn?.S ?? "", ids: item.ids?.SS ?? [] },
      ]),
  );
}
