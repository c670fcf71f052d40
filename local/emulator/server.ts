// The embedded emulator: one HTTP server on a free loopback port, in this process, answering EC2's
// query protocol from an Ec2Account and DynamoDB's JSON protocol from DynamoTables. The SDK, and the
// serialized Lambda in its child process, reach it through AWS_ENDPOINT_URL as they would reach moto.
// It runs in this process: whoever starts it must not block the event loop while a client waits
// (invokeArchiveAsync, not invokeArchive).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Emulator } from "../emulators";
import { Ec2Account } from "./ec2Account";
import { answerQuery } from "./ec2Query";
import { DynamoError, DynamoTables } from "./dynamoTables";

const DYNAMO_TARGET = "DynamoDB_20120810.";

export interface EmbeddedOptions {
  /** Answer RequestLimitExceeded from EC2's published token buckets, on the real clock. Default off, as moto. */
  throttle?: boolean;
  /** Keys BatchGetItem answers per call, the rest coming back as UnprocessedKeys. Default 100 (all). */
  batchGetAnswered?: number;
  region?: string;
}

export interface EmbeddedEmulator extends Emulator {
  /** The account served now (a fresh one after reset): its call counts, for tests. */
  readonly account: Ec2Account;
  readonly tables: DynamoTables;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "content-type": contentType, "x-amzn-requestid": `embedded-${Date.now()}` });
  response.end(body);
}

function answerDynamo(
  tables: DynamoTables,
  operation: string,
  body: string,
): { status: number; json: string } {
  try {
    const input = body.trim() === "" ? {} : (JSON.parse(body) as Record<string, unknown>);
    return { status: 200, json: JSON.stringify(tables.handle(operation, input)) };
  } catch (error) {
    const type =
      error instanceof DynamoError
        ? error.type
        : error instanceof SyntaxError
          ? "SerializationException"
          : undefined;
    if (type === undefined) {
      throw error;
    }
    return {
      status: 400,
      json: JSON.stringify({
        __type: `com.amazonaws.dynamodb.v20120810#${type}`,
        message: (error as Error).message,
      }),
    };
  }
}

export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedEmulator> {
  const fresh = () => ({
    account: new Ec2Account(undefined, { throttle: options.throttle }),
    tables: new DynamoTables({ region: options.region, batchGetAnswered: options.batchGetAnswered }),
  });
  let state = fresh();
  const server = createServer(async (request, response) => {
    try {
      const body = await readBody(request);
      const target = request.headers["x-amz-target"];
      if (typeof target === "string" && target.startsWith(DYNAMO_TARGET)) {
        const { status, json } = answerDynamo(state.tables, target.slice(DYNAMO_TARGET.length), body);
        send(response, status, "application/x-amz-json-1.0", json);
        return;
      }
      const params = new URLSearchParams(request.method === "POST" ? body : "");
      if (params.has("Action")) {
        const { status, xml } = answerQuery(params, state.account);
        send(response, status, "text/xml;charset=UTF-8", xml);
        return;
      }
      send(response, 200, "text/plain", "the embedded EC2 and DynamoDB emulator of ec2-backup-retention\n");
    } catch (error) {
      send(response, 500, "text/plain", `the embedded emulator failed: ${(error as Error).stack}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get account() {
      return state.account;
    },
    get tables() {
      return state.tables;
    },
    async reset() {
      state = fresh();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        // The SDK keeps connections alive; nothing more will be asked.
        server.closeAllConnections();
      }),
  };
}
