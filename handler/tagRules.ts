// The tag keys we own and the limits EC2 puts on tags. Shared by the stack's config check and the
// Lambda's environment check, so both refuse the same things with the same words.

export const RETENTION_KEY = "Retention";
export const DELETE_ON_KEY = "DeleteOn";
/** Names the ledger entry that proves this stack's function wrote the resource's DeleteOn. */
export const BATCH_KEY = "RetentionBatch";
/** Every key the tagger writes itself; extra tags may not use them. */
export const OWN_KEYS: readonly string[] = [RETENTION_KEY, DELETE_ON_KEY, BATCH_KEY];
export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 36_500;
/** EC2 allows 50 tags on a resource; we write up to three of them. */
export const MAX_EXTRA_TAGS = 47;

const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 256;
// The character set AWS documents as safe across services for tag keys and values.
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const RETENTION_VALUE = /^([1-9][0-9]*)days$/;

/** "90days" for 90. */
export function retentionValue(days: number): string {
  return `${days}days`;
}

/** The N of a `Retention=<N>days` value we could have written, or undefined for any other value. */
export function parseRetentionValue(value: string): number | undefined {
  const match = RETENTION_VALUE.exec(value);
  if (!match) {
    return undefined;
  }
  const days = Number(match[1]);
  return isRetentionDays(days) ? days : undefined;
}

export function isRetentionDays(days: number): boolean {
  return Number.isInteger(days) && days >= MIN_RETENTION_DAYS && days <= MAX_RETENTION_DAYS;
}

/** Problems with a map of extra tags, each naming the key; empty when the map is usable. */
export function extraTagProblems(tags: unknown): string[] {
  if (typeof tags !== "object" || tags === null || Array.isArray(tags)) {
    return ["must be a JSON object of tag key to string value"];
  }
  const entries = Object.entries(tags);
  const problems: string[] = [];
  if (entries.length > MAX_EXTRA_TAGS) {
    problems.push(
      `has ${entries.length} tags; at most ${MAX_EXTRA_TAGS} (EC2 allows 50 per resource, 3 are ours)`,
    );
  }
  for (const [key, value] of entries) {
    const name = JSON.stringify(key);
    if (key.length < 1 || key.length > MAX_KEY_LENGTH) {
      problems.push(`key ${name} must be 1 to ${MAX_KEY_LENGTH} characters`);
    }
    if (!TAG_CHARACTERS.test(key)) {
      problems.push(`key ${name} may hold only letters, digits, spaces and _ . : / = + - @`);
    }
    if (key.toLowerCase().startsWith("aws:")) {
      problems.push(`key ${name} must not start with "aws:" (reserved by AWS)`);
    }
    if (OWN_KEYS.some((own) => own.toLowerCase() === key.toLowerCase())) {
      problems.push(`key ${name} is written by the tagger itself; choose another key`);
    }
    if (typeof value !== "string") {
      problems.push(`value of ${name} must be a string, got ${JSON.stringify(value)}`);
    } else {
      if (value.length > MAX_VALUE_LENGTH) {
        problems.push(`value of ${name} must be at most ${MAX_VALUE_LENGTH} characters`);
      }
      if (!TAG_CHARACTERS.test(value)) {
        problems.push(`value of ${name} may hold only letters, digits, spaces and _ . : / = + - @`);
      }
    }
  }
  return problems;
}
