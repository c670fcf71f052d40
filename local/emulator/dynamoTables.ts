// A minimal DynamoDB for the embedded emulator: the operations the ledger (handler/ledger.ts) and
// the local tools use, with DynamoDB's answers to them. CreateTable; PutItem, with an
// attribute_exists / attribute_not_exists condition; GetItem; BatchGetItem (100 keys at most, the
// rest of an oversized answer returned as UnprocessedKeys when asked to); Scan. Any other
// operation, parameter or condition is refused by name, so nothing passes by accident.

/** An attribute value as the JSON protocol carries it: { S: "x" }, { SS: ["a"] }, { N: "1" }, ... */
export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

export class DynamoError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

interface Table {
  name: string;
  /** The HASH key, then the RANGE key if any. */
  keys: string[];
  keyTypes: Record<string, string>;
  definitions: { AttributeName: string; AttributeType: string }[];
  items: Map<string, Item>;
  createdAt: number;
}

export interface TablesOptions {
  region?: string;
  /** Keys BatchGetItem answers per call; DynamoDB answers fewer under load or past 16 MB. */
  batchGetAnswered?: number;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const MAX_BATCH_KEYS = 100;
// DynamoDB's limit is 400 KB by its own size rules; the JSON length is close enough to catch a
// batch that could never be written.
const MAX_ITEM_BYTES = 400 * 1024;
const ACCOUNT_ID = "123456789012";
const CONDITION = /^\s*(attribute_exists|attribute_not_exists)\s*\(\s*([#A-Za-z0-9_.:-]+)\s*\)\s*$/;
const ALLOWED: Record<string, string[]> = {
  CreateTable: ["TableName", "KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput"],
  PutItem: ["TableName", "Item", "ConditionExpression", "ExpressionAttributeNames"],
  GetItem: ["TableName", "Key", "ConsistentRead"],
  BatchGetItem: ["RequestItems"],
  Scan: ["TableName", "Limit", "ExclusiveStartKey", "ConsistentRead"],
};

const validation = (message: string) => new DynamoError("ValidationException", message);

function checkParameters(operation: string, input: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) {
      throw validation(`this emulator does not implement ${operation} with ${key}`);
    }
  }
}

/** The one type key of an attribute value, checked as DynamoDB checks it. */
function typeOf(name: string, value: AttributeValue): string {
  const types = Object.keys(value ?? {});
  if (types.length !== 1) {
    throw validation(
      `Supplied AttributeValue for ${name} has ${types.length} datatypes; it must have exactly one`,
    );
  }
  const [type] = types;
  const content = value[type];
  if (["SS", "NS", "BS"].includes(type)) {
    const set = content as unknown[];
    if (!Array.isArray(set) || set.length === 0) {
      throw validation(
        `One or more parameter values were invalid: An ${type} set may not be empty (${name})`,
      );
    }
    if (new Set(set.map(String)).size !== set.length) {
      throw validation(`Input collection ${JSON.stringify(set)} of ${name} contains duplicates.`);
    }
  }
  return type;
}

export class DynamoTables {
  private readonly tables = new Map<string, Table>();
  private readonly region: string;
  private readonly batchGetAnswered: number;

  constructor(options: TablesOptions = {}) {
    this.region = options.region ?? "us-east-1";
    this.batchGetAnswered = options.batchGetAnswered ?? MAX_BATCH_KEYS;
  }

  /** One JSON-protocol operation: `operation` is what follows "DynamoDB_20120810." in x-amz-target. */
  handle(operation: string, input: Record<string, unknown>): Record<string, unknown> {
    const allowed = ALLOWED[operation];
    if (allowed === undefined) {
      throw new DynamoError("UnknownOperationException", `this emulator does not implement ${operation}`);
    }
    checkParameters(operation, input, allowed);
    switch (operation) {
      case "CreateTable":
        return this.createTable(input);
      case "PutItem":
        return this.putItem(input);
      case "GetItem":
        return this.getItem(input);
      case "BatchGetItem":
        return this.batchGetItem(input);
      default:
        return this.scan(input);
    }
  }

  private table(name: unknown): Table {
    const table = typeof name === "string" ? this.tables.get(name) : undefined;
    if (!table) {
      throw new DynamoError("ResourceNotFoundException", "Requested resource not found");
    }
    return table;
  }

  private description(table: Table): Record<string, unknown> {
    return {
      TableName: table.name,
      TableStatus: "ACTIVE",
      KeySchema: table.keys.map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? "HASH" : "RANGE" })),
      AttributeDefinitions: table.definitions,
      CreationDateTime: table.createdAt / 1000,
      ItemCount: table.items.size,
      TableArn: `arn:aws:dynamodb:${this.region}:${ACCOUNT_ID}:table/${table.name}`,
      BillingModeSummary: { BillingMode: "PAY_PER_REQUEST" },
    };
  }

  private createTable(input: Record<string, unknown>): Record<string, unknown> {
    const name = input.TableName;
    if (typeof name !== "string" || !TABLE_NAME.test(name)) {
      throw validation(`TableName ${JSON.stringify(name)} must be 3 to 255 of letters, digits, _ - .`);
    }
    if (this.tables.has(name)) {
      throw new DynamoError("ResourceInUseException", `Table already exists: ${name}`);
    }
    const schema = (input.KeySchema ?? []) as { AttributeName: string; KeyType: string }[];
    const definitions = (input.AttributeDefinitions ?? []) as {
      AttributeName: string;
      AttributeType: string;
    }[];
    const hash = schema.filter((k) => k.KeyType === "HASH");
    const range = schema.filter((k) => k.KeyType === "RANGE");
    if (hash.length !== 1 || range.length > 1 || schema.length !== hash.length + range.length) {
      throw validation("KeySchema must have one HASH key and at most one RANGE key");
    }
    const keys = [...hash, ...range].map((k) => k.AttributeName);
    const keyTypes: Record<string, string> = {};
    for (const key of keys) {
      const definition = definitions.find((d) => d.AttributeName === key);
      if (!definition || !["S", "N", "B"].includes(definition.AttributeType)) {
        throw validation(`One or more parameter values were invalid: no S, N or B definition for key ${key}`);
      }
      keyTypes[key] = definition.AttributeType;
    }
    if (input.BillingMode !== "PAY_PER_REQUEST" && input.ProvisionedThroughput === undefined) {
      throw validation("No provisioned throughput specified for the table");
    }
    const table: Table = { name, keys, keyTypes, definitions, items: new Map(), createdAt: Date.now() };
    this.tables.set(name, table);
    return { TableDescription: this.description(table) };
  }

  /** The item's primary key as a string, checked against the table's schema. */
  private keyOf(table: Table, item: Item, what: "item" | "key"): string {
    if (what === "key" && Object.keys(item).length !== table.keys.length) {
      throw validation("The provided key element does not match the schema");
    }
    return JSON.stringify(
      table.keys.map((name) => {
        const value = item[name];
        if (value === undefined) {
          throw validation(
            what === "item"
              ? `One or more parameter values were invalid: Missing the key ${name} in the item`
              : "The provided key element does not match the schema",
          );
        }
        const type = typeOf(name, value);
        if (type !== table.keyTypes[name]) {
          throw validation(
            `One or more parameter values were invalid: Type mismatch for key ${name} expected: ${table.keyTypes[name]} actual: ${type}`,
          );
        }
        return value[type];
      }),
    );
  }

  private putItem(input: Record<string, unknown>): Record<string, unknown> {
    const table = this.table(input.TableName);
    const item = (input.Item ?? {}) as Item;
    for (const [name, value] of Object.entries(item)) {
      typeOf(name, value);
    }
    if (Buffer.byteLength(JSON.stringify(item)) > MAX_ITEM_BYTES) {
      throw validation("Item size has exceeded the maximum allowed size");
    }
    const key = this.keyOf(table, item, "item");
    if (input.ConditionExpression !== undefined) {
      const match = CONDITION.exec(String(input.ConditionExpression));
      if (!match) {
        throw validation(
          `this emulator evaluates only attribute_exists(name) and attribute_not_exists(name), not ${JSON.stringify(input.ConditionExpression)}`,
        );
      }
      const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
      const attribute = match[2].startsWith("#") ? names[match[2]] : match[2];
      if (attribute === undefined) {
        throw validation(
          `An expression attribute name used in the document path is not defined: ${match[2]}`,
        );
      }
      const present = table.items.get(key)?.[attribute] !== undefined;
      if (present !== (match[1] === "attribute_exists")) {
        throw new DynamoError("ConditionalCheckFailedException", "The conditional request failed");
      }
    }
    table.items.set(key, structuredClone(item));
    return {};
  }

  private getItem(input: Record<string, unknown>): Record<string, unknown> {
    const table = this.table(input.TableName);
    const item = table.items.get(this.keyOf(table, (input.Key ?? {}) as Item, "key"));
    return item === undefined ? {} : { Item: structuredClone(item) };
  }

  private batchGetItem(input: Record<string, unknown>): Record<string, unknown> {
    const requests = (input.RequestItems ?? {}) as Record<string, Record<string, unknown>>;
    const total = Object.values(requests).reduce((n, r) => n + ((r.Keys as unknown[]) ?? []).length, 0);
    if (total > MAX_BATCH_KEYS) {
      throw validation("Too many items requested for the BatchGetItem call");
    }
    const responses: Record<string, Item[]> = {};
    const unprocessed: Record<string, { Keys: Item[]; ConsistentRead?: unknown }> = {};
    let answered = 0;
    for (const [name, request] of Object.entries(requests)) {
      checkParameters("BatchGetItem", request, ["Keys", "ConsistentRead"]);
      const table = this.table(name);
      const keys = (request.Keys ?? []) as Item[];
      const seen = new Set<string>();
      responses[name] = [];
      for (const key of keys) {
        const id = this.keyOf(table, key, "key");
        if (seen.has(id)) {
          throw validation("Provided list of item keys contains duplicates");
        }
        seen.add(id);
        if (answered >= this.batchGetAnswered) {
          unprocessed[name] ??= { Keys: [], ConsistentRead: request.ConsistentRead };
          unprocessed[name].Keys.push(key);
          continue;
        }
        answered += 1;
        const item = table.items.get(id);
        if (item !== undefined) {
          responses[name].push(structuredClone(item));
        }
      }
    }
    return { Responses: responses, UnprocessedKeys: unprocessed };
  }

  private scan(input: Record<string, unknown>): Record<string, unknown> {
    const table = this.table(input.TableName);
    const entries = [...table.items.entries()];
    let start = 0;
    if (input.ExclusiveStartKey !== undefined) {
      const after = this.keyOf(table, input.ExclusiveStartKey as Item, "key");
      start = entries.findIndex(([key]) => key === after) + 1;
    }
    const limit = typeof input.Limit === "number" ? input.Limit : entries.length;
    const page = entries.slice(start, start + limit);
    const more = start + limit < entries.length && page.length > 0;
    const last = page[page.length - 1]?.[1];
    return {
      Items: page.map(([, item]) => structuredClone(item)),
      Count: page.length,
      ScannedCount: page.length,
      ...(more && last ? { LastEvaluatedKey: Object.fromEntries(table.keys.map((k) => [k, last[k]])) } : {}),
    };
  }
}
