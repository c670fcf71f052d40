// What an invocation asks for. The schedule's events carry no options; a manual run (console, CLI)
// may send {"dryRun": true}. A payload that carries dryRun is honoured whatever else it holds, even
// when it looks like a scheduled event; anything else unknown is refused before any work is done.
// A null or empty payload ({}) runs with the stack's own settings, as the schedule does.

export interface InvocationOptions {
  /** Overrides the configured dryRun for this run only. */
  dryRun?: boolean;
}

const ALLOWED: Record<string, string> = { dryRun: "boolean" };
/** The fields of an EventBridge event (replays add replay-name); tolerated around a dryRun. */
const EVENT_FIELDS: readonly string[] = [
  "version",
  "id",
  "detail-type",
  "source",
  "account",
  "time",
  "region",
  "resources",
  "detail",
  "replay-name",
];
/** Problems listed one by one in an error; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 10;

/** A value as shown in an error: JSON, cut at 100 characters so a huge payload makes no huge message. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}

function isScheduledEvent(event: Record<string, unknown>): boolean {
  return event.source === "aws.events" && event["detail-type"] === "Scheduled Event";
}

export function parseInvocation(event: unknown): InvocationOptions {
  if (event === undefined || event === null) {
    return {};
  }
  if (typeof event !== "object" || Array.isArray(event)) {
    throw invalidPayload([`the payload must be a JSON object such as {"dryRun": true}, got ${shown(event)}`]);
  }
  const record = event as Record<string, unknown>;
  const scheduled = isScheduledEvent(record);
  const problems: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (key in ALLOWED) {
      if (typeof value !== ALLOWED[key]) {
        problems.push(`${key} = ${shown(value)}: must be a ${ALLOWED[key]}`);
      }
    } else if (!(scheduled && EVENT_FIELDS.includes(key))) {
      problems.push(`unknown field ${shown(key)}; allowed: ${Object.keys(ALLOWED).join(", ")}`);
    }
  }
  const detail = record.detail;
  if (scheduled && typeof detail === "object" && detail !== null && "dryRun" in detail) {
    problems.push('detail.dryRun: put dryRun at the top level of the payload, e.g. {"dryRun": true}');
  }
  if (problems.length > 0) {
    throw invalidPayload(problems);
  }
  return record.dryRun === undefined ? {} : { dryRun: record.dryRun as boolean };
}

function invalidPayload(problems: string[]): Error {
  const shown = problems.slice(0, MAX_LISTED_PROBLEMS);
  const more = problems.length - shown.length;
  const error = new Error(
    `Invalid invocation payload: ${shown.join("; ")}${more > 0 ? `; and ${more} more` : ""}`,
  );
  error.name = "InvalidPayload";
  return error;
}
