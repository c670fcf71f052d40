// An HTTP proxy in front of the emulator, for what the emulator cannot do by itself: change the
// account between two of the tagger's calls, or hide what real EC2 hides (disabled AMIs).
// Everything else, DynamoDB included, passes through untouched.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface ProxyHooks {
  /** Answers an EC2 request instead of the emulator, or leaves it hanging ("stall"). */
  intercept?(action: string, params: URLSearchParams): { status: number; body: string } | "stall" | undefined;
  /**
   * Answers a JSON-protocol request (DynamoDB: the ledger) instead of the emulator, or leaves it
   * hanging; `target` is its X-Amz-Target header, e.g. "DynamoDB_20120810.GetItem".
   */
  interceptJson?(target: string): { status: number; body: string } | "stall" | undefined;
  /** Runs before an EC2 query-protocol request is forwarded. */
  before?(action: string, params: URLSearchParams): Promise<void> | void;
  /** Rewrites the emulator's answer to an EC2 request. */
  rewrite?(action: string, params: URLSearchParams, body: string): string;
}

export interface Proxy {
  endpoint: string;
  /** EC2 actions seen, in order, with their parameters. */
  requests: { action: string; params: URLSearchParams }[];
  /** JSON-protocol targets seen (DynamoDB), in order. */
  targets: string[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startProxy(upstream: string, hooks: ProxyHooks = {}): Promise<Proxy> {
  const requests: Proxy["requests"] = [];
  const targets: string[] = [];
  const server = createServer(async (request, response) => {
    try {
      const body = await readBody(request);
      const isQuery = String(request.headers["content-type"] ?? "").startsWith(
        "application/x-www-form-urlencoded",
      );
      const params = new URLSearchParams(isQuery ? body.toString("utf8") : "");
      const action = params.get("Action") ?? "";
      const target = String(request.headers["x-amz-target"] ?? "");
      if (target) {
        targets.push(target);
        const answer = hooks.interceptJson?.(target);
        if (answer === "stall") {
          return;
        }
        if (answer) {
          response.writeHead(answer.status, { "content-type": "application/x-amz-json-1.0" });
          response.end(answer.body);
          return;
        }
      }
      if (action) {
        requests.push({ action, params });
        const answer = hooks.intercept?.(action, params);
        if (answer === "stall") {
          return;
        }
        if (answer) {
          response.writeHead(answer.status, { "content-type": "text/xml" });
          response.end(answer.body);
          return;
        }
        await hooks.before?.(action, params);
      }
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          ([key]) => !["host", "content-length", "connection"].includes(key),
        ),
      ) as Record<string, string>;
      const answer = await fetch(`${upstream}${request.url ?? "/"}`, {
        method: request.method,
        headers,
        body: request.method === "GET" || request.method === "HEAD" ? undefined : body,
      });
      let text = await answer.text();
      if (action && hooks.rewrite) {
        text = hooks.rewrite(action, params, text);
      }
      response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/xml" });
      response.end(text);
    } catch (error) {
      response.writeHead(502, { "content-type": "text/plain" });
      response.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    targets,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Stalled requests hold their connections open; the test is over.
        server.closeAllConnections();
      }),
  };
}

/** Removes one AMI's <item> from a DescribeImages answer, as EC2 does for a disabled AMI. */
export function withoutImage(body: string, imageId: string): string {
  const open = body.indexOf("<imagesSet>");
  const close = body.lastIndexOf("</imagesSet>");
  if (open === -1 || close === -1) {
    return body;
  }
  // Top-level items only: an image's block device mappings are <item>s too.
  const items: string[] = [];
  let depth = 0;
  let start = -1;
  const tag = /<item>|<\/item>/g;
  tag.lastIndex = open;
  for (let match = tag.exec(body); match && match.index < close; match = tag.exec(body)) {
    if (match[0] === "<item>") {
      if (depth++ === 0) {
        start = match.index;
      }
    } else if (--depth === 0) {
      items.push(body.slice(start, match.index + match[0].length));
    }
  }
  const kept = items.filter((item) => !item.includes(`<imageId>${imageId}</imageId>`));
  return `${body.slice(0, open)}<imagesSet>${kept.join("")}${body.slice(close)}`;
}

/** DynamoDB's answer when it throttles (the JSON protocol's error shape). */
export const DYNAMO_THROTTLED = {
  status: 400,
  body: JSON.stringify({
    __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException",
    message: "Rate of requests exceeds the allowed throughput.",
  }),
};

/** EC2's answer when the request budget is spent. */
export const THROTTLED = {
  status: 503,
  body: '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>throttled</RequestID></Response>',
};
