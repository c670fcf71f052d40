// What an invocation asks for. EventBridge's scheduled events carry no options; a manual run
// (console, CLI) may send {"dryRun": true}. Anything else is refused before any work is done.

export interface InvocationOptions {
  /** Overrides the configured dryRun for this run only. */
  dryRun?: boolean;
}

const ALLOWED: Record<string, string> = { dryRun: "boolean" };

function isScheduledEvent(event: Record<string, unknown>): boolean {
  return event.source === "aws.events" && event["detail-type"] === "Scheduled Event";
}

export function parseInvocation(event: unknown): InvocationOptions {
  if (event === undefined || event === null) {
    return {};
  }
  if (typeof event !== "object" || Array.isArray(event)) {
    throw invalidPayload([
      `the payload must be a JSON object such as {"dryRun": true}, got ${JSON.stringify(event)}`,
    ]);
  }
  const record = event as Record<string, unknown>;
  if (isScheduledEvent(record)) {
    return {};
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (!(key in ALLOWED)) {
      problems.push(`unknown field ${JSON.stringify(key)}; allowed: ${Object.keys(ALLOWED).join(", ")}`);
    } else if (typeof value !== ALLOWED[key]) {
      problems.push(`${key} = ${JSON.stringify(value)}: must be a ${ALLOWED[key]}`);
    }
  }
  if (problems.length > 0) {
    throw invalidPayload(problems);
  }
  return record.dryRun === undefined ? {} : { dryRun: record.dryRun as boolean };
}

function invalidPayload(problems: string[]): Error {
  const error = new Error(`Invalid invocation payload: ${problems.join("; ")}`);
  error.name = "InvalidPayload";
  return error;
}
